//! The compiled templates and the HTTP answer around them. Every page goes out with the
//! dashboard's Content-Security-Policy (only its own inlined stylesheet, by hash; no script, no
//! image but `data:`, forms only to itself, no framing), `nosniff`, no referrer, and
//! `no-store`: a signed-in page is never kept by a browser or a proxy.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::session::SignedIn;

const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");

/// The stylesheet: the tracking page's, in parceld's default colours, then the dashboard's.
fn style() -> &'static str {
    static STYLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("{}\n{DASHBOARD_CSS}", parceld_web::shop::unbranded().style)
    });
    &STYLE
}

fn policy() -> &'static HeaderValue {
    static POLICY: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style()));
        let text = format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'"
        );
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("default-src 'none'"))
    });
    &POLICY
}

/// Who is signed in, as the frame shows it.
pub struct FrameUser {
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
}

/// What every page shares.
pub struct Frame {
    pub title: String,
    pub style: &'static str,
    pub user: Option<FrameUser>,
    /// The navigation entry of the page: `overview`, `shipments`, `settings`, or empty.
    pub section: &'static str,
}

impl Frame {
    pub fn new(title: impl Into<String>, who: Option<&SignedIn>, section: &'static str) -> Frame {
        Frame {
            title: title.into(),
            style: style(),
            user: who.map(|who| FrameUser {
                email: who.session.user.email.clone(),
                role: who.role().as_str(),
                csrf: who.session.csrf_token.clone(),
            }),
            section,
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage<'a> {
    pub frame: Frame,
    pub problem: Option<&'a str>,
    pub email: &'a str,
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub frame: Frame,
    pub heading: &'a str,
    pub text: &'a str,
}

/// `body` as an HTML answer with the dashboard's headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, policy().clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A template rendered into an answer with `status`.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => html(status, body),
        Err(error) => {
            tracing::error!(%error, "a dashboard template failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The page could not be shown; try again.",
            )
                .into_response()
        }
    }
}

/// A page that may show a refusal of what was sent: 422 when it does, else 200.
pub fn page_refusing(refusing: bool, template: &impl Template) -> Response {
    let status = if refusing {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(status, template)
}

/// The refusals the dashboard answers with a page of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A form without this session's CSRF token.
    Csrf,
    /// The user's role does not allow the action.
    Role,
    /// A settings page, and the user is no admin.
    AdminOnly,
    /// No such shipment in the user's account.
    NotFound,
    /// No such key, endpoint, delivery or user in the user's account.
    Missing,
    /// A request the dashboard cannot read (a bad id, a bad filter value).
    BadRequest,
    /// The store failed.
    Unavailable,
}

impl Refusal {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Refusal::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from your current session. Go back, reload the page and try again.",
            ),
            Refusal::Role => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role can look at shipments but not change them. Ask an admin.",
            ),
            Refusal::AdminOnly => (
                StatusCode::FORBIDDEN,
                "Admins only",
                "Only an admin of your account sees and changes its settings.",
            ),
            Refusal::Missing => (
                StatusCode::NOT_FOUND,
                "Not found",
                "Your account has nothing with this id; it may have been removed.",
            ),
            Refusal::NotFound => (
                StatusCode::NOT_FOUND,
                "No such shipment",
                "Your account has no shipment with this id.",
            ),
            Refusal::BadRequest => (
                StatusCode::BAD_REQUEST,
                "Cannot read this request",
                "A value in the address or the form is not valid.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The dashboard could not reach its database just now.",
            ),
        }
    }
}

/// The page of a refusal.
pub fn refusal(refusal: Refusal, who: Option<&SignedIn>) -> Response {
    let (status, heading, text) = refusal.parts();
    page(
        status,
        &MessagePage {
            frame: Frame::new(heading, who, ""),
            heading,
            text,
        },
    )
}

/// Logs a store failure and answers with the unavailable page.
pub fn store_failed(error: impl std::fmt::Display, who: Option<&SignedIn>) -> Response {
    tracing::warn!(%error, "a dashboard request failed in the store");
    refusal(Refusal::Unavailable, who)
}
