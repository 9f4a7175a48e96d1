//! The compiled templates and the HTTP answer around them: every page goes out with its
//! security headers (the shop's Content-Security-Policy, `nosniff`, no referrer, no framing
//! except for the widget), its language and its caching rule.

use askama::Template;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parceld_model::Language;

use crate::i18n::Texts;
use crate::shop::Shop;
use crate::view::ShipmentView;

/// The frame every page shares: language, branding, paths.
pub struct Frame<'a> {
    pub lang: &'static str,
    pub t: &'static Texts,
    pub title: &'a str,
    pub shop_name: &'a str,
    pub logo_url: Option<&'a str>,
    pub style: &'a str,
    /// The shop's lookup page, where every form and link starts.
    pub home: String,
    /// The page itself, for the language switch.
    pub self_path: String,
    pub order_action: String,
    /// The language came from `?lang=`, so links and forms carry it on.
    pub lang_explicit: bool,
    pub lang_query: String,
    pub widget: bool,
    pub languages: &'static [(&'static str, &'static str)],
    pub support_text: Option<&'a str>,
    pub support_url: Option<&'a str>,
    pub support_email: Option<&'a str>,
    pub support_phone: Option<&'a str>,
}

impl Frame<'_> {
    pub fn has_support(&self) -> bool {
        self.support_text.is_some()
            || self.support_url.is_some()
            || self.support_email.is_some()
            || self.support_phone.is_some()
    }
}

/// Every language as (code, name in itself), for the switch.
pub fn language_choices() -> &'static [(&'static str, &'static str)] {
    static CHOICES: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
        std::sync::LazyLock::new(|| {
            Language::ALL
                .iter()
                .map(|l| (l.code(), l.native_name()))
                .collect()
        });
    &CHOICES
}

/// A problem shown above the look-up forms.
pub struct Problem<'a> {
    pub heading: &'a str,
    pub text: &'a str,
}

#[derive(Template)]
#[template(path = "lookup.html")]
pub struct LookupPage<'a> {
    pub page: &'a Frame<'a>,
    pub problem: Option<Problem<'a>>,
    pub number: &'a str,
    pub order: &'a str,
}

/// One parcel's section.
pub struct Parcel {
    pub view: ShipmentView,
    /// "Parcel 1 of 2".
    pub position: String,
}

#[derive(Template)]
#[template(path = "shipment.html")]
pub struct ShipmentPage<'a> {
    pub page: &'a Frame<'a>,
    pub parcels: Vec<Parcel>,
    pub parcel_count: String,
    pub order_view: bool,
    /// The "Get email updates" form, when the shop sends email notifications.
    pub updates: Option<UpdatesForm<'a>>,
}

/// The "Get email updates" form of a shipment's page, and what became of a subscription.
pub struct UpdatesForm<'a> {
    /// Where the form posts: `<home>/<number>/updates`, with the page's `?lang=` if chosen.
    pub action: String,
    /// The address typed, shown back when it was refused.
    pub email: String,
    pub notice: Option<Notice<'a>>,
}

/// A confirmation (`ok`) or an error after a subscription.
pub struct Notice<'a> {
    pub ok: bool,
    pub text: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub page: &'a Frame<'a>,
    pub heading: &'a str,
    pub text: &'a str,
    pub show_lookup: bool,
}

/// How long a browser may keep a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Shows nothing private: a minute.
    Public,
    /// Shows an order's fields, or is an error: never kept.
    NoStore,
}

const X_FRAME_OPTIONS: HeaderName = HeaderName::from_static("x-frame-options");

/// `body` as an HTML answer with the page's security headers.
pub fn html(
    status: StatusCode,
    body: String,
    shop: &Shop,
    lang: &str,
    widget: bool,
    caching: Caching,
) -> Response {
    let csp = if widget { &shop.csp_widget } else { &shop.csp };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    security_headers(headers, widget);
    if let Ok(value) = HeaderValue::from_str(lang) {
        headers.insert(header::CONTENT_LANGUAGE, value);
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static("accept-language, host"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match caching {
            Caching::Public => "private, max-age=60",
            Caching::NoStore => "no-store",
        }),
    );
    response
}

/// The headers every public answer carries, HTML or JSON.
pub fn security_headers(headers: &mut axum::http::HeaderMap, frameable: bool) {
    let mut set = vec![
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    if !frameable {
        set.push((X_FRAME_OPTIONS, "DENY"));
    }
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A template's output made into an answer by `answer`, or the plain answer of a template that
/// failed (which it cannot with the values parceld gives it; said rather than panicking).
pub fn rendered(template: &impl Template, answer: impl FnOnce(String) -> Response) -> Response {
    match template.render() {
        Ok(body) => answer(body),
        Err(error) => {
            tracing::error!(%error, "a tracking page template failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The page could not be shown; try again.",
            )
                .into_response()
        }
    }
}
