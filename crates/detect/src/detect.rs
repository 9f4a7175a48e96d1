//! Courier detection from a tracking number's shape and check digit.
//!
//! Why a table of formats matched byte by byte: detection runs on every create without a
//! `courier_code`, on every number found in a forwarded e-mail, and on bulk imports, so one
//! number must cost well under a microsecond. The formats (`data/formats.tsv`, each with its
//! source)
//! are compiled once into patterns and indexed by length; a number is normalized into a stack
//! buffer and tried against the few formats of its length, each a pattern match followed by at
//! most one check-digit computation. Nothing is allocated except the returned candidates.
//!
//! Why candidates are ranked, not a single answer: many formats overlap (a 22-digit `92…` number
//! is valid for both USPS and FedEx SmartPost; any 12 digits could be FedEx, DHL Paket, Purolator
//! or Canada Post). A passing check digit is real evidence (a random string passes only about one
//! time in ten), and a long fixed prefix (`1Z`, `TBA`, `3S`) is evidence too, so candidates carry
//! a confidence built from both, and validated check digits always rank above format-only
//! matches.
//!
//! A format whose check digit fails does not match at all: a mistyped number should not be
//! attributed to a courier because of its length alone.

use std::sync::LazyLock;

use parceld_model::is_number_separator;

use crate::checksum;
use crate::formats::{table, Check, Format, Owner};
use crate::pattern::Pattern;
use crate::registry::{self, Courier};

/// Longest normalized input detection looks at; the longest format (FedEx and USPS 34-digit
/// barcodes, DHL eCommerce) fits well within it.
pub(crate) const MAX_LEN: usize = 40;
/// Shortest format (Parcelforce's two letters and seven digits).
pub(crate) const MIN_LEN: usize = 9;

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

/// Strips separators (any white space, `-`, `.`) and upper-cases the rest: the form detection,
/// storage (`parceld_model::TrackingNumber`) and carrier adapters compare numbers in.
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| !is_number_separator(*c))
        .flat_map(char::to_uppercase)
        .collect()
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

/// A format ready to match: its compiled pattern and, unless an S10 country decides it, its
/// courier.
struct Compiled {
    format: &'static Format,
    pattern: Pattern,
    /// [`Pattern::first_bytes`].
    first_bytes: u128,
    courier: Option<&'static Courier>,
}

/// The formats, and for every length the formats that length can match.
struct Index {
    formats: Vec<Compiled>,
    by_len: Vec<Vec<u16>>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let formats: Vec<Compiled> = table()
        .iter()
        .map(|format| {
            let pattern = Pattern::compile(format.pattern);
            Compiled {
                format,
                first_bytes: pattern.first_bytes(),
                pattern,
                courier: match format.owner {
                    Owner::Courier(code) => Some(registry::courier(code).unwrap_or_else(|| {
                        panic!(
                            "format {} names courier {code}, which the registry lacks",
                            format.name
                        )
                    })),
                    Owner::NationalPost => None,
                },
            }
        })
        .collect();
    let by_len = (0..=MAX_LEN)
        .map(|len| {
            (0..formats.len() as u16)
                .filter(|&i| formats[usize::from(i)].pattern.allows_len(len))
                .collect()
        })
        .collect();
    Index { formats, by_len }
});

/// Detection on an already normalized number: upper-case ASCII letters and digits only.
pub(crate) fn detect_normalized(n: &[u8]) -> Vec<Candidate> {
    let mut out = Vec::new();
    if n.len() < MIN_LEN || n.len() > MAX_LEN {
        return out;
    }
    let index = &*INDEX;
    let first = 1u128 << n[0];
    for &i in &index.by_len[n.len()] {
        let compiled = &index.formats[usize::from(i)];
        if compiled.first_bytes & first == 0 {
            continue;
        }
        let format = compiled.format;
        if format.not.iter().any(|p| n.starts_with(p.as_bytes()))
            || (format.needs_letter && !n.iter().any(u8::is_ascii_uppercase))
            || !compiled.pattern.matches(n)
            || !check_ok(format.check, n)
        {
            continue;
        }
        let courier = match compiled.courier {
            Some(courier) => courier,
            None => match registry::national_post(&n[n.len() - 2..]) {
                Some(post) => post,
                None => continue,
            },
        };
        out.push(candidate(format, courier, n));
    }
    rank(&mut out);
    out
}

