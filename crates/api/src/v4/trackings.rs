//! The v4 tracking endpoints: create, batch create, list, update, delete and retrack.
//!
//! Handlers only translate: wire request → a rule or operation of `parceld_service` → wire
//! response. Every client mistake becomes an [`ApiError`] with a public code.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use parceld_model::{DeliveryStatus, LimitClass, Tracking, TrackingFields};
use parceld_service::trackings::already_exists;
use parceld_service::validate::{self, at_most_a_batch};
use parceld_service::{RealtimeTarget, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use parceld_store::{CreateOutcome, Page, TrackingFilter};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{
    iso, status_list, BatchItemView, BatchResultView, CreateTrackingRequest, Envelope, Meta,
    RealtimeRequest, RealtimeView, TrackingView, UpdateResultView, UpdateTrackingRequest,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{from_value, parse_json, Authenticated, QueryPairs, RawBody};
use crate::{AppState, ClassedRoutes};

type ApiResult<T> = Result<Json<Envelope<T>>, ApiError>;

/// This module's routes by rate-limit class: create and real-time have their own budgets.
pub fn routes() -> ClassedRoutes {
    vec![
        (
            LimitClass::V4Create,
            OpenApiRouter::default().routes(routes!(create)),
        ),
        (
            LimitClass::V4Realtime,
            OpenApiRouter::default().routes(routes!(realtime)),
        ),
        (
            LimitClass::V4Other,
            OpenApiRouter::default()
                .routes(routes!(batch))
                .routes(routes!(list))
                .routes(routes!(update))
                .routes(routes!(delete))
                .routes(routes!(retrack)),
        ),
    ]
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

/// Create one tracking.
#[utoipa::path(
    post,
    path = "/v4/trackings/create",
    operation_id = "createTracking",
    request_body = CreateTrackingRequest,
    responses(
        (status = 200, description = "The new tracking", body = Envelope<TrackingView>),
        (status = 400, description = "4101, 4110, 4111, 4120, 4121, 4122, 4130 (also a merchant text over 256 characters, `note` over 1000, or with a control character) or 400 (also a key named twice)"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    RawBody(body): RawBody,
) -> RenderedResult {
    let request: CreateTrackingRequest = parse_json(&body)?;
    let new = validate::new_tracking(
        request.tracking_number.as_deref(),
        request.courier_code.as_deref(),
        request.merchant_fields(),
    )?;
    // v4 create is real-time: the courier is asked now.
    match state.trackings.create(account.id, new, true).await? {
        CreateOutcome::Created(tracking) => render(TrackingView::new(&tracking, Utc::now()), 4096),
        CreateOutcome::AlreadyExists {
            tracking_number,
            courier_code,
        } => Err(already_exists(&tracking_number, &courier_code).into()),
    }
}

/// Create up to 40 trackings; each item succeeds or fails on its own.
#[utoipa::path(
    post,
    path = "/v4/trackings/batch",
    operation_id = "batchCreateTrackings",
    request_body = Vec<CreateTrackingRequest>,
    responses(
        (status = 200, description = "Per-item results", body = Envelope<BatchResultView>),
        (status = 400, description = "4103 (more than 40) or 400 (not a JSON array, or a key named twice in an item)"),
    ),
)]
pub async fn batch(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    RawBody(body): RawBody,
) -> ApiResult<BatchResultView> {
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
        let number_hint = item
            .get("tracking_number")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let courier_hint = item
            .get("courier_code")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let validated = from_value::<CreateTrackingRequest>(item).and_then(|request| {
            Ok(validate::new_tracking(
                request.tracking_number.as_deref(),
                request.courier_code.as_deref(),
                request.merchant_fields(),
            )?)
        });
        match validated {
            Ok(new) => accepted.push(new),
            Err(error) => result.error.push(BatchItemView {
                id: None,
                tracking_number: number_hint,
                courier_code: courier_hint,
                error_code: Some(error.code.code()),
                error_message: Some(error.message()),
            }),
        }
    }
    {
        for outcome in state.trackings.create_many(account.id, accepted).await? {
            match outcome {
                CreateOutcome::Created(t) => result.success.push(BatchItemView {
                    id: Some(t.id.to_string()),
                    tracking_number: Some(t.tracking_number.clone()),
                    courier_code: Some(t.courier_code.clone()),
                    error_code: None,
                    error_message: None,
                }),
                CreateOutcome::AlreadyExists {
                    tracking_number,
                    courier_code,
                } => {
                    let error = ApiError::new(
                        ErrorCode::TrackingExists,
                        "This number is already tracked with this courier.",
                    );
                    result.error.push(BatchItemView {
                        id: None,
                        tracking_number: Some(tracking_number),
                        courier_code: Some(courier_code),
                        error_code: Some(error.code.code()),
                        error_message: Some(error.message()),
                    });
                }
            }
        }
    }
    Ok(Json(Envelope::ok(result)))
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
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(invalid_param(
            name,
            format!("`{raw}` must be a whole number from 1 to {max}."),
        )),
    }
}

