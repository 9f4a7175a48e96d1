//! La Poste Suivi v2, "Okapi" (`GET /suivi/v2/idships/{id,id…}`), the key in `X-Okapi-Key`.
//! Configured as `[carriers.laposte]`, it tracks courier codes `laposte` (letters), `colissimo`
//! and `chronopost`: one API answers for all three.
//!
//! One number answers one object; several answer an array of them, each with its own
//! `returnCode` (200, or 400/404 for a number La Poste rejects or does not know). An unknown
//! number alone is a 404, whose body may not be JSON. Events carry a three-character code
//! (`tables/laposte.tsv`) and ISO times with their offset, but no place.

use parceld_model::ShipmentInfo;
use reqwest::StatusCode;
use serde_json::Value;

use crate::event::{EventList, Place};
use crate::http::{path_list, KeyedApi};
use crate::json::{list, path, text, text_or_empty};
use crate::settings::{CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::{answer_key, carrier_api, Answers, CarrierError, ManyNumbersPerCall};
use crate::{TrackOutcome, TrackResult};

const CODE: &str = "laposte";

// La Poste documents no rate for Suivi (its portal plans are quotas), nor a limit on the ids
// of one call: calls stay small.
carrier_api!(LaPoste, CODE, 2.0, 2, 10);

/// The La Poste adapter.
pub struct LaPoste {
    api: KeyedApi,
    lang: String,
}

impl LaPoste {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(LaPoste {
            api: KeyedApi::from_settings::<Self>(settings, "X-Okapi-Key")?,
            lang: settings.language.clone().unwrap_or_else(|| "en_US".into()),
        })
    }
}

impl ManyNumbersPerCall for LaPoste {
    async fn track_many(&self, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let path = format!("/suivi/v2/idships/{}", path_list(numbers));
        let reply = self.api.get_json(&path, &[("lang", &self.lang)]).await?;
        if reply.status.is_success() || reply.status == StatusCode::NOT_FOUND {
            match parse_response(&reply.body) {
                Err(_) if reply.status == StatusCode::NOT_FOUND => {
                    // A 404 without a JSON body: none of the numbers is known.
                    let unknown = |n: &&str| (answer_key(n), Ok(TrackResult::NotFound));
                    Ok(numbers.iter().map(unknown).collect())
                }
                parsed => parsed,
            }
        } else {
            Err(reply.error(CODE))
        }
    }
}

/// Parses a Suivi answer (one object or an array of them) into outcomes by number.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let value = crate::json::parse(CODE, body)?;
    let answers: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    answers
        .into_iter()
        .map(|answer| {
            let number = path(answer, &["shipment", "idShip"])
                .or_else(|| answer.get("idShip"))
                .and_then(crate::json::as_text)
                .ok_or_else(|| CarrierError::malformed(CODE, "an answer without idShip"))?;
            Ok((answer_key(&number), parse_answer(answer)))
        })
        .collect()
}

fn parse_answer(answer: &Value) -> TrackOutcome {
    let code = text_or_empty(answer, "returnCode");
    let Some(shipment) = answer.get("shipment").filter(|_| code.starts_with('2')) else {
        // 400 (a number La Poste calls invalid) and 404 (unknown) both mean it has nothing.
        return match code.as_str() {
            "400" | "404" => Ok(TrackResult::NotFound),
            _ => Err(CarrierError::retryable(format!(
                "{CODE} answered returnCode {code}: {}",
                text_or_empty(answer, "returnMessage")
            ))),
        };
    };
    let mut events = EventList::new(code_table!("laposte"), Some(chrono_tz::Europe::Paris));
    for event in list(shipment, "event") {
        events.add_json(event, ["date", "code", "label"], Place::default());
    }
    let context = shipment.get("contextData").unwrap_or(&Value::Null);
    Ok(events.finish(|| ShipmentInfo {
        service_code: text(shipment, "product"),
        scheduled_delivery_date: text(shipment, "estimDate")
            .or_else(|| text(shipment, "deliveryDate")),
        origin_country: text(context, "originCountry"),
        destination_country: text(context, "arrivalCountry"),
        ..ShipmentInfo::default()
    }))
}
