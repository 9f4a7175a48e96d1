//! FedEx track answers: a batch response body, read whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = parceld_carriers::fedex::parse_response(body);
});