/// The list filters and page of a `GET /v4/trackings/get` query.
fn list_query(pairs: Vec<(String, String)>) -> Result<(TrackingFilter, Page), ApiError> {
    let mut filter = TrackingFilter::default();
    let mut page = Page {
        number: 1,
        size: DEFAULT_PAGE_SIZE,
    };
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
                    format!("`tracking_numbers` names {count} numbers; ask for at most {} per call.", parceld_service::MAX_BATCH)
                })?;
                filter.tracking_numbers = numbers;
            }
            "courier_code" => {
                filter.courier_code = Some(validate::courier_code(&value)?.code.to_string())
            }
            "delivery_status" => {
                filter.delivery_status = Some(value.trim().parse::<DeliveryStatus>().map_err(|_| {
                    invalid_param(&name, format!("`{value}` is not a status; use one of {}.", status_list()))
                })?)
            }
            "archived_status" => filter.archived = Some(validate::archived_flag(&value, &name)?),
            "created_date_min" => filter.created_min = Some(parse_time(&name, &value)?),
            "created_date_max" => filter.created_max = Some(parse_time(&name, &value)?),
            "updated_date_min" => filter.updated_min = Some(parse_time(&name, &value)?),
            "updated_date_max" => filter.updated_max = Some(parse_time(&name, &value)?),
            "pages_amount" => page.number = parse_count(&name, &value, u32::MAX / 2)?,
            "items_amount" => page.size = parse_count(&name, &value, MAX_PAGE_SIZE)?,
            "lang" => {}
            _ => {
                return Err(invalid_param(
                    &name,
                    "unknown parameter; accepted are tracking_numbers, courier_code, delivery_status, archived_status, created_date_min, created_date_max, updated_date_min, updated_date_max, pages_amount, items_amount, lang.",
                ))
            }
        }
    }
    Ok((filter, page))
}

