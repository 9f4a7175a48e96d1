//! The v2 endpoints of one tracking (and the list). Each translates onto the services the v4
//! handlers use; v2 names a tracking by its courier and number rather than by id. The calls that
//! name up to 40 trackings at once are in [`super::batches`].

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, LimitClass, Tracking};
use parceld_service::validate;
use parceld_service::{RealtimeTarget, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use parceld_store::{AccountId, CreateOutcome, NumberKey, Page, TrackingFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{
    V2ChangeCarrierRequest, V2CreateRequest, V2Created, V2Envelope, V2Page, V2RealtimeItem,
    V2RealtimeResult, V2StatusNumbers, V2Tracking, V2UpdateRequest,
};
use super::{parse_object, V2Body, V2Query};
use crate::error::{V2Code, V2Error};
use crate::extract::Authenticated;
use crate::{AppState, ClassedRoutes};

pub(super) type V2Result<T> = Result<Json<V2Envelope<T>>, V2Error>;

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
                .routes(routes!(status_numbers))
                .routes(routes!(change_carrier))
                .routes(routes!(get_one, update, delete))
                .routes(routes!(get_one_lang)),
        ),
    ]
}

/// The tracking a route's path names by courier and number (for its handler and its OpenAPI
/// parameters alike).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NumberPath {
    /// The courier code
    carrier_code: String,
    /// The tracking number
    tracking_number: String,
}

impl NumberPath {
    /// The courier code and number, checked as [`number_key`] checks them.
    fn key(&self) -> Result<NumberKey, V2Error> {
        number_key(Some(&self.tracking_number), Some(&self.carrier_code))
    }
}

pub(super) fn ok<T>(data: T) -> V2Result<T> {
    Ok(Json(V2Envelope::ok(data)))
}

/// A courier code and number from a path or a body, checked: 4015 for an unknown courier, 4013
/// or 4014 for a missing or malformed number.
pub(super) fn number_key(
    number: Option<&str>,
    carrier: Option<&str>,
) -> Result<NumberKey, V2Error> {
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

pub(super) fn not_tracked(key: &NumberKey) -> V2Error {
    V2Error::new(
        V2Code::TrackingNotFound,
        format!(
            "This account does not track `{}` with carrier `{}`; create it with POST /v2/trackings/post.",
            key.tracking_number, key.courier_code
        ),
    )
}

/// Create one tracking (no courier call: the background refresh or real-time fetches it).
#[utoipa::path(
    post,
    path = "/v2/trackings/post",
    operation_id = "v2_post",
    request_body = V2CreateRequest,
    responses(
        (status = 200, description = "The new tracking", body = V2Envelope<V2Created>),
        (status = 400, description = "4012, 4013, 4014, 4015 (also: body not JSON), 4016 or 4032"),
    ),
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
    params(NumberPath),
    responses(
        (status = 200, description = "The tracking; or meta.code 4031 with data null when this account never posted it", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4014 or 4015"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(path): Path<NumberPath>,
) -> V2Result<V2Tracking> {
    let key = path.key()?;
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
    params(
        NumberPath,
        ("lang" = String, Path, description = "Accepted; events keep the courier's language"),
    ),
    responses(
        (status = 200, description = "As without the suffix", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4014 or 4015"),
    ),
)]
pub async fn get_one_lang(
    state: State<AppState>,
    auth: Authenticated,
    path: Path<NumberPath>,
) -> V2Result<V2Tracking> {
    get_one(state, auth, path).await
}

/// Change a tracking's fields or archive state.
#[utoipa::path(
    put,
    path = "/v2/trackings/{carrier_code}/{tracking_number}",
    operation_id = "v2_update",
    params(NumberPath),
    request_body = V2UpdateRequest,
    responses(
        (status = 200, description = "The changed tracking", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4012, 4014, 4015, 4017 or 4033 (status cannot be set)"),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(path): Path<NumberPath>,
    V2Body(body): V2Body,
) -> V2Result<V2Tracking> {
    let key = path.key()?;
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
    params(NumberPath),
    responses(
        (status = 200, description = "Deleted", body = V2Envelope<Vec<String>>),
        (status = 400, description = "4014, 4015 or 4017"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(path): Path<NumberPath>,
) -> V2Result<Vec<String>> {
    let key = path.key()?;
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
    request_body = V2CreateRequest,
    responses(
        (status = 200, description = "The tracking, fetched now or from the store", body = V2Envelope<V2RealtimeResult>),
        (status = 400, description = "4012 (an array: one shipment per request), 4013, 4014, 4015 (also: body not JSON), 4032"),
        (status = 429, description = "More than 3 real-time requests per second"),
    ),
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

/// Move a tracking to another courier.
#[utoipa::path(
    post,
    path = "/v2/trackings/update",
    operation_id = "v2_change_carrier",
    request_body = V2ChangeCarrierRequest,
    responses(
        (status = 200, description = "The tracking with its new courier", body = V2Envelope<V2Tracking>),
        (status = 400, description = "4012, 4013, 4014, 4015, 4016 (already tracked with the new courier) or 4017"),
    ),
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
