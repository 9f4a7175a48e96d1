//! DHL track answers for one number.
//!
//! Input: `number NUL body`; without a NUL byte the whole input is the body (so the carrier
//! fixtures seed it as they are) and the number is a fixed one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (number, body) = match data.iter().position(|&b| b == 0) {
        Some(at) => (String::from_utf8_lossy(&data[..at]), &data[at + 1..]),
        None => ("0".into(), data),
    };
    let _ = parceld_carriers::dhl::parse_response(&number, body);
});
