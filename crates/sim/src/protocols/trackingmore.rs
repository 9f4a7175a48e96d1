//! TrackingMore v4: `GET /trackings/get?tracking_numbers=a,b&courier_code=c` (the account's
//! trackings of those numbers), `POST /trackings/batch` (a JSON array of at most 40; per item
//! `errorCode` 4101 when it exists; the whole call meta 4190 when the quota is used up, 4103 past
//! 40), `DELETE /trackings/delete/{id}`; header `Tracking-Api-Key`; every answer
//! `{"meta":{"code","message"},"data":…}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{
    batch_items, code_of, field, iso_local, registered_listed, rendered, Call, Door, Protocol,
};
use crate::upstreams::{Registered, Registration};
use crate::Simulator;

const NAME: &str = "trackingmore";
const CUT: &str = "{\"meta\":{\"code\":200},\"data\":[{\"tracking_number\":";

fn answer(status: StatusCode, code: u16, message: &str, data: Value) -> Response {
    (
        status,
        Json(json!({"meta": {"code": code, "message": message}, "data": data})),
    )
        .into_response()
}

fn keyed(_: &Simulator, call: &Call) -> bool {
    call.has_headers(&["Tracking-Api-Key"])
}

fn refused() -> Response {
    let message = "Authentication failed or has no permission. Please check and ensure your API Key is correct.";
    answer(StatusCode::UNAUTHORIZED, 401, message, json!([]))
}

pub(super) static GET: Protocol = Protocol {
    door: Door::faulted(NAME, "/trackings/get", CUT),
    method: MethodFilter::GET,
    answer: |sim, call| {
        let found: Vec<Value> = registered_listed(sim, NAME, call, |n, r| tracking(sim, n, r));
        answer(
            StatusCode::OK,
            200,
            "Request response is successful",
            Value::Array(found),
        )
    },
    presented: keyed,
    refused,
};

pub(super) static BATCH: Protocol = Protocol {
    door: Door::faulted(NAME, "/trackings/batch", CUT),
    method: MethodFilter::POST,
    answer: batch,
    presented: keyed,
    refused,
};

pub(super) static DELETE: Protocol = Protocol {
    door: Door::faulted(NAME, "/trackings/delete/{id}", CUT),
    method: MethodFilter::DELETE,
    answer: |sim, call| match sim.delete_by_id(NAME, &call.param) {
        Some(number) => {
            let data = json!({"id": call.param, "tracking_number": number});
            answer(StatusCode::OK, 200, "Request response is successful", data)
        }
        None => answer(
            StatusCode::BAD_REQUEST,
            4112,
            "Invalid Tracking ID.",
            json!({}),
        ),
    },
    presented: keyed,
    refused,
};

fn batch(sim: &Simulator, call: &Call) -> Response {
    let items = match batch_items(&call.body) {
        Ok(items) => items,
        Err(None) => {
            return answer(
                StatusCode::BAD_REQUEST,
                400,
                "Request type error.",
                json!({}),
            )
        }
        Err(Some(_)) => {
            let message = "You have exceeded the shipment quantity of API call. The maximum quantity is 40 shipments per call.";
            return answer(StatusCode::BAD_REQUEST, 4103, message, json!({}));
        }
    };
    let (mut success, mut error) = (Vec::new(), Vec::new());
    for item in &items {
        let (number, courier) = (field(item, "tracking_number"), field(item, "courier_code"));
        match sim.register(NAME, number, courier, "") {
            Registration::New(r) => {
                success.push(json!({"id": r.id, "tracking_number": number, "courier_code": courier}))
            }
            Registration::Already(r) => error.push(json!({"id": r.id, "tracking_number": number,
                "courier_code": courier, "errorCode": 4101, "errorMessage": "Tracking No. already exists."})),
            Registration::QuotaExhausted => {
                let message = "You are reaching the maximum quota limitation, please upgrade your current plan.";
                return answer(StatusCode::BAD_REQUEST, 4190, message, json!({}));
            }
        }
    }
    answer(
        StatusCode::OK,
        200,
        "Request response is successful",
        json!({"success": success, "error": error}),
    )
}

fn tracking(sim: &Simulator, number: &str, registered: &Registered) -> Value {
    let events = GET.events(sim, number).unwrap_or_default();
    let trackinfo = rendered(&events, |event, place, local, hours| {
        let (substatus, detail) = code_of(NAME, event.kind);
        let status = substatus.trim_end_matches(|c: char| c.is_ascii_digit());
        json!({"checkpoint_date": iso_local(local, hours), "checkpoint_delivery_status": status,
               "checkpoint_delivery_substatus": substatus, "tracking_detail": detail,
               "location": place.city, "country_iso2": place.country, "state": place.state,
               "city": place.city, "zip": place.zip})
    });
    let substatus = trackinfo.first().map_or("notfound002", |c| {
        c["checkpoint_delivery_substatus"]
            .as_str()
            .unwrap_or_default()
    });
    let status = substatus.trim_end_matches(|c: char| c.is_ascii_digit());
    json!({"id": registered.id, "tracking_number": number, "courier_code": registered.courier,
           "delivery_status": status, "substatus": substatus,
           "origin_info": {"trackinfo": trackinfo}, "destination_info": {"trackinfo": []}})
}
