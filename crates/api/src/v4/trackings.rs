//! The v4 tracking endpoints: create, batch create, list, update, delete and retrack.
//!
//! Handlers only translate: wire request → a rule or operation of `parceld_service` → wire
//! response. Every client mistake becomes an [`ApiError`] with a public code.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use parceld_model::{DeliveryStatus, Tracking, TrackingFields};
use parceld_service::trackings::already_exists;
use parceld_service::validate::{self, at_most_a_batch};
use parceld_service::{RealtimeTarget, MAX_PAGE_SIZE};
use parceld_store::{CreateOutcome, Page, TrackingFilter};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::wire::{
    status_list, BatchItemView, BatchResultView, CreateTrackingRequest, Envelope, Meta,
    RealtimeRequest, RealtimeView, TrackingView, UpdateResultView, UpdateTrackingRequest,
};
use super::{ok, ApiResult};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{from_value, parse_json, QueryPairs, RawBody};
use crate::query::{first_page, whole_number, MAX_PAGE_NUMBER};
use crate::{AppState, ClassedRoutes};

/// This module's routes by rate-limit class: create and real-time have their own budgets.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V4Create: (create); V4Realtime: (realtime); V4Other: (batch) (list) (update) (delete) (retrack))
}

/// A success whose data borrows from a tracking: serialised in the handler, while the tracking
/// is alive.
type RenderedResult = Result<Response, ApiError>;

/// Serialises `data` in the v4 envelope, into a buffer sized for `size_hint` bytes (a
/// 2000-tracking page is megabytes; growing a small buffer to that size copies it many times).
fn render<T: Serialize>(data: T, size_hint: usize) -> RenderedResult {
    let mut body = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut body, &Envelope::ok(data)).map_err(ApiError::internal)?;
    Ok(json_response(body))
}

/// A 200 with a JSON body already written.
fn json_response(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// One tracking's view in the v4 envelope.
fn render_one(tracking: &Tracking) -> RenderedResult {
    render(TrackingView::new(tracking, Utc::now()), 4096)
}

/// About how many bytes the JSON of `trackings` takes.
fn size_of(trackings: &[Tracking]) -> usize {
    trackings
        .iter()
        .map(|t| 2048 + 320 * t.checkpoints.len())
        .sum::<usize>()
        + 64
}

/// The tracking a route's path names (for its handler and its OpenAPI parameter alike).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TrackingPath {
    /// The tracking id
    id: String,
}

fn tracking_id(raw: &str) -> Result<parceld_model::TrackingId, ApiError> {
    Ok(validate::tracking_id(raw)?)
}

route! {
    /// Create one tracking.
    post "/v4/trackings/create" "createTracking", body CreateTrackingRequest,
    responses(200 "The new tracking" => Envelope<TrackingView>, 400 "4101, 4110, 4111, 4120, 4121, 4122, 4130 (also a merchant text over 256 characters, `note` over 1000, or with a control character) or 400 (also a key named twice)"),
    async fn create(state, account, RawBody(body): RawBody) -> RenderedResult {
        let new = parse_json::<CreateTrackingRequest>(&body)?.new_tracking()?;
        // v4 create is real-time: the courier is asked now.
        match state.trackings.create(account.id, new, true).await? {
            CreateOutcome::Created(tracking) => render_one(&tracking),
            CreateOutcome::AlreadyExists {
                tracking_number,
                courier_code,
            } => Err(already_exists(&tracking_number, &courier_code).into()),
        }
    }
}

