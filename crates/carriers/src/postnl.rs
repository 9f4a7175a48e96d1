//! PostNL Shipping Status v2 (`GET /shipment/v2/status/barcode/{barcode}?detail=true`), API key
//! in the `apikey` header. Courier code `postnl-3s`.
//!
//! PostNL's JSON is converted from XML: empty values are `{}` and a multi-collo `Shipment` is an
//! array. Timestamps are `dd-MM-yyyy HH:mm:ss` Europe/Amsterdam wall-clock. Event codes are
//! finer than status codes (some "out for delivery" status events are really failed attempts),
//! so events map by their own code; the shipment's status code is used only when there are no
//! events.

use chrono::NaiveDateTime;
use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use serde_json::Value;

use crate::event::{checkpoint, non_empty, Mapped, Place};
use crate::http::KeyedApi;
use crate::json::{clean_html, list, named_or_first, path, text, text_or_empty};
use crate::settings::{CarrierSettings, ConfigError};
use crate::time::in_zone;
use crate::ups::encode;
use crate::{carrier_api, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "postnl-3s";

/// The PostNL adapter.
#[derive(Debug)]
pub struct PostNl {
    api: KeyedApi,
    language: String,
}

impl PostNl {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(PostNl {
            api: KeyedApi::from_settings::<Self>(settings, "apikey")?,
            language: non_empty(settings.language.as_deref()).unwrap_or_else(|| "EN".into()),
        })
    }
}

carrier_api!(PostNl, CODE, 4.0, 4);

impl OneNumberPerCall for PostNl {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let path = format!("/shipment/v2/status/barcode/{}", encode(number));
        let query = [
            ("detail", "true"),
            ("language", self.language.as_str()),
            ("maxDays", "90"),
        ];
        let reply = self.api.get_json(&path, &query).await?;
        reply.tracked(CODE, |body| parse_response(number, body))
    }
}

fn timestamp(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let local = NaiveDateTime::parse_from_str(text.trim(), "%d-%m-%Y %H:%M:%S").ok()?;
    Some(in_zone(local, chrono_tz::Europe::Amsterdam))
}

/// Parses a PostNL status body for `barcode`.
pub fn parse_response(barcode: &str, body: &[u8]) -> TrackOutcome {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
    let root = value
        .get("CompleteStatus")
        .or_else(|| value.get("CurrentStatus"))
        .ok_or_else(|| CarrierError::malformed(CODE, "no CompleteStatus or CurrentStatus"))?;
    let shipments = list(root, "Shipment");
    let Some(shipment) = named_or_first(&shipments, "Barcode", barcode) else {
        // `{"CompleteStatus":{},"Warnings":[{"Code":"2","Message":"No shipment found"}]}`
        return Ok(TrackResult::NotFound);
    };
    let mut checkpoints = Vec::new();
    for event in list(shipment, "Event") {
        let stamp = text_or_empty(event, "TimeStamp");
        let Some(at) = timestamp(&stamp) else {
            continue;
        };
        let code = text_or_empty(event, "Code");
        let place = Place::new("", "", "", "");
        checkpoints.push(checkpoint(
            at,
            map_event(&code),
            &code,
            &text_or_empty(event, "Description"),
            &place,
            &stamp,
        ));
    }
    if checkpoints.is_empty() {
        if let Some(status) = shipment.get("Status") {
            let stamp = text_or_empty(status, "TimeStamp");
            if let Some(at) = timestamp(&stamp) {
                let code = text_or_empty(status, "StatusCode");
                let mapped = map_status(&code);
                if mapped.0 != INFORMATIONAL {
                    checkpoints.push(checkpoint(
                        at,
                        mapped,
                        &format!("status {code}"),
                        &text_or_empty(status, "StatusDescription"),
                        &Place::default(),
                        &stamp,
                    ));
                }
            }
        }
    }
    Ok(TrackResult::unless_empty(checkpoints, || info(shipment)))
}

