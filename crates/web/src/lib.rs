//! parceld's HTML faces: the public tracking page a shop's customers see.
//!
//! Everything here is server-rendered from templates compiled into the binary (askama), styled
//! by one stylesheet inlined into each page and covered by a hash in its Content-Security-
//! Policy, with no script, no web font and no request to anywhere but the page itself: the page
//! works with JavaScript off, weighs a few kilobytes, and tells nobody else who looked at which
//! parcel. The parts the notifications and the dashboard will reuse live in their own modules:
//! [`i18n`] (the ten languages' catalogs and date formats), [`shop`] (a shop's branding as
//! style and policy), [`view`] (what a shipment shows, for a visitor with or without the second
//! factor), and the templates under `crates/web/templates/`.
//!
//! The face reads the store only through `parceld_store::Store` (`page_account`,
//! `page_trackings`), never builds SQL, and never calls a carrier.

pub mod i18n;
pub mod limit;
mod lookup;
mod pages;
mod render;
pub mod shop;
pub mod view;

use std::sync::Arc;

use axum::routing::{any, get};
use axum::Router;
use parceld_store::Store;

pub use pages::PageState;

/// Settings of the public pages (`[tracking_page]` in the configuration).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageConfig {
    /// Serve the tracking page on API nodes.
    pub enabled: bool,
    /// Requests a minute one client address may make on average (0: no limit).
    pub requests_per_minute: u32,
    /// Requests one client may make at once before the average applies.
    pub burst: u32,
    /// A header carrying the client's address, set by a reverse proxy in front of parceld
    /// (e.g. `x-forwarded-for`, whose last address is taken); empty: the connection's address.
    pub client_ip_header: String,
}

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig {
            enabled: true,
            requests_per_minute: 30,
            burst: 20,
            client_ip_header: String::new(),
        }
    }
}

/// The tracking page's routes: `/track/<account>[/…]`, `/track[/…]` on a shop's own host name,
/// and `/` on such a host (which leads to `/track`).
/// The router takes any outer state (`S`), so the binary can merge it into the API's router.
pub fn router<S: Clone + Send + Sync + 'static>(
    store: Arc<dyn Store>,
    config: &PageConfig,
) -> Router<S> {
    let state = PageState::new(store, config);
    Router::new()
        .route("/track", any(pages::track))
        .route("/track/", any(pages::track))
        .route("/track/{*rest}", any(pages::track))
        .route("/", get(pages::root))
        .with_state(state)
}
