//! parceld's dashboard: the face a shop's team uses to find a parcel, see what went wrong and
//! act, at `/dashboard` on API nodes.
//!
//! It is built like the public tracking page (`parceld-web`), whose stylesheet it reuses: pages
//! rendered on the server from templates compiled into the binary (askama), one stylesheet
//! inlined and covered by a hash in the Content-Security-Policy, no script at all, no request to
//! anywhere but the server — so every page works with JavaScript off, and the dashboard leaks
//! nothing to a third party. People sign in with an e-mail address and a password (argon2id,
//! [`password`]); API keys stay for programs and are not accepted here. A session is a random
//! token in an HTTP-only, SameSite=Strict cookie whose hash the store keeps ([`session`]); every
//! form carries the session's CSRF token, and sign-ins are limited per client address and lock a
//! user out after repeated failures ([`signin`]). What a user may do follows their role
//! (`parceld_store::Role`): viewers read, agents and admins act on shipments ([`shipments`]),
//! every role sees the account's analytics, drawn as inline SVG ([`analytics`]),
//! and only admins see and change the account's settings — API keys, webhook deliveries,
//! users ([`settings`]).
//!
//! The dashboard reads and writes only through `parceld_store::Store` and
//! `parceld_service::TrackingService` (a refresh goes through the engine like the API's
//! real-time call), and every query names the signed-in user's account, so another account's
//! shipment is "not found", exactly like one that does not exist.

mod add;
mod analytics;
mod charts;
mod detail;
mod export;
mod order;
mod overview;
pub mod password;
mod problems;
mod render;
pub mod session;
mod settings;
mod shipments;
mod signin;
mod upload;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use parceld_service::TrackingService;
use parceld_store::Store;

pub use session::DashboardState;
pub use settings::users::valid_email;

/// Settings of the dashboard (`[dashboard]` in the configuration).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// Serve the dashboard on API nodes.
    pub enabled: bool,
    /// The address of the first admin, created with the default account on first `serve`.
    pub first_admin_email: String,
    /// How long a session lasts, in hours.
    pub session_hours: u32,
    /// Mark the session cookie `Secure` always (it is also marked when a proxy says the request
    /// came over HTTPS with `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Sign-in attempts a minute one client address may make on average, and at once.
    pub sign_in_per_minute: u32,
    pub sign_in_burst: u32,
    /// Failed sign-ins in a row that lock a user out, and for how many minutes.
    pub lock_after: u32,
    pub lock_minutes: u32,
    /// A header carrying the client's address, set by a reverse proxy (as the tracking page's).
    pub client_ip_header: String,
    /// Days without a new event after which a tracking in flight is stuck (the problems
    /// queue), for express couriers and for postal services.
    pub stuck_express_days: u32,
    pub stuck_postal_days: u32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            enabled: true,
            first_admin_email: "admin@localhost".into(),
            session_hours: 12,
            secure_cookies: false,
            sign_in_per_minute: 10,
            sign_in_burst: 10,
            lock_after: 5,
            lock_minutes: 15,
            client_ip_header: String::new(),
            stuck_express_days: 5,
            stuck_postal_days: 10,
        }
    }
}

/// The dashboard's routes under `/dashboard`, for any outer state `S` (the binary merges them
/// into the API's router).
pub fn router<S: Clone + Send + Sync + 'static>(
    store: Arc<dyn Store>,
    trackings: TrackingService,
    config: &DashboardConfig,
) -> Router<S> {
    let state = DashboardState::new(store, trackings, config);
    Router::new()
        .route("/dashboard", get(overview::overview))
        .route("/dashboard/", get(overview::overview))
        .route(
            "/dashboard/sign-in",
            get(signin::sign_in_form).post(signin::sign_in),
        )
        .route("/dashboard/sign-out", post(signin::sign_out))
        .route(
            "/dashboard/sign-out-everywhere",
            post(signin::sign_out_everywhere),
        )
        .route("/dashboard/problems", get(problems::queue))
        .route("/dashboard/analytics", get(analytics::page))
        .route("/dashboard/analytics/{chart}", get(analytics::csv))
        .route("/dashboard/shipments", get(shipments::list))
        .route("/dashboard/shipments.csv", get(export::csv))
        .nest("/dashboard/shipments", shipment_routes())
        .nest("/dashboard/settings", settings::routes())
        .with_state(state)
}

/// The routes under `/dashboard/shipments/`: adding, bulk actions, one shipment and its actions.
fn shipment_routes() -> Router<DashboardState> {
    Router::new()
        .route("/new", get(add::form).post(add::add_one))
        .route("/upload", post(upload::upload))
        .route("/archive", post(shipments::archive_many))
        .route("/{id}", get(detail::show))
        .route("/{id}/{action}", post(shipments::act))
}

/// Creates the first admin of `account` with a generated password when the server has no
/// dashboard user yet; returns the address and the password (to show once), else `None`.
pub async fn first_admin(
    store: &dyn Store,
    account: parceld_store::AccountId,
    email: &str,
) -> Result<Option<(String, String)>, FirstAdminError> {
    if !store.users(None).await?.is_empty() {
        return Ok(None);
    }
    let password = password::generate();
    let hash = password::hash(&password)?;
    let admin = parceld_store::NewUser {
        account,
        email,
        role: parceld_store::Role::Admin,
        password_hash: &hash,
    };
    let created = store.create_user(&admin).await?;
    Ok(created.map(|user| (user.email, password)))
}

/// Why the first admin could not be created.
#[derive(Debug, thiserror::Error)]
pub enum FirstAdminError {
    #[error(transparent)]
    Store(#[from] parceld_store::StoreError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
}
