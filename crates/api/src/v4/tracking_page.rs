//! `/v4/tracking-page`: the branding of the account's public tracking page (a parceld extension
//! of the TrackingMore v4 API).
//!
//! The page itself is served by `parceld-web` at `/track/<account>`; this is where a shop sets
//! how it looks: name, logo, colours, support contacts, its own host name and which fields the
//! page shows. `PUT` changes only the fields it names (an empty text clears one), with the same
//! rules as `parceld page set` (`parceld_service::pages`); a refused value is 4180 and a host
//! name another account uses 4181, and neither changes anything.

use parceld_service::pages::{change_page_settings, page_settings};
use parceld_service::PageSettingsInput;
use parceld_store::PageSettings;
use serde::Serialize;
use utoipa::ToSchema;

use super::wire::Envelope;
use super::{ok, ApiResult};
use crate::extract::{parse_json, RawBody};
use crate::ClassedRoutes;

/// This module's routes, in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V4Other: (show, update))
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

route! {
    /// Read the tracking page's settings.
    get "/v4/tracking-page" "getTrackingPage",
    responses(200 "The settings, defaults filled in" => Envelope<TrackingPageView>),
    async fn show(state, account) -> ApiResult<TrackingPageView> {
        let settings = page_settings(&*state.store, account.id).await?;
        ok(TrackingPageView::new(&account.name, settings))
    }
}

route! {
    /// Change the tracking page's branding; only the fields sent change.
    put "/v4/tracking-page" "updateTrackingPage", body PageSettingsInput,
    responses(200 "The settings now in force" => Envelope<TrackingPageView>, 400 "4180 a value is not acceptable, 4181 the host name is taken, 4130 an unknown field, 400 not JSON"),
    async fn update(state, account, RawBody(body): RawBody) -> ApiResult<TrackingPageView> {
        let request: PageSettingsInput = parse_json(&body)?;
        let settings = change_page_settings(&*state.store, account.id, &request).await?;
        ok(TrackingPageView::new(&account.name, settings))
    }
}
