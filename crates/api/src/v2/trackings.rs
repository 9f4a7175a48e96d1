//! The v2 endpoints of one tracking (and the list). Each translates onto the services the v4
//! handlers use; v2 names a tracking by its courier and number rather than by id. The calls that
//! name up to 40 trackings at once are in [`super::batches`].

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, Tracking};
use parceld_service::validate;
use parceld_service::{RealtimeTarget, MAX_PAGE_SIZE};
use parceld_store::{AccountId, CreateOutcome, NumberKey, Page, TrackingFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::{
    V2ChangeCarrierRequest, V2CreateRequest, V2Created, V2Envelope, V2Page, V2RealtimeItem,
    V2RealtimeResult, V2StatusNumbers, V2Tracking, V2UpdateRequest,
};
use super::{ok, parse_object, V2Body, V2Query, V2Result};
use crate::error::{V2Code, V2Error};
use crate::extract::Authenticated;
use crate::query::{first_page, whole_number, MAX_PAGE_NUMBER};
use crate::{AppState, ClassedRoutes};

/// This module's routes by rate-limit class: the list and real-time have their own budgets.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V2Realtime: (realtime); V2List: (list); V2Other: (post) (status_numbers) (change_carrier) (get_one, update, delete) (get_one_lang))
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

/// The tracking `key` names, or 4017 when the account does not track it.
async fn tracked(
    state: &AppState,
    account: AccountId,
    key: &NumberKey,
) -> Result<Tracking, V2Error> {
    find(state, account, key)
        .await?
        .ok_or_else(|| not_tracked(key))
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

route! {
    /// Create one tracking (no courier call: the background refresh or real-time fetches it).
    post "/v2/trackings/post" "v2_post", body V2CreateRequest,
    responses(200 "The new tracking" => V2Envelope<V2Created>, 400 "4012, 4013, 4014, 4015 (also: body not JSON), 4016 or 4032"),
    async fn post(state, account, V2Body(body): V2Body) -> V2Result<V2Created> {
        let request: V2CreateRequest = parse_object(
            &body,
            "POST /v2/trackings/post creates one tracking (POST /v2/trackings/batch takes up to 40)",
        )?;
        let new = request.new_tracking()?;
        // v2 post does not ask the courier: the background refresh or real-time fetches it.
        match state.trackings.create(account.id, new, false).await? {
            CreateOutcome::Created(tracking) => ok(V2Created::from(tracking.as_ref())),
            CreateOutcome::AlreadyExists { tracking_number, courier_code } => Err(V2Error::new(
                V2Code::TrackingExists,
                format!("`{tracking_number}` with carrier `{courier_code}` is already tracked; GET /v2/trackings/{courier_code}/{tracking_number} returns it."),
            )),
        }
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
    whole_number(raw, max).map_err(|detail| bad_param(name, detail))
}

fn status(raw: &str) -> Result<DeliveryStatus, V2Error> {
    raw.trim()
        .parse::<DeliveryStatus>()
        .map_err(|e| V2Error::new(V2Code::InvalidStatus, format!("{e}.")))
}

/// The page and status filter of a list query, as OpenAPI parameters (the handler reads the
/// query's pairs itself, to refuse an unknown one with 4012).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PageQuery {
    /// Page number, from 1
    page: Option<u32>,
    /// Page size, 1 to 2000, default 100
    limit: Option<u32>,
    /// One of the nine statuses
    status: Option<String>,
}

/// The time filters the list and the status counts share, as OpenAPI parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct TimeQuery {
    /// Unix seconds
    created_at_min: Option<i64>,
    /// Unix seconds
    created_at_max: Option<i64>,
    /// Unix seconds
    update_time_min: Option<i64>,
    /// Unix seconds
    update_time_max: Option<i64>,
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

const UNKNOWN_LIST_PARAMETER: &str = "unknown parameter; accepted are page, limit, status, created_at_min, created_at_max, update_time_min, update_time_max, lang.";

/// The list filters and page of a `GET /v2/trackings/get` query.
fn list_query(pairs: Vec<(String, String)>) -> Result<(TrackingFilter, Page), V2Error> {
    let (mut filter, mut page) = (TrackingFilter::default(), first_page());
    for (name, value) in pairs {
        if value.trim().is_empty() || time_filter(&mut filter, &name, &value)? {
            continue;
        }
        match name.as_str() {
            "page" => page.number = count(&name, &value, MAX_PAGE_NUMBER)?,
            "limit" => page.size = count(&name, &value, MAX_PAGE_SIZE)?,
            "status" => filter.delivery_status = Some(status(&value)?),
            "lang" => {}
            _ => return Err(bad_param(&name, UNKNOWN_LIST_PARAMETER)),
        }
    }
    Ok((filter, page))
}

route! {
    /// List trackings, newest first, filtered and paged (at most one call per second by default).
    get "/v2/trackings/get" "v2_list",
    params(
        PageQuery,
        TimeQuery,
        ("lang" = Option<String>, Query, description = "Accepted; events keep the courier's language"),
    ),
    responses(200 "One page of trackings" => V2Envelope<V2Page>, 400 "4012 (bad parameter) or 4033 (bad status)", 429 "More than 1 list call per second"),
    async fn list(state, account, V2Query(pairs): V2Query) -> V2Result<V2Page> {
        let (filter, page) = list_query(pairs)?;
        let counts = state.store.count_by_status(account.id, &filter).await?;
        let total = counts.iter().map(|(_, n)| n).sum();
        let trackings = state.store.list_trackings(account.id, &filter, page).await?;
        let now = Utc::now();
        ok(V2Page {
            page: page.number,
            limit: page.size,
            total,
            items: trackings.iter().map(|t| V2Tracking::new(t, now)).collect(),
        })
    }
}

route! {
    /// How many trackings the account has per status.
    get "/v2/trackings/getstatusnumber" "v2_status_numbers",
    params(TimeQuery),
    responses(200 "Trackings per status" => V2Envelope<V2StatusNumbers>, 400 "4012"),
    async fn status_numbers(state, account, V2Query(pairs): V2Query) -> V2Result<V2StatusNumbers> {
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
}

route! {
    /// One tracking by courier and number. A shipment never posted is 4031 with the FAQ's hint.
    get "/v2/trackings/{carrier_code}/{tracking_number}" "v2_get_one", params(NumberPath),
    responses(200 "The tracking; or meta.code 4031 with data null when this account never posted it" => V2Envelope<V2Tracking>, 400 "4014 or 4015"),
    async fn get_one(state, account, Path(path): Path<NumberPath>) -> V2Result<V2Tracking> {
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
}

route! {
    /// The same, with TrackingMore's optional language suffix (events keep the courier's language).
    get "/v2/trackings/{carrier_code}/{tracking_number}/{lang}" "v2_get_one_lang",
    params(
        NumberPath,
        ("lang" = String, Path, description = "Accepted; events keep the courier's language"),
    ),
    responses(200 "As without the suffix" => V2Envelope<V2Tracking>, 400 "4014 or 4015"),
    async fn get_one_lang(state, account, path: Path<NumberPath>) -> V2Result<V2Tracking> {
        get_one(State(state), Authenticated(account), path).await
    }
}

route! {
    /// Change a tracking's fields or archive state.
    put "/v2/trackings/{carrier_code}/{tracking_number}" "v2_update", params(NumberPath), body V2UpdateRequest,
    responses(200 "The changed tracking" => V2Envelope<V2Tracking>, 400 "4012, 4014, 4015, 4017 or 4033 (status cannot be set)"),
    async fn update(state, account, Path(path): Path<NumberPath>, V2Body(body): V2Body) -> V2Result<V2Tracking> {
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
        let id = tracked(&state, account.id, &key).await?.id;
        let fields = request.merchant_fields();
        let tracking = state.trackings.update(account.id, &id, fields, None, archived).await?;
        ok(V2Tracking::new(&tracking, Utc::now()))
    }
}

route! {
    /// Delete one tracking; `data` is an empty array, as in TrackingMore's v2.
    delete "/v2/trackings/{carrier_code}/{tracking_number}" "v2_delete", params(NumberPath),
    responses(200 "Deleted" => V2Envelope<Vec<String>>, 400 "4014, 4015 or 4017"),
    async fn delete(state, account, Path(path): Path<NumberPath>) -> V2Result<Vec<String>> {
        let key = path.key()?;
        let deleted = state.store.delete_many(account.id, std::slice::from_ref(&key)).await?;
        if deleted.is_empty() {
            return Err(not_tracked(&key));
        }
        super::batches::stop_upstream(&state, &deleted);
        ok(Vec::new())
    }
}

route! {
    /// Fetch one shipment from its courier now (one shipment per request; the same shipment at most
    /// once per 2 hours — inside the window the stored result comes back, marked `fetched_from:
    /// "store"`). A number the account does not track yet is posted first.
    post "/v2/trackings/realtime" "v2_realtime", body V2CreateRequest,
    responses(200 "The tracking, fetched now or from the store" => V2Envelope<V2RealtimeResult>, 400 "4012 (an array: one shipment per request), 4013, 4014, 4015 (also: body not JSON), 4032", 429 "More than 3 real-time requests per second"),
    async fn realtime(state, account, V2Body(body): V2Body) -> V2Result<V2RealtimeResult> {
        let request: V2CreateRequest =
            parse_object(&body, "The real-time API takes one shipment per request")?;
        let target = RealtimeTarget::Number {
            number: request.tracking_number.clone(),
            courier: request.carrier_code.clone(),
            fields: Box::new(request.merchant_fields()),
        };
        let result = state.trackings.realtime(account.id, target).await?;
        ok(V2RealtimeResult { items: vec![V2RealtimeItem::from(&result)] })
    }
}

route! {
    /// Move a tracking to another courier.
    post "/v2/trackings/update" "v2_change_carrier", body V2ChangeCarrierRequest,
    responses(200 "The tracking with its new courier" => V2Envelope<V2Tracking>, 400 "4012, 4013, 4014, 4015, 4016 (already tracked with the new courier) or 4017"),
    async fn change_carrier(state, account, V2Body(body): V2Body) -> V2Result<V2Tracking> {
        let request: V2ChangeCarrierRequest = parse_object(&body, "Change one tracking's carrier")?;
        let key = number_key(request.tracking_number.as_deref(), request.carrier_code.as_deref())?;
        let new_carrier = match request.update_carrier_code.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => validate::courier_code(code)?,
            _ => {
                return Err(V2Error::new(
                    V2Code::InvalidCarrierCode,
                    "`update_carrier_code` is required: the courier the tracking should move to.",
                ))
            }
        };
        let id = tracked(&state, account.id, &key).await?.id;
        let new_carrier = Some(new_carrier.code);
        let tracking = state.trackings.update(account.id, &id, Default::default(), new_carrier, None).await?;
        ok(V2Tracking::new(&tracking, Utc::now()))
    }
}
