//! The detection scenario: how well detection names the courier of the corpus's numbers (top-1,
//! top-3, and how often invalid numbers get a candidate with a valid check digit), how many numbers
//! it detects per second on one core, and how often random strings are taken for tracking numbers
//! (with any candidate, and with a validated check digit).
//!
//! The speed is measured on the corpus's numbers as written (spaces, dashes, lower case; valid
//! and invalid; every courier's formats), so it follows the formats the registry has.

use std::time::{Duration, Instant};

use parceld_detect::corpus::{self, NATIONAL_POSTS_FILE};

use super::{Options, Report};

/// Detection's corpus scores, its speed on one core, and how often random strings are taken for
/// tracking numbers.
pub(super) fn run(options: &Options, report: &mut Report) {
    let entries = corpus::entries();
    report.detection_corpus = Some(corpus::score(&entries).into());
    report.detection_corpus_named =
        Some(corpus::score(entries.iter().filter(|e| e.file != NATIONAL_POSTS_FILE)).into());

    let numbers: Vec<&str> = entries.iter().map(|e| e.number).collect();
    let budget = Duration::from_secs_f64((options.seconds as f64 / 2.0).max(0.5));
    let started = Instant::now();
    let mut detected = 0u64;
    let mut runs = 0u64;
    while started.elapsed() < budget {
        for n in &numbers {
            detected += parceld_detect::detect(std::hint::black_box(n)).len() as u64;
        }
        runs += numbers.len() as u64;
    }
    std::hint::black_box(detected);
    report.detection_per_second_one_core = Some(runs as f64 / started.elapsed().as_secs_f64());
    random_strings(report);
}

/// How often random 10–22 character strings (A-Z0-9, and digits only) get a candidate, and one
/// whose check digit validated.
fn random_strings(report: &mut Report) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let trials = 100_000;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    // (any candidate, a candidate with a validated check digit) for letters+digits, digits only.
    let mut hits = [[0u32; 2]; 2];
    for _ in 0..trials {
        let len = rng.gen_range(10..=22);
        let alnum: String = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
            .collect();
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect();
        for (kind, text) in [alnum, digits].iter().enumerate() {
            let candidates = parceld_detect::detect(text);
            if !candidates.is_empty() {
                hits[kind][0] += 1;
            }
            if candidates
                .iter()
                .any(|c| c.check_digit == parceld_detect::CheckDigit::Valid)
            {
                hits[kind][1] += 1;
            }
        }
    }
    let rate = |n: u32| Some(f64::from(n) / f64::from(trials));
    report.detection_false_positive_alnum = rate(hits[0][0]);
    report.detection_false_positive_digits = rate(hits[1][0]);
    report.detection_validated_alnum = rate(hits[0][1]);
    report.detection_validated_digits = rate(hits[1][1]);
}
