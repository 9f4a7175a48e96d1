//! The v2 tracking endpoints. Each translates onto the services the v4 handlers use; v2 names a
//! tracking by its courier and number rather than by id.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, Tracking};
use parceld_service::validate;
use parceld_service::{RealtimeTarget, DEFAULT_PAGE_SIZE, MAX_BATCH, MAX_PAGE_SIZE};
use parceld_store::{AccountId, CreateOutcome, NumberKey, Page, TrackingFilter};
use serde_json::Value;

use super::wire::{
    V2BatchResult, V2ChangeCarrierRequest, V2CreateRequest, V2Created, V2DeleteResult, V2Envelope,
    V2ItemResult, V2Meta, V2NotUpdateResult, V2NumberRequest, V2Page, V2RealtimeItem,
    V2RealtimeResult, V2StatusNumbers, V2Tracking, V2UpdateRequest,
};
use super::{from_value, parse_object, parse_value, V2Body, V2Query};
use crate::error::{V2Code, V2Error};
use crate::extract::Authenticated;
use crate::{AppState, ClassedRoutes};
use parceld_model::LimitClass;
use utoipa_axum::{router::OpenApiRouter, routes};

type V2Result<T> = Result<Json<V2Envelope<T>>, V2Error>;

/// This module's routes by rate-limit class: the list and real-time have their own budgets.
pub fn routes() -> ClassedRoutes {
    vec![
        (
            LimitClass::V2Realtime,
            OpenApiRouter::default().routes(routes!(realtime)),
        ),
        (
            LimitClass::V2List,
            OpenApiRouter::default().routes(routes!(list)),
        ),
        (
            LimitClass::V2Other,
            OpenApiRouter::default()
                .routes(routes!(post))
                .routes(routes!(batch))
                .routes(routes!(status_numbers))
                .routes(routes!(not_update))
                .routes(routes!(change_carrier))
                .routes(routes!(delete_many))
                .routes(routes!(get_one, update, delete))
                .routes(routes!(get_one_lang)),
        ),
    ]
}

fn ok<T>(data: T) -> V2Result<T> {
    Ok(Json(V2Envelope::ok(data)))
}

/// A courier code and number from a path or a body, checked: 4015 for an unknown courier, 4013
/// or 4014 for a missing or malformed number.
fn number_key(number: Option<&str>, carrier: Option<&str>) -> Result<NumberKey, V2Error> {
    let number = validate::tracking_number(number)?;
    let carrier = match carrier.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => validate::courier_code(code)?,
        None => {
            return Err(V2Error::new(
                V2Code::InvalidCarrierCode,
                "`carrier_code` is required; GET /v2/carriers lists the codes.",
            ))
        }
    };
    Ok(NumberKey {
        tracking_number: number.into_string(),
        courier_code: carrier.code.to_string(),
    })
}

async fn find(
    state: &AppState,
    account: AccountId,
    key: &NumberKey,
) -> Result<Option<Tracking>, V2Error> {
    Ok(state
        .trackings
        .find_by_number(account, &key.tracking_number, &key.courier_code)
        .await?)
}

