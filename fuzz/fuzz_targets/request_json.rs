//! Client request bodies into domain values, as the API and the import read them: the JSON
//! reader with its duplicate-key check, a create request read and validated, and a webhook
//! body's status filter and version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parceld_service::json::{parse_json, unique_keys};
use parceld_service::{parse_status_text, parse_statuses, parse_version, NewTrackingRequest};
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let _ = unique_keys(body);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = parse_status_text(text);
        let _ = parse_version(text);
    }
    let Ok(value) = parse_json::<Value>(body) else {
        return;
    };
    let items = match &value {
        Value::Array(items) => items.clone(),
        _ => vec![value.clone()],
    };
    for item in items {
        if let Some(statuses) = item.get("statuses") {
            let _ = parse_statuses(statuses);
        }
        if let Some(version) = item.get("version").and_then(Value::as_str) {
            let _ = parse_version(version);
        }
        if let Ok(request) = NewTrackingRequest::from_json(item) {
            let _ = request.validate();
        }
    }
});
