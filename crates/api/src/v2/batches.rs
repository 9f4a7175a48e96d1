//! The v2 calls that name up to 40 trackings at once: batch create, stop updating
//! (`notupdate`) and delete. Each item succeeds or fails on its own; the set-based store
//! operations (`create_trackings`, `archive_many`, `delete_many`) take the valid ones in one
//! statement, and the rest come back as per-item results with their v2 code.

use std::collections::HashSet;

use parceld_service::MAX_BATCH;
use parceld_store::{AccountId, CreateOutcome, NumberKey};
use serde_json::Value;

use super::trackings::{not_tracked, number_key};
use super::wire::{
    V2BatchResult, V2CreateRequest, V2Created, V2DeleteResult, V2Envelope, V2ItemResult, V2Meta,
    V2NotUpdateResult, V2NumberRequest,
};
use super::{from_value, ok, parse_value, V2Body, V2Result};
use crate::error::{V2Code, V2Error};
use crate::{AppState, ClassedRoutes};

/// This module's routes, all in the v2 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V2Other: (batch) (not_update) (delete_many))
}

/// The example every many-tracking call's refusal of a body that is not an array gives.
const NUMBER_ITEMS_EXAMPLE: &str = "[{\"tracking_number\":\"…\",\"carrier_code\":\"…\"}]";

fn item_meta(error: &V2Error) -> V2Meta {
    V2Meta {
        code: error.code.code(),
        kind: error.code.kind().to_string(),
        message: error.message.clone(),
    }
}

fn item_error(value: &Value, error: &V2Error) -> V2ItemResult {
    let named = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    V2ItemResult {
        tracking_number: named("tracking_number"),
        carrier_code: named("carrier_code"),
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

route! {
    /// Create up to 40 trackings; each item succeeds or fails on its own.
    post "/v2/trackings/batch" "v2_batch", body Vec<V2CreateRequest>,
    responses(200 "Per-item results" => V2Envelope<V2BatchResult>, 400 NOT_AN_ARRAY_OR_TOO_MANY),
    async fn batch(state, account, V2Body(body): V2Body) -> V2Result<V2BatchResult> {
        let items = items(&body, NUMBER_ITEMS_EXAMPLE)?;
        let mut result = V2BatchResult {
            submitted: items.len(),
            ..V2BatchResult::default()
        };
        let mut accepted = Vec::new();
        for item in items {
            let validated = from_value::<V2CreateRequest>(item.clone())
                .and_then(|request| Ok(request.new_tracking()?));
            match validated {
                Ok(new) => accepted.push(new),
                Err(error) => result.errors.push(item_error(&item, &error)),
            }
        }
        for outcome in state.trackings.create_many(account.id, accepted).await? {
            match outcome {
                CreateOutcome::Created(t) => result.trackings.push(V2Created::from(t.as_ref())),
                CreateOutcome::AlreadyExists { tracking_number, courier_code } => {
                    let error = V2Error::new(
                        V2Code::TrackingExists,
                        "This number is already tracked with this carrier.",
                    );
                    let meta = item_meta(&error);
                    let (tracking_number, carrier_code) = (Some(tracking_number), Some(courier_code));
                    result.errors.push(V2ItemResult { tracking_number, carrier_code, meta });
                }
            }
        }
        result.added = result.trackings.len();
        ok(result)
    }
}

/// An array of `{tracking_number, carrier_code}`, read: how many were sent, the valid keys (with
/// the item they came from) and the items that were not valid.
struct NumberItems {
    submitted: usize,
    keys: Vec<(Value, NumberKey)>,
    errors: Vec<V2ItemResult>,
}

fn number_items(bytes: &[u8]) -> Result<NumberItems, V2Error> {
    let items = items(bytes, NUMBER_ITEMS_EXAMPLE)?;
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

/// The set-based store call a many-tracking route makes on the valid items.
enum NumberCall {
    Archive,
    Delete,
}

/// Reads a body of `{tracking_number, carrier_code}` items and makes `call` on the valid ones;
/// `answer` gets how many items were sent, how many the call changed, and the items that failed.
async fn number_call<T>(
    state: &AppState,
    account: AccountId,
    body: &[u8],
    call: NumberCall,
    answer: impl FnOnce(usize, usize, Vec<V2ItemResult>) -> T,
) -> V2Result<T> {
    let items = number_items(body)?;
    let wanted = items.wanted();
    let changed = match call {
        NumberCall::Archive => state.store.archive_many(account, &wanted).await?,
        NumberCall::Delete => state.store.delete_many(account, &wanted).await?,
    };
    stop_upstream(state, &changed);
    ok(answer(
        items.submitted,
        changed.len(),
        items.failed(&changed),
    ))
}

/// The failures of a many-tracking call's body as a whole.
const NOT_AN_ARRAY_OR_TOO_MANY: &str =
    "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)";

route! {
    /// Stop updating up to 40 trackings: they are archived and the background refresh skips them.
    post "/v2/trackings/notupdate" "v2_not_update", body Vec<V2NumberRequest>,
    responses(200 "How many were archived, and the items that failed" => V2Envelope<V2NotUpdateResult>, 400 NOT_AN_ARRAY_OR_TOO_MANY),
    async fn not_update(state, account, V2Body(body): V2Body) -> V2Result<V2NotUpdateResult> {
        number_call(&state, account.id, &body, NumberCall::Archive, |submitted, change, trackings| V2NotUpdateResult { submitted, change, trackings }).await
    }
}

route! {
    /// Delete up to 40 trackings.
    post "/v2/trackings/delete" "v2_delete_many", body Vec<V2NumberRequest>,
    responses(200 "How many were deleted, and the items that failed" => V2Envelope<V2DeleteResult>, 400 NOT_AN_ARRAY_OR_TOO_MANY),
    async fn delete_many(state, account, V2Body(body): V2Body) -> V2Result<V2DeleteResult> {
        number_call(&state, account.id, &body, NumberCall::Delete, |submitted, delete, trackings| V2DeleteResult { submitted, delete, trackings }).await
    }
}

/// Archived or deleted trackings are stopped at the upstream that tracks them, if any (in the
/// background), one call per courier.
pub(crate) fn stop_upstream(state: &AppState, keys: &[NumberKey]) {
    let mut by_courier: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for key in keys {
        by_courier
            .entry(key.courier_code.as_str())
            .or_default()
            .push(key.tracking_number.clone());
    }
    for (courier, numbers) in by_courier {
        state.engine.carriers().stop(courier, numbers);
    }
}
