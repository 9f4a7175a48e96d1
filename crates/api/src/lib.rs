//! parceld's HTTP API.
//!
//! One axum router holds the TrackingMore-compatible v4 routes, the legacy v2 routes and the
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`). Every route shares
//! the same layers: a request id, a tracing span, request metrics and a body limit; every
//! failure is answered in its face's `{meta, data}` envelope with a code from
//! [`error::ErrorCode`] (v4) or [`error::V2Code`] (v2).

pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
mod ops;
pub mod ratelimit;
pub mod service;
pub mod v2;
pub mod v4;
pub mod webhook_payload;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, Uri};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{middleware, Router};
use parceld_engine::webhooks::{WebhookClient, WebhookSettings};
use parceld_engine::Engine;
use parceld_model::{LimitClass, RateLimits};
use parceld_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, ErrorCode, V2Code, V2Error};
use crate::extract::Face;

/// What every handler can reach: one shared [`AppStateParts`]. Axum clones the state for every
/// layer and handler a request passes (about eight times for an authenticated route); one
/// reference count instead of one per part keeps that to one atomic operation each, where five
/// cost about 3 % of a one-tracking `GET` in profiles (cache lines bouncing between cores).
#[derive(Clone)]
pub struct AppState(Arc<AppStateParts>);

impl std::ops::Deref for AppState {
    type Target = AppStateParts;

    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppStateParts {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<metrics::Metrics>,
    pub limiter: Arc<ratelimit::RateLimiter>,
    /// Real-time fetches (create, realtime) go through the engine.
    pub engine: Arc<Engine>,
    /// Webhook settings and the client test events are sent with.
    pub webhooks: Arc<WebhookApi>,
}

/// What the webhook routes need besides the store.
pub struct WebhookApi {
    pub settings: WebhookSettings,
    pub client: WebhookClient,
}

impl WebhookApi {
    pub fn new(settings: WebhookSettings) -> Result<Self, String> {
        let client = WebhookClient::new(&settings)?;
        Ok(WebhookApi { settings, client })
    }
}

impl AppState {
    /// `limits` are the server's default rate limits (each account may have its own).
    pub fn new(store: Arc<dyn Store>, limits: RateLimits, engine: Arc<Engine>) -> Self {
        AppState(Arc::new(AppStateParts {
            store,
            metrics: Arc::new(metrics::Metrics::default()),
            limiter: Arc::new(ratelimit::RateLimiter::new(limits)),
            engine,
            webhooks: Arc::new(
                WebhookApi::new(WebhookSettings::default())
                    .expect("the default webhook settings are valid"),
            ),
        }))
    }

    /// The same state with these webhook settings.
    pub fn with_webhooks(self, settings: WebhookSettings) -> Result<Self, String> {
        Ok(AppState(Arc::new(AppStateParts {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            limiter: self.limiter.clone(),
            engine: self.engine.clone(),
            webhooks: Arc::new(WebhookApi::new(settings)?),
        })))
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest request body accepted; larger ones get a 413.
    pub max_body_bytes: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            max_body_bytes: 1024 * 1024,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn router(state: AppState, settings: &ApiSettings) -> Router {
    let limited = |class: LimitClass| {
        middleware::from_fn_with_state((state.clone(), class), ratelimit::limit)
    };
    let v4_create = Router::new()
        .route("/v4/trackings/create", post(v4::trackings::create))
        .route_layer(limited(LimitClass::V4Create));
    let v4_realtime = Router::new()
        .route("/v4/trackings/realtime", post(v4::trackings::realtime))
        .route_layer(limited(LimitClass::V4Realtime));
    let v4 = Router::new()
        .route("/v4/trackings/batch", post(v4::trackings::batch))
        .route("/v4/trackings/get", get(v4::trackings::list))
        .route("/v4/trackings/update/{id}", put(v4::trackings::update))
        .route("/v4/trackings/delete/{id}", delete(v4::trackings::delete))
        .route("/v4/trackings/retrack/{id}", post(v4::trackings::retrack))
        .route("/v4/couriers/all", get(v4::couriers::all))
        .route("/v4/couriers/detect", post(v4::couriers::detect))
        .merge(v4::webhooks::routes())
        .route_layer(limited(LimitClass::V4Other))
        .merge(v4_create)
        .merge(v4_realtime)
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), Face::V4),
            extract::authenticate,
        ));
    let v2_realtime = Router::new()
        .route("/v2/trackings/realtime", post(v2::trackings::realtime))
        .route_layer(limited(LimitClass::V2Realtime));
    let v2_list = Router::new()
        .route("/v2/trackings/get", get(v2::trackings::list))
        .route_layer(limited(LimitClass::V2List));
    let v2 = Router::new()
        .route("/v2/trackings/post", post(v2::trackings::post))
        .route("/v2/trackings/batch", post(v2::trackings::batch))
        .route(
            "/v2/trackings/getstatusnumber",
            get(v2::trackings::status_numbers),
        )
        .route("/v2/trackings/notupdate", post(v2::trackings::not_update))
        .route("/v2/trackings/update", post(v2::trackings::change_carrier))
        .route("/v2/trackings/delete", post(v2::trackings::delete_many))
        .route(
            "/v2/trackings/{carrier_code}/{tracking_number}",
            get(v2::trackings::get_one)
                .put(v2::trackings::update)
                .delete(v2::trackings::delete),
        )
        .route(
            "/v2/trackings/{carrier_code}/{tracking_number}/{lang}",
            get(v2::trackings::get_one_lang),
        )
        .route("/v2/carriers", get(v2::carriers::all))
        .route("/v2/carriers/detect", post(v2::carriers::detect))
        .route_layer(limited(LimitClass::V2Other))
        .merge(v2_realtime)
        .merge(v2_list)
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), Face::V2),
            extract::authenticate,
        ));
    Router::new()
        .merge(v4)
        .merge(v2)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record_request,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %request_id,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The face a path belongs to, for answering unmatched requests in the right envelope.
fn face_of(uri: &Uri) -> Face {
    if uri.path() == "/v2" || uri.path().starts_with("/v2/") {
        Face::V2
    } else {
        Face::V4
    }
}

async fn not_found(uri: Uri) -> axum::response::Response {
    let detail = "No such route; /openapi.json lists the API's routes.";
    match face_of(&uri) {
        Face::V4 => ApiError::new(ErrorCode::NotFound, detail).into_response(),
        Face::V2 => V2Error::new(V2Code::NotFound, detail).into_response(),
    }
}

async fn method_not_allowed(uri: Uri) -> axum::response::Response {
    let detail = "This route exists with another HTTP method; /openapi.json lists them.";
    match face_of(&uri) {
        Face::V4 => ApiError::new(ErrorCode::MethodNotAllowed, detail).into_response(),
        Face::V2 => V2Error::new(V2Code::MethodNotAllowed, detail).into_response(),
    }
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::internal("a handler panicked").into_response()
}
