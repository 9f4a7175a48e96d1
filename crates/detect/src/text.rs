//! Finding tracking numbers inside free text (a shipping-confirmation e-mail, a pasted note).
//!
//! People and mail templates write numbers in groups — `1Z 999 AA1 01 2345 6784`,
//! `9400-1112-0108-0805-4830-16` — so a number may span several words. The scanner splits the
//! text into *runs* of ASCII alphanumeric *groups* joined by short separators (spaces, dashes,
//! dots), and from each group tries the concatenations of it and the following groups of the
//! same run, keeping the longest one that [`detect`](crate::detect()) recognises. Any other
//! character (a colon, a comma, a line break, `#`) ends a run, so words of surrounding sentences
//! are only joined when they sit right next to a number, and the check digits make an accidental
//! join very unlikely to be recognised.

use crate::detect::{detect_normalized, Candidate, MAX_LEN, MIN_LEN};

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
                if !candidates.is_empty() {
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
