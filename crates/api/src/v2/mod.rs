//! The legacy TrackingMore v2 face of the API.
//!
//! Many live integrations still speak v2, and its FAQ is the contract their authors quote
//! (`POST /trackings/post` then `GET /trackings/get`, 4015 for a body that is not JSON, 4031 for
//! a shipment never posted, 4001 versus 4002 for keys). The handlers here only translate: v2 wire
//! request → the same validation and services as v4 (`parceld_service`) → the store → v2 wire
//! response, with errors translated from `ServiceError` through [`crate::error::ApiError`] into [`V2Error`]. One core,
//! two faces.

pub mod batches;
pub mod carriers;
pub mod trackings;
pub mod wire;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{V2Code, V2Error};
use crate::extract::{QueryPairs, RawBody};
use wire::V2Envelope;

/// What a v2 handler answers: its data in the v2 envelope, or a v2 error.
pub(crate) type V2Result<T> = Result<Json<V2Envelope<T>>, V2Error>;

/// A success in the v2 envelope.
pub(crate) fn ok<T>(data: T) -> V2Result<T> {
    Ok(Json(V2Envelope::ok(data)))
}

/// The request body, read whole; failures in the v2 envelope.
pub struct V2Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for V2Body {
    type Rejection = V2Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        RawBody::from_request(req, state)
            .await
            .map(|RawBody(bytes)| V2Body(bytes))
            .map_err(V2Error::from)
    }
}

/// Query-string pairs; failures in the v2 envelope.
pub struct V2Query(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for V2Query {
    type Rejection = V2Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        QueryPairs::from_request_parts(parts, state)
            .await
            .map(|QueryPairs(pairs)| V2Query(pairs))
            .map_err(V2Error::from)
    }
}

/// Parses a body as JSON. A body that is not JSON gets 4015, as TrackingMore's FAQ says, with a
/// message that says the body must be JSON and what was wrong with it; an object that names a key
/// twice is refused as on v4.
pub fn parse_value(bytes: &[u8]) -> Result<Value, V2Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(V2Error::with_message(
            V2Code::InvalidCarrierCode,
            "The request body must be JSON, and it is empty: send a JSON object such as {\"tracking_number\":\"…\",\"carrier_code\":\"…\"} with Content-Type: application/json.",
        ));
    }
    let value = serde_json::from_slice(bytes).map_err(|e| {
        V2Error::with_message(
            V2Code::InvalidCarrierCode,
            format!(
                "The request body must be JSON, and it is not: {e}. Send a JSON object (not form fields) with Content-Type: application/json."
            ),
        )
    })?;
    parceld_service::json::unique_keys(bytes)?;
    Ok(value)
}

/// Reads a JSON value as `T`: an unknown field or a wrong type is 4012, saying which.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, V2Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let text = e.inner().to_string();
        let detail = match text
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            Some("courier_code") => {
                "Unknown field `courier_code`. In v2 the field is `carrier_code`.".to_string()
            }
            Some(field) => format!(
                "Unknown field `{field}`. Remove it; /openapi.json lists the accepted fields."
            ),
            None if path.is_empty() || path == "." => {
                format!("The JSON does not have the expected shape: {text}.")
            }
            None => format!("Field `{path}` has the wrong type: {text}."),
        };
        V2Error::new(V2Code::BadRequest, detail)
    })
}

/// Parses a body that must be one JSON object (not an array).
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, V2Error> {
    let value = parse_value(bytes)?;
    if value.is_array() {
        return Err(V2Error::new(
            V2Code::BadRequest,
            format!("{what}: send one JSON object, not an array."),
        ));
    }
    from_value(value)
}
