//! The carriers' wire protocols: routes, token endpoints, payloads and error shapes, one module
//! per carrier (mirroring `parceld-carriers`' adapters) — and the SMS provider's that
//! notifications speak (`twilio.rs`) — and here what every protocol shares:
//! counting and fault injection at the door of each route, bearer tokens, local times.

pub(crate) mod aftership;
mod aramex;
mod auspost;
mod bpost;
mod canadapost;
mod control;
mod deutschepost;
mod dhl;
mod dpd;
mod fedex;
pub(crate) mod fedex_push;
mod gls;
mod laposte;
mod postnl;
mod postnord;
mod purolator;
mod royalmail;
pub(crate) mod seventeen_track;
mod trackingmore;
mod trackingmore_awb;
mod twilio;
mod ups;
pub(crate) mod ups_push;
mod usps;

use std::collections::HashMap;

use axum::extract::{Query, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodFilter, MethodRouter};
use axum::{Json, Router};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::journey::{offset_hours, EventKind, Place, SimEvent};
use crate::{Fault, Simulator};

/// Every carrier's routes, each under `/<courier_code>` and the path its [`Door`] names, and the
/// control endpoints under `/_control/…`.
pub(crate) fn router(sim: Simulator) -> Router {
    let carrier_routes: [(Door, MethodRouter<Simulator>); 12] = [
        (ups::TOKEN, post(ups::token)),
        (ups::TRACK, get(ups::track)),
        (ups_push::SUBSCRIBE, post(ups_push::subscribe)),
        (trackingmore_awb::AWB, post(trackingmore_awb::awb)),
        (fedex::TOKEN, post(fedex::token)),
        (fedex::TRACK, post(fedex::track)),
        (usps::TOKEN, post(usps::token)),
        (usps::TRACK, get(usps::track)),
        (usps::TRACK_MANY, post(usps::track_v3r2)),
        (dhl::TRACK, get(dhl::track)),
        (postnl::TRACK, get(postnl::track)),
        (canadapost::TRACK, get(canadapost::track)),
    ];
    carrier_routes
        .into_iter()
        .fold(Router::new(), |router, (door, handler)| {
            router.route(&door.route(), door.guard(&sim, handler))
        })
        .merge(protocols(&sim))
        .merge(control::routes())
        .with_state(sim)
}

/// The routes of the protocols that also check credentials ([`Protocol`]).
fn protocols(sim: &Simulator) -> Router<Simulator> {
    let protocols: [&'static Protocol; 21] = [
        &aftership::TRACKINGS,
        &aftership::DELETE,
        &aramex::PROTOCOL,
        &auspost::PROTOCOL,
        &bpost::PROTOCOL,
        &deutschepost::PROTOCOL,
        &dpd::LOGIN,
        &dpd::TRACK,
        &gls::TOKEN,
        &gls::TRACK,
        &laposte::PROTOCOL,
        &postnord::PROTOCOL,
        &purolator::PROTOCOL,
        &royalmail::PROTOCOL,
        &seventeen_track::REGISTER,
        &seventeen_track::GET,
        &seventeen_track::STOP,
        &trackingmore::GET,
        &trackingmore::BATCH,
        &trackingmore::DELETE,
        &twilio::MESSAGES,
    ];
    protocols
        .into_iter()
        .fold(Router::new(), |router, protocol| {
            router.merge(protocol.route(sim))
        })
}

/// A header's text, when the request has it and it is text.
pub(super) fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request sends HTTP Basic credentials.
pub(super) fn basic_auth(headers: &HeaderMap) -> bool {
    header_text(headers, header::AUTHORIZATION).is_some_and(|v| v.starts_with("Basic "))
}

/// The door of a carrier route: every request is counted there, and a tracking route's requests
/// may meet a fault there, before the route's handler sees them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Door {
    carrier: &'static str,
    /// The path as the carrier documents it, the counter's label.
    path: &'static str,
    /// How a malformed answer of this route starts; `None` for a route that is only counted
    /// (token endpoints: faults are for tracking calls).
    malformed: Option<&'static str>,
}

