//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers too.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "the database does not answer" })),
            )
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    // Webhook gauges come from the database, so every API node shows the whole outbox.
    match state.store.webhook_gauges().await {
        Ok(gauges) => {
            use std::fmt::Write as _;
            text.push_str("# HELP parceld_webhook_deliveries_pending Webhook deliveries not yet delivered or failed.\n");
            text.push_str("# TYPE parceld_webhook_deliveries_pending gauge\n");
            let _ = writeln!(
                text,
                "parceld_webhook_deliveries_pending {}",
                gauges.pending_deliveries
            );
            text.push_str("# HELP parceld_webhook_endpoints Webhook endpoints by state.\n");
            text.push_str("# TYPE parceld_webhook_endpoints gauge\n");
            for (endpoint_state, count) in &gauges.endpoints_by_state {
                let _ = writeln!(
                    text,
                    "parceld_webhook_endpoints{{state=\"{endpoint_state}\"}} {count}"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "webhook gauges unavailable"),
    }
    text.push_str(&crate::v4::reach::upstream_metrics(state.engine.carriers()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
}
