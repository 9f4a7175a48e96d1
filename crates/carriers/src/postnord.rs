//! PostNord Track & Trace v5 (`GET /rest/shipment/v5/trackandtrace/findByIdentifier.json`), the
//! key in the `apikey` query parameter. Configured as `[carriers.postnord]`, it tracks the
//! courier codes of the posts PostNord runs: `sweden-posten` and `denmark-post`.
//!
//! One identifier a call; it may name a shipment of several items, whose events are merged. An
//! unknown identifier is a 200 with no `shipments`. Events carry a coarse `status`, refined by
//! their description (`tables/postnord.tsv`), and a local time without offset, placed in the zone
//! of the event's country.

use parceld_model::ShipmentInfo;
use serde_json::Value;

use crate::event::{EventList, Place};
use crate::http::KeyedApi;
use crate::json::{list, path, text, text_or_empty};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::{carrier_api, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest};

const CODE: &str = "postnord";

// PostNord's developer portal grants a quota per key; it publishes no rate.
carrier_api!(PostNord, CODE, 2.0, 2);

/// The PostNord adapter.
pub struct PostNord {
    api: KeyedApi,
    locale: String,
}

impl PostNord {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let key = required(CODE, "api_key", &settings.api_key)?;
        Ok(PostNord {
            api: KeyedApi::of::<Self>(settings)?.query("apikey", key),
            locale: settings.language.clone().unwrap_or_else(|| "en".into()),
        })
    }
}

impl OneNumberPerCall for PostNord {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let query = [("id", number), ("locale", self.locale.as_str())];
        let path = "/rest/shipment/v5/trackandtrace/findByIdentifier.json";
        let reply = self.api.get_json(path, &query).await?;
        reply.tracked(CODE, parse_response)
    }
}

/// Parses a `TrackingInformationResponse`.
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    let value = crate::json::parse(CODE, body)?;
    let Some(response) = value.get("TrackingInformationResponse") else {
        return Err(CarrierError::malformed(
            CODE,
            "no TrackingInformationResponse",
        ));
    };
    let shipments = list(response, "shipments");
    let mut events = EventList::new(code_table!("postnord"), Some(chrono_tz::Europe::Stockholm));
    for item in shipments.iter().flat_map(|s| list(s, "items")) {
        for event in list(item, "events") {
            let location = event.get("location").unwrap_or(&Value::Null);
            let place = Place::new(
                &text(location, "city")
                    .or_else(|| text(location, "displayName"))
                    .unwrap_or_default(),
                "",
                &text_or_empty(location, "postcode"),
                &text_or_empty(location, "countryCode"),
            );
            events.add_json(event, ["eventTime", "status", "eventDescription"], place);
        }
    }
    Ok(events.finish(|| {
        let shipment = shipments[0];
        let consignee = path(shipment, &["consignee", "address"]).unwrap_or(&Value::Null);
        let consignor = path(shipment, &["consignor", "address"]).unwrap_or(&Value::Null);
        ShipmentInfo {
            service_code: path(shipment, &["service", "name"]).and_then(crate::json::as_text),
            pieces: text(shipment, "assessedNumberOfItems"),
            scheduled_delivery_date: text(shipment, "estimatedTimeOfArrival")
                .or_else(|| text(shipment, "deliveryDate")),
            origin_country: text(consignor, "countryCode"),
            destination_country: text(consignee, "countryCode"),
            destination_city: text(consignee, "city"),
            ..ShipmentInfo::default()
        }
    }))
}