fn candidate(format: &'static Format, courier: &'static Courier, n: &[u8]) -> Candidate {
    let (check_digit, reason) = match (format.check, format.owner) {
        (Check::None, _) => (
            CheckDigit::NotApplicable,
            format!(
                "matches the {} format, which has no check digit to verify",
                format.name
            ),
        ),
        (_, Owner::NationalPost) => (
            CheckDigit::Valid,
            format!(
                "matches the {} format and its check digit is valid; issued in {}{}, whose \
                 national post is {}",
                format.name,
                n[n.len() - 2] as char,
                n[n.len() - 1] as char,
                courier.name
            ),
        ),
        _ => (
            CheckDigit::Valid,
            format!(
                "matches the {} format and its check digit is valid",
                format.name
            ),
        ),
    };
    Candidate {
        courier,
        confidence: format.confidence,
        format: format.name,
        check_digit,
        reason,
    }
}

/// Best first: validated check digits before format-only matches, then by confidence; one
/// candidate per courier (its best format). A shape-only candidate ranked after a validated one
/// gets no higher a confidence than it, so confidences read in rank order too.
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
            out[i].confidence = out[i].confidence.min(out[i - 1].confidence);
            i += 1;
        }
    }
}

/// The last byte as a digit value (callers have checked it is a digit).
#[inline]
fn last_digit(n: &[u8]) -> u8 {
    n[n.len() - 1].wrapping_sub(b'0')
}

/// Whether `n`, which matched the format's pattern, has a correct check digit.
fn check_ok(check: Check, n: &[u8]) -> bool {
    let body = &n[..n.len() - 1];
    match check {
        Check::None => true,
        Check::Gs1 { implied, from } => {
            checksum::gs1_mod10(implied, &body[from..]) == last_digit(n)
        }
        Check::Ups { from } => checksum::ups_mod10(&body[from..]) == last_digit(n),
        Check::FedEx { from } => checksum::fedex_mod11(&body[from..]) == last_digit(n),
        Check::Mod7 => checksum::mod7(body) == last_digit(n),
        Check::S10 => checksum::s10(&n[2..10]) == n[10].wrapping_sub(b'0'),
        Check::Luhn => checksum::luhn(body) == last_digit(n),
        Check::Identcode => checksum::identcode(body) == last_digit(n),
        Check::Mod3736 => checksum::mod_37_36(body) == n[n.len() - 1],
        Check::UspsRouted => usps_routed(n),
    }
}

/// `9` followed by `1`–`5`: the application identifiers USPS IMpb numbers start with.
#[inline]
fn usps_ai(n: &[u8]) -> bool {
    n.len() >= 2 && n[0] == b'9' && (b'1'..=b'5').contains(&n[1])
}

/// A USPS IMpb preceded by its routing code: `420` + ZIP (5 digits) or ZIP+4 (9 digits); the
/// IMpb after it is 22 or 26 digits with its `9x` identifier, or 20 printed without it.
fn usps_routed(n: &[u8]) -> bool {
    [5, 9].into_iter().any(|zip| {
        let Some(rest) = n.get(3 + zip..) else {
            return false;
        };
        let gs1 = |implied: &[u8]| {
            checksum::gs1_mod10(implied, &rest[..rest.len() - 1]) == last_digit(rest)
        };
        match rest.len() {
            22 | 26 => usps_ai(rest) && gs1(b""),
            20 => gs1(b"") || (!usps_ai(rest) && gs1(b"91")),
            _ => false,
        }
    })
}

/// Every format, with its compiled courier (for the corpus tests and the documentation).
#[cfg(test)]
pub(crate) fn formats_with_couriers() -> Vec<(&'static Format, Option<&'static Courier>)> {
    INDEX
        .formats
        .iter()
        .map(|c| (c.format, c.courier))
        .collect()
}

#[cfg(test)]
mod tests;
