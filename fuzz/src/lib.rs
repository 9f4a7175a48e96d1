//! What the fuzz targets share: how the targets of carriers whose parser needs the tracking number
//! an answer is for read that number and the answer from one input.

use std::borrow::Cow;

/// Splits `number NUL body`. Without a NUL byte the whole input is the body (so the carrier
/// fixtures seed a target as they are) and the number is a fixed one.
pub fn number_and_body(data: &[u8]) -> (Cow<'_, str>, &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(at) => (String::from_utf8_lossy(&data[..at]), &data[at + 1..]),
        None => ("0".into(), data),
    }
}
