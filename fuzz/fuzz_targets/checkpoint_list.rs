//! The stored checkpoint-list decoder: bytes from the database file, which a damaged or foreign
//! file may make anything. Whatever does not decode must be `Corrupt`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = parceld_store_sqlite::fuzzing::decode_checkpoint_list(bytes);
});
