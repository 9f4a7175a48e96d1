//! `/v4/webhooks`: an account's webhook endpoints, their delivery log, redelivery and test
//! events (a parceld extension of the TrackingMore v4 API).
//!
//! Handlers parse the request, call the `WebhookService` (which validates with the same rules as
//! the CLI and sends test events the way the dispatcher sends deliveries), and answer in the v4
//! envelope; every mistake is a public code (4170–4174, 4130, 400) and changes nothing. An
//! endpoint of another account is "no such webhook", the same as one that never existed.

use axum::extract::{Path, State};
use axum::Json;
use parceld_model::{DeliveryStatus, LimitClass};
use parceld_service::WebhookInput;
use parceld_store::{DeliveryInfo, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{iso, Envelope};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{parse_json, Authenticated, QueryPairs, RawBody};
use crate::{AppState, ClassedRoutes};

/// The most deliveries `GET /v4/webhooks/{id}/deliveries` returns in one call.
pub const MAX_DELIVERIES_PAGE: u32 = 500;
/// How many deliveries it returns when no `limit` is given.
const DEFAULT_DELIVERIES_PAGE: u32 = 50;

type ApiResult<T> = Result<Json<Envelope<T>>, ApiError>;

fn ok<T>(data: T) -> ApiResult<T> {
    Ok(Json(Envelope::ok(data)))
}

/// The endpoint a route's path names (for its handler and its OpenAPI parameter alike).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// Webhook id
    id: String,
}

/// This module's routes, all in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V4Other,
        OpenApiRouter::default()
            .routes(routes!(create, list))
            .routes(routes!(show, update, remove))
            .routes(routes!(rotate_secret))
            .routes(routes!(secret))
            .routes(routes!(test))
            .routes(routes!(deliveries))
            .routes(routes!(redeliver)),
    )]
}

/// Body of `POST /v4/webhooks` and `PUT /v4/webhooks/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// `http://` or `https://`; required on create. Spaces around it or a control character
    /// anywhere are refused (4170), never trimmed.
    pub url: Option<String>,
    pub description: Option<String>,
    /// `"all"` (the default), or a list of statuses: pending, notfound, inforeceived, transit,
    /// pickup, undelivered, delivered, exception, expired. Any other text is refused (4171).
    #[schema(schema_with = statuses_schema)]
    pub statuses: Option<serde_json::Value>,
    /// Payload format: `v4` (default) or `v2` (legacy, with `verifyInfo`).
    pub version: Option<String>,
    /// Default true. Setting it true again re-enables an endpoint parceld disabled.
    pub enabled: Option<bool>,
}

/// The schema of `WebhookRequest.statuses`: the text `"all"` or a list of status names, which the
/// field's `serde_json::Value` type cannot tell utoipa.
fn statuses_schema() -> impl Into<RefOr<Schema>> {
    let status_names = DeliveryStatus::ALL.iter().map(|status| status.as_str());
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["all"])),
        )
        .item(
            ArrayBuilder::new().items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(status_names)),
            ),
        )
}

impl From<WebhookRequest> for WebhookInput {
    fn from(request: WebhookRequest) -> Self {
        WebhookInput {
            url: request.url,
            description: request.description,
            statuses: request.statuses,
            version: request.version,
            enabled: request.enabled,
        }
    }
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// `wh_` and 24 hex characters.
    pub id: String,
    pub url: String,
    pub description: String,
    /// `["all"]` or the statuses that trigger a delivery.
    pub statuses: Vec<String>,
    /// `v4` or `v2`.
    pub version: String,
    pub enabled: bool,
    /// `enabled`, `disabled`, or `disabled_failing` when parceld disabled it because every
    /// delivery kept failing.
    pub state: String,
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed deliveries, if failing.
    pub failing_since: Option<String>,
    /// `whsec_…`: the key for verifying `webhook-signature` (Standard Webhooks). Only create and
    /// rotate_secret answer with it; otherwise `GET /v4/webhooks/{id}/secret` reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint's signing secret, from `GET /v4/webhooks/{id}/secret`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretView {
    /// The webhook's id.
    pub id: String,
    /// `whsec_…`: the key for verifying `webhook-signature` (Standard Webhooks).
    pub secret: String,
}

impl WebhookView {
    /// The endpoint with its secret: only for the answers that create or replace the secret.
    fn with_secret(e: &WebhookEndpoint) -> Self {
        WebhookView {
            secret: Some(e.secret.clone()),
            ..WebhookView::from(e)
        }
    }
}

