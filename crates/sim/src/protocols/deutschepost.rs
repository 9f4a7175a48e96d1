//! Deutsche Post letters, as DHL's Shipment Tracking – Unified tracks them (`service=post-de`):
//! the `DHL-API-Key` header, German texts and German local times without offset.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::json;

use super::dhl::problem;
use super::{code_of, rendered, Call, Door, Protocol};
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: shipments,
    door: Door::faulted(
        "deutsch-post",
        "/track/shipments",
        "{\"shipments\":[{\"id\":",
    ),
    presented: |_, call| call.has_headers(&["DHL-API-Key"]),
    refused: || problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid API key."),
};

fn shipments(sim: &Simulator, call: &Call) -> Response {
    let number = call.query.get("trackingNumber").map_or("", String::as_str);
    let Some(events) = PROTOCOL.events(sim, number) else {
        let detail = "No shipment with given tracking number found.";
        return problem(StatusCode::NOT_FOUND, "No result found", detail);
    };
    let events = rendered(&events, |event, _, local, _| {
        let (code, text) = code_of("deutsch-post", event.kind);
        json!({"timestamp": local.format("%Y-%m-%dT%H:%M:%S").to_string(), "statusCode": code,
               "status": text, "description": text})
    });
    let service = call.query.get("service").map_or("post-de", String::as_str);
    let shipment = json!({"id": number, "service": service, "status": events[0],
        "details": {"product": {"productName": "Einschreiben"}}, "events": events});
    Json(json!({"shipments": [shipment]})).into_response()
}
