//! Canada Post tracking (`GET /vis/track/pin/{pin}/detail`, XML `track-v2`), HTTP Basic with
//! the developer-program key.
//!
//! The XML is read namespace-agnostically ([`crate::xml`]: the v2 and older namespaces differ,
//! errors come in a `messages` namespace). Event identifiers arrive
//! zero-padded (`0174`) and are compared without the padding. Times are local with a zone
//! abbreviation (`EST`); without one, the province's zone is used.

use chrono::{NaiveDate, NaiveTime};
use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};

use crate::event::{checkpoint, Mapped, Place};
use crate::http::HttpClient;
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::time::{abbreviation_offset, at_offset, in_zone, zone_for};
use crate::ups::encode;
use crate::xml::parse_xml;
use crate::{carrier_api, CarrierApi};
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

carrier_api!(CanadaPost, CODE, 2.0, 2);

impl OneNumberPerCall for CanadaPost {
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

/// Parses a Canada Post tracking-detail or messages document.
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    let root = parse_xml(CODE, body)?;
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
