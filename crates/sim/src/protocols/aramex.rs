//! Aramex tracking, the JSON face of the SOAP service: `ClientInfo` and the waybills in the body,
//! each known waybill's updates under `TrackingResults` with WCF JSON dates, unknown ones in
//! `NonExistingWaybills`, refusals as `HasErrors` inside a 200.

use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{code_of, rendered, Call, Door, Protocol};
use crate::Simulator;

const TRACK: &str = "/ShippingAPI.V2/Tracking/Service_1_0.svc/json/TrackShipments";
const CUT: &str = "{\"HasErrors\":false,\"TrackingResults\":[{\"Key\":";

/// Whether the body's `ClientInfo` names a user and a password.
fn client_info_given(_: &Simulator, call: &Call) -> bool {
    let body: Value = serde_json::from_str(&call.body).unwrap_or_default();
    let given = |name: &str| {
        body["ClientInfo"][name]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    };
    given("UserName") && given("Password")
}

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::POST,
    answer: track_shipments,
    door: Door::faulted("aramex", TRACK, CUT),
    presented: client_info_given,
    refused: || {
        // (composed) ERR01 is the code an open-source client takes for refused credentials.
        let notice = json!({"Code": "ERR01", "Message": "Invalid username or password"});
        Json(
            json!({"Transaction": null, "Notifications": [notice], "HasErrors": true,
                    "TrackingResults": [], "NonExistingWaybills": []}),
        )
        .into_response()
    },
};

fn track_shipments(sim: &Simulator, call: &Call) -> Response {
    let body: Value = serde_json::from_str(&call.body).unwrap_or_default();
    let waybills = body["Shipments"].as_array().cloned().unwrap_or_default();
    let (mut results, mut unknown) = (Vec::new(), Vec::new());
    for waybill in waybills.iter().filter_map(Value::as_str) {
        let Some(events) = PROTOCOL.events(sim, waybill) else {
            unknown.push(waybill);
            continue;
        };
        let updates = rendered(&events, |event, place, _, hours| {
            let (code, description) = code_of("aramex", event.kind);
            let sign = if hours < 0 { '-' } else { '+' };
            let date = format!(
                "/Date({}{sign}{:02}00)/",
                event.at.timestamp_millis(),
                hours.abs()
            );
            json!({"WaybillNumber": waybill, "UpdateCode": code, "UpdateDescription": description,
                   "UpdateDateTime": date, "UpdateLocation": place.city, "Comments": "",
                   "ProblemCode": "", "GrossWeight": "1.5", "ChargeableWeight": "1.5",
                   "WeightUnit": "KG"})
        });
        results.push(json!({"Key": waybill, "Value": updates}));
    }
    Json(
        json!({"Transaction": body["Transaction"], "Notifications": [], "HasErrors": false,
                "TrackingResults": results, "NonExistingWaybills": unknown}),
    )
    .into_response()
}
