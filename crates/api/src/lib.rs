//! parceld's HTTP API.
//!
//! One axum router holds the TrackingMore-compatible v4 routes, the legacy v2 routes and the
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`). Every route shares
//! the same layers: a request id, a tracing span, request metrics and a body limit; every
//! failure is answered in its face's `{meta, data}` envelope with a code from
//! [`error::ErrorCode`] (v4) or [`error::V2Code`] (v2).

#[macro_use]
mod declare;
#[macro_use]
mod route;

pub mod error;
pub mod extract;
pub mod hooks;
pub mod metrics;
pub mod openapi;
mod ops;
mod query;
pub mod ratelimit;
pub mod v2;
pub mod v4;
pub mod webhook_payload;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use parceld_carriers::air_cargo::AirCargo;
use parceld_engine::push::PushHub;
use parceld_engine::webhooks::{WebhookSender, WebhookSettings};
use parceld_engine::Engine;
use parceld_model::{LimitClass, RateLimits};
use parceld_service::{TrackingService, WebhookService};
use parceld_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

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
    /// Creating, changing and fetching trackings.
    pub trackings: TrackingService,
    /// Webhook endpoints and test events.
    pub webhooks: Arc<WebhookService>,
    /// Carrier push (`/hooks/<source>`); `None` when no push source is enabled.
    pub push: Option<Arc<PushHub>>,
    /// The air-cargo upstream (`/v4/awb`); `None` when none is configured.
    pub air_cargo: Option<Arc<AirCargo>>,
}

fn webhook_service(
    store: Arc<dyn Store>,
    settings: WebhookSettings,
) -> Result<WebhookService, String> {
    WebhookSender::new(store, settings, webhook_payload::RENDERER).map(WebhookService::new)
}

impl AppState {
    /// `limits` are the server's default rate limits (each account may have its own).
    pub fn new(store: Arc<dyn Store>, limits: RateLimits, engine: Arc<Engine>) -> Self {
        AppState(Arc::new(AppStateParts {
            store: store.clone(),
            metrics: Arc::new(metrics::Metrics::default()),
            limiter: Arc::new(ratelimit::RateLimiter::new(limits).sharing_through(store.clone())),
            engine: engine.clone(),
            trackings: TrackingService::new(store.clone(), engine),
            webhooks: Arc::new(
                webhook_service(store, WebhookSettings::default())
                    .expect("the default webhook settings are valid"),
            ),
            push: None,
            air_cargo: None,
        }))
    }

    /// The same state with these optional parts (carrier push, the air-cargo upstream).
    pub fn with_extensions(self, push: Option<Arc<PushHub>>, air_cargo: Option<AirCargo>) -> Self {
        let mut parts = Arc::try_unwrap(self.0).unwrap_or_else(|shared| shared.duplicate());
        parts.push = push;
        parts.air_cargo = air_cargo.map(Arc::new);
        AppState(Arc::new(parts))
    }

    /// The same state with these webhook settings.
    pub fn with_webhooks(self, settings: WebhookSettings) -> Result<Self, String> {
        Ok(AppState(Arc::new(AppStateParts {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            limiter: self.limiter.clone(),
            engine: self.engine.clone(),
            trackings: self.trackings.clone(),
            webhooks: Arc::new(webhook_service(self.store.clone(), settings)?),
            push: self.push.clone(),
            air_cargo: self.air_cargo.clone(),
        })))
    }
}

impl AppStateParts {
    fn duplicate(&self) -> AppStateParts {
        AppStateParts {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            limiter: self.limiter.clone(),
            engine: self.engine.clone(),
            trackings: self.trackings.clone(),
            webhooks: self.webhooks.clone(),
            push: self.push.clone(),
            air_cargo: self.air_cargo.clone(),
        }
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

/// Routes registered with `utoipa_axum::routes!` (handler, path, method and OpenAPI operation
/// at once), each with the rate-limit class it is counted in. Every resource module has a
/// `routes()` returning its own.
pub type ClassedRoutes = Vec<(LimitClass, OpenApiRouter<AppState>)>;

/// Every API route by face and resource module, with the module's OpenAPI tag: the one
/// registration both the router and the OpenAPI document are built from.
pub(crate) fn api_routes() -> [(Face, &'static str, ClassedRoutes); 9] {
    [
        (Face::V4, "air-waybills", v4::awb::routes()),
        (Face::V4, "trackings", v4::trackings::routes()),
        (Face::V4, "couriers", v4::couriers::routes()),
        (Face::V4, "webhooks", v4::webhooks::routes()),
        (Face::V4, "tracking-page", v4::tracking_page::routes()),
        (Face::V4, "notifications", v4::notifications::routes()),
        (Face::V2, "v2", v2::trackings::routes()),
        (Face::V2, "v2", v2::batches::routes()),
        (Face::V2, "v2", v2::carriers::routes()),
    ]
}

/// The whole HTTP application.
pub fn router(state: AppState, settings: &ApiSettings) -> Router {
    router_with(state, settings, Router::new())
}

/// The HTTP application with `faces` (routes outside the API, such as the public tracking page
/// of `parceld-web`) merged in, behind the same request id, tracing, metrics, body limit and
/// panic handling as the API's routes. The API never sees those faces' state.
pub fn router_with(state: AppState, settings: &ApiSettings, faces: Router<AppState>) -> Router {
    let mut app = faces;
    for (face, _, classed) in api_routes() {
        let mut routes = Router::new();
        for (class, registered) in classed {
            let (class_routes, _) = registered.split_for_parts();
            routes = routes.merge(class_routes.route_layer(middleware::from_fn_with_state(
                (state.clone(), class),
                ratelimit::limit,
            )));
        }
        app = app.merge(routes.route_layer(middleware::from_fn_with_state(
            (state.clone(), face),
            extract::authenticate,
        )));
    }
    app.merge(hooks::routes().split_for_parts().0)
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
                // Only closed-set labels and the request id: no raw path, query or header.
                tracing::info_span!(
                    "request",
                    method = %metrics::method_label(request.method()),
                    route = %metrics::route_label(request),
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
