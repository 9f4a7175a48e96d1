//! Courier detection from a tracking number's shape and check digit.
//!
//! Why hand-written byte matching rather than a table of regular expressions: detection runs on
//! every create without a `courier_code`, on every number found in a forwarded e-mail, and on
//! bulk imports, so one number must cost well under a microsecond. Each rule below is a length
//! test, a prefix test and a character-class test on a stack buffer, followed by at most one
//! check-digit computation; nothing is compiled or allocated except the returned candidates.
//!
//! Why candidates are ranked, not a single answer: many formats overlap (a 22-digit `92…` number
//! is valid for both USPS and FedEx SmartPost; any 12 digits could be FedEx, DHL Paket or Canada
//! Post). A passing check digit is real evidence (a random string passes only about one time in
//! ten), and a long fixed prefix (`1Z`, `TBA`, `3S`) is evidence too, so candidates carry a
//! confidence built from both, and validated check digits always rank above format-only matches.
//!
//! A format whose check digit fails does not match at all: a mistyped number should not be
//! attributed to a courier because of its length alone.
//!
//! Formats, check-digit parameters and the example numbers used in the tests come from
//! `jkeen/tracking_number_data` (`couriers/*.json`, `CHECKSUM_ALGORITHMS.md`), from the Universal
//! Postal Union's standard S10 (13-character postal item identifiers), and from the carriers' own
//! developer documentation summarised per carrier in `docs/carriers.md` (PostNL, Canada Post).

use crate::checksum;
use crate::registry::{self, Courier};

/// Longest normalized input detection looks at; the longest format (FedEx and USPS 34-digit
/// barcodes, DHL eCommerce) fits well within it.
pub(crate) const MAX_LEN: usize = 40;
/// Shortest format (DHL Express 10 digits, LaserShip `L?` + 8 digits).
pub(crate) const MIN_LEN: usize = 10;

/// Whether the format that matched carries a check digit that was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckDigit {
    /// The format has a check digit and it is correct for this number.
    Valid,
    /// The format has no (known) check digit; the match is on shape alone.
    NotApplicable,
}

/// One courier a tracking number may belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub courier: &'static Courier,
    /// 0..=1; higher is more certain. Comparable across candidates of one number, and roughly
    /// across numbers (≥ 0.9: specific format with a valid check digit).
    pub confidence: f32,
    /// Short name of the format that matched, e.g. `UPS 1Z`.
    pub format: &'static str,
    pub check_digit: CheckDigit,
    /// For people: which format matched and whether a check digit validated.
    pub reason: String,
}

/// Strips spaces (any whitespace), dashes and dots and upper-cases the rest: the form detection,
/// storage and carrier adapters compare numbers in.
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| !is_separator(*c))
        .flat_map(char::to_uppercase)
        .collect()
}

#[inline]
fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '.'
}

/// Ranked couriers for one tracking number, best first; empty when no known format matches.
/// The input may contain spaces, dashes, dots and lower case (see [`normalize`]).
pub fn detect(input: &str) -> Vec<Candidate> {
    let mut buf = [0u8; MAX_LEN];
    let mut len = 0;
    for &b in input.as_bytes() {
        match b {
            b'0'..=b'9' | b'A'..=b'Z' => {}
            b'a'..=b'z' => {}
            b' ' | b'\t' | b'\n' | b'\r' | b'-' | b'.' | 0x0b | 0x0c => continue,
            // Non-ASCII: maybe a Unicode space (NBSP, thin space…); take the slow path.
            0x80.. => return detect_slow(input),
            _ => return Vec::new(),
        }
        if len == MAX_LEN {
            return Vec::new();
        }
        buf[len] = b.to_ascii_uppercase();
        len += 1;
    }
    detect_normalized(&buf[..len])
}

#[cold]
fn detect_slow(input: &str) -> Vec<Candidate> {
    let n = normalize(input);
    if n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        detect_normalized(n.as_bytes())
    } else {
        Vec::new()
    }
}

/// Detection on an already normalized number: upper-case ASCII letters and digits only.
pub(crate) fn detect_normalized(n: &[u8]) -> Vec<Candidate> {
    let mut out = Vec::new();
    if n.len() < MIN_LEN || n.len() > MAX_LEN {
        return out;
    }
    if all_digits(n) {
        numeric(n, &mut out);
    } else {
        alphanumeric(n, &mut out);
    }
    rank(&mut out);
    out
}

