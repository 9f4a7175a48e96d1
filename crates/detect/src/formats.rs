//! Every tracking-number format detection knows: its courier, shape, check digit, confidence and
//! source, one row each. `docs/carriers.md` renders the same table for people.
//!
//! Confidence says how much a match alone is worth (0 to 1): a long fixed prefix plus a check
//! digit (`1Z`, S10) is near-certain; a bare length with a check digit that one random number in
//! ten passes is weak; a bare length with no check digit is weaker still. Candidates with a valid
//! check digit always rank above shape-only ones (`detect::rank`).
//!
//! Sources are named in each row. Tags used below:
//! - **jkeen** — `jkeen/tracking_number_data` (`couriers/<name>.json`: format, check-digit
//!   parameters, valid and invalid test numbers; `CHECKSUM_ALGORITHMS.md`).
//! - **ref** — the carrier-API reference the project keeps (`carrier-apis.md`,
//!   `carrier-apis-2.md` "Tracking-number formats"), which cites the carriers' documentation.
//! - a carrier's own page, named (DHL's "tracking ID" page, Parcelforce's "tracking number
//!   formats", La Poste's help centre, Evri's FAQ).
//! - **community** (⚠) — third-party descriptions only, named: `paketda.de` (German parcel
//!   numbers and their check digits), `BF-zh/Courier-Validation` (Chinese express couriers'
//!   number patterns), parceldetect.com (AliExpress/Cainiao), ship24.com (Swiss Post). Shape-only
//!   rows from these sources get low confidences.

/// How a format's check digit is computed. The check digit is the last character, except for
/// S10 (the 11th of 13).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// No (known) check digit: the match is on shape alone.
    None,
    /// GS1 mod 10 over the characters from `from` to the check digit, with `implied` digits
    /// logically in front (printed numbers that leave out an application identifier).
    Gs1 { implied: &'static [u8], from: usize },
    /// UPS / OnTrac mod 10 over the characters from `from` to the check digit.
    Ups { from: usize },
    /// FedEx mod 11 over the characters from `from` to the check digit.
    FedEx { from: usize },
    /// The number before the check digit, modulo 7 (DHL Express).
    Mod7,
    /// UPU S10 over the eight serial digits.
    S10,
    /// Luhn (Purolator).
    Luhn,
    /// Deutsche Post Identcode, weights 4 and 9.
    Identcode,
    /// ISO 7064 MOD 37,36; the check character may be a letter (DPD).
    Mod3736,
    /// A USPS IMpb preceded by `420` and a 5- or 9-digit ZIP code.
    UspsRouted,
}

/// Whose number a format is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    Courier(&'static str),
    /// The national post of the country an S10 number ends in (`data/national_posts.tsv`).
    NationalPost,
}

/// One format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format {
    /// Short name shown in candidates, e.g. `UPS 1Z`.
    pub name: &'static str,
    pub owner: Owner,
    /// The shape, in the language of `pattern.rs`.
    pub pattern: &'static str,
    /// Prefixes that exclude a number from this format.
    pub not: &'static [&'static str],
    /// Whether the number must contain a letter (for shapes whose alphanumeric positions would
    /// otherwise take any all-digit number).
    pub needs_letter: bool,
    pub check: Check,
    pub confidence: f32,
    pub source: &'static str,
}

impl Check {
    /// In words, for the documentation and the format list.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Check::None => "none",
            Check::Gs1 { implied: b"", .. } => "GS1 mod 10",
            Check::Gs1 { implied: b"91", .. } => "GS1 mod 10 with 91 implied",
            Check::Gs1 { .. } => "GS1 mod 10 with 92 implied",
            Check::Ups { .. } => "UPS mod 10",
            Check::FedEx { .. } => "FedEx mod 11",
            Check::Mod7 => "mod 7",
            Check::S10 => "S10 mod 11",
            Check::Luhn => "Luhn",
            Check::Identcode => "Identcode (4, 9) mod 10",
            Check::Mod3736 => "ISO 7064 MOD 37,36",
            Check::UspsRouted => "GS1 mod 10 of the IMpb after 420 + ZIP",
        }
    }
}