fn not_tracked(key: &NumberKey) -> V2Error {
    V2Error::new(
        V2Code::TrackingNotFound,
        format!(
            "This account does not track `{}` with carrier `{}`; create it with POST /v2/trackings/post.",
            key.tracking_number, key.courier_code
        ),
    )
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

/// Create one tracking (no courier call: the background refresh or real-time fetches it).
#[utoipa::path(
    post,
    path = "/v2/trackings/post",
    operation_id = "v2_post",
    tag = "v2",
    request_body = V2CreateRequest,
    responses(
        (status = 200, description = "The new tracking", body = V2Envelope<V2Created>),
        (status = 400, description = "4012, 4013, 4014, 4015 (also: body not JSON), 4016 or 4032"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn post(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2Created> {
    let request: V2CreateRequest = parse_object(
        &body,
        "POST /v2/trackings/post creates one tracking (POST /v2/trackings/batch takes up to 40)",
    )?;
    let new = validate::new_tracking(
        request.tracking_number.as_deref(),
        request.carrier_code.as_deref(),
        request.merchant_fields(),
    )?;
    // v2 post does not ask the courier: the background refresh or real-time fetches it.
    match state.trackings.create(account.id, new, false).await? {
        CreateOutcome::Created(tracking) => ok(V2Created::from(tracking.as_ref())),
        CreateOutcome::AlreadyExists {
            tracking_number,
            courier_code,
        } => Err(V2Error::new(
            V2Code::TrackingExists,
            format!("`{tracking_number}` with carrier `{courier_code}` is already tracked; GET /v2/trackings/{courier_code}/{tracking_number} returns it."),
        )),
    }
}

/// Create up to 40 trackings; each item succeeds or fails on its own.
#[utoipa::path(
    post,
    path = "/v2/trackings/batch",
    operation_id = "v2_batch",
    tag = "v2",
    request_body = Vec<V2CreateRequest>,
    responses(
        (status = 200, description = "Per-item results", body = V2Envelope<V2BatchResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
    security(("legacy_api_key" = []))
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

fn bad_param(name: &str, detail: impl std::fmt::Display) -> V2Error {
    V2Error::new(
        V2Code::BadRequest,
        format!("Query parameter `{name}`: {detail}"),
    )
}

fn unix_time(name: &str, raw: &str) -> Result<DateTime<Utc>, V2Error> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|t| *t >= 0)
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .ok_or_else(|| {
            bad_param(
                name,
                format!("`{raw}` is not a time in unix seconds such as 1714521600."),
            )
        })
}

fn count(name: &str, raw: &str, max: u32) -> Result<u32, V2Error> {
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(bad_param(
            name,
            format!("`{raw}` must be a whole number from 1 to {max}."),
        )),
    }
}

fn status(raw: &str) -> Result<DeliveryStatus, V2Error> {
    raw.trim()
        .parse::<DeliveryStatus>()
        .map_err(|e| V2Error::new(V2Code::InvalidStatus, format!("{e}.")))
}

/// The time filters shared by the list and the status counts; `Ok(false)` for another name.
fn time_filter(filter: &mut TrackingFilter, name: &str, value: &str) -> Result<bool, V2Error> {
    let slot = match name {
        "created_at_min" => &mut filter.created_min,
        "created_at_max" => &mut filter.created_max,
        "update_time_min" => &mut filter.updated_min,
        "update_time_max" => &mut filter.updated_max,
        "order_created_time_min" | "order_created_time_max" => {
            return Err(bad_param(
                name,
                "parceld keeps `order_create_time` as the text the merchant sent and cannot filter by it; filter by created_at_min/max instead.",
            ))
        }
        _ => return Ok(false),
    };
    *slot = Some(unix_time(name, value)?);
    Ok(true)
}

/// List trackings, newest first, filtered and paged (at most one call per second by default).
#[utoipa::path(
    get,
    path = "/v2/trackings/get",
    operation_id = "v2_list",
    tag = "v2",
    params(
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 2000, default 100"),
        ("status" = Option<String>, Query, description = "One of the nine statuses"),
        ("created_at_min" = Option<i64>, Query, description = "Unix seconds"),
        ("created_at_max" = Option<i64>, Query, description = "Unix seconds"),
        ("update_time_min" = Option<i64>, Query, description = "Unix seconds"),
        ("update_time_max" = Option<i64>, Query, description = "Unix seconds"),
        ("lang" = Option<String>, Query, description = "Accepted; events keep the courier's language"),
    ),
    responses(
        (status = 200, description = "One page of trackings", body = V2Envelope<V2Page>),
        (status = 400, description = "4012 (bad parameter) or 4033 (bad status)"),
        (status = 429, description = "More than 1 list call per second"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Query(pairs): V2Query,
) -> V2Result<V2Page> {
    let mut filter = TrackingFilter::default();
    let mut page = Page {
        number: 1,
        size: DEFAULT_PAGE_SIZE,
    };
    for (name, value) in pairs {
        if value.trim().is_empty() || time_filter(&mut filter, &name, &value)? {
            continue;
        }
        match name.as_str() {
            "page" => page.number = count(&name, &value, u32::MAX / 2)?,
            "limit" => page.size = count(&name, &value, MAX_PAGE_SIZE)?,
            "status" => filter.delivery_status = Some(status(&value)?),
            "lang" => {}
            _ => {
                return Err(bad_param(
                    &name,
                    "unknown parameter; accepted are page, limit, status, created_at_min, created_at_max, update_time_min, update_time_max, lang.",
                ))
            }
        }
    }
    let total = state
        .store
        .count_by_status(account.id, &filter)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    let trackings = state
        .store
        .list_trackings(account.id, &filter, page)
        .await?;
    let now = Utc::now();
    ok(V2Page {
        page: page.number,
        limit: page.size,
        total,
        items: trackings.iter().map(|t| V2Tracking::new(t, now)).collect(),
    })
}

/// How many trackings the account has per status.
#[utoipa::path(
    get,
    path = "/v2/trackings/getstatusnumber",
    operation_id = "v2_status_numbers",
    tag = "v2",
    params(
        ("created_at_min" = Option<i64>, Query, description = "Unix seconds"),
        ("created_at_max" = Option<i64>, Query, description = "Unix seconds"),
        ("update_time_min" = Option<i64>, Query, description = "Unix seconds"),
        ("update_time_max" = Option<i64>, Query, description = "Unix seconds"),
    ),
    responses(
        (status = 200, description = "Trackings per status", body = V2Envelope<V2StatusNumbers>),
        (status = 400, description = "4012"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn status_numbers(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Query(pairs): V2Query,
) -> V2Result<V2StatusNumbers> {
    let mut filter = TrackingFilter::default();
    for (name, value) in pairs {
        if value.trim().is_empty() || time_filter(&mut filter, &name, &value)? || name == "lang" {
            continue;
        }
        return Err(bad_param(
            &name,
            "unknown parameter; accepted are created_at_min, created_at_max, update_time_min, update_time_max.",
        ));
    }
    let counts = state.store.count_by_status(account.id, &filter).await?;
    ok(V2StatusNumbers::from_counts(&counts))
}

/// One tracking by courier and number. A shipment never posted is 4031 with the FAQ's hint.
#[utoipa::path(
    get,
    path = "/v2/trackings/{carrier_code}/{tracking_number}",
    operation_id = "v2_get_one",
    tag = "v2",
    params(
        ("carrier_code" = String, Path, description = "The courier code"),
        ("tracking_number" = String, Path, description = "The tracking number"),
    ),
    responses(
        (status = 200, description = "The tracking; or meta.code 4031 with data null when this account never posted it", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4014 or 4015"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path((carrier, number)): Path<(String, String)>,
) -> V2Result<V2Tracking> {
    let key = number_key(Some(&number), Some(&carrier))?;
    match find(&state, account.id, &key).await? {
        Some(tracking) => ok(V2Tracking::new(&tracking, Utc::now())),
        None => Err(V2Error::new(
            V2Code::NoContent,
            format!(
                "This account has no tracking of `{}` with carrier `{}`: it was never posted (or was deleted).",
                key.tracking_number, key.courier_code
            ),
        )),
    }
}

/// The same, with TrackingMore's optional language suffix (events keep the courier's language).
#[utoipa::path(
    get,
    path = "/v2/trackings/{carrier_code}/{tracking_number}/{lang}",
    operation_id = "v2_get_one_lang",
    tag = "v2",
    params(
        ("carrier_code" = String, Path, description = "The courier code"),
        ("tracking_number" = String, Path, description = "The tracking number"),
        ("lang" = String, Path, description = "Accepted; events keep the courier's language"),
    ),
    responses(
        (status = 200, description = "As without the suffix", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4014 or 4015"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn get_one_lang(
    state: State<AppState>,
    auth: Authenticated,
    Path((carrier, number, _lang)): Path<(String, String, String)>,
) -> V2Result<V2Tracking> {
    get_one(state, auth, Path((carrier, number))).await
}

/// Change a tracking's fields or archive state.
#[utoipa::path(
    put,
    path = "/v2/trackings/{carrier_code}/{tracking_number}",
    operation_id = "v2_update",
    tag = "v2",
    params(
        ("carrier_code" = String, Path, description = "The courier code"),
        ("tracking_number" = String, Path, description = "The tracking number"),
    ),
    request_body = V2UpdateRequest,
    responses(
        (status = 200, description = "The changed tracking", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4012, 4014, 4015, 4017 or 4033 (status cannot be set)"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path((carrier, number)): Path<(String, String)>,
    V2Body(body): V2Body,
) -> V2Result<V2Tracking> {
    let key = number_key(Some(&number), Some(&carrier))?;
    // Some v2 clients send PUT without a body; that changes nothing.
    let request: V2UpdateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        V2UpdateRequest::default()
    } else {
        parse_object(&body, "PUT changes one tracking")?
    };
    if let Some(status) = &request.status {
        return Err(V2Error::new(
            V2Code::InvalidStatus,
            format!("parceld takes statuses only from the courier and cannot set one by hand (got `status` {status}); archive a tracking with \"archived\":\"true\" to stop its updates."),
        ));
    }
    let archived = request
        .archived
        .as_deref()
        .map(|raw| validate::archived_flag(raw, "archived"))
        .transpose()?;
    let tracking = find(&state, account.id, &key)
        .await?
        .ok_or_else(|| not_tracked(&key))?;
    let tracking = state
        .trackings
        .update(
            account.id,
            &tracking.id,
            request.merchant_fields(),
            None,
            archived,
        )
        .await?;
    ok(V2Tracking::new(&tracking, Utc::now()))
}

/// Delete one tracking; `data` is an empty array, as in TrackingMore's v2.
#[utoipa::path(
    delete,
    path = "/v2/trackings/{carrier_code}/{tracking_number}",
    operation_id = "v2_delete",
    tag = "v2",
    params(
        ("carrier_code" = String, Path, description = "The courier code"),
        ("tracking_number" = String, Path, description = "The tracking number"),
    ),
    responses(
        (status = 200, description = "Deleted", body = V2Envelope<Vec<String>>),
        (status = 400, description = "4014, 4015 or 4017"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path((carrier, number)): Path<(String, String)>,
) -> V2Result<Vec<String>> {
    let key = number_key(Some(&number), Some(&carrier))?;
    let deleted = state
        .store
        .delete_many(account.id, std::slice::from_ref(&key))
        .await?;
    if deleted.is_empty() {
        return Err(not_tracked(&key));
    }
    ok(Vec::new())
}

/// Fetch one shipment from its courier now (one shipment per request; the same shipment at most
/// once per 2 hours — inside the window the stored result comes back, marked `fetched_from:
/// "store"`). A number the account does not track yet is posted first.
#[utoipa::path(
    post,
    path = "/v2/trackings/realtime",
    operation_id = "v2_realtime",
    tag = "v2",
    request_body = V2CreateRequest,
    responses(
        (status = 200, description = "The tracking, fetched now or from the store", body = V2Envelope<V2RealtimeResult>),
        (status = 400, description = "4012 (an array: one shipment per request), 4013, 4014, 4015 (also: body not JSON), 4032"),
        (status = 429, description = "More than 3 real-time requests per second"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn realtime(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2RealtimeResult> {
    let request: V2CreateRequest =
        parse_object(&body, "The real-time API takes one shipment per request")?;
    let target = RealtimeTarget::Number {
        number: request.tracking_number.clone(),
        courier: request.carrier_code.clone(),
        fields: Box::new(request.merchant_fields()),
    };
    let result = state.trackings.realtime(account.id, target).await?;
    ok(V2RealtimeResult {
        items: vec![V2RealtimeItem {
            tracking: V2Tracking::new(&result.tracking, Utc::now()),
            fetched_at: result.fetched_at.map(crate::v4::wire::iso),
            fetched_from: if result.from_store {
                "store"
            } else {
                "carrier"
            }
            .to_string(),
            carrier_error: result.carrier_error,
        }],
    })
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

/// The items the store did not find, as 4017 results.
fn missing(keys: &[(Value, NumberKey)], found: &[NumberKey]) -> Vec<V2ItemResult> {
    let found: HashSet<&NumberKey> = found.iter().collect();
    keys.iter()
        .filter(|(_, key)| !found.contains(key))
        .map(|(item, key)| item_error(item, &not_tracked(key)))
        .collect()
}

/// Stop updating up to 40 trackings: they are archived and the background refresh skips them.
#[utoipa::path(
    post,
    path = "/v2/trackings/notupdate",
    operation_id = "v2_not_update",
    tag = "v2",
    request_body = Vec<V2NumberRequest>,
    responses(
        (status = 200, description = "How many were archived, and the items that failed", body = V2Envelope<V2NotUpdateResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn not_update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2NotUpdateResult> {
    let NumberItems {
        submitted,
        keys,
        mut errors,
    } = number_items(&body)?;
    let wanted: Vec<NumberKey> = keys.iter().map(|(_, k)| k.clone()).collect();
    let archived = state.store.archive_many(account.id, &wanted).await?;
    errors.extend(missing(&keys, &archived));
    ok(V2NotUpdateResult {
        submitted,
        change: archived.len(),
        trackings: errors,
    })
}

/// Delete up to 40 trackings.
#[utoipa::path(
    post,
    path = "/v2/trackings/delete",
    operation_id = "v2_delete_many",
    tag = "v2",
    request_body = Vec<V2NumberRequest>,
    responses(
        (status = 200, description = "How many were deleted, and the items that failed", body = V2Envelope<V2DeleteResult>),
        (status = 400, description = "4012 (not an array), 4015 (body not JSON) or 4020 (more than 40)"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn delete_many(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2DeleteResult> {
    let NumberItems {
        submitted,
        keys,
        mut errors,
    } = number_items(&body)?;
    let wanted: Vec<NumberKey> = keys.iter().map(|(_, k)| k.clone()).collect();
    let deleted = state.store.delete_many(account.id, &wanted).await?;
    errors.extend(missing(&keys, &deleted));
    ok(V2DeleteResult {
        submitted,
        delete: deleted.len(),
        trackings: errors,
    })
}

/// Move a tracking to another courier.
#[utoipa::path(
    post,
    path = "/v2/trackings/update",
    operation_id = "v2_change_carrier",
    tag = "v2",
    request_body = V2ChangeCarrierRequest,
    responses(
        (status = 200, description = "The tracking with its new courier", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4012, 4013, 4014, 4015, 4016 (already tracked with the new courier) or 4017"),
    ),
    security(("legacy_api_key" = []))
)]
pub async fn change_carrier(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    V2Body(body): V2Body,
) -> V2Result<V2Tracking> {
    let request: V2ChangeCarrierRequest = parse_object(&body, "Change one tracking's carrier")?;
    let key = number_key(
        request.tracking_number.as_deref(),
        request.carrier_code.as_deref(),
    )?;
    let new_carrier = match request.update_carrier_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => validate::courier_code(code)?,
        _ => {
            return Err(V2Error::new(
                V2Code::InvalidCarrierCode,
                "`update_carrier_code` is required: the courier the tracking should move to.",
            ))
        }
    };
    let tracking = find(&state, account.id, &key)
        .await?
        .ok_or_else(|| not_tracked(&key))?;
    let tracking = state
        .trackings
        .update(
            account.id,
            &tracking.id,
            Default::default(),
            Some(new_carrier.code),
            None,
        )
        .await?;
    ok(V2Tracking::new(&tracking, Utc::now()))
}
