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
use serde::{Deserialize, Serialize};
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

/// Body of `PUT /v4/tracking-page`: every field is optional and only the fields sent change;
/// an empty text clears an optional text back to its default.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingPageRequest {
    /// The shop's name in the header (at most 80 characters); empty shows the account's name.
    pub shop_name: Option<String>,
    /// An `https://` image shown in the header instead of the name.
    pub logo_url: Option<String>,
    /// The header's colour, `#rrggbb`; its text is black or white, whichever reads better.
    pub brand_color: Option<String>,
    /// The progress bar's colour, `#rrggbb`.
    pub accent_color: Option<String>,
    /// An `https://` page where customers get help.
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    /// Digits, spaces and `+ - ( ) .`.
    pub support_phone: Option<String>,
    /// A short text above the support links (at most 500 characters).
    pub support_text: Option<String>,
    /// The shop's own host name for the page (`track.example.com`, pointed at parceld); the
    /// page is then also at `https://<host>/track`.
    pub host: Option<String>,
    /// The page's language when the visitor's browser asks for none of parceld's ten: en, de,
    /// fr, es, it, nl, pt, pl, zh, ja.
    pub default_language: Option<String>,
    /// Show the order number to a visitor who gave the second factor (default true).
    pub show_order_number: Option<bool>,
    /// Show the courier's phone and a link to its site (default true).
    pub show_courier_contact: Option<bool>,
    /// Show the estimated delivery date when the courier gave one (default true).
    pub show_estimated_delivery: Option<bool>,
}

impl From<TrackingPageRequest> for PageSettingsInput {
    fn from(r: TrackingPageRequest) -> Self {
        PageSettingsInput {
            shop_name: r.shop_name,
            logo_url: r.logo_url,
            brand_color: r.brand_color,
            accent_color: r.accent_color,
            support_url: r.support_url,
            support_email: r.support_email,
            support_phone: r.support_phone,
            support_text: r.support_text,
            host: r.host,
            default_language: r.default_language,
            show_order_number: r.show_order_number,
            show_courier_contact: r.show_courier_contact,
            show_estimated_delivery: r.show_estimated_delivery,
        }
    }
}

/// An account's tracking-page settings, defaults filled in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingPageView {
    /// Where the page is on this server: `/track/<account>`, and `/track/<account>/<number>`
    /// for one shipment.
    pub path: String,
    pub shop_name: Option<String>,
    pub logo_url: Option<String>,
    pub brand_color: String,
    pub accent_color: String,
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub support_text: Option<String>,
    pub host: Option<String>,
    pub default_language: Option<String>,
    pub show_order_number: bool,
    pub show_courier_contact: bool,
    pub show_estimated_delivery: bool,
}

impl TrackingPageView {
    fn new(account_name: &str, s: PageSettings) -> Self {
        TrackingPageView {
            path: format!("/track/{}", parceld_model::path_segment(account_name)),
            shop_name: s.shop_name,
            logo_url: s.logo_url,
            brand_color: s.brand_color,
            accent_color: s.accent_color,
            support_url: s.support_url,
            support_email: s.support_email,
            support_phone: s.support_phone,
            support_text: s.support_text,
            host: s.host,
            default_language: s.default_language,
            show_order_number: s.show_order_number,
            show_courier_contact: s.show_courier_contact,
            show_estimated_delivery: s.show_estimated_delivery,
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
    request_body = TrackingPageRequest,
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
    let request: TrackingPageRequest = parse_json(&body)?;
    let settings = change_page_settings(&*state.store, account.id, &request.into()).await?;
    Ok(Json(Envelope::ok(TrackingPageView::new(
        &account.name,
        settings,
    ))))
}
