//! `<number>/json`: what a shipment's page shows, as JSON for a shop's own site to render,
//! readable from any origin (it shows nothing beyond what the page shows anyone with the
//! number).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{find_number, Parts, Visit};
use crate::render::security_headers;
use crate::view::{self, Access};

pub(super) async fn by_number(parts: &Parts, visit: &Visit<'_>, typed: &str) -> Response {
    let (status, body) = match find_number(parts, visit, typed).await {
        Ok(found) => {
            let views: Vec<view::ShipmentView> = found
                .iter()
                .map(|t| view::shipment(visit.texts, t, &visit.shop.page.settings, Access::Journey))
                .collect();
            (
                StatusCode::OK,
                serde_json::json!({"language": visit.lang.code(), "parcels": views}),
            )
        }
        Err((status, _)) => {
            let error = match status {
                StatusCode::BAD_REQUEST => "invalid_tracking_number",
                StatusCode::NOT_FOUND => "not_found",
                _ => "unavailable",
            };
            (status, serde_json::json!({"error": error}))
        }
    };
    // Any site may read it (it shows what the page shows to anyone with the number).
    let headers = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::CACHE_CONTROL, "private, max-age=60"),
    ];
    let mut response = (status, headers, axum::Json(body)).into_response();
    security_headers(response.headers_mut(), false);
    response
}
