//! `/v4/webhooks`: an account's webhook endpoints, their delivery log, redelivery and test
//! events (a parceld extension of the TrackingMore v4 API).
//!
//! Handlers parse the request, call the `WebhookService` (which validates with the same rules as
//! the CLI and sends test events the way the dispatcher sends deliveries), and answer in the v4
//! envelope; every mistake is a public code (4170–4174, 4130, 400) and changes nothing. An
//! endpoint of another account is "no such webhook", the same as one that never existed.

use axum::extract::Path;
use parceld_model::DeliveryStatus;
use parceld_service::WebhookInput;
use parceld_store::{AttemptInfo, DeliveryInfo, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

use super::wire::{iso, Envelope};
use super::{ok, ApiResult};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{parse_json, QueryPairs, RawBody};
use crate::ClassedRoutes;

/// The most deliveries `GET /v4/webhooks/{id}/deliveries` returns in one call.
pub const MAX_DELIVERIES_PAGE: u32 = 500;
/// How many deliveries it returns when no `limit` is given.
const DEFAULT_DELIVERIES_PAGE: u32 = 50;
/// The failure every route of one endpoint shares.
const NO_SUCH_WEBHOOK: &str = "4173 no such webhook";

/// The endpoint a route's path names (for its handler and its OpenAPI parameter alike).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// Webhook id
    id: String,
}

/// This module's routes, all in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V4Other: (create, list) (show, update, remove) (rotate_secret) (secret) (test) (deliveries) (redeliver))
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

// The conversion leaves the secret out: a secret in every read would end up in logs, screenshots
// and dashboards; it is read on purpose from its own route.
view_from! {
    /// A webhook endpoint.
    WebhookView from e: &WebhookEndpoint;
    {
        /// `wh_` and 24 hex characters.
        id: String = e.id.clone(),
        url: String = e.url.clone(),
        description: String = e.description.clone(),
        /// `["all"]` or the statuses that trigger a delivery.
        statuses: Vec<String> = status_names(e),
        /// `v4` or `v2`.
        version: String = e.version.as_str().into(),
        enabled: bool = e.enabled,
        /// `enabled`, `disabled`, or `disabled_failing` when parceld disabled it because every
        /// delivery kept failing.
        state: String = endpoint_state(e).into(),
        disabled_reason: Option<String> = e.disabled_reason.clone(),
        /// Start of the current run of failed deliveries, if failing.
        failing_since: Option<String> = e.failing_since.map(iso),
        /// `whsec_…`: the key for verifying `webhook-signature` (Standard Webhooks). Only create and
        /// rotate_secret answer with it; otherwise `GET /v4/webhooks/{id}/secret` reads it.
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<String> = None,
        created_at: String = iso(e.created_at),
        updated_at: String = iso(e.updated_at),
    }
}

/// The statuses an endpoint is sent, `["all"]` when it is sent every one.
fn status_names(e: &WebhookEndpoint) -> Vec<String> {
    if e.statuses.is_empty() {
        vec!["all".into()]
    } else {
        e.statuses.iter().map(|s| s.as_str().to_string()).collect()
    }
}

fn endpoint_state(e: &WebhookEndpoint) -> &'static str {
    if e.enabled {
        "enabled"
    } else if e.disabled_reason.is_some() {
        "disabled_failing"
    } else {
        "disabled"
    }
}

/// An endpoint's signing secret, from `GET /v4/webhooks/{id}/secret`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretView {
    /// The webhook's id.
    pub id: String,
    /// `whsec_…`: the key for verifying `webhook-signature` (Standard Webhooks).
    pub secret: String,
}