impl Door {
    /// A route that is counted and never faulted.
    pub(super) const fn counted(carrier: &'static str, path: &'static str) -> Door {
        Door {
            carrier,
            path,
            malformed: None,
        }
    }

    /// A tracking route: counted, and subject to the carrier's faults.
    pub(super) const fn faulted(
        carrier: &'static str,
        path: &'static str,
        malformed: &'static str,
    ) -> Door {
        Door {
            carrier,
            path,
            malformed: Some(malformed),
        }
    }

    /// Where the simulator serves the route: the path under the carrier's code.
    fn route(self) -> String {
        format!("/{}{}", self.carrier, self.path)
    }

    /// `route` behind this door.
    fn guard(self, sim: &Simulator, route: MethodRouter<Simulator>) -> MethodRouter<Simulator> {
        route.route_layer(middleware::from_fn_with_state((sim.clone(), self), pass))
    }
}

/// Counts the request and applies faults; a fault answers in the handler's place.
async fn pass(
    State((sim, door)): State<(Simulator, Door)>,
    request: Request,
    next: Next,
) -> Response {
    sim.count(door.carrier, door.path);
    if let Some(malformed) = door.malformed {
        if let Err(response) = fault(&sim, door.carrier, malformed).await {
            return response;
        }
    }
    next.run(request).await
}

/// The fault this request meets, if any: `Err` carries its response.
async fn fault(sim: &Simulator, carrier: &str, malformed: &'static str) -> Result<(), Response> {
    let (fault, latency) = sim.roll(carrier);
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => Ok(()),
        Fault::ServerError => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "simulated outage", "status": 503})),
        )
            .into_response()),
        Fault::RateLimited(secs) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            Json(json!({"error": "Too Many Requests", "status": 429})),
        )
            .into_response()),
        Fault::Hang(ms) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Err(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
        Fault::Malformed => Err((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            malformed,
        )
            .into_response()),
    }
}

/// A request to a simulated carrier route, as its protocol module sees it.
pub(super) struct Call {
    /// The route's path parameter (a number, or several joined by commas), if it has one.
    pub(super) param: String,
    pub(super) query: HashMap<String, String>,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

impl Call {
    /// A header's value, if present and text.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether every one of `names` is present.
    pub(super) fn has_headers(&self, names: &[&str]) -> bool {
        names.iter().all(|name| self.headers.contains_key(*name))
    }

    /// Whether the request carries HTTP Basic credentials.
    pub(super) fn has_basic(&self) -> bool {
        basic_auth(&self.headers)
    }
}

/// The items of an aggregator's batch body, a JSON array of at most 40; `Err(None)` when the
/// body is no array, `Err(Some(count))` when it has too many.
pub(super) fn batch_items(body: &str) -> Result<Vec<Value>, Option<usize>> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) if items.len() <= 40 => Ok(items),
        Ok(Value::Array(items)) => Err(Some(items.len())),
        _ => Err(None),
    }
}

/// The numbers of the query's `tracking_numbers` registered with `upstream`, each rendered by
/// `one` (an aggregator's list answers only what the account registered).
pub(super) fn registered_listed(
    sim: &Simulator,
    upstream: &str,
    call: &Call,
    one: impl Fn(&str, &crate::Registered) -> Value,
) -> Vec<Value> {
    let numbers = call
        .query
        .get("tracking_numbers")
        .map_or("", String::as_str);
    comma_list(numbers)
        .into_iter()
        .filter_map(|n| Some(one(n, &sim.registration(upstream, n)?)))
        .collect()
}

/// A text field of a JSON item, or `""`.
pub(super) fn field<'a>(item: &'a Value, name: &str) -> &'a str {
    item.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The numbers of a comma-separated list (several carriers take their batches so).
pub(super) fn comma_list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

/// The texts of every `<name>…</name>` element of a SOAP body (any namespace prefix), the way a
/// simulator may read a request it generated the shape of.
pub(super) fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let tag_and_after = &rest[open + 1..];
        let Some(close) = tag_and_after.find('>') else {
            break;
        };
        let tag = &tag_and_after[..close];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        let after = &tag_and_after[close + 1..];
        if local == name && !tag.starts_with('/') {
            found.push(after[..after.find('<').unwrap_or(after.len())].trim());
        }
        rest = after;
    }
    found
}