route! {
    /// Create up to 40 trackings; each item succeeds or fails on its own.
    post "/v4/trackings/batch" "batchCreateTrackings", body Vec<CreateTrackingRequest>,
    responses(200 "Per-item results" => Envelope<BatchResultView>, 400 "4103 (more than 40) or 400 (not a JSON array, or a key named twice in an item)"),
    async fn batch(state, account, RawBody(body): RawBody) -> ApiResult<BatchResultView> {
        let value: serde_json::Value = parse_json(&body)?;
        let serde_json::Value::Array(items) = value else {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "The body must be a JSON array of trackings, e.g. [{\"tracking_number\":\"…\",\"courier_code\":\"…\"}].",
            ));
        };
        at_most_a_batch(items.len(), |count| {
            format!(
                "This batch has {count} items; split it into calls of at most {}.",
                parceld_service::MAX_BATCH
            )
        })?;
        let mut result = BatchResultView::default();
        let mut accepted = Vec::new();
        for item in items {
            let hint = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_string);
            let (tracking_number, courier_code) = (hint("tracking_number"), hint("courier_code"));
            let validated = from_value::<CreateTrackingRequest>(item)
                .and_then(|request| Ok(request.new_tracking()?));
            match validated {
                Ok(new) => accepted.push(new),
                Err(error) => result.error.push(BatchItemView::failed(tracking_number, courier_code, &error)),
            }
        }
        for outcome in state.trackings.create_many(account.id, accepted).await? {
            match outcome {
                CreateOutcome::Created(t) => result.success.push(BatchItemView::created(&t)),
                CreateOutcome::AlreadyExists { tracking_number, courier_code } => {
                    let error = ApiError::new(
                        ErrorCode::TrackingExists,
                        "This number is already tracked with this courier.",
                    );
                    result.error.push(BatchItemView::failed(Some(tracking_number), Some(courier_code), &error));
                }
            }
        }
        ok(result)
    }
}

impl BatchItemView {
    /// A created tracking.
    fn created(t: &Tracking) -> Self {
        BatchItemView {
            id: Some(t.id.to_string()),
            tracking_number: Some(t.tracking_number.clone()),
            courier_code: Some(t.courier_code.clone()),
            error_code: None,
            error_message: None,
        }
    }

    /// An item that failed, with the number and courier it named (when it named them).
    fn failed(
        tracking_number: Option<String>,
        courier_code: Option<String>,
        error: &ApiError,
    ) -> Self {
        BatchItemView {
            id: None,
            tracking_number,
            courier_code,
            error_code: Some(error.code.code()),
            error_message: Some(error.message()),
        }
    }
}

fn invalid_param(name: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidField,
        format!("Query parameter `{name}`: {detail}"),
    )
}

/// Accepts ISO-8601 with offset, a UTC date-time without one, or a date (start of day, UTC).
fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(invalid_param(
        name,
        format!("`{raw}` is not an ISO-8601 time such as 2024-05-01T00:00:00+00:00."),
    ))
}

fn parse_count(name: &str, raw: &str, max: u32) -> Result<u32, ApiError> {
    whole_number(raw, max).map_err(|detail| invalid_param(name, detail))
}

/// A list query's parameters, as OpenAPI parameters (`list_query` reads the query's pairs
/// itself, to refuse an unknown one with 4130).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ListQuery {
    /// Comma-separated, at most 40
    tracking_numbers: Option<String>,
    /// Only this courier
    courier_code: Option<String>,
    /// One of the nine statuses
    delivery_status: Option<String>,
    /// "true" for archived, "false" for active
    archived_status: Option<String>,
    /// ISO-8601
    created_date_min: Option<String>,
    /// ISO-8601
    created_date_max: Option<String>,
    /// ISO-8601
    updated_date_min: Option<String>,
    /// ISO-8601
    updated_date_max: Option<String>,
    /// Page number, from 1
    pages_amount: Option<u32>,
    /// Page size, 1 to 2000, default 100
    items_amount: Option<u32>,
    /// Language of event texts
    lang: Option<String>,
}

const UNKNOWN_LIST_PARAMETER: &str = "unknown parameter; accepted are tracking_numbers, courier_code, delivery_status, archived_status, created_date_min, created_date_max, updated_date_min, updated_date_max, pages_amount, items_amount, lang.";

