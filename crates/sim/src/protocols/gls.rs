//! GLS Track and Trace v1: an OAuth 2 token behind HTTP Basic, a GET of up to ten
//! comma-separated parcel numbers answering one `parcels` entry each (`E_404_01` when
//! unknown), Apigee faults for refused tokens, times with a `+0200` offset.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{authorized, code_of, comma_list, rendered, Call, Door, Protocol};
use crate::Simulator;

pub(super) static TOKEN: Protocol = Protocol {
    method: MethodFilter::POST,
    answer: token,
    door: Door::counted("gls", "/oauth2/v2/token"),
    presented: |_, call| call.has_basic() && call.body.contains("grant_type=client_credentials"),
    refused: || {
        let body =
            json!({"error": "invalid_client", "error_description": "Client authentication failed"});
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    },
};

pub(super) static TRACK: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: trackids,
    door: Door::faulted(
        "gls",
        "/track-and-trace-v1/tracking/simple/trackids/{unitnos}",
        "{\"parcels\":[{\"requested\":",
    ),
    presented: |sim, call| authorized(sim, &call.headers),
    refused: || {
        // GLS's API gateway (Apigee) answers a bad token so (ecitrackandtrace.yaml, 401).
        let fault = json!({"faultstring": "Invalid access token",
                           "detail": {"errorcode": "keymanagement.service.invalid_access_token"}});
        (StatusCode::UNAUTHORIZED, Json(json!({"fault": fault}))).into_response()
    },
};

fn token(sim: &Simulator, _: &Call) -> Response {
    let (token, ttl) = sim.issue_token("gls");
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl})).into_response()
}

fn trackids(sim: &Simulator, call: &Call) -> Response {
    let parcels: Vec<Value> = comma_list(&call.param)
        .into_iter()
        .map(|id| parcel(sim, id))
        .collect();
    Json(json!({"parcels": parcels})).into_response()
}

fn parcel(sim: &Simulator, id: &str) -> Value {
    let Some(events) = TRACK.events(sim, id) else {
        return json!({"requested": id, "errorCode": "E_404_01", "errorMessage": "Resource Not Found"});
    };
    let rendered = rendered(&events, |event, place, local, hours| {
        let (code, description) = code_of("gls", event.kind);
        let sign = if hours < 0 { '-' } else { '+' };
        let stamp = format!(
            "{}{sign}{:02}00",
            local.format("%Y-%m-%dT%H:%M:%S"),
            hours.abs()
        );
        json!({"code": code, "city": place.city, "postalCode": place.zip, "country": place.country,
               "description": description, "eventDateTime": stamp})
    });
    json!({"requested": id, "unitno": id, "statusDateTime": rendered[0]["eventDateTime"],
           "events": rendered})
}
