//! Sessions: the cookie a signed-in browser holds, what the store keeps of it, and the checks
//! every request and every form go through.
//!
//! The cookie holds 32 random bytes; the store keeps only their SHA-256, so a database read
//! signs no one in. A session is made only by a successful sign-in, always with a fresh token,
//! and whatever session the browser presented then is ended: a token planted before the
//! sign-in (session fixation) never becomes a signed-in session. The cookie is HTTP-only,
//! `SameSite=Strict`, limited to `/dashboard`, and `Secure` when the request came over HTTPS.
//! Every form carries the session's CSRF token (before sign-in: a token in a short cookie of
//! its own, the double-submit pattern), compared in constant time.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, Request};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use parceld_service::TrackingService;
use parceld_store::{Role, SessionUser, Store};
use parceld_web::limit::ClientLimiter;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::password::HASHING_AT_ONCE;
use crate::render::{self, Refusal};
use crate::DashboardConfig;

/// The session cookie.
pub const SESSION_COOKIE: &str = "parceld_session";
/// The sign-in form's CSRF cookie (before there is a session).
pub const SIGN_IN_COOKIE: &str = "parceld_sign_in";
/// Where both cookies are sent.
const COOKIE_PATH: &str = "/dashboard";

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct DashboardState(pub(crate) Arc<Parts>);

pub(crate) struct Parts {
    pub store: Arc<dyn Store>,
    pub trackings: TrackingService,
    pub limiter: ClientLimiter,
    pub hashing: Semaphore,
    /// Failed sign-ins in a row that lock a user, and for how long.
    pub lock_after: u32,
    pub lock_for: Duration,
    pub session_length: Duration,
    pub secure_cookies: bool,
    /// When a tracking in flight counts as stuck (the problems queue).
    pub stuck: crate::problems::Stuck,
    client_ip_header: Option<axum::http::HeaderName>,
}

impl DashboardState {
    pub fn new(
        store: Arc<dyn Store>,
        trackings: TrackingService,
        config: &DashboardConfig,
    ) -> Self {
        DashboardState(Arc::new(Parts {
            store,
            trackings,
            limiter: ClientLimiter::new(config.sign_in_per_minute, config.sign_in_burst),
            hashing: Semaphore::new(HASHING_AT_ONCE),
            lock_after: config.lock_after.max(1),
            lock_for: Duration::minutes(i64::from(config.lock_minutes)),
            session_length: Duration::hours(i64::from(config.session_hours.max(1))),
            secure_cookies: config.secure_cookies,
            stuck: crate::problems::Stuck::new(config.stuck_express_days, config.stuck_postal_days),
            client_ip_header: parceld_web::limit::address_header(&config.client_ip_header),
        }))
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented token equals the expected one, in constant time.
pub fn same_token(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// A cookie's value in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A signed-in request: the session and the user.
pub struct SignedIn {
    pub session: SessionUser,
}

impl SignedIn {
    pub fn account(&self) -> parceld_store::AccountId {
        self.session.user.account_id
    }

    pub fn role(&self) -> Role {
        self.session.user.role
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_form(&self, presented: &str) -> Result<(), Refusal> {
        if same_token(presented, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(Refusal::Csrf)
        }
    }

    /// Refuses a settings page or form to anyone but an admin.
    pub fn check_admin(&self) -> Result<(), Refusal> {
        if self.role() == Role::Admin {
            Ok(())
        } else {
            Err(Refusal::AdminOnly)
        }
    }

    /// Refuses an action the user's role does not allow.
    pub fn check_may_act(&self) -> Result<(), Refusal> {
        if self.role().can_act() {
            Ok(())
        } else {
            Err(Refusal::Role)
        }
    }
}

/// A handler's signed-in user; without a live session the request is answered with the
/// sign-in page instead.
impl axum::extract::FromRequestParts<DashboardState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &DashboardState,
    ) -> Result<Self, Self::Rejection> {
        state.0.signed_in(&parts.headers).await
    }
}

impl Parts {
    /// The signed-in session of a request, or the answer to give instead: the sign-in page for
    /// a browser without a (live) session.
    pub async fn signed_in(&self, headers: &HeaderMap) -> Result<SignedIn, Response> {
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/dashboard/sign-in").into_response());
        };
        match self.store.session(&token_hash(token), Utc::now()).await {
            Ok(Some(session)) => Ok(SignedIn { session }),
            Ok(None) => Err(Redirect::to("/dashboard/sign-in").into_response()),
            Err(error) => {
                tracing::warn!(%error, "the dashboard could not read a session");
                Err(render::refusal(Refusal::Unavailable, None))
            }
        }
    }

    /// Whether cookies must be `Secure`: configured, or the proxy says HTTPS.
    fn secure(&self, headers: &HeaderMap) -> bool {
        self.secure_cookies
            || headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }

    /// A `Set-Cookie` value for `name` lasting `max_age` seconds (0: remove it).
    pub fn set_cookie(
        &self,
        headers: &HeaderMap,
        name: &str,
        value: &str,
        max_age: i64,
    ) -> HeaderValue {
        let secure = if self.secure(headers) { "; Secure" } else { "" };
        let text = format!(
            "{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        );
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("x=; Max-Age=0"))
    }

    /// The client's address, for the sign-in limit.
    pub fn client<B>(&self, request: &Request<B>) -> IpAddr {
        parceld_web::limit::client_address(request, self.client_ip_header.as_ref())
    }
}

/// A form body as pairs (repeated names kept, as a bulk action's checkboxes send them).
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The first value of `key` in a form or query.
pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let sent = HeaderValue::from_static("other=1; parceld_session=abc; parceld_session_x=2");
        let headers = HeaderMap::from_iter([(header::COOKIE, sent)]);
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn tokens_are_random_and_only_equal_tokens_match() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&b, &a));
        assert!(
            !same_token("", ""),
            "an empty expected token matches nothing"
        );
        assert_ne!(token_hash(&a), a);
    }
}
