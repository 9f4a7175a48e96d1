//! The v2 calls that name up to 40 trackings at once: batch create, stop updating
//! (`notupdate`) and delete. Each item succeeds or fails on its own; the set-based store
//! operations (`create_trackings`, `archive_many`, `delete_many`) take the valid ones in one
//! statement, and the rest come back as per-item results with their v2 code.

use std::collections::HashSet;

use axum::extract::State;
use parceld_model::LimitClass;
use parceld_service::{validate, MAX_BATCH};
use parceld_store::{CreateOutcome, NumberKey};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::trackings::{not_tracked, number_key, ok, V2Result};
use super::wire::{
    V2BatchResult, V2CreateRequest, V2Created, V2DeleteResult, V2Envelope, V2ItemResult, V2Meta,
    V2NotUpdateResult, V2NumberRequest,
};
use super::{from_value, parse_value, V2Body};
use crate::error::{V2Code, V2Error};
use crate::extract::Authenticated;
use crate::{AppState, ClassedRoutes};

/// This module's routes, all in the v2 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V2Other,
        OpenApiRouter::default()
            .routes(routes!(batch))
            .routes(routes!(not_update))
            .routes(routes!(delete_many)),
    )]
}

fn item_meta(error: &V2Error) -> V2Meta {
    V2Meta {
        code: error.code.code(),
        kind: error.code.kind().to_string(),
        message: error.message.clone(),
    }
}

fn item_error(value: &Value, error: &V2Error) -> V2ItemResult {
    V2ItemResult {
        tracking_number: value
            .get("tracking_number")
            .and_then(Value::as_str)
            .map(str::to_string),
        carrier_code: value
            .get("carrier_code")
            .and_then(Value::as_str)
            .map(str::to_string),
        meta: item_meta(error),
    }
}

/// A JSON array of at most 40 items, or 4012/4020 saying what is wrong.
fn items(bytes: &[u8], example: &str) -> Result<Vec<Value>, V2Error> {
    let Value::Array(items) = parse_value(bytes)? else {
        return Err(V2Error::new(
            V2Code::BadRequest,
            format!("The body must be a JSON array, e.g. {example}."),
        ));
    };
    if items.len() > MAX_BATCH {
        return Err(V2Error::new(
            V2Code::TooManyTrackings,
            format!(
                "This request has {} items; split it into calls of at most {MAX_BATCH}.",
                items.len()
            ),
        ));
    }
    Ok(items)
}

/// Create up to 40 trackings; each item succeeds or fails on its own.
#[utoipa::path(
    post,
    path = "/v2/trackings/batch",
    operation_id = "v2_batch",
    request_body = Vec<V2CreateRequest>,
    responses(
        (status = 200, description = "Per-item results", body = V2Envelope<V2BatchResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
)]
pub async fn batch(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2BatchResult> {
    let items = items(
        &body,
        "[{\"tracking_number\":\"…\",\"carrier_code\":\"…\"}]",
    )?;
    let mut result = V2BatchResult {
        submitted: items.len(),
        ..V2BatchResult::default()
    };
    let mut accepted = Vec::new();
    for item in items {
        let validated = from_value::<V2CreateRequest>(item.clone()).and_then(|request| {
            validate::new_tracking(
                request.tracking_number.as_deref(),
                request.carrier_code.as_deref(),
                request.merchant_fields(),
            )
            .map_err(V2Error::from)
        });
        match validated {
            Ok(new) => accepted.push(new),
            Err(error) => result.errors.push(item_error(&item, &error)),
        }
    }
    {
        for outcome in state.trackings.create_many(account.id, accepted).await? {
            match outcome {
                CreateOutcome::Created(t) => result.trackings.push(V2Created::from(t.as_ref())),
                CreateOutcome::AlreadyExists {
                    tracking_number,
                    courier_code,
                } => {
                    let error = V2Error::new(
                        V2Code::TrackingExists,
                        "This number is already tracked with this carrier.",
                    );
                    result.errors.push(V2ItemResult {
                        tracking_number: Some(tracking_number),
                        carrier_code: Some(courier_code),
                        meta: item_meta(&error),
                    });
                }
            }
        }
    }
    result.added = result.trackings.len();
    ok(result)
}

/// An array of `{tracking_number, carrier_code}`, read: how many were sent, the valid keys (with
/// the item they came from) and the items that were not valid.
struct NumberItems {
    submitted: usize,
    keys: Vec<(Value, NumberKey)>,
    errors: Vec<V2ItemResult>,
}

fn number_items(bytes: &[u8]) -> Result<NumberItems, V2Error> {
    let items = items(
        bytes,
        "[{\"tracking_number\":\"…\",\"carrier_code\":\"…\"}]",
    )?;
    let submitted = items.len();
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        let key = from_value::<V2NumberRequest>(item.clone())
            .and_then(|r| number_key(r.tracking_number.as_deref(), r.carrier_code.as_deref()));
        match key {
            Ok(key) => keys.push((item, key)),
            Err(error) => errors.push(item_error(&item, &error)),
        }
    }
    Ok(NumberItems {
        submitted,
        keys,
        errors,
    })
}

impl NumberItems {
    /// The valid items' keys, for the one set-based store call.
    fn wanted(&self) -> Vec<NumberKey> {
        self.keys.iter().map(|(_, key)| key.clone()).collect()
    }

    /// The items that failed: the malformed ones, then those the store did not find (4017).
    fn failed(self, found: &[NumberKey]) -> Vec<V2ItemResult> {
        let found: HashSet<&NumberKey> = found.iter().collect();
        let mut failed = self.errors;
        failed.extend(
            self.keys
                .iter()
                .filter(|(_, key)| !found.contains(key))
                .map(|(item, key)| item_error(item, &not_tracked(key))),
        );
        failed
    }
}

/// Stop updating up to 40 trackings: they are archived and the background refresh skips them.
#[utoipa::path(
    post,
    path = "/v2/trackings/notupdate",
    operation_id = "v2_not_update",
    request_body = Vec<V2NumberRequest>,
    responses(
        (status = 200, description = "How many were archived, and the items that failed", body = V2Envelope<V2NotUpdateResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
)]
pub async fn not_update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2NotUpdateResult> {
    let items = number_items(&body)?;
    let archived = state
        .store
        .archive_many(account.id, &items.wanted())
        .await?;
    ok(V2NotUpdateResult {
        submitted: items.submitted,
        change: archived.len(),
        trackings: items.failed(&archived),
    })
}

/// Delete up to 40 trackings.
#[utoipa::path(
    post,
    path = "/v2/trackings/delete",
    operation_id = "v2_delete_many",
    request_body = Vec<V2NumberRequest>,
    responses(
        (status = 200, description = "How many were deleted, and the items that failed", body = V2Envelope<V2DeleteResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
)]
pub async fn delete_many(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2DeleteResult> {
    let items = number_items(&body)?;
    let deleted = state.store.delete_many(account.id, &items.wanted()).await?;
    ok(V2DeleteResult {
        submitted: items.submitted,
        delete: deleted.len(),
        trackings: items.failed(&deleted),
    })
}
