//! FedEx Track API (`POST /track/v1/trackingnumbers`, up to 30 numbers a call), OAuth client
//! credentials in a form body at `/oauth/token`.
//!
//! FedEx reports "not found" per number inside a 200, may return several `trackResults` for
//! one number (a reused number; the one with the newest scan wins), and mixes dates with and
//! without an offset — an offset-less event borrows the offset of an event at the same place,
//! else the zone of its state, else a neighbour's.

use std::collections::HashMap;

use chrono::DateTime;
use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus as S, ShipmentInfo, SubStatus as Sub};
use serde_json::{json, Value};

use crate::event::{checkpoint, Mapped, Place};
use crate::http::{DefaultLimits, HttpClient};
use crate::json::{list, path, text, text_or_empty};
use crate::oauth::{OAuthClient, TokenAuth};
use crate::settings::{CarrierSettings, ConfigError};
use crate::time::{parse_naive, parse_with_offset, resolve_with_neighbours, zone_for, Zone};
use crate::{Carrier, CarrierError, Shipment, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "fedex";

/// FedEx takes at most this many numbers per call.
pub const MAX_BATCH: usize = 30;

/// Requests a second and calls in flight, unless configured.
const DEFAULT_LIMITS: DefaultLimits = DefaultLimits::new(5.0, 4);

/// The FedEx adapter.
#[derive(Debug)]
pub struct FedEx {
    http: HttpClient,
    oauth: OAuthClient,
    base: String,
}

impl FedEx {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(FedEx {
            http: HttpClient::configured(CODE, settings, DEFAULT_LIMITS),
            oauth: OAuthClient::from_settings(CODE, settings, "/oauth/token", TokenAuth::FormBody)?,
            base: settings.base_url_for(CODE)?,
        })
    }

    async fn track_batch(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        match self.call(batch).await {
            Ok(body) => parse_batch(batch, &body),
            Err(error) => batch
                .iter()
                .map(|r| (r.tracking_number.clone(), Err(error.clone())))
                .collect(),
        }
    }

    async fn call(&self, batch: &[TrackRequest]) -> Result<Vec<u8>, CarrierError> {
        let url = format!("{}/track/v1/trackingnumbers", self.base);
        let body = request_body(batch);
        let reply = self
            .oauth
            .send_authorized(&self.http, |client| {
                client.post(&url).header("X-locale", "en_US").json(&body)
            })
            .await?;
        if reply.status.is_success() {
            Ok(reply.body)
        } else {
            Err(reply.error(CODE))
        }
    }
}

/// The request body for a batch.
pub fn request_body(batch: &[TrackRequest]) -> Value {
    let items: Vec<Value> = batch
        .iter()
        .map(|r| {
            let mut item =
                json!({ "trackingNumberInfo": { "trackingNumber": r.tracking_number.trim() } });
            if let Some(date) = &r.ship_date {
                item["shipDateBegin"] = json!(date);
                item["shipDateEnd"] = json!(date);
            }
            item
        })
        .collect();
    json!({ "includeDetailedScans": true, "trackingInfo": items })
}

/// Parses a FedEx answer into one outcome per requested number, in request order.
pub fn parse_batch(batch: &[TrackRequest], body: &[u8]) -> Vec<(String, TrackOutcome)> {
    let parsed = parse_response(body);
    batch
        .iter()
        .map(|r| {
            let number = r.tracking_number.trim();
            let outcome = match &parsed {
                Err(e) => Err(e.clone()),
                Ok(map) => map.get(number).cloned().unwrap_or_else(|| {
                    Err(CarrierError::malformed(
                        CODE,
                        format!("no result for {number}"),
                    ))
                }),
            };
            (r.tracking_number.clone(), outcome)
        })
        .collect()
}

