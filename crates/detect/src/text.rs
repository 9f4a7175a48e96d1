//! Finding tracking numbers inside free text (a shipping-confirmation e-mail, a pasted note).
//!
//! People and mail templates write numbers in groups — `1Z 999 AA1 01 2345 6784`,
//! `9400-1112-0108-0805-4830-16` — so a number may span several words. The scanner splits the
//! text into *runs* of ASCII alphanumeric *groups* joined by short separators (spaces, dashes,
//! dots), and from each group tries the concatenations of it and the following groups of the
//! same run, keeping the longest one that [`detect`](crate::detect()) recognises convincingly (see
//! `convincing`). Any other
//! character (a colon, a comma, a line break, `#`) ends a run, so words of surrounding sentences
//! are only joined when they sit right next to a number, and the check digits make an accidental
//! join very unlikely to be recognised.

use crate::detect::{detect_normalized, Candidate, CheckDigit, MAX_LEN};

/// Shortest number the scanner reports: formats shorter than ten characters (Parcelforce's two
/// letters and seven digits) look too much like the order and invoice numbers around them.
const MIN_LEN: usize = 10;

/// A tracking number found in text, with its candidates (never empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The number as [`normalize`](crate::normalize) writes it.
    pub number: String,
    pub candidates: Vec<Candidate>,
}

/// Longest separator between two groups of one number (`" - "`).
const MAX_SEPARATOR: usize = 3;

/// Tracking numbers in `text`, in order of first appearance, each once, each with at least one
/// candidate.
pub fn find_in_text(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found: Vec<Found> = Vec::new();
    // Groups of the current run, as byte ranges into `text`.
    let mut run: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            run.push((start, i));
            // Does the run go on after a short separator?
            let sep_start = i;
            while i < bytes.len() && i - sep_start < MAX_SEPARATOR && is_group_separator(bytes[i]) {
                i += 1;
            }
            let continues = i > sep_start && i < bytes.len() && bytes[i].is_ascii_alphanumeric();
            if !continues {
                scan_run(bytes, &run, &mut found);
                run.clear();
            }
        } else {
            i += 1;
        }
    }
    scan_run(bytes, &run, &mut found);
    found
}

#[inline]
fn is_group_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'\t')
}

/// Greedy scan of one run: at each group, the longest recognised concatenation wins and the scan
/// resumes after it.
fn scan_run(bytes: &[u8], run: &[(usize, usize)], found: &mut Vec<Found>) {
    let mut buf = [0u8; MAX_LEN];
    let mut g = 0;
    while g < run.len() {
        let mut len = 0;
        let mut best: Option<(usize, usize, Vec<Candidate>)> = None;
        for (k, &(s, e)) in run[g..].iter().enumerate() {
            if len + (e - s) > MAX_LEN {
                break;
            }
            for &b in &bytes[s..e] {
                buf[len] = b.to_ascii_uppercase();
                len += 1;
            }
            if len >= MIN_LEN {
                let candidates = detect_normalized(&buf[..len]);
                if candidates.iter().any(convincing) {
                    best = Some((g + k, len, candidates));
                }
            }
        }
        match best {
            Some((last, len, candidates)) => {
                let number = String::from_utf8_lossy(&buf[..len]).into_owned();
                // `buf` now holds the longest concatenation tried; the match is its prefix.
                if !found.iter().any(|f| f.number == number) {
                    found.push(Found { number, candidates });
                }
                g = last + 1;
            }
            None => g += 1,
        }
    }
}

/// Whether a candidate is evidence enough in running text: a valid check digit, or a format
/// specific enough to stand alone (confidence ≥ 0.5: a prefix like `1Z`, `TBA`, `3S`). A bare run
/// of digits of some length (a GLS or Evri number without a check digit) is not — phone, order
/// and invoice numbers look the same.
fn convincing(candidate: &Candidate) -> bool {
    candidate.check_digit == CheckDigit::Valid || candidate.confidence >= 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<String> {
        find_in_text(text).into_iter().map(|f| f.number).collect()
    }

    #[test]
    fn finds_grouped_numbers_in_an_email() {
        let mail = "Hello Ana,\n\nyour order #112-4455 has shipped!\n\
                    UPS tracking number: 1Z 999 AA1 01 2345 6784.\n\
                    The second parcel goes by USPS (9400 1112 0108 0805 4830 16),\n\
                    and the letter is registered: RB 123 456 785 GB\n\
                    Questions? Call 1-800-555-0100.\n";
        let found = find_in_text(mail);
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.number.as_str(), f.candidates[0].courier.code))
            .collect();
        assert_eq!(
            got,
            [
                ("1Z999AA10123456784", "ups"),
                ("9400111201080805483016", "usps"),
                ("RB123456785GB", "royal-mail"),
            ]
        );
        assert!(found.iter().all(|f| !f.candidates.is_empty()));
    }

    #[test]
    fn deduplicates_and_keeps_order_of_appearance() {
        let text = "RB123456785GB, then 1Z999AA10123456784, and again rb-123-456-785-gb \
                    and 1z999aa10123456784";
        assert_eq!(numbers(text), ["RB123456785GB", "1Z999AA10123456784"]);
    }

    #[test]
    fn dashes_dots_and_neighbouring_words() {
        assert_eq!(
            numbers("Sendung JJD000390007757287421 ist unterwegs"),
            ["JJD000390007757287421"]
        );
        assert_eq!(
            numbers("tracking:1Z999AA10123456784"),
            ["1Z999AA10123456784"]
        );
        assert_eq!(
            numbers("Track 9400-1112-0108-0805-4830-16 now."),
            ["9400111201080805483016"]
        );
        assert_eq!(numbers("nr. 3SDEVC288882229."), ["3SDEVC288882229"]);
        assert_eq!(numbers("(C11031500001879)"), ["C11031500001879"]);
    }

    #[test]
    fn ignores_text_without_numbers_and_broken_numbers() {
        assert!(find_in_text("").is_empty());
        assert!(find_in_text("Thank you for your order. It will arrive soon.").is_empty());
        // Broken UPS check digit and an S10 with a broken check digit.
        assert!(find_in_text("1Z 999 AA1 01 2345 6785 and RB123456786GB").is_empty());
        // Inside a longer token a number is not split out.
        assert!(find_in_text("X1Z999AA10123456784").is_empty());
    }

    #[test]
    fn numbers_separated_only_by_newlines_are_separate() {
        assert_eq!(
            numbers("1Z999AA10123456784\nRB123456785GB\r\nC11031500001879"),
            ["1Z999AA10123456784", "RB123456785GB", "C11031500001879"]
        );
    }

    #[test]
    fn non_ascii_text_is_fine() {
        assert_eq!(
            numbers(
                "Ihre Sendungsnummer lautet — 1Z999AA10123456784 — schönen Tag «RB123456785GB»"
            ),
            ["1Z999AA10123456784", "RB123456785GB"]
        );
    }
}
