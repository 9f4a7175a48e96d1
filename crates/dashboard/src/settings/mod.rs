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

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;

use crate::render::{self, Refusal};
use crate::session::{field, form_pairs, SignedIn};

/// Refuses a settings page to anyone but an admin.
pub(crate) fn admin_only(who: &SignedIn) -> Result<(), Response> {
    who.check_admin()
        .map_err(|refusal| render::refusal(refusal, Some(who)))
}

/// An admin's settings form: its fields, or the answer to give (a missing or foreign CSRF
/// token, a role that is not admin).
pub(crate) async fn admin_form(
    who: &SignedIn,
    request: Request<Body>,
) -> Result<Vec<(String, String)>, Response> {
    crate::shipments::form_of(who, request, SignedIn::check_admin).await
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

/// A store failure or a refusal, as the page to answer with.
pub(crate) fn refused(refusal: Refusal, who: &SignedIn) -> Response {
    render::refusal(refusal, Some(who))
}
