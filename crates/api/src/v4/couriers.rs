//! `GET /v4/couriers/all` (the courier registry) and `POST /v4/couriers/detect` (which
//! couriers a number may belong to).

use axum::extract::State;
use axum::Json;
use parceld_model::LimitClass;
use parceld_service::validate;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{CourierView, DetectRequest, DetectedCourierView, Envelope};
use crate::error::ApiError;
use crate::extract::{parse_json, Authenticated, RawBody};
use crate::{AppState, ClassedRoutes};

/// This module's routes, all in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V4Other,
        OpenApiRouter::default()
            .routes(routes!(all))
            .routes(routes!(detect)),
    )]
}

/// List every courier parceld knows.
#[utoipa::path(
    get,
    path = "/v4/couriers/all",
    operation_id = "listCouriers",
    responses((status = 200, description = "All couriers", body = Envelope<Vec<CourierView>>)),
)]
pub async fn all(
    State(state): State<AppState>,
    _auth: Authenticated,
) -> Json<Envelope<Vec<CourierView>>> {
    Json(Envelope::ok(
        parceld_detect::couriers()
            .iter()
            .map(|courier| CourierView {
                configured: state.engine.can_track(courier.code),
                ..CourierView::from(courier)
            })
            .collect(),
    ))
}

/// Which couriers a tracking number may belong to, best first (empty when none fits).
#[utoipa::path(
    post,
    path = "/v4/couriers/detect",
    operation_id = "detectCourier",
    request_body = DetectRequest,
    responses(
        (status = 200, description = "Candidate couriers, best first", body = Envelope<Vec<DetectedCourierView>>),
        (status = 400, description = "4110, 4111, 4130 or 400"),
    ),
)]
pub async fn detect(
    _auth: Authenticated,
    RawBody(body): RawBody,
) -> Result<Json<Envelope<Vec<DetectedCourierView>>>, ApiError> {
    let request: DetectRequest = parse_json(&body)?;
    let number = validate::tracking_number(request.tracking_number.as_deref())?;
    let candidates = parceld_detect::detect(number.as_str());
    Ok(Json(Envelope::ok(
        candidates.iter().map(DetectedCourierView::from).collect(),
    )))
}
