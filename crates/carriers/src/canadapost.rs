//! Canada Post tracking (`GET /vis/track/pin/{pin}/detail`, XML `track-v2`), HTTP Basic with
//! the developer-program key.
//!
//! The XML is read namespace-agnostically into a small element tree (the v2 and older
//! namespaces differ, errors come in a `messages` namespace). Event identifiers arrive
//! zero-padded (`0174`) and are compared without the padding. Times are local with a zone
//! abbreviation (`EST`); without one, the province's zone is used.

use chrono::{NaiveDate, NaiveTime};
use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::event::{checkpoint, Mapped, Place};
use crate::http::{DefaultLimits, HttpClient};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::time::{abbreviation_offset, at_offset, in_zone, zone_for};
use crate::ups::encode;
use crate::{CarrierError, OneNumberPerCall, Shipment, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "canada-post";

/// The Canada Post adapter.
#[derive(Debug)]
pub struct CanadaPost {
    http: HttpClient,
    username: String,
    password: String,
    base: String,
    language: String,
}

impl CanadaPost {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(CanadaPost {
            http: Self::http_client(settings),
            username: required(CODE, "username", &settings.username)?,
            password: required(CODE, "password", &settings.password)?,
            base: settings.base_url_for(CODE)?,
            language: settings.language.clone().unwrap_or_else(|| "en-CA".into()),
        })
    }
}

impl OneNumberPerCall for CanadaPost {
    const CODE: &'static str = CODE;
    const DEFAULT_LIMITS: DefaultLimits = DefaultLimits::new(2.0, 2);

    async fn track_one(&self, pin: &str, _request: &TrackRequest) -> TrackOutcome {
        let call = self
            .http
            .get(format!(
                "{}/vis/track/pin/{}/detail",
                self.base,
                encode(pin)
            ))
            .basic_auth(&self.username, Some(&self.password))
            .header("Accept", "application/vnd.cpc.track-v2+xml")
            .header("Accept-language", &self.language);
        let reply = self.http.send(call).await?;
        // Errors come as `messages` documents with various HTTP statuses; read them first.
        match parse_response(&reply.body) {
            Ok(result) if reply.status.is_success() || result == TrackResult::NotFound => {
                Ok(result)
            }
            Err(e @ (CarrierError::Permanent { .. } | CarrierError::Credentials { .. })) => Err(e),
            _ if !reply.status.is_success() => Err(reply.error(CODE)),
            other => other,
        }
    }
}

/// A namespace-free XML element.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn text_of(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    }
}

