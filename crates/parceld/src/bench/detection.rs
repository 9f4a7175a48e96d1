//! The detection scenario: numbers detected per second on one core, and how often random strings
//! are taken for tracking numbers (with any candidate, and with a validated check digit).

use std::time::{Duration, Instant};

use super::{Options, Report};

/// Detection speed on one core, and how often random strings are taken for tracking numbers.
pub(super) fn run(options: &Options, report: &mut Report) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut numbers = Vec::new();
    for i in 0..50_000u64 {
        numbers.push(match i % 5 {
            0 => format!("1Z{:016}", rng.gen::<u64>() % 10u64.pow(16)),
            1 => format!("9400{:018}", i * 7919),
            2 => format!("{:012}", rng.gen::<u64>() % 10u64.pow(12)),
            3 => format!("RR{:09}NL", i),
            _ => format!("3S{:011}", i),
        });
    }
    let budget = Duration::from_secs_f64((options.seconds as f64 / 2.0).max(0.5));
    let started = Instant::now();
    let mut detected = 0u64;
    let mut runs = 0u64;
    while started.elapsed() < budget {
        for n in &numbers {
            detected += parceld_detect::detect(n).len() as u64;
        }
        runs += numbers.len() as u64;
    }
    std::hint::black_box(detected);
    report.detection_per_second_one_core = Some(runs as f64 / started.elapsed().as_secs_f64());
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
