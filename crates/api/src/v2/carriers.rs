//! `GET /v2/carriers` (the courier registry) and `POST /v2/carriers/detect`.

use axum::Json;
use parceld_model::LimitClass;
use parceld_service::validate;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{V2Carrier, V2DetectRequest, V2DetectedCarrier, V2Envelope};
use super::{parse_object, V2Body};
use crate::error::{V2Code, V2Error};
use crate::extract::Authenticated;
use crate::ClassedRoutes;

/// This module's routes, all in the v2 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V2Other,
        OpenApiRouter::default()
            .routes(routes!(all))
            .routes(routes!(detect)),
    )]
}

/// List every courier parceld knows (v2).
#[utoipa::path(
    get,
    path = "/v2/carriers",
    operation_id = "v2_all",
    responses((status = 200, description = "All couriers", body = V2Envelope<Vec<V2Carrier>>)),
)]
pub async fn all(_auth: Authenticated) -> Json<V2Envelope<Vec<V2Carrier>>> {
    Json(V2Envelope::ok(
        parceld_detect::couriers()
            .iter()
            .map(V2Carrier::from)
            .collect(),
    ))
}

/// Which couriers a tracking number may belong to, best first (v2).
#[utoipa::path(
    post,
    path = "/v2/carriers/detect",
    operation_id = "v2_detect",
    request_body = V2DetectRequest,
    responses(
        (status = 200, description = "Candidate couriers, best first", body = V2Envelope<Vec<V2DetectedCarrier>>),
        (status = 400, description = "4012, 4013, 4014, 4015 (body not JSON) or 4032 (no courier fits)"),
    ),
)]
pub async fn detect(
    _auth: Authenticated,
    V2Body(body): V2Body,
) -> Result<Json<V2Envelope<Vec<V2DetectedCarrier>>>, V2Error> {
    let request: V2DetectRequest = parse_object(&body, "Detect takes one number")?;
    let number = validate::tracking_number(request.tracking_number.as_deref())?;
    let candidates = parceld_detect::detect(number.as_str());
    if candidates.is_empty() {
        return Err(V2Error::new(
            V2Code::CannotDetectCourier,
            format!(
                "`{number}` matches no courier's number format; GET /v2/carriers lists the codes."
            ),
        ));
    }
    Ok(Json(V2Envelope::ok(
        candidates
            .iter()
            .map(|c| V2DetectedCarrier {
                name: c.courier.name.to_string(),
                code: c.courier.code.to_string(),
            })
            .collect(),
    )))
}
