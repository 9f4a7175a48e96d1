//! FedEx Track API: an OAuth token from a form body, and a POST of up to 30 numbers
//! answering FedEx's `completeTrackResults` with its event and derived status codes.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{
    authorized, local, newest_first, offset_text, rendered, serde_urlencoded_lite, Door, TokenForm,
};
use crate::journey::{EventKind, Place, SimEvent};
use crate::Simulator;

/// The token endpoint.
pub(super) const TOKEN: Door = Door::counted("fedex", "/oauth/token");
/// The track endpoint, up to 30 numbers a call.
pub(super) const TRACK: Door = Door::faulted(
    "fedex",
    "/track/v1/trackingnumbers",
    "{\"transactionId\":\"sim\",\"output\":{\"completeTrackResults\":[{",
);

pub(super) async fn token(State(sim): State<Simulator>, body: String) -> Response {
    let form: TokenForm = serde_urlencoded_lite(&body);
    if form.client_id.as_deref().unwrap_or("").is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"transactionId": "sim", "errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"The given client credentials were not valid. Please modify your request and try again."}]})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("fedex");
    Json(json!({"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": "CXS-TP"})).into_response()
}

pub(super) fn codes(kind: EventKind) -> (&'static str, &'static str, &'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("OC", "Shipment information sent to FedEx", "", "IN"),
        PickedUp => ("PU", "Picked up", "", "PU"),
        ArrivedFacility => ("AR", "Arrived at FedEx location", "", "IT"),
        DepartedFacility => ("DP", "Departed FedEx location", "", "IT"),
        CustomsCleared => ("CC", "International shipment release - Import", "", "IT"),
        OutForDelivery => ("OD", "On FedEx vehicle for delivery", "", "IT"),
        AvailableForPickup => ("HP", "Ready for recipient pickup", "", "IT"),
        DeliveryAttempted => (
            "DE",
            "Delivery exception",
            "Customer not available or business closed",
            "DE",
        ),
        Delivered => ("DL", "Delivered", "", "DL"),
        Exception => ("SE", "Shipment exception", "Package damaged", "SE"),
        Refused => ("DE", "Delivery exception", "Customer refused package", "DE"),
        ReturnToSender => ("RS", "Return to shipper", "", "RS"),
    }
}

/// FedEx's estimated delivery window while a shipment is on its way: the day after its newest
/// scan, 08:00 to 20:00 at that scan's place and offset; none once delivered.
fn estimated_window(events: &[(SimEvent, Place)]) -> Option<Value> {
    let (newest, place) = events.first()?;
    if newest.kind == EventKind::Delivered {
        return None;
    }
    let (local_time, hours) = local(newest, place);
    let day = (local_time + chrono::Duration::days(1)).format("%Y-%m-%d");
    let edge = |time: &str| format!("{day}T{time}{}", offset_text(hours));
    Some(json!({
        "type": "ESTIMATED_DELIVERY",
        "window": {"begins": edge("08:00:00"), "ends": edge("20:00:00")}
    }))
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if !authorized(&sim, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"transactionId":"sim","errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"The given JWT is invalid. Please modify your request and try again."}]})),
        )
            .into_response();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let numbers: Vec<String> = request["trackingInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["trackingNumberInfo"]["trackingNumber"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    if numbers.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"transactionId":"sim","errors":[{"code":"TRACKING.TRACKINGNUMBER.EMPTY","message":"Please provide tracking number."}]})),
        )
            .into_response();
    }
    if numbers.len() > 30 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"transactionId":"sim","errors":[{"code":"TRACKING.TRACKINGNUMBER.LIMIT.EXCEEDED","message":"Please limit your request to 30 tracking numbers."}]})),
        )
            .into_response();
    }
    let result_error = sim.result_error("fedex");
    let results: Vec<Value> = numbers
        .iter()
        .map(|number| match newest_first(&sim, "fedex", number) {
            None => json!({"trackingNumber": number, "trackResults": [{
                "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": "", "carrierCode": ""},
                "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "Tracking number cannot be found. Please correct the tracking number and try again."}}]}),
            Some(events) => {
                let scans = rendered(&events, |event, place, local, hours| {
                        let (code, description, exception, derived) = codes(event.kind);
                        json!({
                            "date": format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset_text(hours)),
                            "eventType": code, "eventDescription": description,
                            "exceptionCode": "", "exceptionDescription": exception,
                            "scanLocation": {"streetLines": [""], "city": place.city, "stateOrProvinceCode": place.state, "postalCode": place.zip, "countryCode": place.country, "residential": false},
                            "derivedStatusCode": derived
                        })
                    });
                let mut result = json!({
                    "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": format!("12028~{number}~FDEG"), "carrierCode": "FDXG"},
                    "scanEvents": scans,
                    "serviceDetail": {"type": "FEDEX_GROUND", "description": "FedEx Ground", "shortDescription": "FG"}
                });
                if let Some(window) = estimated_window(&events) {
                    result["estimatedDeliveryTimeWindow"] = window;
                }
                if let Some(code) = &result_error {
                    result["error"] = json!({"code": code, "message": "Please provide tracking number."});
                }
                json!({"trackingNumber": number, "trackResults": [result]})
            }
        })
        .collect();
    Json(json!({"transactionId": "sim", "output": {"completeTrackResults": results}}))
        .into_response()
}
