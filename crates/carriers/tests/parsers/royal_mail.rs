//! Royal Mail Tracking API v2 bodies.

use super::*;
use parceld_carriers::royalmail::parse_response;

#[test]
fn fixtures_map_code_by_code() {
    goldens(
        "royal-mail",
        "json",
        &["spec_example", "delivered_sequence"],
        parse_response,
    );
}

#[test]
fn malformed_bodies_are_retryable() {
    let cut = b"{\"mailPieces\":{\"events\":[{\"eventCode\":";
    all_malformed(parse_response, &[cut, b"{}", b"<html>"]);
}
