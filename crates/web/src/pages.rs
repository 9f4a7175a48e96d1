//! The handlers of the tracking page: which shop and which page a request names, the client's
//! budget, the look-up, and the answer in the visitor's language.
//!
//! Paths: `/track/<account>` (look-up), `/track/<account>/<number>` (a shipment's journey),
//! `POST /track/<account>/order` (an order, with the second factor),
//! `POST /track/<account>/<number>/updates` ("Get email updates", `updates.rs`), and
//! `/track/<account>/<number>/widget` and `/json` (the same view to embed on a shop's site). On
//! a shop's own host name the same pages are at `/track`, `/track/<number>` … without the
//! account. A number that does not exist and one of another account get the same answer, byte
//! for byte.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use parceld_model::{path_segment, Language, Tracking};
use parceld_store::{PageAccountKey, PageLookup, Store};

use crate::i18n::{texts, Texts};
use crate::limit::ClientLimiter;
use crate::lookup::{self, BadInput};
use crate::render::{
    html, language_choices, rendered, Caching, Frame, LookupPage, MessagePage, Parcel, Problem,
    ShipmentPage, UpdatesForm,
};
use crate::shop::{unbranded, Shop, Shops};
use crate::view::{self, Access};
use crate::PageConfig;

mod json;
mod updates;

/// Largest form body a look-up accepts.
const MAX_FORM_BYTES: usize = 4096;
/// Tokens an order look-up costs: guessing second factors is slower than reading pages.
const ORDER_COST: f64 = 3.0;

/// What the page's handlers share.
#[derive(Clone)]
pub struct PageState(Arc<Parts>);

pub struct Parts {
    store: Arc<dyn Store>,
    shops: Shops,
    limiter: ClientLimiter,
    client_ip_header: Option<axum::http::HeaderName>,
}

impl PageState {
    pub fn new(store: Arc<dyn Store>, config: &PageConfig) -> PageState {
        PageState(Arc::new(Parts {
            store,
            shops: Shops::default(),
            limiter: ClientLimiter::new(config.requests_per_minute, config.burst),
            client_ip_header: crate::limit::address_header(&config.client_ip_header),
        }))
    }
}

/// Which page of a shop a path names.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Lookup,
    Order,
    Shipment(&'a str),
    Widget(&'a str),
    Json(&'a str),
    /// `POST <number>/updates`: "Get email updates".
    Updates(&'a str),
    Nothing,
}

fn target<'a>(segments: &[&'a str], method: &Method) -> Target<'a> {
    match (segments, method) {
        ([], _) => Target::Lookup,
        (["order"], &Method::POST) => Target::Order,
        ([number], &Method::GET | &Method::HEAD) => Target::Shipment(number),
        ([number, "widget"], &Method::GET | &Method::HEAD) => Target::Widget(number),
        ([number, "json"], &Method::GET | &Method::HEAD) => Target::Json(number),
        ([number, "updates"], &Method::POST) => Target::Updates(number),
        _ => Target::Nothing,
    }
}

impl Parts {
    fn client(&self, request: &Request) -> IpAddr {
        crate::limit::client_address(request, self.client_ip_header.as_ref())
    }
}

/// The visitor's language: `?lang=`, else their browser's, else the shop's default, else
/// English; and whether it was chosen explicitly.
fn language(query: &[(String, String)], headers: &HeaderMap, shop: &Shop) -> (Language, bool) {
    let asked = query
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::ALL.into_iter().find(|l| l.code() == v));
    if let Some(language) = asked {
        return (language, true);
    }
    let browser = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Language::negotiate);
    let default = shop
        .page
        .settings
        .default_language
        .as_deref()
        .and_then(Language::from_tag);
    (browser.or(default).unwrap_or(Language::En), false)
}

fn pairs(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(text).unwrap_or_default()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// One request's context: shop, language, paths.
struct Visit<'a> {
    shop: &'a Shop,
    texts: &'static Texts,
    lang: Language,
    lang_explicit: bool,
    home: String,
    self_path: String,
    widget: bool,
}

