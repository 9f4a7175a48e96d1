//! `GET /v4/couriers/all`: the courier registry.

use axum::Json;

use super::wire::{CourierView, Envelope};
use crate::extract::Authenticated;

/// List every courier parceld knows.
#[utoipa::path(
    get,
    path = "/v4/couriers/all",
    tag = "couriers",
    responses((status = 200, description = "All couriers", body = Envelope<Vec<CourierView>>)),
    security(("api_key" = []))
)]
pub async fn all(_auth: Authenticated) -> Json<Envelope<Vec<CourierView>>> {
    Json(Envelope::ok(
        parceld_detect::couriers()
            .iter()
            .map(CourierView::from)
            .collect(),
    ))
}
