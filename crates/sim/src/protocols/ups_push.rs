//! UPS Track Alert: the subscription call (up to 100 `1Z`/`1R` numbers a call, others refused)
//! and the push body UPS posts for a package event, built from a number's newest visible event.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{authorized, local, newest_first, offset_text, Door};
use crate::Simulator;

/// The subscription endpoint.
pub(super) const SUBSCRIBE: Door =
    Door::counted("ups", "/api/track/v2/subscription/standard/package");

pub(super) async fn subscribe(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if !authorized(&sim, &headers) {
        return super::ups::refused();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let numbers: Vec<String> = request["trackingNumberList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    if numbers.is_empty() || numbers.len() > 100 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"response":{"errors":[{"code":"VSS100","message":"trackingNumberList must hold 1 to 100 numbers"}]}})),
        )
            .into_response();
    }
    let (valid, invalid): (Vec<String>, Vec<String>) = numbers
        .into_iter()
        .partition(|n| n.starts_with("1Z") || n.starts_with("1R"));
    sim.record_subscriptions("ups", &valid);
    Json(json!({"validTrackingNumbers": valid, "invalidTrackingNumbers": invalid})).into_response()
}

/// The Track Alert push of `number`'s newest visible event; `None` when it has none.
pub(crate) fn body(sim: &Simulator, number: &str) -> Option<Value> {
    let events = newest_first(sim, "ups", number)?;
    let (event, place) = events.first()?;
    let (local_time, hours) = local(event, place);
    let (type_, code, status_code, description) = super::ups::codes(event.kind);
    Some(json!({
        "trackingNumber": number,
        "localActivityDate": local_time.format("%Y%m%d").to_string(),
        "localActivityTime": local_time.format("%H%M%S").to_string(),
        "gmtActivityDate": event.at.format("%Y%m%d").to_string(),
        "gmtActivityTime": event.at.format("%H%M%S").to_string(),
        "gmtOffset": offset_text(hours),
        "activityLocation": {"city": place.city, "stateProvince": place.state, "postalCode": place.zip, "country": place.country},
        "activityStatus": {"type": type_, "code": code, "description": description, "statusCode": status_code},
    }))
}
