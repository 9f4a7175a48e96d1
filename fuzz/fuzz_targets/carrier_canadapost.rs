//! Canada Post tracking-detail answers (XML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = parceld_carriers::canadapost::parse_response(body);
});