/// List trackings, newest first, filtered and paged.
#[utoipa::path(
    get,
    path = "/v4/trackings/get",
    operation_id = "listTrackings",
    params(
        ("tracking_numbers" = Option<String>, Query, description = "Comma-separated, at most 40"),
        ("courier_code" = Option<String>, Query, description = "Only this courier"),
        ("delivery_status" = Option<String>, Query, description = "One of the nine statuses"),
        ("archived_status" = Option<String>, Query, description = "\"true\" for archived, \"false\" for active"),
        ("created_date_min" = Option<String>, Query, description = "ISO-8601"),
        ("created_date_max" = Option<String>, Query, description = "ISO-8601"),
        ("updated_date_min" = Option<String>, Query, description = "ISO-8601"),
        ("updated_date_max" = Option<String>, Query, description = "ISO-8601"),
        ("pages_amount" = Option<u32>, Query, description = "Page number, from 1"),
        ("items_amount" = Option<u32>, Query, description = "Page size, 1 to 2000, default 100"),
        ("lang" = Option<String>, Query, description = "Language of event texts"),
    ),
    responses(
        (status = 200, description = "One page of trackings", body = Envelope<Vec<TrackingView>>),
        (status = 400, description = "4103, 4110, 4120 or 4130"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    QueryPairs(pairs): QueryPairs,
) -> RenderedResult {
    let (filter, page) = list_query(pairs)?;
    if page.size >= PIPELINED_FROM && filter.tracking_numbers.is_empty() {
        return render_page_while_reading(&state, account.id, filter, page).await;
    }
    let trackings = state
        .store
        .list_trackings(account.id, &filter, page)
        .await?;
    let now = Utc::now();
    let views: Vec<TrackingView> = trackings
        .iter()
        .map(|t| TrackingView::new(t, now))
        .collect();
    render(views, size_of(&trackings))
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

/// Change a tracking's fields, courier or archive state.
#[utoipa::path(
    put,
    path = "/v4/trackings/update/{id}",
    operation_id = "updateTracking",
    params(TrackingPath),
    request_body = UpdateTrackingRequest,
    responses(
        (status = 200, description = "The updated fields", body = Envelope<UpdateResultView>),
        (status = 400, description = "4101, 4102, 4112, 4120, 4122, 4130 (also a merchant text over 256 characters, `note` over 1000, or with a control character) or 400 (also a key named twice)"),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(TrackingPath { id }): Path<TrackingPath>,
    RawBody(body): RawBody,
) -> ApiResult<UpdateResultView> {
    let id = tracking_id(&id)?;
    let request: UpdateTrackingRequest = parse_json(&body)?;
    let archived = request
        .archived_status
        .as_deref()
        .map(|raw| validate::archived_flag(raw, "archived_status"))
        .transpose()?;
    let tracking = state
        .trackings
        .update(
            account.id,
            &id,
            request.merchant_fields(),
            request.courier_code_new.as_deref(),
            archived,
        )
        .await?;
    Ok(Json(Envelope::ok(UpdateResultView::from(&tracking))))
}

/// Delete a tracking.
#[utoipa::path(
    delete,
    path = "/v4/trackings/delete/{id}",
    operation_id = "deleteTracking",
    params(TrackingPath),
    responses(
        (status = 200, description = "The deleted tracking", body = Envelope<TrackingView>),
        (status = 400, description = "4102 or 4112"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(TrackingPath { id }): Path<TrackingPath>,
) -> RenderedResult {
    let id = tracking_id(&id)?;
    let tracking = state.trackings.delete(account.id, &id).await?;
    render(TrackingView::new(&tracking, Utc::now()), 4096)
}

/// Re-activate an expired tracking.
#[utoipa::path(
    post,
    path = "/v4/trackings/retrack/{id}",
    operation_id = "retrackTracking",
    params(TrackingPath),
    responses(
        (status = 200, description = "The re-activated tracking", body = Envelope<TrackingView>),
        (status = 400, description = "4102, 4112 or 4113"),
    ),
)]
pub async fn retrack(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(TrackingPath { id }): Path<TrackingPath>,
) -> RenderedResult {
    let id = tracking_id(&id)?;
    let tracking = state.trackings.retrack(account.id, &id).await?;
    render(TrackingView::new(&tracking, Utc::now()), 4096)
}

/// Fetch one shipment from its courier now (a parceld extension of the v4 API).
///
/// One shipment per request, by `id` or by `tracking_number` (and `courier_code`; a number
/// parceld does not track yet is created first). The same shipment is fetched from the courier at
/// most once per real-time window (2 hours by default): inside it the stored result comes back
/// with `fetched_from: "store"`. Concurrent requests for one shipment share one courier call. A
/// courier failure is reported in `carrier_error` and never loses stored data.
#[utoipa::path(
    post,
    path = "/v4/trackings/realtime",
    operation_id = "realtimeTracking",
    request_body = RealtimeRequest,
    responses(
        (status = 200, description = "The tracking, fetched now or from the store", body = Envelope<RealtimeView>),
        (status = 400, description = "400 (an array: one shipment per request), 4102, 4110, 4111, 4112, 4120, 4121, 4122, 4130"),
        (status = 429, description = "More than 3 real-time requests per second"),
    ),
)]
pub async fn realtime(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    RawBody(body): RawBody,
) -> RenderedResult {
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
    render(
        RealtimeView {
            tracking: TrackingView::new(&result.tracking, Utc::now()),
            fetched_at: result.fetched_at.map(iso),
            fetched_from: if result.from_store {
                "store"
            } else {
                "carrier"
            }
            .to_string(),
            carrier_error: result.carrier_error,
        },
        4096,
    )
}
