//! 17TRACK Tracking API v2.2 (`https://api.17track.net/track/v2.2`, header `17token`): every
//! endpoint a `POST` of a JSON array of at most 40 items, answered
//! `{"code":0,"data":{"accepted":[…],"rejected":[{"number","error":{"code","message"}}]}}`.
//! `/gettrackinfo` polls, `/register` registers (one quota unit per new number and carrier;
//! `-18019901` "already registered" is success), `/stoptrack` stops.
//!
//! A tracking's events come in legs (`track_info.tracking.providers[]`, one per carrier that
//! handled it), merged here; each event's `sub_status` (or, without one, its `stage`) maps through
//! `tables/17track.tsv`. The carrier key sent for a courier comes from the long-tail table
//! (`crates/detect/data/upstreams.tsv`); without one, 17TRACK detects the carrier. Registration
//! sets the item's `tag` to parceld's courier code, which 17TRACK's webhook echoes.

use std::sync::LazyLock;

use parceld_model::ShipmentInfo;
use serde_json::{json, Value};

use super::api::{read, read_body, refused_key, Api};
use super::{quota_error, Protocol, Registered};
use crate::event::{EventList, Place};
use crate::json::{first_text, list, path, text, text_or_empty};
use crate::tables::CodeTable;
use crate::{answer_key, Answers, CarrierError, TrackOutcome, TrackRequest};

const NAME: &str = "17track";

static TABLE: LazyLock<CodeTable> =
    LazyLock::new(|| CodeTable::built_in(NAME, include_str!("../../tables/17track.tsv")));

/// "Tracking number is not registered yet": polled before registering.
const NOT_REGISTERED: i64 = -18019902;
/// "Tracking number is already registered": registering is idempotent.
const ALREADY_REGISTERED: i64 = -18019901;
/// Envelope codes that mean the key (or the account, or the caller's address) is refused.
const REFUSED: [i64; 4] = [-18010001, -18010002, -18010004, -18010005];

/// The 17TRACK protocol.
pub struct SeventeenTrack {
    api: Api,
}

impl SeventeenTrack {
    pub(crate) fn new(api: Api) -> Self {
        SeventeenTrack { api }
    }

    async fn call(&self, path: &str, items: Vec<Value>) -> Result<Value, CarrierError> {
        let reply = self.api.post(path, &Value::Array(items)).await?;
        read(NAME, &reply, envelope)
    }
}

/// The item naming `number` (and its 17TRACK carrier key, when the table has one).
fn item(courier: &str, number: &str) -> Value {
    let mut item = json!({ "number": number });
    if let Some(key) = parceld_detect::upstream_ids(courier).and_then(|ids| ids.seventeen_track) {
        item["carrier"] = json!(key);
    }
    item
}

#[async_trait::async_trait]
impl Protocol for SeventeenTrack {
    async fn poll(&self, courier: &str, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let items = numbers.iter().map(|n| item(courier, n)).collect();
        let data = self.call("/gettrackinfo", items).await?;
        Ok(read_track_data(&data).answers)
    }

    async fn register(
        &self,
        courier: &str,
        requests: &[&TrackRequest],
    ) -> Result<Registered, CarrierError> {
        // The `tag` (echoed in every webhook) is parceld's courier code, so a push names the
        // courier even when 17TRACK has no key for it in the table and detects the carrier.
        let items = requests
            .iter()
            .map(|r| {
                let mut item = item(courier, r.tracking_number.trim());
                item["tag"] = json!(courier);
                item
            })
            .collect();
        let data = self.call("/register", items).await?;
        Ok(read_registration(&data))
    }

    async fn stop(&self, courier: &str, numbers: &[&str]) -> Result<u64, CarrierError> {
        let items = numbers.iter().map(|n| item(courier, n)).collect();
        let data = self.call("/stoptrack", items).await?;
        Ok(list(&data, "accepted").len() as u64)
    }
}

/// The `data` of an answer whose `code` is 0; a refused key or any other envelope error
/// otherwise. A failed HTTP status is explained by the status alone.
fn envelope(success: bool, body: &[u8]) -> Result<Value, Option<CarrierError>> {
    if !success {
        return Err(None);
    }
    let value = crate::json::parse(NAME, body)?;
    let Some(code) = value.get("code").and_then(Value::as_i64) else {
        return Err(Some(CarrierError::malformed(NAME, "no code")));
    };
    let data = value.get("data").cloned().unwrap_or(Value::Null);
    if code == 0 && data.is_object() {
        return Ok(data);
    }
    let message = list(&data, "errors")
        .first()
        .and_then(|e| text(e, "message"))
        .or_else(|| text(&value, "message"))
        .unwrap_or_default();
    Err(Some(match code {
        0 => CarrierError::malformed(NAME, "no data"),
        code if REFUSED.contains(&code) => refused_key(NAME, &format!("{code} {message}")),
        code => CarrierError::permanent(format!("{NAME}: {code} {message}")),
    }))
}

