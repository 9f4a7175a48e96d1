//! FedEx webhook push: the Track API's `completeTrackResults` for one number, holding its
//! newest visible event, signed with `fdx-signature` = base64(HMAC-SHA256(security token, body)).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{local, newest_first, offset_text};
use crate::Simulator;

/// The FedEx push of `number`'s newest visible event; `None` when it has none.
pub(crate) fn body(sim: &Simulator, number: &str) -> Option<Value> {
    let events = newest_first(sim, "fedex", number)?;
    let (event, place) = events.first()?;
    let (local_time, hours) = local(event, place);
    let (code, description, exception, derived) = super::fedex::codes(event.kind);
    Some(
        json!({"transactionId": "sim-push", "output": {"completeTrackResults": [{
            "trackingNumber": number,
            "trackResults": [{
                "trackingNumberInfo": {"trackingNumber": number, "carrierCode": "FDXG"},
                "scanEvents": [{
                    "date": format!("{}{}", local_time.format("%Y-%m-%dT%H:%M:%S"), offset_text(hours)),
                    "eventType": code, "eventDescription": description,
                    "exceptionCode": "", "exceptionDescription": exception,
                    "scanLocation": {"city": place.city, "stateOrProvinceCode": place.state, "postalCode": place.zip, "countryCode": place.country},
                    "derivedStatusCode": derived
                }]
            }]
        }]}}),
    )
}

/// The `fdx-signature` of `body` under `secret`.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
