//! Royal Mail Tracking API v2: IBM API Connect client headers and the terms header, a GET of one
//! mail piece's events, IBM-style 401s and `E1142` for unknown numbers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::json;

use super::{code_of, iso_local, rendered, Call, Door, Protocol};
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: events,
    door: Door::faulted(
        "royal-mail",
        "/mailpieces/v2/{mailPieceId}/events",
        "{\"mailPieces\":{\"events\":[{\"eventCode\":",
    ),
    presented: |_, call| call.has_headers(&["X-IBM-Client-Id", "X-IBM-Client-Secret"]),
    refused: || {
        let body = json!({"httpCode": "401", "httpMessage": "Unauthorized",
                          "moreInformation": "Client id not registered."});
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    },
};

/// Royal Mail's error body: `httpCode`, `httpMessage` and one `errors` entry.
fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let error = json!({"errorCode": code, "errorDescription": description,
                       "errorCause": "", "errorResolution": ""});
    let body = json!({"httpCode": status.as_str(), "httpMessage": status.canonical_reason(),
                      "errors": [error]});
    (status, Json(body)).into_response()
}

fn events(sim: &Simulator, call: &Call) -> Response {
    let id = &call.param;
    if call.header("X-Accept-RMG-Terms") != Some("yes") {
        let why = "Failed header validation for X-Accept-RMG-Terms";
        return error(StatusCode::BAD_REQUEST, "E0004", why);
    }
    let Some(events) = PROTOCOL.events(sim, id) else {
        let why = format!("Barcode reference {id} isn't recognised");
        return error(StatusCode::NOT_FOUND, "E1142", &why);
    };
    let rendered = rendered(&events, |event, place, local, hours| {
        let (code, name) = code_of("royal-mail", event.kind);
        json!({"eventCode": code, "eventName": name, "eventDateTime": iso_local(local, hours),
               "locationName": place.city})
    });
    let last = &rendered[0];
    let summary = json!({"uniqueItemId": id, "oneDBarcode": id, "productId": "SD2",
        "productName": "Special Delivery Guaranteed", "productCategory": "NON-INTERNATIONAL",
        "destinationCountryCode": "GBR", "originCountryCode": "GBR",
        "lastEventCode": last["eventCode"], "lastEventName": last["eventName"],
        "lastEventDateTime": last["eventDateTime"], "lastEventLocationName": last["locationName"]});
    Json(json!({"mailPieces": {
        "mailPieceId": id, "carrierShortName": "RM", "carrierFullName": "Royal Mail Group Ltd",
        "summary": summary, "events": rendered
    }}))
    .into_response()
}
