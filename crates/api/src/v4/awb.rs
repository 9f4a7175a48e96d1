//! `POST /v4/awb`: air waybills, TrackingMore's shape (§1.9): `{"awb_number": "235-69030430"}`,
//! or a batch of up to 20 such objects. Each number is checked here (prefix, serial, mod-7
//! check digit, a cargo airline of the registry; 4160, 4161, 4162) and then tracked by the
//! configured air-cargo upstream ([`parceld_carriers::air_cargo`]); without one the answer is
//! 4169, saying what to configure.

use axum::extract::State;
use axum::Json;
use parceld_carriers::air_cargo::{Awb, AwbError, MAX_BATCH};
use parceld_model::LimitClass;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::Envelope;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{parse_json, Authenticated, RawBody};
use crate::{AppState, ClassedRoutes};

/// This module's routes, in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V4Other,
        OpenApiRouter::default().routes(routes!(track_awb)),
    )]
}

/// One air waybill to track.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AwbRequest {
    /// `PPP-SSSSSSSS`: the airline's three-digit prefix and the eight-digit serial.
    pub awb_number: Option<String>,
}

/// One request or a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AwbBody {
    One(AwbRequest),
    Many(Vec<AwbRequest>),
}

impl From<AwbError> for ApiError {
    fn from(error: AwbError) -> Self {
        let code = match error {
            AwbError::Invalid(_) => ErrorCode::AwbInvalid,
            AwbError::AirlineUnsupported(_) => ErrorCode::AwbAirlineUnsupported,
        };
        ApiError::new(code, error.to_string())
    }
}

/// Track air waybills through the configured air-cargo upstream.
#[utoipa::path(
    post,
    path = "/v4/awb",
    operation_id = "trackAirWaybill",
    request_body = AwbBody,
    responses(
        (status = 200, description = "The upstream's air waybill data (one object, or one per item of a batch)", body = Envelope<Value>),
        (status = 400, description = "4160 invalid number or check digit, 4161 airline not supported, 4162 more than 20, 4169 no air-cargo upstream configured (`[air_cargo]`)"),
        (status = 503, description = "The upstream failed"),
    ),
)]
pub async fn track_awb(
    State(state): State<AppState>,
    _auth: Authenticated,
    RawBody(body): RawBody,
) -> Result<Json<Envelope<Value>>, ApiError> {
    let (requests, batch) = match parse_json::<AwbBody>(&body)? {
        AwbBody::One(one) => (vec![one], false),
        AwbBody::Many(many) => (many, true),
    };
    if requests.len() > MAX_BATCH {
        return Err(ApiError::new(
            ErrorCode::AwbBatchTooLarge,
            format!(
                "Got {}; send at most {MAX_BATCH} per request.",
                requests.len()
            ),
        ));
    }
    let awbs = requests
        .iter()
        .map(|r| Awb::parse(r.awb_number.as_deref().unwrap_or("")))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(upstream) = &state.air_cargo else {
        return Err(ApiError::new(
            ErrorCode::AwbNotConfigured,
            "parceld tracks air waybills through an upstream: set [air_cargo] base_url and api_key (a TrackingMore-compatible /v4/awb).",
        ));
    };
    let mut answers = Vec::with_capacity(awbs.len());
    for awb in &awbs {
        let data = upstream.track(awb).await.map_err(|e| {
            ApiError::new(
                ErrorCode::Unavailable,
                format!("The air-cargo upstream failed: {e}"),
            )
        })?;
        answers.push(data);
    }
    let data = if batch {
        Value::Array(answers)
    } else {
        answers.pop().unwrap_or(Value::Null)
    };
    Ok(Json(Envelope::ok(data)))
}
