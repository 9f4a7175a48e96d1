//! DHL Shipment Tracking – Unified: an API key header, a GET of one number, problem+json
//! errors.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{newest_first, offset_text, rendered, Door};
use crate::journey::EventKind;
use crate::Simulator;

/// The track endpoint, one number a call.
pub(super) const TRACK: Door = Door::faulted("dhl", "/track/shipments", "{\"shipments\":[{\"id\":");

fn codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => (
            "pre-transit",
            "The shipment has been electronically announced.",
        ),
        PickedUp => ("transit", "The shipment has been picked up."),
        ArrivedFacility => ("transit", "The shipment arrived at the parcel center."),
        DepartedFacility => ("transit", "The shipment left the parcel center."),
        CustomsCleared => ("transit", "Customs clearance completed."),
        OutForDelivery => ("transit", "The shipment is out for delivery."),
        AvailableForPickup => (
            "transit",
            "The shipment is ready for pickup at the parcel shop.",
        ),
        DeliveryAttempted => ("failure", "Delivery attempt failed: recipient not home."),
        Delivered => ("delivered", "The shipment has been delivered."),
        Exception => ("failure", "The shipment was damaged."),
        Refused => ("failure", "Delivery refused by the recipient."),
        ReturnToSender => ("failure", "The shipment is being returned to the shipper."),
    }
}

pub(super) fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({"title": title, "detail": detail, "status": status.as_u16()}).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct DhlQuery {
    #[serde(rename = "trackingNumber", default)]
    tracking_number: Option<String>,
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    Query(query): Query<DhlQuery>,
    headers: HeaderMap,
) -> Response {
    if headers.get("DHL-API-Key").is_none() {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid API key.");
    }
    let Some(number) = query.tracking_number.filter(|n| !n.trim().is_empty()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "trackingNumber is required.",
        );
    };
    let Some(events) = newest_first(&sim, "dhl", &number) else {
        return problem(
            StatusCode::NOT_FOUND,
            "No result found",
            "No shipment with given tracking number found.",
        );
    };
    let rendered = rendered(&events, |event, place, local, hours| {
        let (code, text) = codes(event.kind);
        json!({
            "timestamp": format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset_text(hours)),
            "location": {"address": {"countryCode": place.country, "postalCode": place.zip, "addressLocality": place.city}},
            "statusCode": code, "status": text, "description": text
        })
    });
    Json(json!({"shipments": [{
        "id": number, "service": "express",
        "status": rendered[0].clone(),
        "details": {"product": {"productName": "DHL PAKET"}, "totalNumberOfPieces": 1, "weight": {"value": 1.5, "unitText": "kg"}},
        "events": rendered
    }]}))
    .into_response()
}