impl Visit<'static> {
    /// A visit that belongs to no shop (an unknown account, a refused or failed request).
    fn unbranded(lang: Language) -> Self {
        Visit {
            shop: unbranded(),
            texts: texts(lang),
            lang,
            lang_explicit: false,
            home: "/track".into(),
            self_path: "/track".into(),
            widget: false,
        }
    }
}

impl Visit<'_> {
    fn frame<'b>(&'b self, title: &'b str) -> Frame<'b> {
        let settings = &self.shop.page.settings;
        let lang_query = if self.lang_explicit {
            format!("?lang={}", self.lang.code())
        } else {
            String::new()
        };
        Frame {
            lang: self.lang.code(),
            t: self.texts,
            title,
            shop_name: self.shop.name(),
            logo_url: settings.logo_url.as_deref(),
            style: &self.shop.style,
            home: self.home.clone(),
            self_path: self.self_path.clone(),
            order_action: format!("{}/order", self.home),
            lang_explicit: self.lang_explicit,
            lang_query,
            widget: self.widget,
            languages: language_choices(),
            support_text: settings.support_text.as_deref(),
            support_url: settings.support_url.as_deref(),
            support_email: settings.support_email.as_deref(),
            support_phone: settings.support_phone.as_deref(),
        }
    }

    fn answer(&self, status: StatusCode, body: String, caching: Caching) -> Response {
        html(
            status,
            body,
            self.shop,
            self.lang.code(),
            self.widget,
            caching,
        )
    }

    fn message(
        &self,
        status: StatusCode,
        heading: &str,
        text: &str,
        show_lookup: bool,
    ) -> Response {
        let frame = self.frame(self.texts.get(heading));
        let page = MessagePage {
            page: &frame,
            heading: self.texts.get(heading),
            text: self.texts.get(text),
            show_lookup,
        };
        rendered(&page, |body| self.answer(status, body, Caching::NoStore))
    }

    fn lookup(
        &self,
        status: StatusCode,
        problem: Option<(&str, &str)>,
        number: &str,
        order: &str,
    ) -> Response {
        let frame = self.frame(self.texts.get("lookup-title"));
        let page = LookupPage {
            page: &frame,
            problem: problem.map(|(heading, text)| Problem {
                heading: self.texts.get(heading),
                text: self.texts.get(text),
            }),
            number,
            order,
        };
        let caching = if problem.is_some() {
            Caching::NoStore
        } else {
            Caching::Public
        };
        rendered(&page, |body| self.answer(status, body, caching))
    }

    fn shipments(
        &self,
        status: StatusCode,
        trackings: &[Tracking],
        access: Access,
        updates: Option<UpdatesForm<'_>>,
    ) -> Response {
        let count = trackings.len();
        // "Parcel 1 of 2" and the count only mean something for an order of several parcels.
        let several = count > 1;
        let parcels = trackings
            .iter()
            .enumerate()
            .map(|(i, tracking)| Parcel {
                view: view::shipment(self.texts, tracking, &self.shop.page.settings, access),
                position: if several {
                    self.texts.format(
                        "parcel-of",
                        &[
                            ("index", (i + 1).to_string().into()),
                            ("count", count.to_string().into()),
                        ],
                    )
                } else {
                    String::new()
                },
            })
            .collect();
        let title_key = if access == Access::Order {
            "order-title"
        } else {
            "shipment-title"
        };
        let frame = self.frame(self.texts.get(title_key));
        let page = ShipmentPage {
            page: &frame,
            parcels,
            parcel_count: if several {
                self.texts.count("parcels-in-order", count)
            } else {
                String::new()
            },
            order_view: access == Access::Order,
            updates,
        };
        // An order's fields, or the answer to a subscription: never kept.
        let caching = if access == Access::Order
            || page.updates.as_ref().is_some_and(|u| u.notice.is_some())
        {
            Caching::NoStore
        } else {
            Caching::Public
        };
        rendered(&page, |body| self.answer(status, body, caching))
    }

    fn unavailable(&self) -> Response {
        self.message(
            StatusCode::SERVICE_UNAVAILABLE,
            "error-heading",
            "error-text",
            false,
        )
    }
}

