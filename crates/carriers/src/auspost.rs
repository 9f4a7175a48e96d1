//! Australia Post Shipping & Tracking API (`GET /shipping/v1/track?tracking_ids=a,b`, up to 10
//! numbers a call), HTTP Basic with the API key and password plus the `Account-Number` header.
//! Courier code `australia-post`; only contract (eParcel, StarTrack) customers get access.
//!
//! Events carry no code, only a description, so they are mapped by their text
//! (`tables/australia-post.tsv`). Times come with their offset. A number Australia Post does
//! not know is a result with an `errors` list (`ESB-10001`) inside a 200; a consignment lists
//! its articles, whose events are merged.

use parceld_model::ShipmentInfo;
use serde_json::Value;

use crate::event::{EventList, Place};
use crate::http::KeyedApi;
use crate::json::{list, text, text_or_empty};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::{
    answer_key, carrier_api, Answers, CarrierError, ManyNumbersPerCall, TrackOutcome, TrackResult,
};

const CODE: &str = "australia-post";

// Australia Post publishes its limits in `X-RateLimit-*` headers, per account.
carrier_api!(AusPost, CODE, 2.0, 2, 10);

/// The Australia Post adapter.
pub struct AusPost {
    api: KeyedApi,
}

impl AusPost {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let api = KeyedApi::of::<Self>(settings)?
            .basic(
                required(CODE, "api_key", &settings.api_key)?,
                required(CODE, "password", &settings.password)?,
            )
            .header(
                "Account-Number",
                required(CODE, "account_number", &settings.account_number)?,
            );
        Ok(AusPost { api })
    }
}

impl ManyNumbersPerCall for AusPost {
    async fn track_many(&self, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let ids = numbers.join(",");
        let reply = self
            .api
            .get_json("/shipping/v1/track", &[("tracking_ids", ids)])
            .await?;
        reply.parsed(CODE, parse_response)
    }
}

/// Parses a track body into outcomes by number.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let value = crate::json::parse(CODE, body)?;
    let Some(results) = value.get("tracking_results").and_then(Value::as_array) else {
        let errors = list(&value, "errors");
        return Err(match errors.first() {
            Some(e) => CarrierError::permanent(format!(
                "{CODE}: {} {}",
                text_or_empty(e, "code"),
                text(e, "message").unwrap_or_else(|| text_or_empty(e, "name"))
            )),
            None => CarrierError::malformed(CODE, "no tracking_results"),
        });
    };
    Ok(results
        .iter()
        .map(|result| {
            let id = answer_key(&text_or_empty(result, "tracking_id"));
            (id, parse_result(result))
        })
        .collect())
}

fn parse_result(result: &Value) -> TrackOutcome {
    if let Some(error) = list(result, "errors").first() {
        let code = text_or_empty(error, "code");
        // ESB-10001 "Invalid tracking ID" is how Australia Post says it has no such number.
        if code.starts_with("ESB-1000") {
            return Ok(TrackResult::NotFound);
        }
        return Err(CarrierError::permanent(format!(
            "{CODE}: {code} {}",
            text_or_empty(error, "name")
        )));
    }
    // An article carries its events; a consignment lists its articles under `items`.
    let mut articles = Vec::new();
    for item in list(result, "trackable_items") {
        articles.extend(list(item, "items"));
        articles.push(item);
    }
    let mut events = EventList::new(
        code_table!("australia-post"),
        Some(chrono_tz::Australia::Sydney),
    );
    for event in articles.iter().flat_map(|a| list(a, "events")) {
        let place = place(&text_or_empty(event, "location"));
        events.add_json(event, ["date", "code", "description"], place);
    }
    Ok(events.finish(|| ShipmentInfo {
        service_code: articles.iter().find_map(|a| text(a, "product_type")),
        pieces: list(result, "trackable_items")
            .iter()
            .find_map(|c| text(c, "number_of_items")),
        destination_country: Some("AU".into()),
        ..ShipmentInfo::default()
    }))
}

const STATES: [&str; 8] = ["NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"];

/// `KEW VIC` (suburb and state), `CHICAGO (US)` (city and country), or anything else as a city.
fn place(location: &str) -> Place {
    let location = location.trim();
    if let Some((city, state)) = location.rsplit_once(' ') {
        if STATES.contains(&state) {
            return Place::new(city, state, "", "AU");
        }
    }
    Place::city_and_country(location).unwrap_or_else(|| Place::new(location, "", "", ""))
}
