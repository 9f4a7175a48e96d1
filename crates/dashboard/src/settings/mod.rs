//! Settings, for an account's admins only: its API keys ([`keys`]), its webhook endpoints with
//! their delivery logs ([`webhooks`]) and its dashboard users ([`users`]).
//!
//! Agents and viewers get the "admins only" page for every settings page and form, and the
//! navigation does not offer them the way in. Every form carries the session's CSRF token like
//! the shipments' forms. Whatever is secret is shown once, in the answer to the form that made
//! it (a new key, a new user's password): that answer is `no-store` like every page, and never
//! a redirect whose address would carry the secret. Everything names the admin's account, so
//! another account's key, endpoint, delivery or user is "not found", the same as none at all.

pub mod keys;
pub mod users;
pub mod webhooks;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::Request;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::render::{self, Refusal};
use crate::session::{field, form_pairs, DashboardState, SignedIn};

/// The settings' routes, under `/dashboard/settings`.
pub fn routes() -> Router<DashboardState> {
    Router::new()
        .route("/keys", get(keys::list).post(keys::create))
        .route("/keys/{id}/delete", post(keys::delete))
        .route("/webhooks", get(webhooks::list))
        .route("/webhooks/{id}", get(webhooks::show))
        .route(
            "/webhooks/{id}/deliveries/{d}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}/{action}", post(users::act))
}

/// A signed-in admin; anyone else is answered with the "admins only" page.
pub struct Admin(pub SignedIn);

impl FromRequestParts<DashboardState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &DashboardState,
    ) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        match who.check_admin() {
            Ok(()) => Ok(Admin(who)),
            Err(refusal) => Err(render::refusal(refusal, Some(&who))),
        }
    }
}

/// An admin's settings form: the admin and its fields; a missing or foreign CSRF token, or a
/// role that is not admin, is answered with its refusal page.
pub struct AdminForm {
    pub who: SignedIn,
    pub fields: Vec<(String, String)>,
}

impl FromRequest<DashboardState> for AdminForm {
    type Rejection = Response;

    async fn from_request(
        request: Request<axum::body::Body>,
        state: &DashboardState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let who = SignedIn::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let fields = crate::shipments::form_of(&who, request, SignedIn::check_admin).await?;
        Ok(AdminForm { who, fields })
    }
}

/// The notice a page shows after a redirect: the text of the query's `done` among `known`.
pub(crate) fn notice(query: Option<&str>, known: &[(&str, &'static str)]) -> Option<&'static str> {
    let pairs = form_pairs(query.unwrap_or_default().as_bytes());
    let done = field(&pairs, "done");
    known
        .iter()
        .find(|(key, _)| *key == done)
        .map(|(_, text)| *text)
}

/// A refusal, as the page to answer with.
pub(crate) fn refused(refusal: Refusal, who: &SignedIn) -> Response {
    render::refusal(refusal, Some(who))
}
