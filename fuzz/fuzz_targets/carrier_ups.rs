//! UPS track answers for one number.
//!
//! Input: `number NUL body`, read by [`parceld_fuzz::number_and_body`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (number, body) = parceld_fuzz::number_and_body(data);
    let _ = parceld_carriers::ups::parse_response(&number, body);
});
