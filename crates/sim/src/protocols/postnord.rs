//! PostNord Track & Trace v5: the key in the `apikey` query parameter, a GET of one identifier
//! answering a `TrackingInformationResponse` (no `shipments` when unknown), local times without
//! offset.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::json;

use super::{code_of, rendered, Call, Door, Protocol};
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: find_by_identifier,
    door: Door::faulted(
        "postnord",
        "/rest/shipment/v5/trackandtrace/findByIdentifier.json",
        "{\"TrackingInformationResponse\":{\"shipments\":[{\"items\":[",
    ),
    presented: |_, call| call.query.contains_key("apikey"),
    refused: || {
        // (composed) the gateway's answer to a wrong key is not in the sources read.
        let body = json!({"message": "Invalid ApiKey", "code": "403"});
        (StatusCode::FORBIDDEN, Json(body)).into_response()
    },
};

fn find_by_identifier(sim: &Simulator, call: &Call) -> Response {
    let id = call.query.get("id").map_or("", String::as_str);
    let Some(events) = PROTOCOL.events(sim, id) else {
        return Json(json!({"TrackingInformationResponse": {"shipments": []}})).into_response();
    };
    let mut rendered = rendered(&events, |event, place, local, _| {
        let (status, description) = code_of("postnord", event.kind);
        json!({"eventTime": local.format("%Y-%m-%dT%H:%M:%S").to_string(), "status": status,
               "eventDescription": description,
               "location": {"displayName": place.city, "city": place.city,
                            "postcode": place.zip, "countryCode": place.country}})
    });
    // PostNord lists events oldest first.
    rendered.reverse();
    let item = json!({"itemId": id, "status": rendered[rendered.len() - 1]["status"],
                      "events": rendered});
    let shipment = json!({"shipmentId": id, "assessedNumberOfItems": 1,
        "service": {"code": "19", "name": "MyPack Collect"},
        "consignee": {"address": {"countryCode": "SE", "city": "Stockholm"}},
        "items": [item]});
    Json(json!({"TrackingInformationResponse": {"shipments": [shipment]}})).into_response()
}
