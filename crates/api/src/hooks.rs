//! `POST /hooks/{source}`: carrier and upstream pushes (parceld's extension). No API key: each
//! source proves itself its own way (UPS's `x-api-key`, FedEx's `fdx-signature`, 17TRACK's
//! `sign`, AfterShip's `aftership-hmac-sha256`), checked by the engine's
//! [`PushHub`](parceld_engine::push::PushHub) before anything else is read. The body is limited
//! to `[push] max_body_bytes` (`max_upstream_body_bytes` for an aggregator upstream, whose
//! pushes carry whole histories), and the answer comes once the update is durably stored.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::Json;
use parceld_engine::push::{PushError, PushReport};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, ErrorCode};
use crate::extract::RawBody;
use crate::v4::wire::Envelope;
use crate::AppState;

/// The push route; not behind the API-key check.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(receive))
        .layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT))
}

/// The most a push body may be at the HTTP layer; the source's `[push]` limit is checked below
/// it.
const PUSH_BODY_LIMIT: usize = parceld_engine::push::MAX_PUSH_BODY_BYTES;

/// What an applied push did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushView {
    /// Trackings updated (every account that tracks a pushed number).
    pub applied: usize,
    /// Of them, the ones with a new event or status (their webhooks are queued).
    pub changed: usize,
    /// Webhook deliveries queued.
    pub webhooks: u64,
    /// Trackings passed over because they already had newer events.
    pub stale: usize,
}

impl From<PushReport> for PushView {
    fn from(report: PushReport) -> Self {
        PushView {
            applied: report.applied,
            changed: report.changed,
            webhooks: report.webhooks,
            stale: report.stale,
        }
    }
}

impl From<PushError> for ApiError {
    fn from(error: PushError) -> Self {
        let detail = error.to_string();
        let code = match error {
            PushError::UnknownSource(_) => ErrorCode::NotFound,
            PushError::Forged(_) => ErrorCode::PushForged,
            PushError::Malformed(_) => ErrorCode::PushMalformed,
            PushError::Stale(_) => ErrorCode::PushStale,
            PushError::Replayed => ErrorCode::PushReplayed,
            PushError::Busy => ErrorCode::Unavailable,
            PushError::Store(store) => return ApiError::from(store),
        };
        ApiError::new(code, detail)
    }
}

/// Receive a push (parceld extension): UPS Track Alert (`ups`, `x-api-key`), FedEx (`fedex`,
/// `fdx-signature`), 17TRACK (`17track`, `sign`) or AfterShip (`aftership`,
/// `aftership-hmac-sha256`). Applied like a refresh: same checkpoint merge, same webhooks.
#[utoipa::path(
    post,
    path = "/hooks/{source}",
    operation_id = "receivePush",
    params(("source" = String, Path, description = "The push source: `ups`, `fedex`, `17track` or `aftership`")),
    request_body(content = String, description = "The source's own push body", content_type = "application/json"),
    responses(
        (status = 200, description = "Applied", body = Envelope<PushView>),
        (status = 400, description = "4195 not verified, 4196 body not understood, 4197 stale, 4198 replayed: nothing changed"),
        (status = 404, description = "No such push source enabled"),
        (status = 413, description = "The body is larger than `[push] max_body_bytes` (`max_upstream_body_bytes` for `17track` and `aftership`)"),
        (status = 503, description = "The trackings are being refreshed; try again"),
    ),
    security(()),
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Envelope<PushView>>, ApiError> {
    let Some(hub) = &state.push else {
        return Err(PushError::UnknownSource(source).into());
    };
    let limit = hub.max_body_bytes(&source);
    if body.len() > limit {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("A push from this source may be at most {limit} bytes."),
        ));
    }
    let report = hub.receive(&source, &headers, &body).await?;
    Ok(Json(Envelope::ok(report.into())))
}
