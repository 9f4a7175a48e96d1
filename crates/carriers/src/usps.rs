//! USPS APIs v3 tracking (`GET /tracking/v3/tracking/{n}?expand=DETAIL`), OAuth client
//! credentials at `/oauth2/v3/token` with scope `tracking`.
//!
//! USPS gives each event's local wall-clock (`eventTimestamp`, no offset), the UTC instant
//! (`GMTTimestamp`) and the offset (`GMTOffset`); the UTC instant is the truth and the offset
//! makes the local display. HTTP 404 and tracking-number errors mean "not found".

use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use reqwest::StatusCode;
use serde_json::Value;

use crate::event::{resolve_events, LocalEvent, Mapped, Place};
use crate::http::HttpClient;
use crate::json::{clean_html, list, path, text, text_or_empty};
use crate::oauth::{OAuthClient, TokenAuth};
use crate::settings::{CarrierSettings, ConfigError};
use crate::time::{parse_naive, parse_offset, parse_with_offset, zone_for, Zone};
use crate::ups::encode;
use crate::{carrier_api, CarrierApi};
use crate::{CarrierError, OneNumberPerCall, Shipment, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "usps";

/// The USPS adapter.
#[derive(Debug)]
pub struct Usps {
    http: HttpClient,
    oauth: OAuthClient,
    base: String,
}

impl Usps {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let oauth =
            OAuthClient::from_settings(CODE, settings, "/oauth2/v3/token", TokenAuth::FormBody)?
                .with_form("scope", "tracking");
        Ok(Usps {
            http: Self::http_client(settings),
            oauth,
            base: settings.base_url_for(CODE)?,
        })
    }
}

// USPS's default quota is low (about 60 requests an hour): pace gently.
carrier_api!(Usps, CODE, 1.0, 2);

impl OneNumberPerCall for Usps {
    async fn track_one(&self, number: &str, request: &TrackRequest) -> TrackOutcome {
        let url = format!("{}/tracking/v3/tracking/{}", self.base, encode(number));
        let mut query = vec![("expand", "DETAIL".to_string())];
        if let Some(zip) = &request.postal_code {
            query.push(("destinationZIPCode", zip.chars().take(5).collect()));
        }
        if let Some(date) = &request.ship_date {
            query.push(("mailingDate", date.clone()));
        }
        let reply = self
            .oauth
            .send_authorized(&self.http, |client| {
                client
                    .get(&url)
                    .query(&query)
                    .header("Accept", "application/json")
            })
            .await?;
        match reply.status {
            s if s.is_success() => parse_response(number, &reply.body),
            StatusCode::NOT_FOUND => Ok(TrackResult::NotFound),
            StatusCode::BAD_REQUEST if mentions_tracking_number(&reply.body) => {
                Ok(TrackResult::NotFound)
            }
            _ => Err(reply.error(CODE)),
        }
    }
}

/// Whether a USPS error envelope complains about the tracking number itself.
fn mentions_tracking_number(body: &[u8]) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("tracking number")
}

