//! USPS APIs v3: an OAuth token, the v3 GET per number and the v3r2 POST of several numbers,
//! with USPS event codes and its own not-found and unauthorized shapes.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    authorized, header_text, newest_first, offset_text, rendered, serde_urlencoded_lite, Door,
};
use crate::journey::EventKind;
use crate::Simulator;

/// The token endpoint.
pub(super) const TOKEN: Door = Door::counted("usps", "/oauth2/v3/token");
/// The v3 endpoint, one number a call.
pub(super) const TRACK: Door = Door::faulted(
    "usps",
    "/tracking/v3/tracking/{trackingNumber}",
    "{\"trackingNumber\":\"",
);
/// The v3r2 endpoint, several numbers a call.
pub(super) const TRACK_MANY: Door =
    Door::faulted("usps", "/tracking/v3r2/tracking", "[{\"trackingNumber\":");

pub(super) async fn token(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json_body = header_text(&headers, header::CONTENT_TYPE).is_some_and(|v| v.contains("json"));
    let client_id = if json_body {
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["client_id"].as_str().map(str::to_string))
    } else {
        serde_urlencoded_lite(&body).client_id
    };
    if client_id.unwrap_or_default().is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error":"invalid_client","error_description":"Client authentication failed.","error_uri":"https://datatracker.ietf.org/doc/html/rfc6749#page-45"})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("usps");
    Json(json!({"access_token": token, "token_type": "Bearer", "issued_at": Utc::now().timestamp_millis().to_string(),
        "expires_in": ttl.to_string(), "status": "approved", "scope": "tracking", "issuer": "api.usps.com"}))
    .into_response()
}

fn codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("GX", "Shipping Label Created, USPS Awaiting Item"),
        PickedUp => ("03", "USPS in possession of item"),
        ArrivedFacility => ("10", "Arrived at USPS Regional Facility"),
        DepartedFacility => ("EF", "Departed USPS Regional Facility"),
        CustomsCleared => ("PC", "Processed Through Facility"),
        OutForDelivery => ("OF", "Out for Delivery"),
        AvailableForPickup => ("16", "Available for Pickup"),
        DeliveryAttempted => ("02", "Notice Left (No Authorized Recipient Available)"),
        Delivered => ("01", "Delivered, In/At Mailbox"),
        Exception => ("05", "Undeliverable as Addressed"),
        Refused => ("04", "Refused"),
        ReturnToSender => ("21", "Return to Sender"),
    }
}

fn tracking_detail(sim: &Simulator, number: &str, zip_key: &str) -> Option<Value> {
    let events = newest_first(sim, "usps", number)?;
    let rendered = rendered(&events, |event, place, local, hours| {
        let (code, text) = codes(event.kind);
        json!({
            "eventType": text,
            "eventTimestamp": local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "GMTTimestamp": event.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "GMTOffset": offset_text(hours),
            "eventCountry": null, "eventCity": place.city, "eventState": place.state, zip_key: place.zip,
            "firm": null, "name": null, "authorizedAgent": "false", "eventCode": code, "additionalProp": null
        })
    });
    let (latest, _) = &events[0];
    Some(json!({
        "trackingNumber": number, "mailClass": "USPS Ground Advantage<SUP>&#153;</SUP>",
        "status": codes(latest.kind).1, "destinationCity": "DENVER", "destinationState": "CO", "destinationZIP": "80202",
        "originCity": "NEW YORK", "originState": "NY", "originZIP": "10001",
        "trackingEvents": rendered
    }))
}

fn not_found(number: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"apiVersion": "3.0", "error": {"code": "404", "message": "Resource Not Found",
            "errors": [{"status": "404", "code": "404", "title": "Resource Not Found", "detail": format!("The tracking number {number} could not be found.")}]}})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"apiVersion": "3.0", "error": {"code": "401", "message": "Unauthorized", "errors": [{"status": "401", "code": "401", "title": "Unauthorized"}]}})),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct UspsQuery {
    #[serde(default)]
    expand: Option<String>,
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    Query(query): Query<UspsQuery>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sim, &headers) {
        return unauthorized();
    }
    match tracking_detail(&sim, &number, "eventZIP") {
        None => not_found(&number),
        Some(mut detail) => {
            if query
                .expand
                .as_deref()
                .is_none_or(|e| e.eq_ignore_ascii_case("SUMMARY"))
            {
                detail["trackingEvents"] = json!([]);
            }
            Json(detail).into_response()
        }
    }
}

pub(super) async fn track_v3r2(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if !authorized(&sim, &headers) {
        return unauthorized();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let items: Vec<Value> = request
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["trackingNumber"].as_str())
        .map(|n| tracking_detail(&sim, n, "eventZIPCode").unwrap_or_else(|| json!({"trackingNumber": n, "error": {"code": "404", "message": "The tracking number could not be found."}})))
        .collect();
    Json(Value::Array(items)).into_response()
}
