//! Australia Post Shipping & Tracking bodies: events matched by their text.

use super::*;
use parceld_carriers::auspost::parse_response;

#[test]
fn fixtures_map_by_description() {
    let names = ["karrio_tracking", "invalid_id", "too_many_ids"];
    goldens("australia-post", "json", &names, parse_response);
}

#[test]
fn malformed_bodies_are_retryable() {
    let cut = b"{\"tracking_results\":[{\"tracking_id\":";
    all_malformed(parse_response, &[cut, b"{}", b"[]"]);
}
