//! UPS Track API: an OAuth client-credentials token behind HTTP Basic, and one GET per
//! number answering UPS's `trackResponse` shape with UPS activity codes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use super::{authorized, basic_auth, newest_first, offset_text, rendered, Door};
use crate::journey::EventKind;
use crate::Simulator;

/// The token endpoint.
pub(super) const TOKEN: Door = Door::counted("ups", "/security/v1/oauth/token");
/// The track endpoint, one number a call.
pub(super) const TRACK: Door = Door::faulted(
    "ups",
    "/api/track/v1/details/{inquiryNumber}",
    "{\"trackResponse\":{\"shipment\":[{\"package\":[",
);

pub(super) async fn token(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if !basic_auth(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"response":{"errors":[{"code":"10401","message":"ClientId is Invalid"}]}})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("ups");
    Json(json!({
        "token_type": "Bearer", "issued_at": Utc::now().timestamp_millis().to_string(),
        "client_id": "sim", "access_token": token, "scope": "",
        "expires_in": ttl.to_string(), "refresh_count": "0", "status": "approved"
    }))
    .into_response()
}

pub(super) fn codes(kind: EventKind) -> (&'static str, &'static str, &'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("M", "MP", "003", "Shipper created a label, UPS has not received the package yet."),
        PickedUp => ("P", "PU", "038", "Pickup Scan"),
        ArrivedFacility => ("I", "AR", "005", "Arrived at Facility"),
        DepartedFacility => ("I", "DP", "005", "Departed from Facility"),
        CustomsCleared => ("I", "CC", "014", "Your package has been released by the government agency."),
        OutForDelivery => ("I", "OT", "072", "Out For Delivery Today"),
        AvailableForPickup => ("I", "2Q", "017", "Delivered to UPS Access Point; awaiting customer pickup"),
        DeliveryAttempted => ("X", "48", "022", "The receiver was not available for delivery. We'll make a second attempt the next business day."),
        Delivered => ("D", "F4", "011", "DELIVERED"),
        Exception => ("X", "45", "013", "Exception: the package was damaged"),
        Refused => ("X", "RS", "034", "The receiver refused the delivery. Returning to sender."),
        ReturnToSender => ("X", "RS", "035", "Returning to Sender"),
    }
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sim, &headers) {
        return refused();
    }
    if headers.get("transId").is_none() || headers.get("transactionSrc").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"response":{"errors":[{"code":"VSS000","message":"Missing transId or transactionSrc header"}]}})),
        )
            .into_response();
    }
    if number.len() < 7 || number.len() > 34 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"response":{"errors":[{"code":"TV1002","message":"Invalid inquiry number"}]}})),
        )
            .into_response();
    }
    let Some(events) = newest_first(&sim, "ups", &number) else {
        return Json(json!({"trackResponse":{"shipment":[{"inquiryNumber": number, "warnings":[{"code":"TW0001","message":"Tracking Information Not Found"}]}]}})).into_response();
    };
    let activity = rendered(&events, |event, place, local, hours| {
        let (type_, code, status_code, description) = codes(event.kind);
        json!({
            "location": { "address": { "city": place.city, "stateProvince": place.state, "postalCode": place.zip, "countryCode": place.country, "country": place.country } },
            "status": { "type": type_, "description": description, "code": code, "statusCode": status_code },
            "date": local.format("%Y%m%d").to_string(),
            "time": local.format("%H%M%S").to_string(),
            "gmtDate": event.at.format("%Y%m%d").to_string(),
            "gmtTime": event.at.format("%H:%M:%S").to_string(),
            "gmtOffset": offset_text(hours),
        })
    });
    Json(
        json!({"trackResponse":{"shipment":[{"inquiryNumber": number, "package":[{
            "trackingNumber": number, "activity": activity, "packageCount": 1,
            "service": {"code": "003", "description": "UPS Ground"}
        }]}]}}),
    )
    .into_response()
}

/// UPS's answer to a call without a valid token.
pub(super) fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"response":{"errors":[{"code":"250002","message":"Invalid Authentication Information."}]}})),
    )
        .into_response()
}