/// A format as the public list shows it (`parceld_detect::formats`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FormatInfo {
    pub name: &'static str,
    /// The courier's code; `None` for S10, whose courier is the national post of its country.
    pub courier: Option<&'static str>,
    /// The shape: literal characters, `{dN}` digits, `{aN}` letters, `{xN}` either, `[..]` one
    /// of, `|` alternatives.
    pub pattern: &'static str,
    pub check_digit: &'static str,
    pub confidence: f32,
    pub source: &'static str,
}

/// Every format detection knows, in the table's order.
pub fn formats() -> impl Iterator<Item = FormatInfo> {
    FORMATS.iter().map(|f| FormatInfo {
        name: f.name,
        courier: match f.owner {
            Owner::Courier(code) => Some(code),
            Owner::NationalPost => None,
        },
        pattern: f.pattern,
        check_digit: f.check.describe(),
        confidence: f.confidence,
        source: f.source,
    })
}

const fn f(
    name: &'static str,
    courier: &'static str,
    pattern: &'static str,
    check: Check,
    confidence: f32,
    source: &'static str,
) -> Format {
    Format {
        name,
        owner: Owner::Courier(courier),
        pattern,
        not: &[],
        needs_letter: false,
        check,
        confidence,
        source,
    }
}

const GS1: Check = Check::Gs1 {
    implied: b"",
    from: 0,
};
const JKEEN_FEDEX: &str = "jkeen couriers/fedex.json";
const JKEEN_USPS: &str = "jkeen couriers/usps.json";
const BF_ZH: &str = "community ⚠: BF-zh/Courier-Validation src/pattern";
const USPS_AI: &[&str] = &["91", "92", "93", "94", "95"];

