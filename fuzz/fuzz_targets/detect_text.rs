//! Finding tracking numbers in free text (an e-mail, a pasted page).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parceld_detect::find_in_text(text);
});
