//! DHL Shipment Tracking – Unified (`GET /track/shipments?trackingNumber=`), API key in the
//! `DHL-API-Key` header.
//!
//! The same API tracks Deutsche Post letters ([`DeutschePost`], `service=post-de`).
//!
//! DHL gives only five coarse status codes, so out-for-delivery, pickup-point and attempt
//! events are told apart by their text (English and German patterns). Timestamps may end in
//! `Z`, carry an offset, or (parcel-de) be German local time with nothing.

use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use serde_json::Value;

use crate::event::{non_empty, resolve_events, LocalEvent, Mapped, Place};
use crate::http::KeyedApi;
use crate::json::{list, named_or_first, path, text, text_or_empty};
use crate::settings::{CarrierSettings, ConfigError};
use crate::time::{parse_naive, parse_with_offset, zone_for, Zone};
use crate::TrackResult;
use crate::{carrier_api, CarrierApi, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest};

const CODE: &str = "dhl";

/// The DHL adapter.
#[derive(Debug)]
pub struct Dhl {
    api: KeyedApi,
    service: Option<String>,
    language: String,
}

impl Dhl {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Dhl::of::<Self>(settings, None)
    }

    /// DHL's API as adapter `T`'s settings configure it, asking for `service` unless they name
    /// one.
    fn of<T: CarrierApi>(
        settings: &CarrierSettings,
        service: Option<&str>,
    ) -> Result<Self, ConfigError> {
        Ok(Dhl {
            api: KeyedApi::from_settings::<T>(settings, "DHL-API-Key")?,
            service: non_empty(settings.service.as_deref()).or(service.map(str::to_string)),
            language: non_empty(settings.language.as_deref()).unwrap_or_else(|| "en".into()),
        })
    }

    /// Tracks `number` for the courier `carrier` (whose name the errors carry).
    async fn track_as(
        &self,
        carrier: &'static str,
        number: &str,
        request: &TrackRequest,
    ) -> TrackOutcome {
        let mut query = vec![
            ("trackingNumber", number.to_string()),
            ("language", self.language.clone()),
        ];
        if let Some(service) = &self.service {
            query.push(("service", service.clone()));
        }
        if let Some(zip) = &request.postal_code {
            query.push(("recipientPostalCode", zip.clone()));
        }
        let reply = self.api.get_json("/track/shipments", &query).await?;
        reply.tracked(carrier, |body| parse_for(carrier, number, body))
    }
}

// The starter quota is 1 call a second and 250 a day.
carrier_api!(Dhl, CODE, 1.0, 1);

impl OneNumberPerCall for Dhl {
    async fn track_one(&self, number: &str, request: &TrackRequest) -> TrackOutcome {
        self.track_as(CODE, number, request).await
    }
}

/// Deutsche Post letters (courier code `deutsch-post`): DHL's API with `service=post-de`, under
/// a key of its own in `[carriers.deutsch-post]`. Letters' events come in German local time
/// without offset.
pub struct DeutschePost(Dhl);

carrier_api!(DeutschePost, "deutsch-post", 1.0, 1);

impl DeutschePost {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(DeutschePost(Dhl::of::<Self>(settings, Some("post-de"))?))
    }
}

impl OneNumberPerCall for DeutschePost {
    async fn track_one(&self, number: &str, request: &TrackRequest) -> TrackOutcome {
        self.0.track_as(Self::CODE, number, request).await
    }
}

fn place_of(location: Option<&Value>) -> Place {
    let address = location
        .and_then(|l| l.get("address"))
        .cloned()
        .unwrap_or(Value::Null);
    Place::new(
        &text_or_empty(&address, "addressLocality"),
        "",
        &text_or_empty(&address, "postalCode"),
        &text_or_empty(&address, "countryCode"),
    )
}

/// Parses a DHL body (a 200 with `shipments`, or a problem+json) for `number`.
pub fn parse_response(number: &str, body: &[u8]) -> TrackOutcome {
    parse_for(CODE, number, body)
}