/// Parses a FedEx answer into outcomes by tracking number.
pub fn parse_response(body: &[u8]) -> Result<HashMap<String, TrackOutcome>, CarrierError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
    let Some(results) = path(&value, &["output", "completeTrackResults"]).and_then(Value::as_array)
    else {
        let message = list(&value, "errors").first().map(|e| {
            format!(
                "{}: {}",
                text_or_empty(e, "code"),
                text_or_empty(e, "message")
            )
        });
        return Err(match message {
            Some(m) => CarrierError::permanent(format!("fedex rejected the request: {m}")),
            None => CarrierError::malformed(CODE, "no output.completeTrackResults"),
        });
    };
    let mut out = HashMap::new();
    for complete in results {
        let number = text_or_empty(complete, "trackingNumber");
        let mut best: Option<(i64, Shipment)> = None;
        let mut error: Option<TrackOutcome> = None;
        for result in list(complete, "trackResults") {
            // FedEx may put an `error` beside scan events (an informational code, or one piece
            // of a multi-piece answer): the events win; an error alone is the result.
            if let Some(shipment) = parse_result(result) {
                let newest = shipment
                    .checkpoints
                    .first()
                    .map_or(i64::MIN, |c| c.time.timestamp());
                if best.as_ref().is_none_or(|(t, _)| newest > *t) {
                    best = Some((newest, shipment));
                }
            } else if let Some(e) = result.get("error").filter(|e| !e.is_null()) {
                let code = text_or_empty(e, "code");
                let outcome = if code.contains("NOTFOUND") || code.contains("INVALID") {
                    Ok(TrackResult::NotFound)
                } else {
                    Err(CarrierError::retryable(format!(
                        "fedex: {code}: {}",
                        text_or_empty(e, "message")
                    )))
                };
                error.get_or_insert(outcome);
            }
        }
        let outcome = match (best, error) {
            (Some((_, shipment)), _) => Ok(TrackResult::Found(shipment)),
            (None, Some(outcome)) => outcome,
            (None, None) => Ok(TrackResult::NotFound),
        };
        out.insert(number, outcome);
    }
    Ok(out)
}

fn place_of(location: &Value) -> Place {
    Place::new(
        &text_or_empty(location, "city"),
        &text_or_empty(location, "stateOrProvinceCode"),
        &text_or_empty(location, "postalCode"),
        &text_or_empty(location, "countryCode"),
    )
}

fn parse_result(result: &Value) -> Option<Shipment> {
    struct Raw {
        text: String,
        place: Place,
        mapped: Mapped,
        code: String,
        detail: String,
    }
    let mut raws = Vec::new();
    let mut known_offsets: HashMap<(String, String, String), chrono::FixedOffset> = HashMap::new();
    for scan in list(result, "scanEvents") {
        let place = place_of(scan.get("scanLocation").unwrap_or(&Value::Null));
        let text_date = text_or_empty(scan, "date");
        if let Some(dt) = parse_with_offset(&text_date) {
            known_offsets
                .entry((
                    place.city.to_uppercase(),
                    place.state.clone(),
                    place.country.clone(),
                ))
                .or_insert(*dt.offset());
        }
        let code = text_or_empty(scan, "eventType");
        let mut detail = text_or_empty(scan, "eventDescription");
        if let Some(exception) = text(scan, "exceptionDescription") {
            detail = format!("{detail}: {exception}");
        }
        let mapped = map_event(
            &code,
            &text_or_empty(scan, "derivedStatusCode"),
            &text_or_empty(scan, "exceptionDescription"),
        );
        raws.push(Raw {
            text: text_date,
            place,
            mapped,
            code,
            detail,
        });
    }
    let mut fixed: Vec<Option<DateTime<chrono::FixedOffset>>> = Vec::new();
    let mut naive = Vec::new();
    for raw in &raws {
        if let Some(dt) = parse_with_offset(&raw.text) {
            fixed.push(Some(dt));
            naive.push((dt.naive_local(), Some(Zone::Fixed(*dt.offset()))));
        } else if let Some(local) = parse_naive(&raw.text) {
            let key = (
                raw.place.city.to_uppercase(),
                raw.place.state.clone(),
                raw.place.country.clone(),
            );
            let zone = known_offsets
                .get(&key)
                .map(|o| Zone::Fixed(*o))
                .or_else(|| zone_for(&raw.place.country, &raw.place.state).map(Zone::Named));
            fixed.push(None);
            naive.push((local, zone));
        } else {
            fixed.push(None);
            naive.push((chrono::NaiveDateTime::MIN, None));
        }
    }
    let resolved = resolve_with_neighbours(&naive);
    let checkpoints: Vec<_> = raws
        .iter()
        .zip(resolved)
        .zip(naive.iter())
        .filter(|(_, (local, _))| *local != chrono::NaiveDateTime::MIN)
        .map(|((raw, at), _)| {
            checkpoint(
                at,
                raw.mapped,
                &raw.code,
                &raw.detail,
                &raw.place,
                &raw.text,
            )
        })
        .collect();
    if checkpoints.is_empty() {
        return None;
    }
    Some(Shipment::new(checkpoints, info(result)))
}

