//! Royal Mail Tracking API v2 (`GET /mailpieces/v2/{mailPieceId}/events`), IBM API Connect
//! credentials in the `X-IBM-Client-Id` / `X-IBM-Client-Secret` headers plus
//! `X-Accept-RMG-Terms: yes`. Courier code `royal-mail`.
//!
//! One number a call: the summary endpoint takes 30 but gives only the last event. Events carry
//! ISO times with their offset and a five-letter code (`tables/royal-mail.tsv`); an unknown
//! number is a 404 with `E1142`.

use parceld_model::ShipmentInfo;

use crate::event::{EventList, Place};
use crate::http::{KeyedApi, NO_QUERY};
use crate::json::{list, path, text_or_empty};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::ups::encode;
use crate::{carrier_api, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest};

const CODE: &str = "royal-mail";

// Royal Mail publishes no rate; its portal plans are per-minute quotas.
carrier_api!(RoyalMail, CODE, 2.0, 2);

/// The Royal Mail adapter.
pub struct RoyalMail {
    api: KeyedApi,
}

impl RoyalMail {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let api = KeyedApi::of::<Self>(settings)?
            .header(
                "X-IBM-Client-Id",
                required(CODE, "client_id", &settings.client_id)?,
            )
            .header(
                "X-IBM-Client-Secret",
                required(CODE, "client_secret", &settings.client_secret)?,
            )
            .header("X-Accept-RMG-Terms", "yes");
        Ok(RoyalMail { api })
    }
}

impl OneNumberPerCall for RoyalMail {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let path = format!("/mailpieces/v2/{}/events", encode(number));
        let reply = self.api.get_json(&path, NO_QUERY).await?;
        reply.tracked(CODE, parse_response)
    }
}

/// Parses a Royal Mail events body (a 200's `mailPieces`).
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    let value = crate::json::parse(CODE, body)?;
    let Some(piece) = value.get("mailPieces") else {
        return Err(CarrierError::malformed(CODE, "no mailPieces"));
    };
    let mut events = EventList::new(code_table!("royal-mail"), Some(chrono_tz::Europe::London));
    for event in list(piece, "events") {
        let place = Place::new(&text_or_empty(event, "locationName"), "", "", "");
        events.add_json(event, ["eventDateTime", "eventCode", "eventName"], place);
    }
    Ok(events.finish(|| ShipmentInfo {
        service_code: path(piece, &["summary", "productName"]).and_then(crate::json::as_text),
        signed_by: path(piece, &["signature", "recipientName"]).and_then(crate::json::as_text),
        scheduled_delivery_date: path(piece, &["estimatedDelivery", "date"])
            .and_then(crate::json::as_text),
        ..ShipmentInfo::default()
    }))
}