/// [`parse_response`] for the courier `carrier` tracked through DHL's API (`dhl`,
/// `deutsch-post`), whose name its errors carry.
pub fn parse_for(carrier: &str, number: &str, body: &[u8]) -> TrackOutcome {
    let value = crate::json::parse(carrier, body)?;
    if value.get("shipments").is_none() {
        if text(&value, "status").as_deref() == Some("404") {
            return Ok(TrackResult::NotFound);
        }
        return Err(CarrierError::malformed(carrier, "no shipments"));
    }
    let shipments = list(&value, "shipments");
    let Some(shipment) = named_or_first(&shipments, "id", number) else {
        return Ok(TrackResult::NotFound);
    };
    let service = text_or_empty(shipment, "service");
    let home_zone = match service.as_str() {
        "parcel-de" | "post-de" => Some(chrono_tz::Europe::Berlin),
        "parcel-nl" => Some(chrono_tz::Europe::Amsterdam),
        "parcel-uk" => Some(chrono_tz::Europe::London),
        "parcel-pl" => Some(chrono_tz::Europe::Warsaw),
        _ => None,
    };
    let mut items = Vec::new();
    for event in list(shipment, "events") {
        let place = place_of(event.get("location"));
        let stamp = text_or_empty(event, "timestamp");
        let (local, zone) = if let Some(dt) = parse_with_offset(&stamp) {
            (dt.naive_local(), Some(Zone::Fixed(*dt.offset())))
        } else if let Some(naive) = parse_naive(&stamp) {
            let zone = home_zone
                .or_else(|| zone_for(&place.country, ""))
                .map(Zone::Named);
            (naive, zone)
        } else {
            continue;
        };
        let code = text_or_empty(event, "statusCode");
        let detailed = text(event, "statusDetailed");
        let description = text(event, "description")
            .or_else(|| text(event, "status"))
            .unwrap_or_default();
        let all_text = format!(
            "{} {} {}",
            description,
            text_or_empty(event, "status"),
            detailed.clone().unwrap_or_default()
        );
        let raw = match &detailed {
            Some(d) => format!("{code}/{d}"),
            None => code.clone(),
        };
        items.push(LocalEvent {
            local,
            zone,
            mapped: map_event(&code, &all_text),
            raw_status: raw,
            detail: description,
            place,
            raw_time: stamp,
        });
    }
    let checkpoints = resolve_events(&items);
    Ok(TrackResult::unless_empty(checkpoints, || info(shipment)))
}

fn info(shipment: &Value) -> ShipmentInfo {
    let details = shipment.get("details").cloned().unwrap_or(Value::Null);
    let origin = place_of(shipment.get("origin"));
    let destination = place_of(shipment.get("destination"));
    let some = |s: String| (!s.is_empty()).then_some(s);
    ShipmentInfo {
        service_code: path(&details, &["product", "productName"]).and_then(crate::json::as_text),
        signed_by: path(&details, &["proofOfDelivery", "signed", "name"])
            .and_then(crate::json::as_text),
        pieces: text(&details, "totalNumberOfPieces"),
        weight: details.get("weight").and_then(|w| {
            text(w, "value").map(|v| {
                format!("{v} {}", text_or_empty(w, "unitText"))
                    .trim()
                    .to_string()
            })
        }),
        weight_kg: details
            .get("weight")
            .filter(|w| text(w, "unitText").as_deref() == Some("kg"))
            .and_then(|w| text(w, "value")),
        // The estimate itself, else the end of its time frame (some services give only that).
        scheduled_delivery_date: text(shipment, "estimatedTimeOfDelivery").or_else(|| {
            path(
                shipment,
                &["estimatedDeliveryTimeFrame", "estimatedThrough"],
            )
            .and_then(crate::json::as_text)
        }),
        origin_country: some(origin.country),
        origin_city: some(origin.city),
        destination_country: some(destination.country),
        destination_city: some(destination.city),
        ..ShipmentInfo::default()
    }
}

/// Maps DHL's `statusCode`, refined by the event's texts.
pub fn map_event(status_code: &str, texts: &str) -> Mapped {
    let t = texts.to_lowercase();
    let any = |patterns: &[&str]| patterns.iter().any(|p| t.contains(p));
    match status_code.trim() {
        "pre-transit" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "transit" => {
            if any(&[
                "out for delivery",
                "with delivery courier",
                "in das zustellfahrzeug geladen",
                "zustellfahrzeug",
            ]) {
                (S::Pickup, Some(Sub::Pickup001))
            } else if any(&[
                "ready for pickup",
                "ready for collection",
                "zur abholung bereit",
                "packstation",
            ]) {
                (S::Pickup, Some(Sub::Pickup002))
            } else if any(&["customs", "zoll"]) {
                (S::Transit, Some(Sub::Transit005))
            } else {
                (S::Transit, Some(Sub::Transit001))
            }
        }
        "delivered" => (S::Delivered, Some(Sub::Delivered001)),
        "failure" => {
            if any(&["refused", "verweigert"]) {
                (S::Exception, Some(Sub::Exception009))
            } else if any(&["return", "rücksendung", "zurück"]) {
                (S::Exception, Some(Sub::Exception011))
            } else if any(&["not home", "nicht angetroffen", "attempt", "zustellversuch"]) {
                (S::Undelivered, Some(Sub::Undelivered002))
            } else {
                // Bad address and anything else DHL calls a failure.
                (S::Exception, Some(Sub::Exception005))
            }
        }
        _ => (S::Transit, None),
    }
}