/// The endpoint without its secret: a secret in every read would end up in logs, screenshots and
/// dashboards; it is read on purpose from its own route.
impl From<&WebhookEndpoint> for WebhookView {
    fn from(e: &WebhookEndpoint) -> Self {
        let state = if e.enabled {
            "enabled"
        } else if e.disabled_reason.is_some() {
            "disabled_failing"
        } else {
            "disabled"
        };
        WebhookView {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            statuses: if e.statuses.is_empty() {
                vec!["all".into()]
            } else {
                e.statuses.iter().map(|s| s.as_str().to_string()).collect()
            },
            version: e.version.as_str().into(),
            enabled: e.enabled,
            state: state.into(),
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since.map(iso),
            secret: None,
            created_at: iso(e.created_at),
            updated_at: iso(e.updated_at),
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempted_at: String,
    /// None when no response came (refused address, connection error, timeout).
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// The start of the receiver's response body.
    pub response_snippet: Option<String>,
}

/// A delivery and its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `dlv_` and 24 hex characters.
    pub id: String,
    /// `TRACKING_UPDATED` or `TEST`.
    pub event: String,
    /// The `webhook-id` header and `event_id` of the body; the same on every attempt.
    pub event_id: String,
    pub tracking_id: Option<String>,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts since it was queued (or redelivered).
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The body sent (absent before the first attempt).
    #[schema(value_type = Object)]
    pub payload: Option<serde_json::Value>,
    /// Oldest first.
    pub attempt_log: Vec<AttemptView>,
}

impl From<&DeliveryInfo> for DeliveryView {
    fn from(d: &DeliveryInfo) -> Self {
        DeliveryView {
            id: d.id.clone(),
            event: d.event.clone(),
            event_id: d.event_id.clone(),
            tracking_id: d.tracking_id.clone(),
            state: d.state.clone(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(iso),
            created_at: iso(d.created_at),
            finished_at: d.finished_at.map(iso),
            payload: d
                .payload
                .as_deref()
                .map(|p| serde_json::from_str(p).unwrap_or(serde_json::Value::String(p.into()))),
            attempt_log: d
                .attempt_log
                .iter()
                .map(|a| AttemptView {
                    attempted_at: iso(a.attempted_at),
                    http_status: a.http_status,
                    latency_ms: a.latency_ms,
                    error: a.error.clone(),
                    response_snippet: a.response_snippet.clone(),
                })
                .collect(),
        }
    }
}

/// Register a webhook endpoint.
#[utoipa::path(
    post,
    path = "/v4/webhooks",
    operation_id = "createWebhook",
    request_body = WebhookRequest,
    responses(
        (status = 200, description = "The new endpoint, with its secret", body = Envelope<WebhookView>),
        (status = 400, description = "4170 bad URL, 4171 bad statuses, 4172 too many endpoints, 4130 or 400"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    RawBody(body): RawBody,
) -> ApiResult<WebhookView> {
    let request: WebhookRequest = parse_json(&body)?;
    let endpoint = state.webhooks.create(account.id, request.into()).await?;
    ok(WebhookView::with_secret(&endpoint))
}

/// List the account's webhook endpoints.
#[utoipa::path(
    get,
    path = "/v4/webhooks",
    operation_id = "listWebhooks",
    responses((status = 200, description = "The endpoints, without their secrets", body = Envelope<Vec<WebhookView>>)),
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
) -> ApiResult<Vec<WebhookView>> {
    let endpoints = state.webhooks.list(account.id).await?;
    ok(endpoints.iter().map(WebhookView::from).collect())
}

/// One webhook endpoint.
#[utoipa::path(
    get,
    path = "/v4/webhooks/{id}",
    operation_id = "getWebhook",
    params(WebhookPath),
    responses(
        (status = 200, description = "The endpoint, without its secret", body = Envelope<WebhookView>),
        (status = 400, description = "4173 no such webhook"),
    ),
)]
pub async fn show(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
) -> ApiResult<WebhookView> {
    let endpoint = state.webhooks.endpoint(account.id, &id).await?;
    ok(WebhookView::from(&endpoint))
}

/// Change a webhook endpoint; absent fields stay as they are.
#[utoipa::path(
    put,
    path = "/v4/webhooks/{id}",
    operation_id = "updateWebhook",
    params(WebhookPath),
    request_body = WebhookRequest,
    responses(
        (status = 200, description = "The changed endpoint", body = Envelope<WebhookView>),
        (status = 400, description = "4170, 4171, 4173, 4130 or 400"),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
    RawBody(body): RawBody,
) -> ApiResult<WebhookView> {
    let request: WebhookRequest = parse_json(&body)?;
    let endpoint = state
        .webhooks
        .update(account.id, &id, request.into())
        .await?;
    ok(WebhookView::from(&endpoint))
}

