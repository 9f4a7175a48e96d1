//! The TrackingMore v4 face of the API.

pub mod awb;
pub mod couriers;
pub mod notifications;
pub mod reach;
pub mod tracking_page;
pub mod trackings;
pub mod webhooks;
pub mod wire;

use axum::Json;

use crate::error::ApiError;
use wire::Envelope;

/// What a v4 handler answers: its data in the v4 envelope, or a v4 error.
pub(crate) type ApiResult<T> = Result<Json<Envelope<T>>, ApiError>;

/// A success in the v4 envelope.
pub(crate) fn ok<T>(data: T) -> ApiResult<T> {
    Ok(Json(Envelope::ok(data)))
}