/// The list filters and page of a `GET /v4/trackings/get` query.
fn list_query(pairs: Vec<(String, String)>) -> Result<(TrackingFilter, Page), ApiError> {
    let (mut filter, mut page) = (TrackingFilter::default(), first_page());
    for (name, value) in pairs {
        if value.trim().is_empty() {
            continue;
        }
        match name.as_str() {
            "tracking_numbers" => {
                let numbers: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(|n| validate::tracking_number(Some(n)).map(|n| n.into_string()))
                    .collect::<Result<_, _>>()?;
                at_most_a_batch(numbers.len(), |count| {
                    format!(
                        "`tracking_numbers` names {count} numbers; ask for at most {} per call.",
                        parceld_service::MAX_BATCH
                    )
                })?;
                filter.tracking_numbers = numbers;
            }
            "courier_code" => {
                filter.courier_code = Some(validate::courier_code(&value)?.code.to_string())
            }
            "delivery_status" => {
                filter.delivery_status =
                    Some(value.trim().parse::<DeliveryStatus>().map_err(|_| {
                        invalid_param(
                            &name,
                            format!("`{value}` is not a status; use one of {}.", status_list()),
                        )
                    })?)
            }
            "archived_status" => filter.archived = Some(validate::archived_flag(&value, &name)?),
            "created_date_min" => filter.created_min = Some(parse_time(&name, &value)?),
            "created_date_max" => filter.created_max = Some(parse_time(&name, &value)?),
            "updated_date_min" => filter.updated_min = Some(parse_time(&name, &value)?),
            "updated_date_max" => filter.updated_max = Some(parse_time(&name, &value)?),
            "pages_amount" => page.number = parse_count(&name, &value, MAX_PAGE_NUMBER)?,
            "items_amount" => page.size = parse_count(&name, &value, MAX_PAGE_SIZE)?,
            "lang" => {}
            _ => return Err(invalid_param(&name, UNKNOWN_LIST_PARAMETER)),
        }
    }
    Ok((filter, page))
}

route! {
    /// List trackings, newest first, filtered and paged.
    get "/v4/trackings/get" "listTrackings",
    params(ListQuery),
    responses(200 "One page of trackings" => Envelope<Vec<TrackingView>>, 400 "4103, 4110, 4120 or 4130"),
    async fn list(state, account, QueryPairs(pairs): QueryPairs) -> RenderedResult {
        let (filter, page) = list_query(pairs)?;
        if page.size >= PIPELINED_FROM && filter.tracking_numbers.is_empty() {
            return render_page_while_reading(&state, account.id, filter, page).await;
        }
        let trackings = state.store.list_trackings(account.id, &filter, page).await?;
        let now = Utc::now();
        let views: Vec<TrackingView> = trackings.iter().map(|t| TrackingView::new(t, now)).collect();
        render(views, size_of(&trackings))
    }
}

/// Pages of at least this many trackings are rendered while they are read.
const PIPELINED_FROM: u32 = 200;

/// Trackings per chunk handed from the reading thread to the rendering task.
const PIPELINE_CHUNK: usize = 250;

/// A large page: the store reads it in chunks (one statement; SQLite on a blocking thread)
/// while this task renders each chunk as it arrives, so on two cores reading and rendering
/// overlap instead of adding up; a 2000-tracking page spent about as long in SQLite as in
/// building its JSON. The body is the same bytes `render` would write.
async fn render_page_while_reading(
    state: &AppState,
    account: parceld_store::AccountId,
    filter: TrackingFilter,
    page: Page,
) -> RenderedResult {
    let (chunks_in, mut chunks) = tokio::sync::mpsc::channel::<Vec<Tracking>>(2);
    let store = state.store.clone();
    let reading = tokio::spawn(async move {
        store
            .list_trackings_in_chunks(account, &filter, page, PIPELINE_CHUNK, chunks_in)
            .await
    });
    let now = Utc::now();
    let mut body = Vec::new();
    body.extend_from_slice(b"{\"meta\":");
    serde_json::to_writer(&mut body, &Meta::ok()).map_err(ApiError::internal)?;
    body.extend_from_slice(b",\"data\":[");
    let mut first = true;
    while let Some(chunk) = chunks.recv().await {
        body.reserve(size_of(&chunk));
        for tracking in &chunk {
            if !first {
                body.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut body, &TrackingView::new(tracking, now))
                .map_err(ApiError::internal)?;
        }
    }
    reading.await.map_err(ApiError::internal)??;
    body.extend_from_slice(b"]}");
    Ok(json_response(body))
}

