//! Courier detection of one tracking number, and the normalization it starts with.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parceld_detect::normalize(text);
    let _ = parceld_detect::detect(text);
});