/// Parses a USPS v3 detail body (or a v3r2 array of them) for `number`.
pub fn parse_response(number: &str, body: &[u8]) -> TrackOutcome {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
    let detail = match &value {
        Value::Array(items) => items
            .iter()
            .find(|i| text(i, "trackingNumber").is_some_and(|t| t == number))
            .or(items.first())
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    if detail.get("error").is_some() {
        return if mentions_tracking_number(body) {
            Ok(TrackResult::NotFound)
        } else {
            Err(CarrierError::permanent(format!(
                "usps: {}",
                path(&detail, &["error", "message"])
                    .and_then(crate::json::as_text)
                    .unwrap_or_default()
            )))
        };
    }
    if !detail.is_object() {
        return Err(CarrierError::malformed(CODE, "not a tracking object"));
    }
    let mut items = Vec::new();
    for event in list(&detail, "trackingEvents") {
        let state = text_or_empty(event, "eventState");
        let country = text(event, "eventCountry").unwrap_or_else(|| {
            if state.is_empty() {
                String::new()
            } else {
                "US".into()
            }
        });
        let zip = text(event, "eventZIP")
            .or_else(|| text(event, "eventZIPCode"))
            .unwrap_or_default();
        let place = Place::new(&text_or_empty(event, "eventCity"), &state, &zip, &country);
        let offset = text(event, "GMTOffset").and_then(|o| parse_offset(&o));
        let local_text = text_or_empty(event, "eventTimestamp");
        let gmt = text(event, "GMTTimestamp").and_then(|t| parse_with_offset(&t));
        let (local, zone) = match (
            gmt,
            offset,
            parse_with_offset(&local_text),
            parse_naive(&local_text),
        ) {
            (Some(gmt), Some(offset), _, _) => (
                gmt.with_timezone(&offset).naive_local(),
                Some(Zone::Fixed(offset)),
            ),
            (Some(gmt), None, _, _) => (gmt.naive_utc(), Some(Zone::Fixed(*gmt.offset()))),
            (None, _, Some(with_offset), _) => (
                with_offset.naive_local(),
                Some(Zone::Fixed(*with_offset.offset())),
            ),
            (None, offset, None, Some(naive)) => (
                naive,
                offset
                    .map(Zone::Fixed)
                    .or_else(|| zone_for(&country, &state).map(Zone::Named)),
            ),
            _ => continue,
        };
        let code = text_or_empty(event, "eventCode");
        let detail_text = text_or_empty(event, "eventType");
        let raw_time = if local_text.is_empty() {
            text_or_empty(event, "GMTTimestamp")
        } else {
            local_text.clone()
        };
        items.push(LocalEvent {
            local,
            zone,
            mapped: map_event(&code),
            raw_status: code,
            detail: detail_text,
            place,
            raw_time,
        });
    }
    let checkpoints = resolve_events(&items);
    if checkpoints.is_empty() {
        return Ok(TrackResult::NotFound);
    }
    Ok(TrackResult::Found(Shipment::new(
        checkpoints,
        info(&detail),
    )))
}

fn info(detail: &Value) -> ShipmentInfo {
    ShipmentInfo {
        service_code: text(detail, "mailClass").map(|m| clean_html(&m)),
        scheduled_delivery_date: text(detail, "expectedDeliveryDate")
            .or_else(|| text(detail, "predictedDeliveryDate"))
            .or_else(|| {
                path(detail, &["deliveryDateExpectation", "expectedDeliveryDate"])
                    .and_then(crate::json::as_text)
            }),
        origin_country: text(detail, "originCity").map(|_| "US".into()),
        origin_state: text(detail, "originState"),
        origin_city: text(detail, "originCity"),
        destination_country: text(detail, "destinationCity").map(|_| "US".into()),
        destination_state: text(detail, "destinationState"),
        destination_city: text(detail, "destinationCity"),
        ..ShipmentInfo::default()
    }
}

/// Maps a USPS `eventCode` (Pub 199 App. G-4). Unknown codes count as transit.
pub fn map_event(code: &str) -> Mapped {
    match code.trim().to_ascii_uppercase().as_str() {
        "GX" | "MA" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "03" | "TM" | "PA" => (S::Transit, Some(Sub::Transit001)),
        "10" | "A1" | "T1" | "PC" => (S::Transit, Some(Sub::Transit002)),
        "07" => (S::Transit, Some(Sub::Transit003)),
        "SF" | "EF" | "TL" | "06" | "08" | "15" | "19" | "41" | "42" | "80" | "81" | "82"
        | "DX" | "71" => (S::Transit, Some(Sub::Transit001)),
        "OF" => (S::Pickup, Some(Sub::Pickup001)),
        "14" | "16" => (S::Pickup, Some(Sub::Pickup002)),
        "02" | "52" | "55" | "56" => (S::Undelivered, Some(Sub::Undelivered002)),
        "53" | "54" | "30" | "51" => (S::Undelivered, Some(Sub::Undelivered004)),
        "01" => (S::Delivered, Some(Sub::Delivered001)),
        "17" | "43" => (S::Delivered, Some(Sub::Delivered002)),
        "04" => (S::Exception, Some(Sub::Exception009)),
        "05" | "44" => (S::Exception, Some(Sub::Exception005)),
        "09" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "31" => {
            (S::Exception, Some(Sub::Exception011))
        }
        "11" => (S::Exception, Some(Sub::Exception007)),
        _ => (S::Transit, None),
    }
}