fn info(shipment: &Value) -> ShipmentInfo {
    let mut info = ShipmentInfo {
        service_code: text(shipment, "ProductDescription").map(|p| clean_html(&p)),
        pieces: text(shipment, "ShipmentAmount"),
        scheduled_delivery_date: path(shipment, &["Expectation", "ETAFrom"])
            .and_then(crate::json::as_text)
            .or_else(|| text(shipment, "DeliveryDate")),
        ..ShipmentInfo::default()
    };
    if let Some(grams) = path(shipment, &["Dimension", "Weight"]).and_then(crate::json::as_text) {
        info.weight = Some(format!("{grams} g"));
        info.weight_kg = grams.parse::<f64>().ok().map(|g| format!("{}", g / 1000.0));
    }
    for address in list(shipment, "Address") {
        let (country, city) = (text(address, "CountryCode"), text(address, "City"));
        match text_or_empty(address, "AddressType").as_str() {
            "01" => {
                info.destination_country = country;
                info.destination_city = city;
            }
            "02" => {
                info.origin_country = country;
                info.origin_city = city;
            }
            _ => {}
        }
    }
    info
}

/// Maps a PostNL event code (T&T table). Unknown codes count as transit.
pub fn map_event(code: &str) -> Mapped {
    let code = code.trim().to_ascii_uppercase();
    match code.as_str() {
        "A01" | "A10" | "A71" | "F01" | "X80" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "B01" | "X40" | "B04" => (S::Transit, Some(Sub::Transit001)),
        "J01" | "J06" => (S::Transit, Some(Sub::Transit002)),
        "J05" | "X55" | "J55" => (S::Pickup, Some(Sub::Pickup001)),
        "K14" | "J08" => (S::Undelivered, Some(Sub::Undelivered002)),
        "J29" | "J94" | "K70" | "Y02" | "Y10" | "Y42" => {
            (S::Undelivered, Some(Sub::Undelivered004))
        }
        "H01" | "H02" | "H03" | "H04" | "H05" | "H20" | "Y03" | "Y16" | "Y19" | "Y21" => {
            (S::Exception, Some(Sub::Exception011))
        }
        "Y04" | "Y14" | "H35" | "Y71" => (S::Exception, Some(Sub::Exception007)),
        "Y29" => (S::Exception, Some(Sub::Exception006)),
        "I01" | "I03" | "I05" | "I09" | "I10" | "I12" | "I22" | "I23" => {
            (S::Delivered, Some(Sub::Delivered001))
        }
        c if c.len() == 3 && c.starts_with('Z') && ("Z01".."Z10").contains(&c) => {
            (S::Delivered, Some(Sub::Delivered001))
        }
        "I08" | "J02" | "J12" | "J23" | "J52" | "X05" => (S::Pickup, Some(Sub::Pickup002)),
        _ => (S::Transit, None),
    }
}

/// Maps a PostNL shipment status code, for shipments without events.
pub fn map_status(code: &str) -> Mapped {
    match code.trim() {
        "1" | "13" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "14" => (S::Exception, Some(Sub::Exception008)),
        "2" | "3" => (S::Transit, Some(Sub::Transit001)),
        "4" => (S::Exception, Some(Sub::Exception005)),
        "15" | "16" | "17" | "18" => (S::Exception, Some(Sub::Exception007)),
        "19" | "27" | "28" => (S::Exception, Some(Sub::Exception005)),
        "5" | "21" | "31" | "6" => (S::Transit, Some(Sub::Transit001)),
        "7" => (S::Pickup, Some(Sub::Pickup001)),
        "8" => (S::Undelivered, Some(Sub::Undelivered004)),
        "9" | "20" => (S::Transit, Some(Sub::Transit005)),
        "11" => (S::Delivered, Some(Sub::Delivered001)),
        "12" => (S::Pickup, Some(Sub::Pickup002)),
        "22" | "23" => (S::Delivered, Some(Sub::Delivered002)),
        _ => (INFORMATIONAL, None),
    }
}
