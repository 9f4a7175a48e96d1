//! bpost tracked mail (`GET /services/trackedmail/item/{itemCode}/trackingInfo`), HTTP Basic with
//! the account id and passphrase of bpost's Shipping Manager. Courier code `bpost`.
//!
//! One item a call; the answer is an `itemTracking` XML document whose `stateInfo` entries are
//! the events (a three-character `stateCode`, `tables/bpost.tsv`, and an ISO time with offset).
//! bpost's own errors are `businessException` (about the request or item) and
//! `systemException` (on its side) documents.

use parceld_model::ShipmentInfo;

use crate::event::{EventList, Place};
use crate::http::{KeyedApi, NO_QUERY};
use crate::settings::{CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::ups::encode;
use crate::xml::{parse_xml, Element};
use crate::{carrier_api, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "bpost";

// bpost publishes no rate for the tracking service.
carrier_api!(Bpost, CODE, 2.0, 2);

/// The bpost adapter: the tracked-mail API with the account's Basic credentials.
pub struct Bpost(KeyedApi);

impl Bpost {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(Bpost(KeyedApi::basic_from_settings::<Self>(settings)?))
    }
}

impl OneNumberPerCall for Bpost {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let path = format!("/services/trackedmail/item/{}/trackingInfo", encode(number));
        let reply = self.0.get(&path, NO_QUERY, "application/xml").await?;
        reply.tracked(CODE, parse_response)
    }
}

/// Parses an `itemTracking` document, or one of bpost's exceptions.
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    let root = parse_xml(CODE, body)?;
    match root.name.as_str() {
        "itemTracking" => Ok(item(&root)),
        "businessException" | "systemException" => exception(&root),
        other => Err(CarrierError::malformed(
            CODE,
            format!("unexpected root <{other}>"),
        )),
    }
}

fn exception(root: &Element) -> TrackOutcome {
    // The message may span lines; one line reads better in check_error.
    let message = root
        .text_of("message")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = message.to_lowercase();
    if root.name == "systemException" {
        Err(CarrierError::retryable(format!("{CODE}: {message}")))
    } else if ["not found", "unknown", "does not exist"]
        .iter()
        .any(|w| lower.contains(w))
    {
        Ok(TrackResult::NotFound)
    } else {
        Err(CarrierError::permanent(format!("{CODE}: {message}")))
    }
}

fn item(root: &Element) -> TrackResult {
    let mut events = EventList::new(code_table!("bpost"), Some(chrono_tz::Europe::Brussels));
    for state in root.all("stateInfo") {
        let (time, code) = (state.text_of("time"), state.text_of("stateCode"));
        events.add(
            &time,
            &code,
            &state.text_of("stateDescription"),
            Place::default(),
        );
    }
    events.finish(|| {
        let address = |who: &str| root.at(&[who, "address"]).cloned().unwrap_or_default();
        let (from, to) = (address("sender"), address("addressee"));
        let some = |text: String| (!text.is_empty()).then_some(text);
        let grams = root.text_at(&["itemDetail", "weightInGrams"]);
        ShipmentInfo {
            weight: some(grams.clone()).map(|g| format!("{g} g")),
            weight_kg: grams.parse::<f64>().ok().map(|g| (g / 1000.0).to_string()),
            origin_country: some(from.text_of("countryCode")),
            origin_city: some(from.text_of("city")),
            destination_country: some(to.text_of("countryCode")),
            destination_city: some(to.text_of("city")),
            ..ShipmentInfo::default()
        }
    })
}