impl From<WebhookEndpoint> for WebhookSecretView {
    fn from(WebhookEndpoint { id, secret, .. }: WebhookEndpoint) -> Self {
        WebhookSecretView { id, secret }
    }
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

view_from! {
    /// One attempt of a delivery.
    AttemptView from a: &AttemptInfo;
    {
        attempted_at: String = iso(a.attempted_at),
        /// None when no response came (refused address, connection error, timeout).
        http_status: Option<u16> = a.http_status,
        latency_ms: i64 = a.latency_ms,
        error: Option<String> = a.error.clone(),
        /// The start of the receiver's response body.
        response_snippet: Option<String> = a.response_snippet.clone(),
    }
}

view_from! {
    /// A delivery and its attempts.
    DeliveryView from d: &DeliveryInfo;
    {
        /// `dlv_` and 24 hex characters.
        id: String = d.id.clone(),
        /// `TRACKING_UPDATED` or `TEST`.
        event: String = d.event.clone(),
        /// The `webhook-id` header and `event_id` of the body; the same on every attempt.
        event_id: String = d.event_id.clone(),
        tracking_id: Option<String> = d.tracking_id.clone(),
        /// `pending`, `delivered` or `failed`.
        state: String = d.state.clone(),
        /// Attempts since it was queued (or redelivered).
        attempts: i64 = d.attempts,
        next_attempt_at: Option<String> = d.next_attempt_at.map(iso),
        created_at: String = iso(d.created_at),
        finished_at: Option<String> = d.finished_at.map(iso),
        /// The body sent (absent before the first attempt).
        #[schema(value_type = Object)]
        payload: Option<serde_json::Value> = d.payload.as_deref().map(payload_json),
        /// Oldest first.
        attempt_log: Vec<AttemptView> = d.attempt_log.iter().map(AttemptView::from).collect(),
    }
}

/// A delivery's stored body as JSON (or as the text it is, should it not be JSON).
fn payload_json(payload: &str) -> serde_json::Value {
    serde_json::from_str(payload).unwrap_or(serde_json::Value::String(payload.into()))
}

route! {
    /// Register a webhook endpoint.
    post "/v4/webhooks" "createWebhook", body WebhookRequest,
    responses(200 "The new endpoint, with its secret" => Envelope<WebhookView>, 400 "4170 bad URL, 4171 bad statuses, 4172 too many endpoints, 4130 or 400"),
    async fn create(state, account, RawBody(body): RawBody) -> ApiResult<WebhookView> {
        let request: WebhookRequest = parse_json(&body)?;
        ok(WebhookView::with_secret(&state.webhooks.create(account.id, request.into()).await?))
    }
}

route! {
    /// List the account's webhook endpoints.
    get "/v4/webhooks" "listWebhooks",
    responses(200 "The endpoints, without their secrets" => Envelope<Vec<WebhookView>>),
    async fn list(state, account) -> ApiResult<Vec<WebhookView>> {
        let endpoints = state.webhooks.list(account.id).await?;
        ok(endpoints.iter().map(WebhookView::from).collect())
    }
}

/// Declares a route on one endpoint (`/v4/webhooks/{id}…`) whose only failure is 4173: its
/// handler answers with what `$answer` makes of the state, the account and the endpoint's id.
macro_rules! endpoint_route {
    (
        $(#[$doc:meta])*
        $method:ident $path:tt $operation:tt, $description:tt => $view:ty,
        fn $name:ident |$state:ident, $account:ident, $id:ident| $answer:expr
    ) => {
        route! {
            $(#[$doc])*
            $method $path $operation, params(WebhookPath),
            responses(200 $description => Envelope<$view>, 400 NO_SUCH_WEBHOOK),
            async fn $name($state, $account, Path(WebhookPath { id: $id }): Path<WebhookPath>) -> ApiResult<$view> {
                ok($answer)
            }
        }
    };
}

endpoint_route! {
    /// One webhook endpoint.
    get "/v4/webhooks/{id}" "getWebhook", "The endpoint, without its secret" => WebhookView,
    fn show |state, account, id| WebhookView::from(&state.webhooks.endpoint(account.id, &id).await?)
}

route! {
    /// Change a webhook endpoint; absent fields stay as they are.
    put "/v4/webhooks/{id}" "updateWebhook", params(WebhookPath), body WebhookRequest,
    responses(200 "The changed endpoint" => Envelope<WebhookView>, 400 "4170, 4171, 4173, 4130 or 400"),
    async fn update(state, account, Path(WebhookPath { id }): Path<WebhookPath>, RawBody(body): RawBody) -> ApiResult<WebhookView> {
        let request: WebhookRequest = parse_json(&body)?;
        let endpoint = state.webhooks.update(account.id, &id, request.into()).await?;
        ok(WebhookView::from(&endpoint))
    }
}

endpoint_route! {
    /// Delete a webhook endpoint, its pending deliveries and its log.
    delete "/v4/webhooks/{id}" "deleteWebhook", "The deleted endpoint" => WebhookView,
    fn remove |state, account, id| WebhookView::from(&state.webhooks.remove(account.id, &id).await?)
}

endpoint_route! {
    /// Replace the endpoint's secret; deliveries are signed with the new one from now on.
    post "/v4/webhooks/{id}/rotate_secret" "rotateWebhookSecret", "The endpoint with its new secret" => WebhookView,
    fn rotate_secret |state, account, id| WebhookView::with_secret(&state.webhooks.rotate_secret(account.id, &id).await?)
}

endpoint_route! {
    /// The endpoint's signing secret (`whsec_…`). Other reads of the endpoint leave it out.
    get "/v4/webhooks/{id}/secret" "getWebhookSecret", "The endpoint's secret" => WebhookSecretView,
    fn secret |state, account, id| WebhookSecretView::from(state.webhooks.endpoint(account.id, &id).await?)
}

route! {
    /// The endpoint's deliveries, newest first, with every attempt (`?limit=`, default 50, at most
    /// 500). Finished deliveries are kept 30 days (configurable).
    get "/v4/webhooks/{id}/deliveries" "listWebhookDeliveries",
    params(
        WebhookPath,
        ("limit" = Option<u32>, Query, description = "At most this many (default 50, max 500)"),
    ),
    responses(200 "The delivery log" => Envelope<Vec<DeliveryView>>, 400 "4173 no such webhook, 4130 bad limit"),
    async fn deliveries(state, account, Path(WebhookPath { id }): Path<WebhookPath>, QueryPairs(query): QueryPairs) -> ApiResult<Vec<DeliveryView>> {
        let limit = deliveries_limit(&query)?;
        let log = state.webhooks.deliveries(account.id, &id, limit).await?;
        ok(log.iter().map(DeliveryView::from).collect())
    }
}

/// The `limit` of a deliveries query: the only parameter it takes.
fn deliveries_limit(query: &[(String, String)]) -> Result<u32, ApiError> {
    let mut limit = DEFAULT_DELIVERIES_PAGE;
    for (key, value) in query {
        if key != "limit" {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                format!("Unknown parameter `{key}`; this route takes `limit`."),
            ));
        }
        limit = value
            .parse()
            .ok()
            .filter(|l| (1..=MAX_DELIVERIES_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidField,
                    format!(
                        "`limit` must be a number from 1 to {MAX_DELIVERIES_PAGE}; got `{value}`."
                    ),
                )
            })?;
    }
    Ok(limit)
}

route! {
    /// Queue a delivery again, now, with the same event id and body.
    post "/v4/webhooks/{id}/deliveries/{delivery_id}/redeliver" "redeliverWebhookDelivery",
    params(
        ("id" = String, Path, description = "Webhook id"),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(200 "The delivery, pending again" => Envelope<DeliveryView>, 400 "4173 no such webhook, 4174 no such delivery"),
    async fn redeliver(state, account, Path((id, delivery)): Path<(String, String)>) -> ApiResult<DeliveryView> {
        ok(DeliveryView::from(&state.webhooks.redeliver(account.id, &id, &delivery).await?))
    }
}

endpoint_route! {
    /// Send a sample event to the endpoint now and report what the receiver answered. The
    /// attempt is in the delivery log as a `TEST` event; it is not retried.
    post "/v4/webhooks/{id}/test" "testWebhook", "The test delivery with its attempt" => DeliveryView,
    fn test |state, account, id| DeliveryView::from(&state.webhooks.send_test(account.id, &id).await?)
}