/// Delete a webhook endpoint, its pending deliveries and its log.
#[utoipa::path(
    delete,
    path = "/v4/webhooks/{id}",
    operation_id = "deleteWebhook",
    params(WebhookPath),
    responses(
        (status = 200, description = "The deleted endpoint", body = Envelope<WebhookView>),
        (status = 400, description = "4173 no such webhook"),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
) -> ApiResult<WebhookView> {
    let endpoint = state.webhooks.remove(account.id, &id).await?;
    ok(WebhookView::from(&endpoint))
}

/// Replace the endpoint's secret; deliveries are signed with the new one from now on.
#[utoipa::path(
    post,
    path = "/v4/webhooks/{id}/rotate_secret",
    operation_id = "rotateWebhookSecret",
    params(WebhookPath),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = Envelope<WebhookView>),
        (status = 400, description = "4173 no such webhook"),
    ),
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
) -> ApiResult<WebhookView> {
    let endpoint = state.webhooks.rotate_secret(account.id, &id).await?;
    ok(WebhookView::with_secret(&endpoint))
}

/// The endpoint's signing secret (`whsec_…`). Other reads of the endpoint leave it out.
#[utoipa::path(
    get,
    path = "/v4/webhooks/{id}/secret",
    operation_id = "getWebhookSecret",
    params(WebhookPath),
    responses(
        (status = 200, description = "The endpoint's secret", body = Envelope<WebhookSecretView>),
        (status = 400, description = "4173 no such webhook"),
    ),
)]
pub async fn secret(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
) -> ApiResult<WebhookSecretView> {
    let endpoint = state.webhooks.endpoint(account.id, &id).await?;
    ok(WebhookSecretView {
        id: endpoint.id,
        secret: endpoint.secret,
    })
}

/// The endpoint's deliveries, newest first, with every attempt (`?limit=`, default 50, at most
/// 500). Finished deliveries are kept 30 days (configurable).
#[utoipa::path(
    get,
    path = "/v4/webhooks/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    params(
        WebhookPath,
        ("limit" = Option<u32>, Query, description = "At most this many (default 50, max 500)"),
    ),
    responses(
        (status = 200, description = "The delivery log", body = Envelope<Vec<DeliveryView>>),
        (status = 400, description = "4173 no such webhook, 4130 bad limit"),
    ),
)]
pub async fn deliveries(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Vec<DeliveryView>> {
    let mut limit = DEFAULT_DELIVERIES_PAGE;
    for (key, value) in &query {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=MAX_DELIVERIES_PAGE).contains(l))
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::InvalidField,
                            format!("`limit` must be a number from 1 to {MAX_DELIVERIES_PAGE}; got `{value}`."),
                        )
                    })?
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidField,
                    format!("Unknown parameter `{other}`; this route takes `limit`."),
                ))
            }
        }
    }
    let log = state.webhooks.deliveries(account.id, &id, limit).await?;
    ok(log.iter().map(DeliveryView::from).collect())
}

/// Queue a delivery again, now, with the same event id and body.
#[utoipa::path(
    post,
    path = "/v4/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    operation_id = "redeliverWebhookDelivery",
    params(
        ("id" = String, Path, description = "Webhook id"),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "The delivery, pending again", body = Envelope<DeliveryView>),
        (status = 400, description = "4173 no such webhook, 4174 no such delivery"),
    ),
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<DeliveryView> {
    let delivery = state
        .webhooks
        .redeliver(account.id, &id, &delivery_id)
        .await?;
    ok(DeliveryView::from(&delivery))
}

/// Send a sample event to the endpoint now and report what the receiver answered. The
/// attempt is in the delivery log as a `TEST` event; it is not retried.
#[utoipa::path(
    post,
    path = "/v4/webhooks/{id}/test",
    operation_id = "testWebhook",
    params(WebhookPath),
    responses(
        (status = 200, description = "The test delivery with its attempt", body = Envelope<DeliveryView>),
        (status = 400, description = "4173 no such webhook"),
    ),
)]
pub async fn test(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    Path(WebhookPath { id }): Path<WebhookPath>,
) -> ApiResult<DeliveryView> {
    let delivery = state.webhooks.send_test(account.id, &id).await?;
    ok(DeliveryView::from(&delivery))
}
