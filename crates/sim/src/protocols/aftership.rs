//! AfterShip Tracking API (2025-01): `GET /trackings?tracking_numbers=a,b` lists the account's
//! trackings of those numbers, `POST /trackings` creates one (201; meta 4003 when it exists; the
//! free plan's daily limit is a 429 saying so), `DELETE /trackings/{id}` deletes one; header
//! `as-api-key`; every answer `{"meta":{"code","message","type"},"data":…}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{code_of, iso_local, registered_listed, rendered, Call, Door, Protocol};
use crate::upstreams::{Registered, Registration};
use crate::Simulator;

const NAME: &str = "aftership";
const CUT: &str = "{\"meta\":{\"code\":200},\"data\":{\"trackings\":[{\"tracking_number\":";

fn answer(status: StatusCode, code: u16, message: &str, data: Value) -> Response {
    let kind = if status.is_success() { "OK" } else { "Error" };
    let meta = json!({"code": code, "message": message, "type": kind});
    (status, Json(json!({"meta": meta, "data": data}))).into_response()
}

fn keyed(_: &Simulator, call: &Call) -> bool {
    call.has_headers(&["as-api-key"])
}

fn refused() -> Response {
    answer(StatusCode::UNAUTHORIZED, 401, "Invalid API key.", json!({}))
}

/// `GET` (a list, by its query) and `POST` (a create, by its body) of `/trackings`.
pub(super) static TRACKINGS: Protocol = Protocol {
    door: Door::faulted(NAME, "/trackings", CUT),
    method: MethodFilter::GET.or(MethodFilter::POST),
    answer: |sim, call| match call.body.trim().is_empty() {
        true => list(sim, call),
        false => create(sim, call),
    },
    presented: keyed,
    refused,
};

pub(super) static DELETE: Protocol = Protocol {
    door: Door::faulted(NAME, "/trackings/{id}", CUT),
    method: MethodFilter::DELETE,
    answer: delete,
    presented: keyed,
    refused,
};

/// Deleting stops the number; an unknown id is AfterShip's 4004.
fn delete(sim: &Simulator, call: &Call) -> Response {
    let Some(number) = sim.delete_by_id(NAME, &call.param) else {
        return answer(
            StatusCode::NOT_FOUND,
            4004,
            "Tracking does not exist.",
            json!({}),
        );
    };
    answer(
        StatusCode::OK,
        200,
        "OK",
        json!({"id": call.param, "tracking_number": number}),
    )
}

fn list(sim: &Simulator, call: &Call) -> Response {
    let trackings: Vec<Value> = registered_listed(sim, NAME, call, |n, r| tracking(sim, n, r));
    let pagination = json!({"total": trackings.len(), "next_cursor": null, "has_next_page": false});
    answer(
        StatusCode::OK,
        200,
        "OK",
        json!({"pagination": pagination, "trackings": trackings}),
    )
}

fn create(sim: &Simulator, call: &Call) -> Response {
    let body: Value = serde_json::from_str(&call.body).unwrap_or(Value::Null);
    let Some(number) = body.get("tracking_number").and_then(Value::as_str) else {
        return answer(
            StatusCode::BAD_REQUEST,
            4007,
            "tracking_number is required.",
            json!({}),
        );
    };
    let slug = body.get("slug").and_then(Value::as_str).unwrap_or_default();
    match sim.register(NAME, number, slug, "") {
        Registration::New(registered) => answer(
            StatusCode::CREATED,
            201,
            "Created",
            tracking(sim, number, &registered),
        ),
        Registration::Already(_) => answer(
            StatusCode::BAD_REQUEST,
            4003,
            "Tracking already exists.",
            json!({}),
        ),
        Registration::QuotaExhausted => answer(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "Default limit is 100 request per day for free user",
            json!({}),
        ),
    }
}

fn tracking(sim: &Simulator, number: &str, registered: &Registered) -> Value {
    let events = TRACKINGS.events(sim, number).unwrap_or_default();
    let checkpoints = rendered(&events, |event, place, local, hours| {
        let (subtag, message) = code_of(NAME, event.kind);
        let tag = subtag.split('_').next().unwrap_or_default();
        json!({"checkpoint_time": iso_local(local, hours), "message": message, "city": place.city,
               "state": place.state, "zip": place.zip, "tag": tag, "subtag": subtag, "raw_tag": subtag})
    });
    let subtag = checkpoints
        .first()
        .map_or("Pending_001", |c| c["subtag"].as_str().unwrap_or_default());
    json!({"id": registered.id, "tracking_number": number, "slug": registered.courier,
           "tag": subtag.split('_').next().unwrap_or_default(), "subtag": subtag,
           "checkpoints": checkpoints.into_iter().rev().collect::<Vec<_>>()})
}

/// AfterShip's webhook body for `number` (carrier-apis-2.md §A2): `tracking_update` with the
/// tracking as `msg`; `None` when the number is not registered.
pub(crate) fn push_body(sim: &Simulator, number: &str) -> Option<Value> {
    let registered = sim.registration(NAME, number)?;
    let msg = tracking(sim, number, &registered);
    let ts = chrono::Utc::now().timestamp();
    Some(json!({"ts": ts, "event": "tracking_update",
                "event_id": format!("{}-{ts}-{}", registered.id, rand::random::<u32>()),
                "is_tracking_first_tag": false, "msg": msg}))
}