/// An XML answer: `document` after the XML declaration, as `content_type`.
pub(super) fn xml_reply(
    status: StatusCode,
    content_type: &'static str,
    document: &str,
) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{document}");
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Escapes text for XML.
pub(super) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decodes `%XX` escapes of a path segment.
fn percent_decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A carrier protocol whose tracking route also checks credentials: the route's [`Door`], how a
/// request shows the credentials the carrier expects, and the carrier's answer when it refuses
/// them — when they are missing, or when the `reject_credentials` fault is set. Its module only
/// answers the requests that get through.
pub(super) struct Protocol {
    pub(super) door: Door,
    /// The route's method.
    pub(super) method: MethodFilter,
    /// The answer to a request whose credentials pass.
    pub(super) answer: fn(&Simulator, &Call) -> Response,
    /// Whether a request carries the credentials the carrier expects (tokens are checked
    /// against the simulator's).
    pub(super) presented: fn(&Simulator, &Call) -> bool,
    /// The carrier's answer to refused credentials.
    pub(super) refused: fn() -> Response,
}

impl Protocol {
    /// The door's route, answered when the credentials pass.
    fn route(&'static self, sim: &Simulator) -> Router<Simulator> {
        let handler = move |State(sim): State<Simulator>,
                            params: RawPathParams,
                            Query(query): Query<HashMap<String, String>>,
                            headers: HeaderMap,
                            body: String| async move {
            let param = params.iter().next().map(|(_, v)| percent_decoded(v));
            let call = Call {
                param: param.unwrap_or_default(),
                query,
                headers,
                body,
            };
            if !(self.presented)(&sim, &call) || sim.rejects_credentials(self.door.carrier) {
                return (self.refused)();
            }
            (self.answer)(&sim, &call)
        };
        let route = self
            .door
            .guard(sim, axum::routing::on(self.method, handler));
        Router::new().route(&self.door.route(), route)
    }

    /// The visible events of `number` (newest first, each with its place), or `None` when the
    /// number is unknown.
    pub(super) fn events(&self, sim: &Simulator, number: &str) -> Option<Vec<(SimEvent, Place)>> {
        newest_first(sim, self.door.carrier, number)
    }
}

/// A carrier's event codes as the simulator renders them: per [`EventKind`], a code and a text,
/// from `crates/sim/tables/<carrier>.tsv` (`kind<TAB>code<TAB>text`, `#` comments).
pub(super) struct SimCodes(HashMap<EventKind, (String, String)>);

impl SimCodes {
    /// Parses a table compiled into the simulator; every kind must be there (a test checks each
    /// table), so a broken one panics with the line at fault.
    pub(super) fn parse(name: &str, tsv: &str) -> Self {
        let mut codes = HashMap::new();
        for line in tsv
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let fields: Vec<&str> = line.split('\t').collect();
            let [kind, code, text] = fields[..] else {
                panic!("sim tables/{name}.tsv: not three tab-separated fields: {line:?}");
            };
            let kind: EventKind = serde_json::from_value(Value::String(kind.into()))
                .unwrap_or_else(|_| panic!("sim tables/{name}.tsv: unknown kind {kind:?}"));
            codes.insert(kind, (code.to_string(), text.to_string()));
        }
        SimCodes(codes)
    }

    /// The code and text of `kind`.
    pub(super) fn of(&self, kind: EventKind) -> (&str, &str) {
        self.0
            .get(&kind)
            .map_or(("", ""), |(code, text)| (code.as_str(), text.as_str()))
    }

    /// Whether every kind has a row.
    #[cfg(test)]
    pub(super) fn complete(&self) -> bool {
        EventKind::ALL.iter().all(|kind| self.0.contains_key(kind))
    }
}