fn info(result: &Value) -> ShipmentInfo {
    let mut info = ShipmentInfo {
        service_code: path(result, &["serviceDetail", "description"])
            .and_then(crate::json::as_text),
        signed_by: path(result, &["deliveryDetails", "receivedByName"])
            .and_then(crate::json::as_text),
        ..ShipmentInfo::default()
    };
    info.scheduled_delivery_date = estimated_delivery(result);
    if let Some(weight) = path(result, &["packageDetails", "weightAndDimensions", "weight"])
        .and_then(Value::as_array)
        .and_then(|w| w.first())
    {
        if let Some(v) = text(weight, "value") {
            info.weight = Some(
                format!("{v} {}", text_or_empty(weight, "unit"))
                    .trim()
                    .to_string(),
            );
        }
    }
    let address = |who: &str| {
        path(result, &[who, "address"])
            .cloned()
            .unwrap_or(Value::Null)
    };
    let origin = address("shipperInformation");
    info.origin_country = text(&origin, "countryCode");
    info.origin_state = text(&origin, "stateOrProvinceCode");
    info.origin_city = text(&origin, "city");
    let destination = address("recipientInformation");
    info.destination_country = text(&destination, "countryCode");
    info.destination_state = text(&destination, "stateOrProvinceCode");
    info.destination_city = text(&destination, "city");
    info
}

/// FedEx's expected delivery, most specific first: an `ESTIMATED_DELIVERY` (or appointment)
/// entry of `dateAndTimes`, then the end (else the start) of `estimatedDeliveryTimeWindow`, then
/// of `standardTransitTimeWindow` (the service's standard transit, given before the first scan
/// that lets FedEx estimate). Kept as FedEx writes it (an ISO date-time with its offset).
fn estimated_delivery(result: &Value) -> Option<String> {
    let dated = list(result, "dateAndTimes").into_iter().find_map(|dt| {
        matches!(
            text_or_empty(dt, "type").as_str(),
            "ESTIMATED_DELIVERY" | "APPOINTMENT_DELIVERY"
        )
        .then(|| text(dt, "dateTime"))
        .flatten()
    });
    let window_edge = |name: &str| {
        ["ends", "begins"]
            .into_iter()
            .find_map(|edge| path(result, &[name, "window", edge]).and_then(crate::json::as_text))
    };
    dated
        .or_else(|| window_edge("estimatedDeliveryTimeWindow"))
        .or_else(|| window_edge("standardTransitTimeWindow"))
}

/// Maps a FedEx `eventType`, falling back on `derivedStatusCode` for unknown types.
pub fn map_event(event_type: &str, derived: &str, exception: &str) -> Mapped {
    match event_type.trim() {
        "OC" => (S::Inforeceived, Some(Sub::Inforeceived001)),
        "RP" | "LP" | "RG" | "RD" | "RR" | "RM" | "RC" => (INFORMATIONAL, None),
        "PU" | "PX" => (S::Transit, Some(Sub::Transit001)),
        "AR" | "AF" | "AA" | "AC" | "AX" => (S::Transit, Some(Sub::Transit002)),
        "AO" | "AE" | "EA" | "EO" | "FD" | "IT" | "IX" | "LO" | "OF" | "Ow" | "OW" | "PF"
        | "PL" | "PM" | "SF" | "TR" | "CH" | "SP" | "DS" | "DR" | "OX" | "DP" => {
            (S::Transit, Some(Sub::Transit001))
        }
        "CC" | "CP" => (S::Transit, Some(Sub::Transit005)),
        "DY" | "DD" | "PD" | "CD" => (S::Transit, Some(Sub::Transit001)),
        "OD" | "ED" | "AD" => (S::Pickup, Some(Sub::Pickup001)),
        "HL" | "HP" => (S::Pickup, Some(Sub::Pickup002)),
        "DE" => {
            let text = exception.to_ascii_lowercase();
            if text.contains("refused") {
                (S::Exception, Some(Sub::Exception009))
            } else if text.contains("address") {
                (S::Undelivered, Some(Sub::Undelivered001))
            } else if text.contains("not available")
                || text.contains("not home")
                || text.contains("no one")
            {
                (S::Undelivered, Some(Sub::Undelivered002))
            } else {
                (S::Undelivered, Some(Sub::Undelivered004))
            }
        }
        "DL" => (S::Delivered, Some(Sub::Delivered001)),
        "SE" => (S::Exception, Some(Sub::Exception005)),
        "RS" => (S::Exception, Some(Sub::Exception011)),
        "CA" => (S::Exception, Some(Sub::Exception008)),
        _ => match derived.trim() {
            "IN" => (S::Inforeceived, Some(Sub::Inforeceived001)),
            "PU" | "IT" => (S::Transit, Some(Sub::Transit001)),
            "DL" => (S::Delivered, Some(Sub::Delivered001)),
            "DE" => (S::Undelivered, Some(Sub::Undelivered004)),
            "" => (INFORMATIONAL, None),
            _ => (S::Transit, None),
        },
    }
}

#[async_trait::async_trait]
impl Carrier for FedEx {
    fn code(&self) -> &'static str {
        CODE
    }

    fn max_batch(&self) -> usize {
        MAX_BATCH
    }

    fn default_rate(&self) -> f64 {
        DEFAULT_LIMITS.rate_per_second
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        crate::track_in_chunks(batch, MAX_BATCH, |chunk| self.track_batch(chunk)).await
    }
}
