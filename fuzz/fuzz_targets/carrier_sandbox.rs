//! The sandbox courier's journeys: any number, any creation and asking instants, any step.
//!
//! Input: created-at and now as i64 Unix seconds (big-endian), the step as u64 seconds, then the
//! number as text.
#![no_main]

use std::time::Duration;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let word = |at: usize| <[u8; 8]>::try_from(&data[at..at + 8]).unwrap();
    let (Some(created_at), Some(now)) = (
        DateTime::from_timestamp(i64::from_be_bytes(word(0)), 0),
        DateTime::from_timestamp(i64::from_be_bytes(word(8)), 0),
    ) else {
        return;
    };
    let step = Duration::from_secs(u64::from_be_bytes(word(16)));
    let number = String::from_utf8_lossy(&data[24..]);
    let _ = parceld_carriers::sandbox::journey_at(&number, created_at, now, step);
});