route! {
    /// Change a tracking's fields, courier or archive state.
    put "/v4/trackings/update/{id}" "updateTracking", params(TrackingPath), body UpdateTrackingRequest,
    responses(200 "The updated fields" => Envelope<UpdateResultView>, 400 "4101, 4102, 4112, 4120, 4122, 4130 (also a merchant text over 256 characters, `note` over 1000, or with a control character) or 400 (also a key named twice)"),
    async fn update(state, account, Path(TrackingPath { id }): Path<TrackingPath>, RawBody(body): RawBody) -> ApiResult<UpdateResultView> {
        let id = tracking_id(&id)?;
        let request: UpdateTrackingRequest = parse_json(&body)?;
        let archived = request
            .archived_status
            .as_deref()
            .map(|raw| validate::archived_flag(raw, "archived_status"))
            .transpose()?;
        let fields = request.merchant_fields();
        let new_courier = request.courier_code_new.as_deref();
        let tracking = state.trackings.update(account.id, &id, fields, new_courier, archived).await?;
        ok(UpdateResultView::from(&tracking))
    }
}

route! {
    /// Delete a tracking.
    delete "/v4/trackings/delete/{id}" "deleteTracking", params(TrackingPath),
    responses(200 "The deleted tracking" => Envelope<TrackingView>, 400 "4102 or 4112"),
    async fn delete(state, account, Path(TrackingPath { id }): Path<TrackingPath>) -> RenderedResult {
        render_one(&state.trackings.delete(account.id, &tracking_id(&id)?).await?)
    }
}

route! {
    /// Re-activate an expired tracking.
    post "/v4/trackings/retrack/{id}" "retrackTracking", params(TrackingPath),
    responses(200 "The re-activated tracking" => Envelope<TrackingView>, 400 "4102, 4112 or 4113"),
    async fn retrack(state, account, Path(TrackingPath { id }): Path<TrackingPath>) -> RenderedResult {
        render_one(&state.trackings.retrack(account.id, &tracking_id(&id)?).await?)
    }
}

route! {
    /// Fetch one shipment from its courier now (a parceld extension of the v4 API).
    ///
    /// One shipment per request, by `id` or by `tracking_number` (and `courier_code`; a number
    /// parceld does not track yet is created first). The same shipment is fetched from the courier at
    /// most once per real-time window (2 hours by default): inside it the stored result comes back
    /// with `fetched_from: "store"`. Concurrent requests for one shipment share one courier call. A
    /// courier failure is reported in `carrier_error` and never loses stored data.
    post "/v4/trackings/realtime" "realtimeTracking", body RealtimeRequest,
    responses(200 "The tracking, fetched now or from the store" => Envelope<RealtimeView>, 400 "400 (an array: one shipment per request), 4102, 4110, 4111, 4112, 4120, 4121, 4122, 4130", 429 "More than 3 real-time requests per second"),
    async fn realtime(state, account, RawBody(body): RawBody) -> RenderedResult {
        let value: serde_json::Value = parse_json(&body)?;
        if value.is_array() {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "The real-time API takes one shipment per request: send one JSON object, not an array.",
            ));
        }
        let request: RealtimeRequest = from_value(value)?;
        let target = match (&request.id, &request.tracking_number) {
            (Some(id), _) => RealtimeTarget::Id(tracking_id(id)?),
            (None, number) => RealtimeTarget::Number {
                number: number.clone(),
                courier: request.courier_code.clone(),
                fields: Box::new(TrackingFields {
                    tracking_postal_code: request.tracking_postal_code.clone(),
                    tracking_ship_date: request.tracking_ship_date.clone(),
                    tracking_destination_country: request.tracking_destination_country.clone(),
                    ..TrackingFields::default()
                }),
            },
        };
        let result = state.trackings.realtime(account.id, target).await?;
        render(RealtimeView::from(&result), 4096)
    }
}
