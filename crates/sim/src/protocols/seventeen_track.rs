//! 17TRACK Tracking API v2.2: `POST` of a JSON array of at most 40 items on `/register`,
//! `/gettrackinfo` and `/stoptrack`, header `17token`, answered
//! `{"code":0,"data":{"accepted":[…],"rejected":[…]}}`. A number must be registered before it
//! can be polled (`-18019902`); registering twice is `-18019901`; more than 40 items is
//! `-18010014`; a used-up quota refuses registrations with `-18019908` (composed ⚠: 17TRACK's
//! published error list stops before its quota code).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{batch_items, code_of, field, iso_local, rendered, Call, Door, Protocol};
use crate::upstreams::Registration;
use crate::Simulator;

const NAME: &str = "17track";
const CUT: &str = "{\"code\":0,\"data\":{\"accepted\":[{\"number\":";

const fn door(path: &'static str) -> Door {
    Door::faulted(NAME, path, CUT)
}

fn refused() -> Response {
    let error = json!({"code": -18010002, "message": "Invalid security key."});
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"code": -18010002, "data": {"errors": [error]}})),
    )
        .into_response()
}

fn keyed(_: &Simulator, call: &Call) -> bool {
    call.has_headers(&["17token"])
}

pub(super) static REGISTER: Protocol = Protocol {
    door: door("/register"),
    method: MethodFilter::POST,
    answer: |sim, call| each(call, |number, item| register(sim, number, item)),
    presented: keyed,
    refused,
};

pub(super) static GET: Protocol = Protocol {
    door: door("/gettrackinfo"),
    method: MethodFilter::POST,
    answer: |sim, call| each(call, |number, _| track_info(sim, number)),
    presented: keyed,
    refused,
};

pub(super) static STOP: Protocol = Protocol {
    door: door("/stoptrack"),
    method: MethodFilter::POST,
    answer: |sim, call| {
        each(call, |number, _| match sim.stop_number(NAME, number) {
            true => Ok(json!({"number": number})),
            false => Err((
                -18019902,
                format!("Tracking number {number} is not registered yet."),
            )),
        })
    },
    presented: keyed,
    refused,
};

/// Answers every item of the body's array with `one`: accepted, or rejected with a code.
fn each(call: &Call, one: impl Fn(&str, &Value) -> Result<Value, (i64, String)>) -> Response {
    let envelope_error = |code: i64, message: &str| {
        let error = json!({"code": code, "message": message});
        Json(json!({"code": code, "data": {"errors": [error]}})).into_response()
    };
    let items = match batch_items(&call.body) {
        Ok(items) => items,
        Err(None) => return envelope_error(-18010013, "Invalid submitted data."),
        Err(Some(_)) => return envelope_error(-18010014, "Tracking numbers exceed the 40 limit."),
    };
    let (accepted, rejected): (Vec<_>, Vec<_>) = items
        .iter()
        .map(|item| (field(item, "number"), one(field(item, "number"), item)))
        .partition(|(_, outcome)| outcome.is_ok());
    let accepted: Vec<Value> = accepted.into_iter().filter_map(|(_, o)| o.ok()).collect();
    let rejected: Vec<Value> = rejected
        .into_iter()
        .filter_map(|(number, o)| o.err().map(|(code, message)| (number, code, message)))
        .map(|(number, code, message)| json!({"number": number, "error": {"code": code, "message": message}}))
        .collect();
    Json(json!({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})).into_response()
}

fn carrier(item: &Value) -> String {
    item.get("carrier")
        .map(Value::to_string)
        .unwrap_or_default()
}

fn register(sim: &Simulator, number: &str, item: &Value) -> Result<Value, (i64, String)> {
    match sim.register(NAME, number, &carrier(item), field(item, "tag")) {
        Registration::New(_) => Ok(json!({"number": number, "carrier": item.get("carrier")})),
        Registration::Already(_) => Err((
            -18019901,
            format!("Tracking number {number} is already registered."),
        )),
        Registration::QuotaExhausted => Err((-18019908, "Insufficient quota.".to_string())),
    }
}

fn track_info(sim: &Simulator, number: &str) -> Result<Value, (i64, String)> {
    let Some(registration) = sim.registration(NAME, number) else {
        return Err((
            -18019902,
            format!("Tracking number {number} is not registered yet. Register first."),
        ));
    };
    let events = GET.events(sim, number).unwrap_or_default();
    let rendered = rendered(&events, |event, place, local, hours| {
        let (sub_status, description) = code_of(NAME, event.kind);
        json!({"time_iso": iso_local(local, hours),
               "time_utc": event.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
               "description": description, "location": place.city, "stage": null,
               "sub_status": sub_status, "address": {"country": place.country}})
    });
    let status = if events.is_empty() {
        "NotFound"
    } else {
        "InTransit"
    };
    let provider = json!({"provider": {"key": registration.courier, "name": "Simulated carrier"},
                          "latest_sync_status": "Success", "events": rendered});
    let carrier: Value = registration
        .courier
        .parse::<u64>()
        .map_or(Value::Null, Value::from);
    Ok(
        json!({"number": number, "carrier": carrier, "tag": registration.tag, "track_info": {
        "latest_status": {"status": status, "sub_status": null},
        "tracking": {"providers": [provider]}}}),
    )
}

/// 17TRACK's webhook body for `number` (carrier-apis-2.md §A1): `TRACKING_UPDATED` with the
/// same `data` `/gettrackinfo` accepts; `None` when the number is not registered.
pub(crate) fn push_body(sim: &Simulator, number: &str) -> Option<Value> {
    let data = track_info(sim, number).ok()?;
    Some(json!({"event": "TRACKING_UPDATED", "data": data}))
}

/// The `sign` header of `body`: lowercase hex SHA-256 of `body + "/" + key`.
pub(crate) fn sign(key: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(body)
        .chain_update(b"/")
        .chain_update(key.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