/// The table. Order does not matter: candidates are ranked by check digit and confidence.
#[rustfmt::skip]
pub(crate) const FORMATS: &[Format] = &[
    // ── North America ──────────────────────────────────────────────────────────────────────
    f("UPS 1Z", "ups", "1Z{x15}{d1}", Check::Ups { from: 2 }, 0.99,
      "jkeen couriers/ups.json; UPS's documentation example 1Z999AA10123456784 (ref §3)"),
    f("FedEx Express 12", "fedex", "{d12}", Check::FedEx { from: 0 }, 0.6, JKEEN_FEDEX),
    f("FedEx Ground 15", "fedex", "{d15}", GS1, 0.6, JKEEN_FEDEX),
    f("FedEx Ground SSCC-18", "fedex", "{d18}", GS1, 0.45, JKEEN_FEDEX),
    Format {
        not: &["92"],
        ..f("FedEx SmartPost 20", "fedex", "{d20}", Check::Gs1 { implied: b"92", from: 0 },
            0.45, "jkeen couriers/fedex.json (printed without the 92 its check digit covers)")
    },
    f("FedEx SmartPost 22", "fedex", "92{d20}", GS1, 0.5, JKEEN_FEDEX),
    f("FedEx Ground 96", "fedex", "96{d20}", Check::Gs1 { implied: b"", from: 7 }, 0.8,
      "jkeen couriers/fedex.json (the check digit covers the 14-digit serial)"),
    f("FedEx Express 34", "fedex", "100{d31}", Check::FedEx { from: 20 }, 0.8, JKEEN_FEDEX),
    f("FedEx Ground GSN 34", "fedex", "96{d32}", Check::FedEx { from: 20 }, 0.8, JKEEN_FEDEX),
    f("FedEx door tag", "fedex", "DT{d12}", Check::None, 0.75, JKEEN_FEDEX),
    f("USPS IMpb", "usps", "9[12345]{d18}", GS1, 0.55, JKEEN_USPS),
    Format {
        not: USPS_AI,
        ..f("USPS 20", "usps", "{d20}", GS1, 0.5, JKEEN_USPS)
    },
    Format {
        not: USPS_AI,
        ..f("USPS IMpb 20", "usps", "{d20}", Check::Gs1 { implied: b"91", from: 0 }, 0.5,
            "jkeen couriers/usps.json (printed without the 91 its check digit covers)")
    },
    f("USPS IMpb", "usps", "9[12345]{d20}", GS1, 0.85, JKEEN_USPS),
    f("USPS IMpb", "usps", "9[12345]{d24}", GS1, 0.8, JKEEN_USPS),
    f("USPS IMpb with 420 ZIP routing", "usps", "420{d25-31}", Check::UspsRouted, 0.85,
      JKEEN_USPS),
    f("Canada Post 16", "canada-post", "{d16}", GS1, 0.6,
      "jkeen couriers/canadapost.json; a PIN in Canada Post's example response (ref §6)"),
    f("Canada Post 12", "canada-post", "{d12}", Check::None, 0.15,
      "jkeen couriers/canadapost.json"),
    f("Purolator 12", "purolator", "[012345]{d11}", Check::Luhn, 0.45,
      "jkeen couriers/purolator.json; ref formats section"),
    f("Purolator lettered", "purolator", "{a3}{d9}", Check::None, 0.6,
      "jkeen couriers/purolator.json; ref formats section"),
    f("Amazon Logistics TBA", "amazon", "TBA{d12}", Check::None, 0.85,
      "jkeen couriers/amazon.json"),
    f("OnTrac", "ontrac", "[CD]{d14}", Check::Ups { from: 0 }, 0.9,
      "jkeen couriers/ontrac.json (the letter counts in the UPS-style mod 10)"),
    f("LaserShip 1LS", "lasership", "1LS{d12-14}", Check::None, 0.8,
      "jkeen couriers/lasership.json"),
    f("LaserShip LX", "lasership", "LX1[345678]{d6}", Check::None, 0.65,
      "jkeen couriers/lasership.json"),
    f("LaserShip L", "lasership", "L{a1}{d8}", Check::None, 0.55,
      "jkeen couriers/lasership.json"),
    f("DHL eCommerce GM", "dhlglobalmail", "GM{d10-38}", Check::None, 0.75,
      "jkeen couriers/dhl.json; DHL's tracking-ID page (mydhli.com, \"id-labels\")"),
    f("DHL eCommerce", "dhlglobalmail",
      "LX{d10-38}|RX{d10-38}|UV{d10-38}|CN{d10-38}|SG{d10-38}|TH{d10-38}|IN{d10-38}|HK{d10-38}|MY{d10-38}",
      Check::None, 0.3, "jkeen couriers/dhl.json; DHL's tracking-ID page"),
    // ── Europe ─────────────────────────────────────────────────────────────────────────────
    f("DHL Express waybill", "dhl", "{d10}", Check::Mod7, 0.55,
      "jkeen couriers/dhl.json; DHL's tracking-ID page (10 digits)"),
    f("DHL Express waybill", "dhl", "{d11}", Check::Mod7, 0.5,
      "jkeen couriers/dhl.json (10 digits and a check digit, e.g. 73891051146)"),
    f("DHL Express piece ID", "dhl", "J{a2-3}{d9-10}", Check::None, 0.7,
      "jkeen couriers/dhl.json; DHL's tracking-ID page (JJD00…, JVGL…)"),
    f("DHL JJD license plate", "dhl", "JJD{d18-20}", Check::None, 0.5,
      "DHL's tracking-ID page (JJD…)"),
    f("DHL Paket JJD", "dhl-germany", "JJD{d18-20}|JJD{d13}", Check::None, 0.6,
      "community ⚠: paketda.de (JJD and 13 digits, e.g. JJD1410302937991); DHL's tracking-ID page"),
    f("DHL Paket SSCC", "dhl-germany", "0034043{d13}", GS1, 0.9,
      "community ⚠: paketda.de (20 digits, AI 00 + an SSCC under Deutsche Post's GS1 prefix)"),
    f("DHL Paket Identcode", "dhl-germany", "{d12}", Check::Identcode, 0.5,
      "community ⚠: paketda.de and activebarcode.com (Identcode, weights 4 and 9)"),
    Format {
        needs_letter: true,
        ..f("Deutsche Post piece code", "deutsch-post", "{d2}{h7}{d4}{h7}", Check::None, 0.4,
            "jkeen couriers/deutschepost.json ⚠ (letters there are hexadecimal digits, so parceld \
             takes A–F only; its CRC-4 check is not documented there)")
    },
    f("Parcelforce", "parcel-force", "{a2}{d7}|{a4}{d10}", Check::None, 0.55,
      "Parcelforce, \"Tracking number formats\" (parcelforce.com)"),
    f("Evri 16", "hermes", "{d16}", Check::None, 0.3,
      "Evri's FAQ, \"How do I track my parcel\": a 16-digit tracking number"),
    f("DPD with check character", "dpd", "{d14}{x1}", Check::Mod3736, 0.85,
      "jkeen couriers/dpd.json; ref formats section; paketda.de example 01015026003653c"),
    f("DPD 28", "dpd", "{d27}{x1}", Check::Mod3736, 0.9,
      "jkeen couriers/dpd.json; ref formats section"),
    f("DPD 14", "dpd", "{d14}", Check::None, 0.3,
      "ref formats section (14 digits; the check character is often left out)"),
    f("GLS parcel number", "gls", "{d11}", Check::None, 0.3,
      "ref formats section (11/12-digit parcel number); GLS's spec example 36301917596"),
    f("GLS parcel number", "gls", "{d12}", Check::None, 0.2, "ref formats section"),
    f("Colissimo", "colissimo", "{d1}{a1}{d11}", Check::None, 0.7,
      "La Poste's help centre: 13 characters, e.g. 8D00432154798"),
    f("La Poste", "laposte", "{d1}{a1}{d11}", Check::None, 0.5,
      "La Poste's help centre (Colissimo and tracked letters share the shape)"),
    f("PostNL 3S", "postnl-3s", "3S{a4}{d7-11}", Check::None, 0.85,
      "PostNL's API examples (ref §9)"),
    f("bpost 24", "bpost", "{d24}", Check::None, 0.5,
      "ref formats section (24-digit item code or S10)"),
    f("PostNord parcel", "sweden-posten", "{d11}SE", Check::None, 0.6,
      "ref formats section ⚠ (parcel ids seen as 11 digits + SE)"),
    f("Swiss Post domestic", "swiss-post", "9[789]{d16}", Check::None, 0.5,
      "community ⚠: ship24.com (99.00.123456.12345678 parcels, 98… letters, 97… courier)"),
    // ── Oceania ────────────────────────────────────────────────────────────────────────────
    f("Australia Post article", "australia-post", "{d1}{a2}{d13}", Check::None, 0.5,
      "Australia Post's Track API example 7XX1000634011427 (ref §7)"),
    // ── Asia ───────────────────────────────────────────────────────────────────────────────
    f("China EMS (S10)", "china-ems", "E{a1}{d8}{d1}CN", Check::S10, 0.97,
      "UPU S10, service indicator E = EMS (ref §11)"),
    f("China Post domestic", "china-post", "[189]{d12}|P{a1}{d11}", Check::None, 0.3, BF_ZH),
    f("SF Express", "sf-express", "SF{x1}{d12}", Check::None, 0.85, BF_ZH),
    f("YTO Express", "yto", "YT{d13}", Check::None, 0.8, BF_ZH),
    f("YunExpress", "yunexpress", "YT{d16}", Check::None, 0.85,
      "jkeen couriers/yunexpress.json; ref formats section"),
    f("J&T Express", "jtexpress", "JT{d13}", Check::None, 0.8, BF_ZH),
    f("ZTO Express", "zto", "7[34568]{d12}", Check::None, 0.45, BF_ZH),
    f("STO Express", "sto", "77{d12-15}|43{d12-15}", Check::None, 0.45, BF_ZH),
    f("Yunda Express", "yunda", "[34]{d14}|5{d12}", Check::None, 0.35, BF_ZH),
    f("Cainiao LP", "cainiao", "LP{d14}", Check::None, 0.75,
      "community ⚠: parceldetect.com, AliExpress standard shipping (LP + 14 digits)"),
    f("Cainiao", "cainiao", "621{d12}", Check::None, 0.4, BF_ZH),
    // ── Every UPU member's post ────────────────────────────────────────────────────────────
    Format {
        owner: Owner::NationalPost,
        ..f("UPU S10", "", "{a2}{d8}{d1}{a2}", Check::S10, 0.95,
            "UPU standard S10 (ref §11); jkeen couriers/s10.json; data/national_posts.tsv")
    },
];