/// Parses XML into an element tree, dropping namespace prefixes.
pub fn parse_xml(body: &[u8]) -> Result<Element, CarrierError> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut buf = Vec::new();
    let local = |name: &[u8]| {
        let name = String::from_utf8_lossy(name).into_owned();
        match name.rsplit_once(':') {
            Some((_, local)) => local.to_string(),
            None => name,
        }
    };
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => stack.push(Element {
                name: local(e.name().as_ref()),
                ..Element::default()
            }),
            Ok(Event::Empty(e)) => {
                let element = Element {
                    name: local(e.name().as_ref()),
                    ..Element::default()
                };
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(element);
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().map_err(|e| CarrierError::malformed(CODE, e))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                let Some(done) = stack.pop() else {
                    return Err(CarrierError::malformed(CODE, "unbalanced XML"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err(CarrierError::malformed(CODE, "unbalanced XML")),
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(CarrierError::malformed(CODE, e)),
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(CarrierError::malformed(CODE, "XML ended inside an element"));
    }
    stack
        .pop()
        .and_then(|doc| doc.children.into_iter().next())
        .ok_or_else(|| CarrierError::malformed(CODE, "empty XML document"))
}

/// Parses a Canada Post tracking-detail or messages document.
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    let root = parse_xml(body)?;
    if root.name == "messages" {
        let codes: Vec<(String, String)> = root
            .children
            .iter()
            .filter(|m| m.name == "message")
            .map(|m| (m.text_of("code"), m.text_of("description")))
            .collect();
        if codes.iter().any(|(code, _)| code == "004" || code == "002") {
            return Ok(TrackResult::NotFound);
        }
        let text = codes
            .iter()
            .map(|(c, d)| format!("{c} {d}"))
            .collect::<Vec<_>>()
            .join("; ");
        // E002 is "AAA Authentication Failure": the configured credentials are wrong.
        if codes.iter().any(|(code, _)| code == "E002") {
            return Err(CarrierError::credentials(format!(
                "canada-post rejected the credentials: {text}; check [carriers.canada-post]"
            )));
        }
        if codes.iter().any(|(code, _)| code.starts_with('E')) {
            return Err(CarrierError::permanent(format!(
                "canada-post rejected the request: {text}"
            )));
        }
        return Err(CarrierError::retryable(format!("canada-post: {text}")));
    }
    if root.name != "tracking-detail" {
        return Err(CarrierError::malformed(
            CODE,
            format!("unexpected root <{}>", root.name),
        ));
    }
    let mut checkpoints = Vec::new();
    let mut signed_by = None;
    for occurrence in root
        .child("significant-events")
        .map(|e| e.children.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|o| o.name == "occurrence")
    {
        let Ok(date) = NaiveDate::parse_from_str(&occurrence.text_of("event-date"), "%Y-%m-%d")
        else {
            continue;
        };
        let time = NaiveTime::parse_from_str(&occurrence.text_of("event-time"), "%H:%M:%S")
            .unwrap_or(NaiveTime::MIN);
        let local = date.and_time(time);
        let province = occurrence.text_of("event-province");
        let site = occurrence.text_of("event-site");
        // International events put "<code>,<Country>" in the site and no province.
        let country = if province.is_empty() && site.contains(',') {
            ""
        } else {
            "CA"
        };
        let at = match abbreviation_offset(&occurrence.text_of("event-time-zone")) {
            Some(offset) => at_offset(local, offset),
            None => in_zone(
                local,
                zone_for("CA", &province).unwrap_or(chrono_tz::America::Toronto),
            ),
        };
        let id = occurrence.text_of("event-identifier");
        let signatory = occurrence.text_of("signatory-name");
        if !signatory.is_empty() {
            signed_by = Some(signatory);
        }
        let place = Place::new(&site, &province, "", country);
        let raw_time = [
            occurrence.text_of("event-date"),
            occurrence.text_of("event-time"),
            occurrence.text_of("event-time-zone"),
        ]
        .join(" ");
        checkpoints.push(checkpoint(
            at,
            map_event(&id),
            &id,
            &occurrence.text_of("event-description"),
            &place,
            &raw_time,
        ));
    }
    if checkpoints.is_empty() {
        return Ok(TrackResult::NotFound);
    }
    let some = |s: String| (!s.is_empty()).then_some(s);
    let info = ShipmentInfo {
        service_code: some(root.text_of("service-name")),
        scheduled_delivery_date: some(root.text_of("changed-expected-date"))
            .or_else(|| some(root.text_of("expected-delivery-date"))),
        signed_by,
        destination_country: Some("CA".into()),
        ..ShipmentInfo::default()
    };
    Ok(TrackResult::Found(Shipment::new(checkpoints, info)))
}

/// Maps an event identifier (leading zeros ignored). Unlisted identifiers count as transit.
pub fn map_event(identifier: &str) -> Mapped {
    let Ok(n) = identifier.trim().trim_start_matches('0').parse::<u32>() else {
        return (S::Transit, None);
    };
    match n {
        20 => (INFORMATIONAL, None),
        100..=107 | 1400..=1405 => (S::Transit, Some(Sub::Transit001)),
        174 | 500 => (S::Pickup, Some(Sub::Pickup001)),
        118 | 156 | 1407 | 1410 | 1435..=1438 | 1479 | 1488 | 1701 | 2410 => {
            (S::Pickup, Some(Sub::Pickup002))
        }
        1408 | 1409 | 1421..=1434 | 1441 | 1442 | 1496..=1499 => {
            (S::Delivered, Some(Sub::Delivered001))
        }
        167..=169 | 179 | 181..=184 | 190 | 1415..=1420 => {
            (S::Undelivered, Some(Sub::Undelivered004))
        }
        150 | 154 | 1100 | 1450 | 1481..=1483 | 1491..=1493 | 2600 | 2802 | 3001 | 4650 => {
            (S::Exception, Some(Sub::Exception005))
        }
        117 | 120 | 121 | 125 | 127 | 810 | 1411 | 1414 | 1443 | 1484 | 1487 | 1494 | 2411
        | 2414 | 4700 => (S::Transit, Some(Sub::Transit005)),
        159..=163 | 172 | 173 | 2412 => (S::Transit, Some(Sub::Transit001)),
        _ => (S::Transit, None),
    }
}