/// Best first: validated check digits before format-only matches, then by confidence; one
/// candidate per courier (its best format).
fn rank(out: &mut Vec<Candidate>) {
    if out.len() < 2 {
        return;
    }
    out.sort_by(|a, b| {
        let va = a.check_digit == CheckDigit::Valid;
        let vb = b.check_digit == CheckDigit::Valid;
        vb.cmp(&va).then(b.confidence.total_cmp(&a.confidence))
    });
    let mut i = 1;
    while i < out.len() {
        let code = out[i].courier.code;
        if out[..i].iter().any(|c| c.courier.code == code) {
            out.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Resolves a courier code at compile time (a missing code fails the build).
macro_rules! courier {
    ($code:literal) => {{
        const I: usize = registry::index_of($code);
        registry::at(I)
    }};
}

fn valid(
    out: &mut Vec<Candidate>,
    courier: &'static Courier,
    confidence: f32,
    format: &'static str,
) {
    out.push(Candidate {
        courier,
        confidence,
        format,
        check_digit: CheckDigit::Valid,
        reason: format!("matches the {format} format and its check digit is valid"),
    });
}

fn shape_only(
    out: &mut Vec<Candidate>,
    courier: &'static Courier,
    confidence: f32,
    format: &'static str,
) {
    out.push(Candidate {
        courier,
        confidence,
        format,
        check_digit: CheckDigit::NotApplicable,
        reason: format!("matches the {format} format, which has no check digit to verify"),
    });
}

#[inline]
fn all_digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

#[inline]
fn all_upper(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_uppercase)
}

/// The last byte as a digit value (callers have checked it is a digit).
#[inline]
fn last_digit(n: &[u8]) -> u8 {
    n[n.len() - 1] - b'0'
}

/// Check digit of a GS1 mod-10 number: everything before the last digit, with `prefix` implied.
#[inline]
fn gs1_ok(prefix: &[u8], n: &[u8]) -> bool {
    checksum::gs1_mod10(prefix, &n[..n.len() - 1]) == last_digit(n)
}

/// `9` followed by `1`–`5`: the application identifiers USPS IMpb numbers start with.
#[inline]
fn usps_ai(n: &[u8]) -> bool {
    n.len() >= 2 && n[0] == b'9' && (b'1'..=b'5').contains(&n[1])
}

/// All-digit formats.
fn numeric(n: &[u8], out: &mut Vec<Candidate>) {
    match n.len() {
        10 if checksum::mod7(&n[..9]) == last_digit(n) => {
            valid(out, courier!("dhl"), 0.55, "DHL Express waybill");
        }
        12 => {
            if checksum::fedex_mod11(&n[..11]) == last_digit(n) {
                valid(out, courier!("fedex"), 0.6, "FedEx Express 12");
            }
            // Both are 12-digit numbers whose check digit is not publicly documented; the
            // shape is weak evidence, hence the low confidence.
            shape_only(out, courier!("dhl-germany"), 0.2, "DHL Paket 12");
            shape_only(out, courier!("canada-post"), 0.15, "Canada Post 12");
        }
        15 if gs1_ok(b"", n) => valid(out, courier!("fedex"), 0.6, "FedEx Ground 15"),
        16 if gs1_ok(b"", n) => valid(out, courier!("canada-post"), 0.6, "Canada Post 16"),
        18 if gs1_ok(b"", n) => valid(out, courier!("fedex"), 0.45, "FedEx Ground SSCC-18"),
        20 => {
            // DHL Paket parcel label: AI 00 + SSCC whose GS1 company prefix is Deutsche Post's.
            if n.starts_with(b"00340434") && gs1_ok(b"", n) {
                valid(out, courier!("dhl-germany"), 0.9, "DHL Paket SSCC");
            }
            if usps_ai(n) {
                usps_impb(n, out, 0.55);
            } else {
                if gs1_ok(b"", n) {
                    valid(out, courier!("usps"), 0.5, "USPS 20");
                }
                // Printed without the `91` its check digit covers.
                if gs1_ok(b"91", n) {
                    valid(out, courier!("usps"), 0.5, "USPS IMpb 20");
                }
            }
            // Printed without the `92` its check digit covers.
            if !n.starts_with(b"92") && gs1_ok(b"92", n) {
                valid(out, courier!("fedex"), 0.45, "FedEx SmartPost 20");
            }
        }
        22 => {
            if usps_ai(n) {
                usps_impb(n, out, 0.85);
                if n[1] == b'2' && gs1_ok(b"", n) {
                    valid(out, courier!("fedex"), 0.5, "FedEx SmartPost 22");
                }
            } else if n.starts_with(b"96") {
                // 96 + SCNC + service + 14-digit serial; the check digit covers the serial.
                if gs1_ok(b"", &n[7..]) {
                    valid(out, courier!("fedex"), 0.8, "FedEx Ground 96");
                }
            }
        }
        26 if usps_ai(n) => usps_impb(n, out, 0.8),
        34 => {
            // 34-digit FedEx barcodes: mod 11 over the 13-digit serial before the check digit.
            if (n.starts_with(b"100") || n.starts_with(b"96"))
                && checksum::fedex_mod11(&n[20..33]) == last_digit(n)
            {
                let format = if n[0] == b'1' {
                    "FedEx Express 34"
                } else {
                    "FedEx Ground GSN 34"
                };
                valid(out, courier!("fedex"), 0.8, format);
            }
            usps_routed(n, out);
        }
        28 | 30 | 32 => usps_routed(n, out),
        _ => {}
    }
}

/// USPS Intelligent Mail package barcode: `9[1-5]` application identifier, GS1 mod 10.
fn usps_impb(n: &[u8], out: &mut Vec<Candidate>, confidence: f32) {
    if gs1_ok(b"", n) {
        valid(out, courier!("usps"), confidence, "USPS IMpb");
    }
}

/// A USPS IMpb preceded by its routing code: `420` + ZIP (5 digits) or ZIP+4 (9 digits).
fn usps_routed(n: &[u8], out: &mut Vec<Candidate>) {
    if !n.starts_with(b"420") {
        return;
    }
    for zip in [5, 9] {
        let rest = &n[3 + zip..];
        let shape = match rest.len() {
            22 | 26 => usps_ai(rest),
            20 => true,
            _ => false,
        };
        if shape && (gs1_ok(b"", rest) || (!usps_ai(rest) && gs1_ok(b"91", rest))) {
            valid(
                out,
                courier!("usps"),
                0.85,
                "USPS IMpb with 420 ZIP routing",
            );
            return;
        }
    }
}

/// Formats with letters.
fn alphanumeric(n: &[u8], out: &mut Vec<Candidate>) {
    let len = n.len();
    match n[0] {
        b'1' if len == 18 && n[1] == b'Z' => {
            // 1Z + shipper (6) + service (2) + package (7) + check digit.
            let body = &n[2..17];
            if body
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                && n[17].is_ascii_digit()
                && checksum::ups_mod10(body) == last_digit(n)
            {
                valid(out, courier!("ups"), 0.99, "UPS 1Z");
            }
        }
        b'1' if n.starts_with(b"1LS") && (15..=17).contains(&len) && all_digits(&n[3..]) => {
            shape_only(out, courier!("lasership"), 0.8, "LaserShip 1LS");
        }
        b'3' if n.get(1) == Some(&b'S')
            && (13..=17).contains(&len)
            && all_upper(&n[2..6])
            && all_digits(&n[6..]) =>
        {
            shape_only(out, courier!("postnl-3s"), 0.85, "PostNL 3S");
        }
        // OnTrac: the letter counts in the UPS-style mod 10 (C = 4, D = 5).
        b'C' | b'D'
            if len == 15
                && all_digits(&n[1..])
                && checksum::ups_mod10(&n[..14]) == last_digit(n) =>
        {
            valid(out, courier!("ontrac"), 0.9, "OnTrac");
        }
        b'T' if len == 15 && n.starts_with(b"TBA") && all_digits(&n[3..]) => {
            shape_only(out, courier!("amazon"), 0.85, "Amazon Logistics TBA");
        }
        _ => {}
    }
    if len == 13 {
        s10(n, out);
    }
    if len == 14 && n.starts_with(b"DT") && all_digits(&n[2..]) {
        shape_only(out, courier!("fedex"), 0.75, "FedEx door tag");
    }
    if len == 10 && n[0] == b'L' && n[1].is_ascii_uppercase() && all_digits(&n[2..]) {
        let lx = n[1] == b'X' && n[2] == b'1' && (b'3'..=b'8').contains(&n[3]);
        if lx {
            shape_only(out, courier!("lasership"), 0.65, "LaserShip LX");
        } else {
            shape_only(out, courier!("lasership"), 0.55, "LaserShip L");
        }
    }
    dhl_prefixed(n, out);
}

/// DHL numbers that start with letters: Express piece IDs and Paket license plates (`J…`) and
/// DHL eCommerce (`GM…` and a few country prefixes).
fn dhl_prefixed(n: &[u8], out: &mut Vec<Candidate>) {
    let len = n.len();
    if n[0] == b'J' {
        // J + 2 or 3 letters + digits.
        let letters = if n[1..4].iter().all(u8::is_ascii_uppercase) {
            4
        } else if all_upper(&n[1..3]) {
            3
        } else {
            return;
        };
        let digits = &n[letters..];
        if !all_digits(digits) {
            return;
        }
        if (9..=10).contains(&digits.len()) {
            shape_only(out, courier!("dhl"), 0.7, "DHL Express piece ID");
        } else if n.starts_with(b"JJD") && (18..=20).contains(&digits.len()) {
            shape_only(out, courier!("dhl-germany"), 0.6, "DHL Paket JJD");
            shape_only(out, courier!("dhl"), 0.5, "DHL JJD license plate");
        }
        return;
    }
    if len >= 12 && all_digits(&n[2..]) {
        match [n[0], n[1]] {
            [b'G', b'M'] => shape_only(out, courier!("dhlglobalmail"), 0.75, "DHL eCommerce GM"),
            [b'L', b'X']
            | [b'R', b'X']
            | [b'U', b'V']
            | [b'C', b'N']
            | [b'S', b'G']
            | [b'T', b'H']
            | [b'I', b'N']
            | [b'H', b'K']
            | [b'M', b'Y'] => {
                shape_only(out, courier!("dhlglobalmail"), 0.3, "DHL eCommerce");
            }
            _ => {}
        }
    }
}

/// UPU S10: 2 letters, 8 serial digits, check digit, ISO country of the issuing post.
fn s10(n: &[u8], out: &mut Vec<Candidate>) {
    if !(all_upper(&n[..2]) && all_digits(&n[2..11]) && all_upper(&n[11..])) {
        return;
    }
    if checksum::s10(&n[2..10]) != n[10] - b'0' {
        return;
    }
    let Some(courier) = national_post(n[11], n[12]) else {
        return;
    };
    out.push(Candidate {
        courier,
        confidence: 0.95,
        format: "UPU S10",
        check_digit: CheckDigit::Valid,
        reason: format!(
            "matches the UPU S10 format and its check digit is valid; issued in {}{}, whose \
             national post is {}",
            n[11] as char, n[12] as char, courier.name
        ),
    });
}

/// The national postal operator for an S10 number's country code.
fn national_post(a: u8, b: u8) -> Option<&'static Courier> {
    Some(match [a, b] {
        [b'C', b'N'] => courier!("china-post"),
        [b'G', b'B'] => courier!("royal-mail"),
        [b'N', b'L'] => courier!("postnl-3s"),
        [b'C', b'A'] => courier!("canada-post"),
        [b'D', b'E'] => courier!("deutsch-post"),
        [b'F', b'R'] => courier!("laposte"),
        [b'A', b'U'] => courier!("australia-post"),
        [b'J', b'P'] => courier!("japan-post"),
        [b'E', b'S'] => courier!("correos-spain"),
        [b'I', b'T'] => courier!("poste-italiane"),
        [b'U', b'S'] => courier!("usps"),
        [b'K', b'R'] => courier!("korea-post"),
        [b'I', b'N'] => courier!("india-post"),
        [b'B', b'R'] => courier!("brazil-correios"),
        [b'S', b'E'] => courier!("sweden-posten"),
        [b'C', b'H'] => courier!("swiss-post"),
        [b'H', b'K'] => courier!("hongkong-post"),
        [b'S', b'G'] => courier!("singapore-post"),
        [b'N', b'Z'] => courier!("new-zealand-post"),
        [b'B', b'E'] => courier!("bpost"),
        [b'A', b'T'] => courier!("austria-post"),
        [b'P', b'L'] => courier!("poczta-polska"),
        [b'R', b'U'] => courier!("russian-post"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best candidate's courier code, format and check-digit state.
    fn best(n: &str) -> Option<(&'static str, &'static str, CheckDigit)> {
        detect(n)
            .first()
            .map(|c| (c.courier.code, c.format, c.check_digit))
    }

    /// Whether any candidate names `code` with a validated check digit.
    fn validated_for(n: &str, code: &str) -> bool {
        detect(n)
            .iter()
            .any(|c| c.courier.code == code && c.check_digit == CheckDigit::Valid)
    }

    fn codes(n: &str) -> Vec<&'static str> {
        detect(n).iter().map(|c| c.courier.code).collect()
    }

    #[test]
    fn normalize_strips_separators_and_uppercases() {
        assert_eq!(normalize(" 1z 999-aa1.01 2345 6784 "), "1Z999AA10123456784");
        assert_eq!(normalize("rb\u{a0}123 456 785 gb"), "RB123456785GB");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn detect_accepts_the_same_inputs_normalize_cleans() {
        let a = detect("1Z 999 AA1 01 2345 6784");
        let b = detect(&normalize("1z-999-aa1-01-2345-6784"));
        assert_eq!(a, b);
        assert_eq!(
            detect("rb\u{a0}123\u{2009}456 785 gb"),
            detect("RB123456785GB")
        );
        // Other punctuation is not a separator.
        assert!(detect("1Z999AA1/0123456784").is_empty());
        assert!(detect("").is_empty());
        assert!(detect(&"1".repeat(200)).is_empty());
    }

    // UPS: jkeen/tracking_number_data couriers/ups.json, plus UPS's own documentation example
    // 1Z999AA10123456784 and the karrio fixture in carrier-apis.md §3.
    #[test]
    fn ups_1z() {
        for n in [
            "1Z5R89390357567127",
            "1Z879E930346834440",
            "1Z410E7W0392751591",
            "1Z8V92A70367203024",
            " 1 Z 8 V 9 2 A 7 0 3 6 7 2 0 3 0 2 4 ",
            "1ZXX3150YW44070023",
            "1Z999AA10123456784",
            "1z1442yy7229014688",
        ] {
            assert_eq!(best(n), Some(("ups", "UPS 1Z", CheckDigit::Valid)), "{n}");
            let c = &detect(n)[0];
            assert!(c.confidence >= 0.95);
            assert!(c.reason.contains("UPS 1Z") && c.reason.contains("check digit is valid"));
        }
        for n in [
            "2Z5R89390357567127",
            "1A5R89390357567127",
            "1Z1111111111111111",
            "1Z5R89390357567128",
            "1Z5R8939035756712",
            "1Z5R893903575671277",
        ] {
            assert!(!codes(n).contains(&"ups"), "{n}");
        }
    }

    // FedEx: jkeen/tracking_number_data couriers/fedex.json.
    #[test]
    fn fedex_express_12() {
        for n in [
            "986578788855",
            "477179081230",
            "799531274483",
            "790535312317",
            " 7 9 0 5 3 5 3 1 2 3 1 7 ",
            "974367662710",
        ] {
            assert_eq!(
                best(n),
                Some(("fedex", "FedEx Express 12", CheckDigit::Valid)),
                "{n}"
            );
        }
        assert!(!validated_for("996578788855", "fedex"));
        assert!(!validated_for("98657878885", "fedex"));
    }

    #[test]
    fn fedex_ground() {
        for n in [
            "0414 4176 0228 964",
            "5682 8361 0012 000",
            "5682 8361 0012 734",
        ] {
            assert_eq!(
                best(n),
                Some(("fedex", "FedEx Ground 15", CheckDigit::Valid)),
                "{n}"
            );
        }
        assert!(detect("5682 8361 0012 732").is_empty());
        assert_eq!(
            best("00 0123 4500 0000 0027"),
            Some(("fedex", "FedEx Ground SSCC-18", CheckDigit::Valid))
        );
        assert!(detect("000000000000000001").is_empty());
        assert_eq!(
            best("9611020987654312345672"),
            Some(("fedex", "FedEx Ground 96", CheckDigit::Valid))
        );
        assert!(detect("9600000000000000000001").is_empty());
    }

    #[test]
    fn fedex_34_digit() {
        for n in [
            "1001921334250001000300779017972697",
            "1001921380360001000300639585804382",
            "1001901781990001000300617767839437",
            "1002297871540001000300790695517286",
        ] {
            assert_eq!(
                best(n),
                Some(("fedex", "FedEx Express 34", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in [
            "9622001900000000000000776632517510",
            "9622001560000000000000794808390594",
            "9622001560001234567100794808390594",
            "9632001560123456789900794808390594",
        ] {
            assert_eq!(
                best(n),
                Some(("fedex", "FedEx Ground GSN 34", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in [
            "1001901781990001000300617767839438",
            "9622001560001234567100794808390595",
            "9622001560001234567100794808390597",
        ] {
            assert!(!validated_for(n, "fedex"), "{n}");
        }
    }

    #[test]
    fn fedex_smartpost() {
        // Printed without the 92 the check digit covers.
        assert!(validated_for("61299998820821171811", "fedex"));
        // With the 92 it is also a valid USPS IMpb, and USPS ranks first.
        let n = "9261292700768711948021";
        assert_eq!(codes(n), ["usps", "fedex"]);
        assert!(validated_for(n, "fedex"));
        assert!(detect("9261292700768711948020").is_empty());
    }

    #[test]
    fn fedex_door_tag() {
        assert_eq!(
            best("DT106646183458"),
            Some(("fedex", "FedEx door tag", CheckDigit::NotApplicable))
        );
        assert!(detect("DT10664618345").is_empty());
        assert!(detect("DT10664618345X").is_empty());
    }

    // USPS: jkeen/tracking_number_data couriers/usps.json.
    #[test]
    fn usps_impb() {
        for n in [
            "9505 5110 6960 5048 6006 24",
            "9101 1234 5678 9000 0000 13",
            "92748931507708513018050063",
            "9400 1112 0108 0805 4830 16",
            "9361 2898 7870 0317 6337 95",
            " 9 3 6 1   2 8 9 8   7 8 7 0   0 3 1 7   6 3 3 7   9 5 ",
            "9405803699300124287899",
        ] {
            let c = &detect(n)[0];
            assert_eq!(c.courier.code, "usps", "{n}");
            assert_eq!(c.check_digit, CheckDigit::Valid, "{n}");
            assert!(c.confidence >= 0.8, "{n}");
        }
        for n in [
            "9200000000000000000000",
            "9400 1112 0108 0805 4830 17",
            "9400 1112 0108 0805 4830 1",
        ] {
            assert!(!validated_for(n, "usps"), "{n}");
        }
        // A FedEx SmartPost 20 is not a USPS number.
        assert!(!codes("61299998820821171811").contains(&"usps"));
    }

    #[test]
    fn usps_20_digit() {
        for n in [
            "0307 1790 0005 2348 3741",
            "7112 3456 7891 2345 6787",
            "7196 9010 7560 0307 7385",
        ] {
            assert!(validated_for(n, "usps"), "{n}");
        }
        assert!(!validated_for("0307 1790 0005 2348 3742", "usps"));
    }

    #[test]
    fn usps_with_420_zip_routing() {
        for n in [
            "420 22153 9101026837331000039521",
            "4201002334249200190132607600833457",
            "4201028200009261290113185417468510",
        ] {
            assert_eq!(
                best(n),
                Some(("usps", "USPS IMpb with 420 ZIP routing", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in [
            "4201028200009261290113185417468511",
            "420000000000000000000000000000",
            "420000009200000000000000000000",
        ] {
            assert!(!validated_for(n, "usps"), "{n}");
        }
    }

    // DHL: jkeen/tracking_number_data couriers/dhl.json.
    #[test]
    fn dhl_express() {
        for n in [
            "3318810025",
            "8487135506",
            "1099255990",
            "3821724944",
            "3318810036",
            "3318810014",
        ] {
            assert_eq!(
                best(n),
                Some(("dhl", "DHL Express waybill", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in ["3318810010", "3318810034", "3318810011", "331881002"] {
            assert!(detect(n).is_empty(), "{n}");
        }
    }

    #[test]
    fn dhl_lettered() {
        for n in ["JJD0099999999", "JVGL0999999990"] {
            assert_eq!(
                best(n),
                Some(("dhl", "DHL Express piece ID", CheckDigit::NotApplicable)),
                "{n}"
            );
        }
        assert!(detect("XJD0099999998").is_empty());
        assert_eq!(codes("JJD000390007757287421"), ["dhl-germany", "dhl"]);
        for n in [
            "GM2951173225174494",
            "GM 2 9 5 117 32 25 1 7 44 9 4",
            "GM295117494011169042",
        ] {
            assert_eq!(
                best(n),
                Some((
                    "dhlglobalmail",
                    "DHL eCommerce GM",
                    CheckDigit::NotApplicable
                )),
                "{n}"
            );
        }
        for n in ["GS295117494011169041", "GR295117494011169045", "GM29511"] {
            assert!(detect(n).is_empty(), "{n}");
        }
    }

    #[test]
    fn dhl_paket() {
        // An SSCC under Deutsche Post's GS1 prefix 340434, with AI 00 (check digit computed).
        assert_eq!(
            best("00340434161094015902"),
            Some(("dhl-germany", "DHL Paket SSCC", CheckDigit::Valid))
        );
        assert!(!validated_for("00340434161094015903", "dhl-germany"));
        // 12 digits: shape only, below any validated candidate.
        let c = detect("340434188193");
        assert!(c.iter().any(|c| c.courier.code == "dhl-germany"));
    }

    // Canada Post: jkeen/tracking_number_data couriers/canadapost.json, and the PIN in the
    // Canada Post example response of carrier-apis.md §6.
    #[test]
    fn canada_post() {
        for n in [
            "0073938000549297",
            "7035114477138472",
            "4002847016405018",
            "7023210039414604",
        ] {
            assert_eq!(
                best(n),
                Some(("canada-post", "Canada Post 16", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in ["0073938000549292", "7035114477138471", "5002847016405018"] {
            assert!(detect(n).is_empty(), "{n}");
        }
        assert_eq!(best("RB123456785CA").map(|b| b.0), Some("canada-post"));
    }

    // PostNL: barcodes from PostNL's own API examples (carrier-apis.md §9).
    #[test]
    fn postnl_3s() {
        for n in ["3SDEVC288882229", "3SDEVC7239264", "3sdevc 1234 5678 9"] {
            assert_eq!(
                best(n),
                Some(("postnl-3s", "PostNL 3S", CheckDigit::NotApplicable)),
                "{n}"
            );
        }
        for n in [
            "3SDEV1288882229",
            "3SDEVC28888",
            "3SDEVC2888822291234",
            "3XDEVC288882229",
        ] {
            assert!(detect(n).is_empty(), "{n}");
        }
    }

    // Amazon: jkeen/tracking_number_data couriers/amazon.json.
    #[test]
    fn amazon_tba() {
        for n in [
            "TBA000000000000",
            "TBA010000000000",
            " T B A 0 0 0 0 0 0 0 0 0 0 0 0 ",
            "TBA502887274000",
        ] {
            assert_eq!(
                best(n),
                Some(("amazon", "Amazon Logistics TBA", CheckDigit::NotApplicable)),
                "{n}"
            );
        }
        for n in ["TBA50288727400A", "TBB000000000000", "TBA5028872740001"] {
            assert!(!codes(n).contains(&"amazon"), "{n}");
        }
    }

    // OnTrac: jkeen/tracking_number_data couriers/ontrac.json.
    #[test]
    fn ontrac() {
        for n in [
            "C11031500001879",
            "C 110 31 500 00187 9",
            "C10999911320231",
            "C11121552953069",
            "C11121553156000",
            "C11121552829468",
            "D10011354453707",
            "D10011345983010",
            "D10011342332145",
        ] {
            assert_eq!(
                best(n),
                Some(("ontrac", "OnTrac", CheckDigit::Valid)),
                "{n}"
            );
        }
        for n in [
            "C10000000000000",
            "C11031500001889",
            "D10011345983012",
            "D10011342332144",
        ] {
            assert!(detect(n).is_empty(), "{n}");
        }
    }

    // LaserShip: jkeen/tracking_number_data couriers/lasership.json.
    #[test]
    fn lasership() {
        for n in [
            "LX17635036",
            "1LS717793482164",
            "1LS724505321754",
            "1LS720000000000",
            "1LS7119013618127-1",
            "LA12345678",
        ] {
            let b = best(n);
            assert_eq!(b.map(|b| b.0), Some("lasership"), "{n}");
        }
        for n in ["LX17635036N", "LX176350N6", "1LS7245053217", "L112345678"] {
            assert!(!codes(n).contains(&"lasership"), "{n}");
        }
    }

    // UPU S10: carrier-apis.md §11 and jkeen/tracking_number_data couriers/s10.json.
    #[test]
    fn s10_maps_country_to_national_post() {
        for (n, code) in [
            ("RB123456785GB", "royal-mail"),
            ("RB123456785US", "usps"),
            (" R B 1 2 3 4 5 6 7 8 5 C N ", "china-post"),
            ("LX123456785NL", "postnl-3s"),
            ("EE123456785DE", "deutsch-post"),
            ("CP123456785FR", "laposte"),
            ("RR123456785AU", "australia-post"),
            ("EJ123456785JP", "japan-post"),
            ("RR123456785ES", "correos-spain"),
            ("RR123456785IT", "poste-italiane"),
            ("RR123456785KR", "korea-post"),
            ("RR123456785IN", "india-post"),
            ("RR123456785BR", "brazil-correios"),
            ("RR123456785SE", "sweden-posten"),
            ("RR123456785CH", "swiss-post"),
            ("RR123456785HK", "hongkong-post"),
            ("RR123456785SG", "singapore-post"),
            ("RR123456785NZ", "new-zealand-post"),
            ("RR123456785BE", "bpost"),
            ("RR123456785AT", "austria-post"),
            ("RR123456785PL", "poczta-polska"),
            ("RR123456785RU", "russian-post"),
        ] {
            let c = detect(n);
            assert_eq!(c.len(), 1, "{n}");
            assert_eq!(c[0].courier.code, code, "{n}");
            assert_eq!(c[0].format, "UPU S10");
            assert_eq!(c[0].check_digit, CheckDigit::Valid);
            assert!(c[0].reason.contains(&n.trim()[n.trim().len() - 1..]));
        }
        // Broken check digit, unknown country, wrong shape.
        for n in [
            "RB123456786US",
            "RB123456785XX",
            "RB12345678GB",
            "R1123456785GB",
            "RB123456785G1",
        ] {
            assert!(detect(n).is_empty(), "{n}");
        }
    }

    #[test]
    fn ranking_puts_validated_first_and_one_candidate_per_courier() {
        // 12 digits valid for FedEx: the validated FedEx first, then the shape-only ones.
        let c = detect("986578788855");
        assert_eq!(c[0].courier.code, "fedex");
        assert!(c[1..]
            .iter()
            .all(|c| c.check_digit == CheckDigit::NotApplicable));
        assert!(c.windows(2).all(|w| w[0].confidence >= w[1].confidence));
        // A 20-digit number valid both plainly and with an implied 91 appears once for USPS.
        for n in ["0307 1790 0005 2348 3741", "7196 9010 7560 0307 7385"] {
            let usps = detect(n)
                .iter()
                .filter(|c| c.courier.code == "usps")
                .count();
            assert_eq!(usps, 1, "{n}");
        }
    }

    #[test]
    fn every_candidate_courier_is_in_the_registry() {
        for n in [
            "1Z999AA10123456784",
            "JJD000390007757287421",
            "RB123456785PL",
            "TBA502887274000",
            "C11031500001879",
            "1LS717793482164",
            "GM2951173225174494",
            "986578788855",
        ] {
            for c in detect(n) {
                assert_eq!(registry::courier(c.courier.code), Some(c.courier));
                assert!((0.0..=1.0).contains(&c.confidence));
            }
        }
    }
}

#[cfg(test)]
mod throughput {
    use super::detect;
    use std::time::Instant;

    /// A rough single-core throughput print, not a benchmark (the project's benchmark harness
    /// measures detection properly): `cargo test --release -p parceld-detect throughput --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "timing; run in release mode by hand"]
    fn detection_throughput() {
        // Typical inputs: valid numbers of the common formats, and a few that match nothing.
        let inputs = [
            "1Z999AA10123456784",
            "9400111201080805483016",
            "RB123456785GB",
            "986578788855",
            "3318810025",
            "0073938000549297",
            "3SDEVC288882229",
            "TBA502887274000",
            "1Z 999 AA1 01 2345 6784",
            "not a tracking number",
            "12345678",
            "ABCDEFGHIJKLMNOP",
        ];
        let rounds = 200_000;
        let start = Instant::now();
        let mut candidates = 0usize;
        for _ in 0..rounds {
            for n in &inputs {
                candidates += std::hint::black_box(detect(std::hint::black_box(n))).len();
            }
        }
        let elapsed = start.elapsed();
        let per_sec = (rounds * inputs.len()) as f64 / elapsed.as_secs_f64();
        println!("{per_sec:.0} numbers/s ({candidates} candidates)");
    }
}