/// `/` on a shop's own host name leads to its look-up page; elsewhere there is nothing here.
pub async fn root(State(state): State<PageState>, request: Request) -> Response {
    let shop = match crate::shop::host_of(request.headers()) {
        Some(host) => {
            state
                .0
                .shops
                .find(&*state.0.store, PageAccountKey::Host(&host))
                .await
        }
        None => Ok(None),
    };
    match shop {
        Ok(Some(_)) => Redirect::to("/track").into_response(),
        _ => {
            let (lang, _) = language(&[], request.headers(), unbranded());
            no_such_page(lang)
        }
    }
}

fn no_such_page(lang: Language) -> Response {
    let visit = Visit::unbranded(lang);
    visit.message(
        StatusCode::NOT_FOUND,
        "no-page-heading",
        "no-page-text",
        false,
    )
}

/// Every `/track…` request.
pub async fn track(State(state): State<PageState>, request: Request) -> Response {
    let parts = &state.0;
    let query = pairs(request.uri().query().unwrap_or(""));
    if let Err(retry) = parts.limiter.check(parts.client(&request), cost(&request)) {
        let (lang, _) = language(&query, request.headers(), unbranded());
        return too_many(lang, retry.0);
    }
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path
        .trim_start_matches("/track")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let decoded: Vec<String> = segments
        .iter()
        .map(|s| crate::lookup::percent_decode(s))
        .collect();
    let decoded: Vec<&str> = decoded.iter().map(String::as_str).collect();

    // A shop's own host name, else the account named first in the path.
    let by_host = match crate::shop::host_of(request.headers()) {
        Some(host) => {
            parts
                .shops
                .find(&*parts.store, PageAccountKey::Host(&host))
                .await
        }
        None => Ok(None),
    };
    let (shop, home, rest) = match by_host {
        Ok(Some(shop)) => (Ok(Some(shop)), "/track".to_string(), &decoded[..]),
        Ok(None) => match decoded.split_first() {
            Some((name, rest)) => (
                parts
                    .shops
                    .find(&*parts.store, PageAccountKey::Name(name))
                    .await,
                format!("/track/{}", path_segment(name)),
                rest,
            ),
            None => (Ok(None), String::new(), &decoded[..]),
        },
        Err(error) => (Err(error), String::new(), &decoded[..]),
    };
    let shop = match shop {
        Ok(Some(shop)) => shop,
        Ok(None) => {
            let (lang, _) = language(&query, request.headers(), unbranded());
            return no_such_page(lang);
        }
        Err(error) => {
            tracing::warn!(%error, "the tracking page could not read its shop");
            let (lang, _) = language(&query, request.headers(), unbranded());
            return Visit::unbranded(lang).unavailable();
        }
    };
    let (lang, lang_explicit) = language(&query, request.headers(), &shop);
    let page_target = target(rest, request.method());
    let visit = Visit {
        shop: &shop,
        texts: texts(lang),
        lang,
        lang_explicit,
        self_path: match page_target {
            Target::Order => home.clone(),
            // The answer to a subscription is the shipment's page, and its links say so.
            Target::Updates(_) => path
                .trim_end_matches('/')
                .trim_end_matches("/updates")
                .into(),
            _ => path.clone(),
        },
        home,
        widget: matches!(page_target, Target::Widget(_)),
    };
    match page_target {
        Target::Lookup => {
            let typed = value(&query, "number");
            if typed.is_empty() {
                return visit.lookup(StatusCode::OK, None, "", "");
            }
            match lookup::number(typed) {
                Ok(number) => {
                    let mut to = format!("{}/{}", visit.home, path_segment(&number));
                    if lang_explicit {
                        to.push_str(&format!("?lang={}", lang.code()));
                    }
                    Redirect::to(&to).into_response()
                }
                Err(_) => visit.lookup(
                    StatusCode::BAD_REQUEST,
                    Some(("not-found-heading", "invalid-number")),
                    "",
                    "",
                ),
            }
        }
        Target::Shipment(typed) | Target::Widget(typed) => {
            shipment_by_number(parts, &visit, typed).await
        }
        Target::Json(typed) => json::by_number(parts, &visit, typed).await,
        Target::Updates(typed) => updates::subscribe(parts, &visit, typed, request).await,
        Target::Order => order(parts, &visit, request).await,
        Target::Nothing => visit.message(
            StatusCode::NOT_FOUND,
            "no-page-heading",
            "no-page-text",
            true,
        ),
    }
}

