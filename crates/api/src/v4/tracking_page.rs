//! `/v4/tracking-page`: the branding of the account's public tracking page (a parceld extension
//! of the TrackingMore v4 API).
//!
//! The page itself is served by `parceld-web` at `/track/<account>`; this is where a shop sets
//! how it looks: name, logo, colours, support contacts, its own host name and which fields the
//! page shows. `PUT` changes only the fields it names (an empty text clears one), with the same
//! rules as `parceld page set` (`parceld_service::pages`); a refused value is 4180 and a host
//! name another account uses 4181, and neither changes anything.

use axum::extract::State;
use axum::Json;
use parceld_model::LimitClass;
use parceld_service::pages::{change_page_settings, page_settings};
use parceld_service::PageSettingsInput;
use parceld_store::PageSettings;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::Envelope;
use crate::error::ApiError;
use crate::extract::{parse_json, Authenticated, RawBody};
use crate::{AppState, ClassedRoutes};

/// This module's routes, in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    vec![(
        LimitClass::V4Other,
        OpenApiRouter::default().routes(routes!(show, update)),
    )]
}

/// An account's tracking-page settings, defaults filled in, and where the page is.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingPageView {
    /// Where the page is on this server: `/track/<account>`, and `/track/<account>/<number>`
    /// for one shipment.
    pub path: String,
    #[serde(flatten)]
    pub settings: PageSettings,
}

impl TrackingPageView {
    fn new(account_name: &str, settings: PageSettings) -> Self {
        TrackingPageView {
            path: format!("/track/{}", parceld_model::path_segment(account_name)),
            settings,
        }
    }
}

type ApiResult<T> = Result<Json<Envelope<T>>, ApiError>;

/// Read the tracking page's settings.
#[utoipa::path(
    get,
    path = "/v4/tracking-page",
    operation_id = "getTrackingPage",
    responses(
        (status = 200, description = "The settings, defaults filled in", body = Envelope<TrackingPageView>),
    ),
)]
pub async fn show(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
) -> ApiResult<TrackingPageView> {
    let settings = page_settings(&*state.store, account.id).await?;
    Ok(Json(Envelope::ok(TrackingPageView::new(
        &account.name,
        settings,
    ))))
}

/// Change the tracking page's branding; only the fields sent change.
#[utoipa::path(
    put,
    path = "/v4/tracking-page",
    operation_id = "updateTrackingPage",
    request_body = PageSettingsInput,
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<TrackingPageView>),
        (status = 400, description = "4180 a value is not acceptable, 4181 the host name is taken, 4130 an unknown field, 400 not JSON"),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(account): Authenticated,
    RawBody(body): RawBody,
) -> ApiResult<TrackingPageView> {
    let request: PageSettingsInput = parse_json(&body)?;
    let settings = change_page_settings(&*state.store, account.id, &request).await?;
    Ok(Json(Envelope::ok(TrackingPageView::new(
        &account.name,
        settings,
    ))))
}
