//! UPS Track API (`GET /api/track/v1/details/{inquiryNumber}`), OAuth client credentials with
//! HTTP Basic at `/security/v1/oauth/token`.
//!
//! The 3-digit `status.statusCode` is the primary mapping key because it is the finest UPS
//! gives; the 1-letter `status.type` is the fallback for codes missing from the table. Times are
//! local `YYYYMMDD` / `HHMMSS`; the `gmt*` fields win when present, otherwise the zone comes from
//! the event's state (or a neighbouring event's).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use reqwest::StatusCode;
use serde_json::Value;

use crate::event::{non_empty, resolve_events, LocalEvent, Mapped, Place};
use crate::http::HttpClient;
use crate::json::{list, path, text, text_or_empty};
use crate::oauth::{OAuthClient, TokenAuth};
use crate::settings::{CarrierSettings, ConfigError};
use crate::time::{parse_offset, zone_for, Zone};
use crate::{
    carrier_api, CarrierApi, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest,
    TrackResult,
};

const CODE: &str = "ups";

/// The UPS adapter.
#[derive(Debug)]
pub struct Ups {
    http: HttpClient,
    oauth: OAuthClient,
    base: String,
    sequence: AtomicU64,
}

impl Ups {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let mut oauth = OAuthClient::from_settings(
            CODE,
            settings,
            "/security/v1/oauth/token",
            TokenAuth::Basic,
        )?;
        if let Some(account) = non_empty(settings.account_number.as_deref()) {
            oauth = oauth.with_header("x-merchant-id", &account);
        }
        Ok(Ups {
            http: Self::http_client(settings),
            oauth,
            base: settings.base_url_for(CODE)?,
            sequence: AtomicU64::new(0),
        })
    }
}

carrier_api!(Ups, CODE, 5.0, 4);

impl OneNumberPerCall for Ups {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let url = format!("{}/api/track/v1/details/{}", self.base, encode(number));
        let trans_id = format!(
            "parceld-{}-{}",
            chrono::Utc::now().timestamp_millis(),
            self.sequence.fetch_add(1, Ordering::Relaxed)
        );
        let reply = self
            .oauth
            .send_authorized(&self.http, |client| {
                client
                    .get(&url)
                    .query(&[
                        ("locale", "en_US"),
                        ("returnSignature", "false"),
                        ("returnMilestones", "false"),
                        ("returnPOD", "false"),
                    ])
                    .header("transId", trans_id.as_str())
                    .header("transactionSrc", "parceld")
                    .header("Accept", "application/json")
            })
            .await?;
        if reply.status.is_success()
            || reply.status == StatusCode::NOT_FOUND
            || reply.status == StatusCode::BAD_REQUEST
        {
            if let Ok(body) = serde_json::from_slice::<Value>(&reply.body) {
                if is_not_found(&body) {
                    return Ok(TrackResult::NotFound);
                }
                if reply.status.is_success() {
                    return parse_value(number, &body);
                }
            } else if reply.status.is_success() {
                return Err(CarrierError::malformed(CODE, "body is not JSON"));
            }
        }
        Err(reply.error(CODE))
    }
}

