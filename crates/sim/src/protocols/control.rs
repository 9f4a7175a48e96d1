//! The control endpoints tests and demos drive the simulator with: scripted journeys, the
//! clock, faults, token revocation, counters and reset, and the SMS provider's received
//! messages and scripted failures.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::journey::SimEvent;
use crate::{Faults, Simulator, SmsFailure};

/// The simulator's control routes.
pub(super) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/_control/numbers/{number}", put(script))
        .route("/_control/clock/advance", post(advance))
        .route("/_control/faults", put(faults).delete(clear_faults))
        .route("/_control/tokens/revoke", post(revoke))
        .route("/_control/counters", get(counters))
        .route("/_control/push/{upstream}", put(push_to))
        .route("/_control/reset", post(reset))
        .route("/_control/sms/messages", get(sms_messages))
        .route("/_control/sms/failures", put(sms_fail))
}

async fn sms_messages(State(sim): State<Simulator>) -> Response {
    Json(sim.sms_requests()).into_response()
}

/// `{"number": "+1…", "fail": "invalid_number", "times": 2}` (`times` absent: for good).
#[derive(Deserialize, serde::Serialize)]
struct SmsFailBody {
    number: String,
    fail: SmsFailure,
    times: Option<u64>,
}

async fn sms_fail(State(sim): State<Simulator>, Json(body): Json<SmsFailBody>) -> Response {
    sim.fail_sms(&body.number, body.fail, body.times);
    Json(body).into_response()
}

#[derive(Deserialize)]
struct PushBody {
    url: String,
    secret: String,
}

async fn push_to(
    State(sim): State<Simulator>,
    Path(upstream): Path<String>,
    Json(body): Json<PushBody>,
) -> Response {
    if !["17track", "aftership"].contains(&upstream.as_str()) {
        let error = json!({"error": "only 17track and aftership push on their own"});
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    }
    sim.push_to(&upstream, &body.url, &body.secret);
    Json(json!({"upstream": upstream, "url": body.url})).into_response()
}

#[derive(Deserialize)]
struct ScriptBody {
    events: Vec<SimEvent>,
}

async fn script(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    Json(body): Json<ScriptBody>,
) -> Response {
    let count = body.events.len();
    sim.script(&number, body.events);
    Json(json!({"number": number, "events": count})).into_response()
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: u64,
    #[serde(default)]
    number: Option<String>,
}

async fn advance(State(sim): State<Simulator>, Json(body): Json<AdvanceBody>) -> Response {
    let by = std::time::Duration::from_secs(body.seconds);
    match &body.number {
        Some(number) => sim.advance_number(number, by),
        None => sim.advance(by),
    }
    Json(json!({"advanced_seconds": body.seconds, "number": body.number})).into_response()
}

#[derive(Deserialize)]
struct FaultsBody {
    #[serde(default)]
    carrier: Option<String>,
    #[serde(flatten)]
    faults: Faults,
}

async fn faults(State(sim): State<Simulator>, Json(body): Json<FaultsBody>) -> Response {
    sim.set_faults(body.carrier.as_deref(), body.faults.clone());
    Json(json!({"carrier": body.carrier.unwrap_or_else(|| "*".into()), "faults": body.faults}))
        .into_response()
}

async fn clear_faults(State(sim): State<Simulator>) -> Response {
    sim.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn revoke(State(sim): State<Simulator>) -> Response {
    sim.revoke_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn counters(State(sim): State<Simulator>) -> Response {
    Json(sim.counters()).into_response()
}

async fn reset(State(sim): State<Simulator>) -> Response {
    sim.reset();
    StatusCode::NO_CONTENT.into_response()
}