/// Every carrier's table, from `crates/sim/tables/<carrier>.tsv`.
const CODE_TABLES: &[(&str, &str)] = &[
    ("royal-mail", include_str!("../../tables/royal-mail.tsv")),
    (
        "australia-post",
        include_str!("../../tables/australia-post.tsv"),
    ),
    ("laposte", include_str!("../../tables/laposte.tsv")),
    ("postnord", include_str!("../../tables/postnord.tsv")),
    ("gls", include_str!("../../tables/gls.tsv")),
    ("dpd", include_str!("../../tables/dpd.tsv")),
    ("purolator", include_str!("../../tables/purolator.tsv")),
    ("aramex", include_str!("../../tables/aramex.tsv")),
    ("bpost", include_str!("../../tables/bpost.tsv")),
    (
        "deutsch-post",
        include_str!("../../tables/deutsch-post.tsv"),
    ),
    ("17track", include_str!("../../tables/17track.tsv")),
    ("aftership", include_str!("../../tables/aftership.tsv")),
    (
        "trackingmore",
        include_str!("../../tables/trackingmore.tsv"),
    ),
];

static CODES: std::sync::LazyLock<HashMap<&str, SimCodes>> = std::sync::LazyLock::new(|| {
    CODE_TABLES
        .iter()
        .map(|(name, tsv)| (*name, SimCodes::parse(name, tsv)))
        .collect()
});

/// The code and text `carrier` renders for `kind`. A carrier without a table is a bug of the
/// simulator, and panics.
pub(super) fn code_of(carrier: &str, kind: EventKind) -> (&'static str, &'static str) {
    match CODES.get(carrier) {
        Some(codes) => codes.of(kind),
        None => panic!("the simulator has no code table for {carrier}"),
    }
}

/// An event's local time with its offset, ISO-8601 (`2024-07-10T13:45:00+01:00`).
pub(super) fn iso_local(local: chrono::NaiveDateTime, hours: i32) -> String {
    format!(
        "{}{}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        offset_text(hours)
    )
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

pub(super) fn authorized(sim: &Simulator, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| sim.token_valid(t))
}

/// An event's local wall-clock time and offset (hours) at its place.
pub(super) fn local(event: &SimEvent, place: &Place) -> (chrono::NaiveDateTime, i32) {
    let hours = offset_hours(place, event.at);
    (
        (event.at + Duration::hours(i64::from(hours))).naive_utc(),
        hours,
    )
}

/// Each event rendered by `one` with its local wall-clock time and offset (hours) at its place.
pub(super) fn rendered(
    events: &[(SimEvent, Place)],
    mut one: impl FnMut(&SimEvent, &Place, chrono::NaiveDateTime, i32) -> Value,
) -> Vec<Value> {
    events
        .iter()
        .map(|(event, place)| {
            let (local, hours) = local(event, place);
            one(event, place, local, hours)
        })
        .collect()
}

pub(super) fn offset_text(hours: i32) -> String {
    format!("{}{:02}:00", if hours < 0 { '-' } else { '+' }, hours.abs())
}

/// Visible events newest first, each with its place.
pub(super) fn newest_first(
    sim: &Simulator,
    carrier: &str,
    number: &str,
) -> Option<Vec<(SimEvent, Place)>> {
    let mut out = sim.events(carrier, number)?;
    out.reverse();
    Some(out)
}

#[derive(Deserialize, Default)]
pub(super) struct TokenForm {
    #[serde(default)]
    pub(super) client_id: Option<String>,
}

/// Reads `client_id` from a form body without another dependency.
pub(super) fn serde_urlencoded_lite(body: &str) -> TokenForm {
    let client_id = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "client_id")
        .map(|(_, v)| v.to_string());
    TokenForm { client_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soap_elements_are_read_by_name_whatever_their_prefix() {
        let body = "<s:Body><plc:getTrackingData><parcelLabelNumber> 0530 </parcelLabelNumber>\
                    </plc:getTrackingData><v1:PIN><v1:Value>A</v1:Value></v1:PIN>\
                    <v1:PIN><v1:Value>B</v1:Value></v1:PIN></s:Body>";
        assert_eq!(elements(body, "parcelLabelNumber"), ["0530"]);
        assert_eq!(elements(body, "Value"), ["A", "B"]);
        assert!(elements(body, "authToken").is_empty());
    }

    #[test]
    fn every_code_table_renders_every_kind() {
        for (name, tsv) in CODE_TABLES {
            assert!(SimCodes::parse(name, tsv).complete(), "{name}");
        }
    }
}
