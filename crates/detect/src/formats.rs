//! Every tracking-number format detection knows, read once from `data/formats.tsv`: its courier,
//! shape, check digit, confidence, conditions and source, one line each (the file's header says
//! what each column holds and names the sources). `docs/carriers.md` renders the same table for
//! people; a test keeps the two equal.
//!
//! Why a data file rather than Rust: the table is read by people checking a format against its
//! source more often than by the compiler, and one line per format with its source beside it reads
//! like the carriers' documentation. A malformed line, or a courier the registry lacks, panics on
//! first use; the tests use it.

use std::sync::LazyLock;

/// The table, as text.
const FORMATS_TSV: &str = include_str!("../data/formats.tsv");

/// How a format's check digit is computed. The check digit is the last character, except for
/// S10 (the 11th of 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Check {
    /// Reads the table's check-digit column (`gs1+92@7`, `ups@2`, `mod7` …).
    fn parse(text: &'static str) -> Option<Check> {
        let (name, from) = match text.split_once('@') {
            Some((name, from)) => (name, from.parse().ok()?),
            None => (text, 0),
        };
        let (name, implied) = match name.split_once('+') {
            Some((name, implied)) => (name, implied.as_bytes()),
            None => (name, &b""[..]),
        };
        Some(match name {
            "none" => Check::None,
            "gs1" => Check::Gs1 { implied, from },
            "ups" => Check::Ups { from },
            "fedex" => Check::FedEx { from },
            "mod7" => Check::Mod7,
            "s10" => Check::S10,
            "luhn" => Check::Luhn,
            "identcode" => Check::Identcode,
            "mod37-36" => Check::Mod3736,
            "usps-routed" => Check::UspsRouted,
            _ => return None,
        })
    }

    /// In words, for the documentation and the format list.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Check::None => "none",
            Check::Gs1 { implied: b"", .. } => "GS1 mod 10",
            Check::Gs1 { implied: b"91", .. } => "GS1 mod 10 with 91 implied",
            Check::Gs1 { implied: b"92", .. } => "GS1 mod 10 with 92 implied",
            Check::Gs1 { .. } => "GS1 mod 10 with a prefix implied",
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

/// Whose number a format is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Courier(&'static str),
    /// The national post of the country an S10 number ends in (`data/national_posts.tsv`).
    NationalPost,
}

/// One format.
#[derive(Debug, Clone)]
pub(crate) struct Format {
    /// Short name shown in candidates, e.g. `UPS 1Z`.
    pub name: &'static str,
    pub owner: Owner,
    /// The shape, in the language of `pattern.rs`.
    pub pattern: &'static str,
    pub check: Check,
    pub confidence: f32,
    /// Prefixes that exclude a number from this format.
    pub not: Vec<&'static str>,
    /// Whether the number must contain a letter (for shapes whose hexadecimal positions would
    /// otherwise take any all-digit number).
    pub needs_letter: bool,
    pub source: &'static str,
}

static FORMATS: LazyLock<Vec<Format>> = LazyLock::new(|| {
    FORMATS_TSV
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("formats.tsv: bad line {line:?}")))
        .collect()
});

/// The table, in its order.
pub(crate) fn table() -> &'static [Format] {
    &FORMATS
}

fn parse_line(line: &'static str) -> Option<Format> {
    let fields: Vec<&'static str> = line.split('\t').collect();
    let [name, courier, pattern, check, confidence, conditions, source] = fields[..] else {
        return None;
    };
    let mut not = Vec::new();
    let mut needs_letter = false;
    for condition in conditions.split(',').filter(|c| *c != "-") {
        match condition.strip_prefix("not:") {
            Some(prefix) => not.push(prefix),
            None if condition == "letter" => needs_letter = true,
            None if !not.is_empty() && condition.bytes().all(|b| b.is_ascii_digit()) => {
                not.push(condition)
            }
            None => return None,
        }
    }
    let confidence: f32 = confidence.parse().ok()?;
    ((0.0..=1.0).contains(&confidence) && !source.is_empty()).then_some(Format {
        name,
        owner: match courier {
            "*" => Owner::NationalPost,
            code => Owner::Courier(code),
        },
        pattern,
        check: Check::parse(check)?,
        confidence,
        not,
        needs_letter,
        source,
    })
}

/// A format as the public list shows it (`parceld_detect::formats`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FormatInfo {
    pub name: &'static str,
    /// The courier's code; `None` for S10, whose courier is the national post of its country.
    pub courier: Option<&'static str>,
    /// The shape: literal characters, `{dN}` digits, `{aN}` letters, `{xN}` either, `{hN}`
    /// hexadecimal digits, `[..]` one of, `|` alternatives.
    pub pattern: &'static str,
    pub check_digit: &'static str,
    pub confidence: f32,
    pub source: &'static str,
}

/// Every format detection knows, in the table's order.
pub fn formats() -> impl Iterator<Item = FormatInfo> {
    table().iter().map(|f| FormatInfo {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses() {
        assert!(table().len() > 50);
        let smartpost = table()
            .iter()
            .find(|f| f.name == "FedEx SmartPost 20")
            .unwrap();
        assert_eq!(
            smartpost.check,
            Check::Gs1 {
                implied: b"92",
                from: 0
            }
        );
        assert_eq!(smartpost.not, ["92"]);
        let usps = table().iter().find(|f| f.name == "USPS 20").unwrap();
        assert_eq!(usps.not, ["91", "92", "93", "94", "95"]);
        let s10 = table().iter().find(|f| f.name == "UPU S10").unwrap();
        assert_eq!((s10.owner, s10.check), (Owner::NationalPost, Check::S10));
        assert!(
            table()
                .iter()
                .find(|f| f.name == "Deutsche Post piece code")
                .unwrap()
                .needs_letter
        );
    }

    #[test]
    fn bad_lines_are_refused() {
        for line in [
            "X\tups\t{d3}\tgs2\t0.5\t-\tsource",
            "X\tups\t{d3}\tgs1\t1.5\t-\tsource",
            "X\tups\t{d3}\tgs1\t0.5\tmaybe\tsource",
            "X\tups\t{d3}\tgs1\t0.5\t-\t",
            "X\tups\t{d3}\tgs1\t0.5\t-",
        ] {
            assert!(parse_line(line).is_none(), "{line}");
        }
        assert_eq!(
            Check::parse("gs1+91@7"),
            Some(Check::Gs1 {
                implied: b"91",
                from: 7
            })
        );
    }
}