/// Percent-encodes a path segment (tracking numbers are normally plain alphanumerics).
pub(crate) fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `TW0001` (not found) and `TV1002` (invalid inquiry number) both mean the number is unknown.
fn is_not_found(body: &Value) -> bool {
    let mut codes = Vec::new();
    for error in path(body, &["response", "errors"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        codes.extend(text(error, "code"));
    }
    for shipment in path(body, &["trackResponse", "shipment"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for warning in list(shipment, "warnings") {
            codes.extend(text(warning, "code"));
        }
        if !list(shipment, "package").is_empty() {
            return false;
        }
    }
    codes.iter().any(|c| c == "TW0001" || c == "TV1002")
}

/// Parses a UPS Track API body for `number`.
pub fn parse_response(number: &str, body: &[u8]) -> TrackOutcome {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
    if is_not_found(&value) {
        return Ok(TrackResult::NotFound);
    }
    parse_value(number, &value)
}

fn parse_value(number: &str, body: &Value) -> TrackOutcome {
    let Some(shipments) = path(body, &["trackResponse", "shipment"]).and_then(Value::as_array)
    else {
        return Err(CarrierError::malformed(CODE, "no trackResponse.shipment"));
    };
    let packages: Vec<&Value> = shipments.iter().flat_map(|s| list(s, "package")).collect();
    let wanted = packages
        .iter()
        .copied()
        .filter(|p| text(p, "trackingNumber").is_some_and(|t| t.eq_ignore_ascii_case(number)))
        .collect::<Vec<_>>();
    let packages = if wanted.is_empty() { packages } else { wanted };
    let Some(first) = packages.first() else {
        return Ok(TrackResult::NotFound);
    };

    let mut pending = Vec::new();
    for package in &packages {
        for activity in list(package, "activity") {
            let status = activity.get("status").cloned().unwrap_or(Value::Null);
            let address = path(activity, &["location", "address"])
                .cloned()
                .unwrap_or(Value::Null);
            let place = Place::new(
                &text_or_empty(&address, "city"),
                &text_or_empty(&address, "stateProvince"),
                &text_or_empty(&address, "postalCode"),
                &text(&address, "countryCode")
                    .or_else(|| text(&address, "country"))
                    .unwrap_or_default(),
            );
            let Some(local) = date_time(
                &text_or_empty(activity, "date"),
                &text_or_empty(activity, "time"),
            ) else {
                continue;
            };
            let zone = match (
                text(activity, "gmtOffset").and_then(|o| parse_offset(&o)),
                date_time(
                    &text_or_empty(activity, "gmtDate"),
                    &text_or_empty(activity, "gmtTime"),
                ),
            ) {
                (Some(offset), _) => Some(Zone::Fixed(offset)),
                (None, Some(gmt)) => chrono::FixedOffset::east_opt(
                    (local - gmt).num_seconds().clamp(-14 * 3600, 14 * 3600) as i32,
                )
                .map(Zone::Fixed),
                (None, None) => zone_for(&place.country, &place.state).map(Zone::Named),
            };
            let status_code = text_or_empty(&status, "statusCode");
            let kind = text_or_empty(&status, "type");
            let code = text_or_empty(&status, "code");
            let raw = if status_code.is_empty() {
                format!("{kind}/{code}")
            } else {
                format!("{kind}/{code}/{status_code}")
            };
            let raw_time = [
                text_or_empty(activity, "date"),
                text_or_empty(activity, "time"),
                text_or_empty(activity, "gmtOffset"),
            ]
            .join(" ");
            pending.push(LocalEvent {
                local,
                zone,
                mapped: map_status(&status_code, &kind),
                raw_status: raw,
                detail: text_or_empty(&status, "description"),
                place,
                raw_time,
            });
        }
    }
    let checkpoints = resolve_events(&pending);
    Ok(TrackResult::unless_empty(checkpoints, || info(first)))
}

fn info(package: &Value) -> ShipmentInfo {
    let mut info = ShipmentInfo {
        service_code: path(package, &["service", "description"]).and_then(crate::json::as_text),
        signed_by: path(package, &["deliveryInformation", "receivedBy"])
            .and_then(crate::json::as_text),
        pieces: text(package, "packageCount"),
        ..ShipmentInfo::default()
    };
    if let Some(weight) = package.get("weight") {
        if let Some(w) = text(weight, "weight") {
            info.weight = Some(
                format!("{w} {}", text_or_empty(weight, "unitOfMeasurement"))
                    .trim()
                    .to_string(),
            );
        }
    }
    // Rescheduled beats scheduled beats estimated; `DEL` is the delivery itself, not a plan.
    for kind in ["RDD", "SDD", "EDD"] {
        let planned = list(package, "deliveryDate")
            .into_iter()
            .filter(|d| text_or_empty(d, "type") == kind)
            .find_map(|d| {
                text(d, "date").and_then(|d| NaiveDate::parse_from_str(&d, "%Y%m%d").ok())
            });
        if let Some(d) = planned {
            info.scheduled_delivery_date = Some(d.format("%Y-%m-%d").to_string());
            break;
        }
    }
    for address in list(package, "packageAddress") {
        let a = address.get("address").cloned().unwrap_or(Value::Null);
        let (country, state, city) = (
            text(&a, "countryCode"),
            text(&a, "stateProvince"),
            text(&a, "city"),
        );
        match text_or_empty(address, "type").as_str() {
            "ORIGIN" => {
                info.origin_country = country;
                info.origin_state = state;
                info.origin_city = city;
            }
            "DESTINATION" => {
                info.destination_country = country;
                info.destination_state = state;
                info.destination_city = city;
            }
            _ => {}
        }
    }
    info
}

/// `20220126` + `163000` (or `16:30:00`).
fn date_time(date: &str, time: &str) -> Option<NaiveDateTime> {
    let date = NaiveDate::parse_from_str(date.trim(), "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d"))
        .ok()?;
    let digits: String = time.chars().filter(char::is_ascii_digit).collect();
    let time = match digits.len() {
        6 => NaiveTime::parse_from_str(&digits, "%H%M%S").ok()?,
        4 => NaiveTime::parse_from_str(&digits, "%H%M").ok()?,
        _ => NaiveTime::MIN,
    };
    Some(date.and_time(time))
}

/// Maps a UPS status to the taxonomy: `statusCode` first, `type` when the code is unknown.
pub fn map_status(status_code: &str, kind: &str) -> Mapped {
    let trimmed = status_code.trim();
    let padded = if !trimmed.is_empty() && trimmed.len() < 3 {
        format!("{trimmed:0>3}")
    } else {
        trimmed.to_string()
    };
    if let Some(mapped) = map_status_code(&padded) {
        return mapped;
    }
    map_type(kind)
}

/// The 3-digit status/description code table. `Some(INFORMATIONAL)` for codes that do not
/// change the status on their own; `None` for codes not in the table.
pub fn map_status_code(code: &str) -> Option<Mapped> {
    let n: u16 = code.parse().ok()?;
    Some(match n {
        3 | 157 | 80 | 166 | 77 | 65 | 131 | 135 => (S::Inforeceived, Some(Sub::Inforeceived001)),
        7 | 43 => (S::Exception, Some(Sub::Exception008)),
        38 | 160 | 167..=169 => (S::Transit, Some(Sub::Transit001)),
        5 | 10 | 25 | 39 | 47 | 87 | 158 | 159 | 164 | 165 | 44 | 45 | 79 | 73 | 74 | 137 | 138
        | 71 | 75 => (S::Transit, Some(Sub::Transit001)),
        12 | 14 | 84 | 92 | 123..=126 | 134 | 58 => (S::Transit, Some(Sub::Transit005)),
        32 | 46 | 48 | 49 | 51..=53 | 86 | 90 | 132 | 154 | 153 | 55 => {
            (S::Transit, Some(Sub::Transit001))
        }
        6 | 21 | 37 | 72 | 78 | 89 | 91 | 146 | 162 => (S::Pickup, Some(Sub::Pickup001)),
        17 | 40 | 70 | 100 | 106 | 108 | 144 | 161 => (S::Pickup, Some(Sub::Pickup002)),
        22 | 23 | 24 | 60 | 61 | 62 | 66 | 145 => (S::Undelivered, Some(Sub::Undelivered004)),
        11 | 26 | 143 => (S::Delivered, Some(Sub::Delivered001)),
        13 | 29 | 30 | 76 | 69 | 50 => (S::Exception, Some(Sub::Exception005)),
        33..=36 | 67 | 118 | 119 | 81 => (S::Exception, Some(Sub::Exception011)),
        59 | 64 | 68 | 147 | 149 | 129 | 130 => (S::Exception, Some(Sub::Exception007)),
        0 | 148 | 163 => (S::Transit, None),
        41 | 42 | 54 | 56 | 63 | 82 | 93..=142 => (INFORMATIONAL, None),
        _ => return None,
    })
}

/// The activity type fallback.
pub fn map_type(kind: &str) -> Mapped {
    match kind.trim() {
        "M" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "MV" => (S::Exception, Some(Sub::Exception008)),
        "I" | "P" | "DO" | "DD" | "W" => (S::Transit, Some(Sub::Transit001)),
        "O" => (S::Pickup, Some(Sub::Pickup001)),
        "X" => (S::Exception, Some(Sub::Exception005)),
        "D" => (S::Delivered, Some(Sub::Delivered001)),
        "RS" => (S::Exception, Some(Sub::Exception011)),
        _ => (INFORMATIONAL, None),
    }
}
