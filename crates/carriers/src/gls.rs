//! GLS Group Track and Trace v1 (`GET /track-and-trace-v1/tracking/simple/trackids/{a,b}`, up
//! to 10 parcel numbers a call), OAuth 2 client credentials with HTTP Basic at
//! `/oauth2/v2/token`. Courier code `gls`.
//!
//! Each requested number comes back as a `parcels` entry: its events (a `FAMILY.DETAIL` code,
//! an English description, a place and an ISO time with a `+0200` offset), or an `errorCode`
//! (`E_404_01` when GLS does not know it). GLS's default quota is 500 requests a day.

use std::collections::HashMap;

use parceld_model::ShipmentInfo;
use serde_json::Value;

use crate::event::{EventList, Place};
use crate::http::{path_list, HttpClient};
use crate::json::{list, text, text_or_empty};
use crate::oauth::{OAuthClient, TokenAuth};
use crate::settings::{CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::{answer_key, carrier_api, Answers, CarrierApi, CarrierError, ManyNumbersPerCall};
use crate::{TrackOutcome, TrackResult};

const CODE: &str = "gls";

// GLS's default quota is 500 requests a day, which no per-second pace expresses: calls go at
// most one a second, and a spent quota answers 429 like any other limit.
carrier_api!(Gls, CODE, 1.0, 1, 10);

/// The GLS adapter.
pub struct Gls {
    http: HttpClient,
    oauth: OAuthClient,
    base: String,
    language: String,
}

impl Gls {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(Gls {
            http: Self::http_client(settings),
            oauth: OAuthClient::from_settings(
                CODE,
                settings,
                "/oauth2/v2/token",
                TokenAuth::Basic,
            )?,
            base: settings.base_url_for(CODE)?,
            language: settings.language.clone().unwrap_or_else(|| "EN".into()),
        })
    }
}

impl ManyNumbersPerCall for Gls {
    async fn track_many(&self, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let ids = path_list(numbers);
        let url = format!(
            "{}/track-and-trace-v1/tracking/simple/trackids/{ids}",
            self.base
        );
        let reply = self
            .oauth
            .send_authorized(&self.http, |client| {
                client
                    .get(&url)
                    .header("Accept", "application/json")
                    .header("Accept-Language", &self.language)
            })
            .await?;
        reply.parsed(CODE, parse_response)
    }
}

/// Parses a `parcels` answer into outcomes by requested number. A reference may match several
/// parcels; their events are merged under it.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let value = crate::json::parse(CODE, body)?;
    let Some(parcels) = value.get("parcels").and_then(Value::as_array) else {
        return Err(CarrierError::malformed(CODE, "no parcels"));
    };
    let mut by_number: HashMap<String, Vec<&Value>> = HashMap::new();
    for parcel in parcels {
        let requested = text(parcel, "requested").or_else(|| text(parcel, "unitno"));
        by_number
            .entry(answer_key(&requested.unwrap_or_default()))
            .or_default()
            .push(parcel);
    }
    Ok(by_number
        .into_iter()
        .map(|(number, parcels)| (number, parse_parcels(&parcels)))
        .collect())
}

fn parse_parcels(parcels: &[&Value]) -> TrackOutcome {
    let found: Vec<&Value> = parcels
        .iter()
        .copied()
        .filter(|p| p.get("errorCode").is_none())
        .collect();
    if found.is_empty() {
        let error = parcels.first().map(|p| text_or_empty(p, "errorCode"));
        return match error.as_deref() {
            Some(code) if code.starts_with("E_404") || code.starts_with("E_400_01") => {
                Ok(TrackResult::NotFound)
            }
            Some(code) => Err(CarrierError::retryable(format!(
                "{CODE} answered {code}: {}",
                parcels
                    .first()
                    .map(|p| text_or_empty(p, "errorMessage"))
                    .unwrap_or_default()
            ))),
            None => Ok(TrackResult::NotFound),
        };
    }
    let mut events = EventList::new(code_table!("gls"), None);
    for event in found.iter().flat_map(|p| list(p, "events")) {
        let place = Place::new(
            &text_or_empty(event, "city"),
            "",
            &text_or_empty(event, "postalCode"),
            &text_or_empty(event, "country"),
        );
        events.add_json(event, ["eventDateTime", "code", "description"], place);
    }
    Ok(events.finish(|| ShipmentInfo {
        pieces: (found.len() > 1).then(|| found.len().to_string()),
        ..ShipmentInfo::default()
    }))
}