/// What a `/gettrackinfo` answer says.
#[derive(Debug, Default)]
pub struct TrackData {
    /// Outcomes by number: the accepted ones, and the rejected ones other than "not registered".
    pub answers: Answers,
    /// The numbers 17TRACK has not registered.
    pub unregistered: Vec<String>,
}

fn read_track_data(data: &Value) -> TrackData {
    let mut out = TrackData::default();
    for accepted in list(data, "accepted") {
        let number = answer_key(&text_or_empty(accepted, "number"));
        let outcome = parse_track_info(accepted.get("track_info").unwrap_or(&Value::Null));
        out.answers.insert(number, outcome);
    }
    for (number, code, message) in rejections(data) {
        if code == NOT_REGISTERED {
            out.unregistered.push(number);
        } else {
            out.answers.insert(number, Err(rejected(code, &message)));
        }
    }
    out
}

/// The error for a rejected item: a used-up quota is retried later, anything else is refused.
fn rejected(code: i64, message: &str) -> CarrierError {
    if message.to_ascii_lowercase().contains("quota") {
        quota_error(NAME, &format!("{code} {message}"))
    } else {
        CarrierError::permanent(format!("{NAME}: {code} {message}"))
    }
}

/// The rejected items: number (as [`answer_key`]), error code and message.
fn rejections(data: &Value) -> Vec<(String, i64, String)> {
    list(data, "rejected")
        .into_iter()
        .map(|r| {
            let error = r.get("error").unwrap_or(&Value::Null);
            (
                answer_key(&text_or_empty(r, "number")),
                error.get("code").and_then(Value::as_i64).unwrap_or(0),
                text_or_empty(error, "message"),
            )
        })
        .collect()
}

fn read_registration(data: &Value) -> Registered {
    let mut registered = Registered {
        new: list(data, "accepted").len() as u64,
        refused: Vec::new(),
    };
    for (number, code, message) in rejections(data) {
        if code != ALREADY_REGISTERED {
            registered.refused.push((number, rejected(code, &message)));
        }
    }
    registered
}

/// One number's `track_info` (a `/gettrackinfo` item's, or a webhook's): every leg's events
/// merged. No events (17TRACK has not found the number at its carrier yet) is `NotFound`.
pub fn parse_track_info(info: &Value) -> TrackOutcome {
    let mut events = EventList::new(&TABLE, None);
    let providers = path(info, &["tracking"])
        .map(|t| list(t, "providers"))
        .unwrap_or_default();
    for event in providers.iter().flat_map(|p| list(p, "events")) {
        let country = path(event, &["address", "country"]).and_then(crate::json::as_text);
        let place = Place::new(
            &text_or_empty(event, "location"),
            "",
            "",
            &country.unwrap_or_default(),
        );
        events.add(
            &first_text(event, &["time_iso", "time_utc"]),
            &first_text(event, &["sub_status", "stage"]),
            &text_or_empty(event, "description"),
            place,
        );
    }
    Ok(events.finish(ShipmentInfo::default))
}

/// Parses a `/gettrackinfo` body into outcomes by number; a number 17TRACK has not registered
/// reads as a refusal saying so (the adapter registers it instead).
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let data = read_body(NAME, body, envelope)?;
    let mut parsed = read_track_data(&data);
    for number in parsed.unregistered {
        let error = CarrierError::permanent(format!("{NAME}: {NOT_REGISTERED} not registered"));
        parsed.answers.insert(number, Err(error));
    }
    Ok(parsed.answers)
}

/// Parses a `/register` body: how many were registered, and which were refused.
pub fn parse_registration(body: &[u8]) -> Result<Registered, CarrierError> {
    Ok(read_registration(&read_body(NAME, body, envelope)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_counts_new_numbers_and_takes_already_registered_as_done() {
        let body = br#"{"code":0,"data":{"accepted":[{"number":"A1"},{"number":"B2"}],
            "rejected":[{"number":"C3","error":{"code":-18019901,"message":"already registered"}},
                        {"number":"D4","error":{"code":-18019908,"message":"Insufficient quota."}},
                        {"number":"E5","error":{"code":-18019903,"message":"Carrier cannot be detected."}}]}}"#;
        let registered = parse_registration(body).unwrap();
        assert_eq!(registered.new, 2);
        let refused: Vec<&str> = registered.refused.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(refused, ["D4", "E5"]);
        assert!(super::super::is_quota_error(&registered.refused[0].1));
        assert!(!registered.refused[1].1.is_retryable());
    }

    #[test]
    fn a_refused_key_names_the_table() {
        let body = br#"{"code":-18010002,"data":{"errors":[{"code":-18010002,"message":"Invalid security key."}]}}"#;
        let error = parse_response(body).unwrap_err();
        assert!(matches!(error, CarrierError::Credentials { .. }), "{error}");
        assert!(error.to_string().contains("[upstreams.17track]"), "{error}");
    }
}
