//! PostNL Shipping Status v2: an API key header and a GET per barcode.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{local, newest_first, Door};
use crate::journey::EventKind;
use crate::Simulator;

/// The status endpoint, one barcode a call.
pub(super) const TRACK: Door = Door::faulted(
    "postnl-3s",
    "/shipment/v2/status/barcode/{barcode}",
    "{\"CompleteStatus\":{\"Shipment\":",
);

fn codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("A01", "Shipment expected, but not yet arrived at PostNL"),
        PickedUp => ("B01", "Shipment received by PostNL"),
        ArrivedFacility => ("J01", "Shipment has been sorted"),
        DepartedFacility | CustomsCleared => ("J06", "Shipment is in transit"),
        OutForDelivery => ("J05", "Driver is en route"),
        AvailableForPickup => ("I08", "Shipment is available at the pick-up point"),
        DeliveryAttempted => ("K14", "We missed you"),
        Delivered => ("I01", "Shipment delivered"),
        Exception => ("Y04", "Shipment damaged"),
        Refused => ("H02", "Shipment refused by recipient"),
        ReturnToSender => ("H01", "Shipment returned to sender"),
    }
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    Path(barcode): Path<String>,
    headers: HeaderMap,
) -> Response {
    if headers.get("apikey").is_none() {
        return (StatusCode::UNAUTHORIZED, Json(json!({"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "steps.oauth.v2.FailedToResolveAPIKey"}}}))).into_response();
    }
    let Some(events) = newest_first(&sim, "postnl-3s", &barcode) else {
        return Json(json!({"CompleteStatus": {}, "Warnings": [{"Message": "No shipment found", "Code": "2"}]})).into_response();
    };
    let rendered: Vec<Value> = events
        .iter()
        .map(|(event, place)| {
            let (code, text) = codes(event.kind);
            let (local, _) = local(event, place);
            json!({"Code": code, "Description": text, "DestinationLocationCode": {}, "LocationCode": "171966", "RouteCode": {}, "RouteName": {},
                   "TimeStamp": local.format("%d-%m-%Y %H:%M:%S").to_string()})
        })
        .collect();
    Json(json!({"CompleteStatus": {"Shipment": {
        "MainBarcode": barcode, "Barcode": barcode, "ShipmentAmount": "1", "ShipmentCounter": "1",
        "ProductDescription": "Parcels, domestic &lt;= 10 kg", "Dimension": {"Weight": "1200"},
        "Event": rendered
    }}}))
    .into_response()
}