fn cost(request: &Request) -> f64 {
    if request.method() == Method::POST {
        ORDER_COST
    } else {
        1.0
    }
}

fn too_many(lang: Language, retry_after: u64) -> Response {
    let visit = Visit::unbranded(lang);
    let mut response = visit.message(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited-heading",
        "rate-limited-text",
        false,
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The trackings of the shop with this number, or the answer to give instead.
async fn find_number(
    parts: &Parts,
    visit: &Visit<'_>,
    typed: &str,
) -> Result<Vec<Tracking>, (StatusCode, BadInput)> {
    let number = lookup::number(typed).map_err(|bad| (StatusCode::BAD_REQUEST, bad))?;
    let found = parts
        .store
        .page_trackings(visit.shop.page.account.id, PageLookup::Number(&number))
        .await
        .map_err(|error| {
            tracing::warn!(%error, "the tracking page could not read trackings");
            (StatusCode::SERVICE_UNAVAILABLE, BadInput::Number)
        })?;
    if found.is_empty() {
        return Err((StatusCode::NOT_FOUND, BadInput::Number));
    }
    Ok(found)
}

async fn shipment_by_number(parts: &Parts, visit: &Visit<'_>, typed: &str) -> Response {
    match find_number(parts, visit, typed).await {
        Ok(found) => {
            let updates = updates::form(visit, &found, None);
            visit.shipments(StatusCode::OK, &found, Access::Journey, updates)
        }
        Err(problem) => not_found(visit, typed, problem),
    }
}

/// The answer for a number [`find_number`] found nothing for.
fn not_found(visit: &Visit<'_>, typed: &str, (status, _): (StatusCode, BadInput)) -> Response {
    match status {
        StatusCode::SERVICE_UNAVAILABLE => visit.unavailable(),
        StatusCode::NOT_FOUND => visit.lookup(
            StatusCode::NOT_FOUND,
            Some(("not-found-heading", "not-found-text")),
            typed,
            "",
        ),
        status => visit.lookup(
            status,
            Some(("not-found-heading", "invalid-number")),
            "",
            "",
        ),
    }
}

async fn order(parts: &Parts, visit: &Visit<'_>, request: Request) -> Response {
    // A body too large, not UTF-8 or without both fields is the same mistake to the visitor.
    let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .unwrap_or_default();
    let form = pairs(std::str::from_utf8(&body).unwrap_or(""));
    let typed_order = value(&form, "order");
    let Ok((order_number, contact)) = lookup::order(typed_order, value(&form, "contact")) else {
        return visit.lookup(
            StatusCode::BAD_REQUEST,
            Some(("not-found-heading", "invalid-order")),
            "",
            "",
        );
    };
    let found = match parts
        .store
        .page_trackings(
            visit.shop.page.account.id,
            PageLookup::OrderNumber(&order_number),
        )
        .await
    {
        Ok(found) => lookup::for_contact(found, &contact),
        Err(error) => {
            tracing::warn!(%error, "the tracking page could not read an order");
            return visit.unavailable();
        }
    };
    if found.is_empty() {
        return visit.lookup(
            StatusCode::NOT_FOUND,
            Some(("not-found-heading", "order-not-found-text")),
            "",
            "",
        );
    }
    visit.shipments(StatusCode::OK, &found, Access::Order, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_pages() {
        assert_eq!(target(&[], &Method::GET), Target::Lookup);
        assert_eq!(target(&["order"], &Method::POST), Target::Order);
        assert_eq!(
            target(&["ABC123"], &Method::GET),
            Target::Shipment("ABC123")
        );
        assert_eq!(
            target(&["ABC123", "widget"], &Method::GET),
            Target::Widget("ABC123")
        );
        assert_eq!(
            target(&["ABC123", "json"], &Method::GET),
            Target::Json("ABC123")
        );
        let updates = target(&["ABC123", "updates"], &Method::POST);
        assert_eq!(updates, Target::Updates("ABC123"));
        assert_eq!(target(&["ABC123"], &Method::POST), Target::Nothing);
        assert_eq!(target(&["a", "b", "c"], &Method::GET), Target::Nothing);
    }
}
