//! Australia Post Shipping & Tracking: HTTP Basic plus `Account-Number`, a GET of up to ten
//! comma-separated ids answering one `tracking_results` entry each, `ESB-10001` for unknown ids
//! and `51101` for more than ten.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{code_of, comma_list, iso_local, rendered, Call, Door, Protocol};
use crate::journey::EventKind;
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: track,
    door: Door::faulted(
        "australia-post",
        "/shipping/v1/track",
        "{\"tracking_results\":[{\"tracking_id\":",
    ),
    presented: |_, call| call.has_basic() && call.has_headers(&["Account-Number"]),
    refused: || {
        // (composed) Australia Post's 401 body is not in the sources read.
        let error = json!({"code": "API_001", "name": "UNAUTHORIZED",
                           "message": "The API key or password is invalid."});
        (StatusCode::UNAUTHORIZED, Json(json!({"errors": [error]}))).into_response()
    },
};

fn track(sim: &Simulator, call: &Call) -> Response {
    let ids = comma_list(call.query.get("tracking_ids").map_or("", String::as_str));
    if ids.len() > 10 {
        let error = json!({"code": "51101", "name": "TOO_MANY_AP_TRACKING_IDS",
            "message": "The request must contain 10 or less AP article ids, consignment ids, or barcode ids."});
        return (StatusCode::BAD_REQUEST, Json(json!({"errors": [error]}))).into_response();
    }
    let results: Vec<Value> = ids.iter().map(|id| result(sim, id)).collect();
    Json(json!({"tracking_results": results})).into_response()
}

fn result(sim: &Simulator, id: &str) -> Value {
    let Some(events) = PROTOCOL.events(sim, id) else {
        let error = json!({"code": "ESB-10001", "name": "Invalid tracking ID"});
        return json!({"tracking_id": id, "errors": [error]});
    };
    let rendered = rendered(&events, |event, place, local, hours| {
        let (_, description) = code_of("australia-post", event.kind);
        json!({"location": format!("{} {}", place.city, place.state),
               "description": description, "date": iso_local(local, hours)})
    });
    let status = match events[0].0.kind {
        EventKind::Delivered => "Delivered",
        EventKind::AvailableForPickup => "Awaiting collection",
        _ => "In transit",
    };
    let article = json!({"article_id": id, "product_type": "eParcel", "events": rendered,
                         "status": status});
    json!({"tracking_id": id, "status": status, "trackable_items": [article]})
}
