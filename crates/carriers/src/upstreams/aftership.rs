//! AfterShip Tracking API, version 2025-01 (`https://api.aftership.com/tracking/2025-01`, header
//! `as-api-key`), answered `{"meta":{"code","message","type"},"data":…}`. parceld polls with the
//! list filter (`GET /trackings?tracking_numbers=a,b&slug=…`), registers one number a call
//! (`POST /trackings`; meta 4003 "already exists" is success) and stops by deleting the tracking
//! (`DELETE /trackings/{id}`, the id read from the list).
//!
//! Checkpoints map by their `subtag` (or `tag`) through `tables/aftership.tsv`. The slug sent for a
//! courier comes from the long-tail table (`crates/detect/data/upstreams.tsv`); without one,
//! AfterShip detects the courier among those activated on the account.

use std::sync::LazyLock;

use parceld_model::ShipmentInfo;
use serde_json::{json, Value};

use super::api::{body_json, read, read_body, refused_key, Api};
use super::{quota_error, Protocol, Registered};
use crate::event::{EventList, Place};
use crate::json::{first_text, list, text, text_or_empty};
use crate::tables::CodeTable;
use crate::{answer_key, Answers, CarrierError, TrackOutcome, TrackRequest};

const NAME: &str = "aftership";

static TABLE: LazyLock<CodeTable> =
    LazyLock::new(|| CodeTable::built_in(NAME, include_str!("../../tables/aftership.tsv")));

/// Meta code of "Tracking already exists."
const ALREADY_EXISTS: i64 = 4003;

/// The AfterShip protocol.
pub struct AfterShip {
    api: Api,
}

impl AfterShip {
    pub(crate) fn new(api: Api) -> Self {
        AfterShip { api }
    }

    /// The list of trackings of `numbers` (with `courier`'s slug, when known).
    async fn list(&self, courier: &str, numbers: &[&str]) -> Result<Value, CarrierError> {
        let mut query = vec![("tracking_numbers", numbers.join(","))];
        if let Some(slug) = slug(courier) {
            query.push(("slug", slug.to_string()));
        }
        let reply = self.api.get("/trackings", &query).await?;
        read(NAME, &reply, envelope)
    }
}

fn slug(courier: &str) -> Option<&'static str> {
    parceld_detect::upstream_ids(courier).and_then(|ids| ids.aftership)
}

#[async_trait::async_trait]
impl Protocol for AfterShip {
    async fn register(
        &self,
        courier: &str,
        requests: &[&TrackRequest],
    ) -> Result<Registered, CarrierError> {
        let mut registered = Registered::default();
        for request in requests {
            let number = request.tracking_number.trim();
            let mut body = json!({ "tracking_number": number });
            if let Some(slug) = slug(courier) {
                body["slug"] = json!(slug);
            }
            if let Some(code) = &request.postal_code {
                body["tracking_postal_code"] = json!(code);
            }
            let reply = self.api.post("/trackings", &body).await?;
            match read(NAME, &reply, envelope) {
                Ok(_) => registered.new += 1,
                Err(CarrierError::Permanent { reason }) if reason.contains("4003") => {}
                Err(error) if error.is_retryable() => return Err(error),
                Err(error) => registered.refused.push((answer_key(number), error)),
            }
        }
        Ok(registered)
    }

    async fn poll(&self, courier: &str, numbers: &[&str]) -> Result<Answers, CarrierError> {
        Ok(read_trackings(&self.list(courier, numbers).await?))
    }

    async fn stop(&self, courier: &str, numbers: &[&str]) -> Result<u64, CarrierError> {
        let data = self.list(courier, numbers).await?;
        let trackings = list(&data, "trackings");
        self.api
            .delete_each(trackings, |id| format!("/trackings/{id}"))
            .await
    }
}

/// The `data` of a successful answer. An answer whose meta says what failed is `Err(Some)`:
/// 401 (refused key), 429 (rate limit, or the free plan's daily quota), 4003 (already exists,
/// as a refusal carrying its code), 5xx; `Err(None)` when the body says nothing usable.
fn envelope(success: bool, body: &[u8]) -> Result<Value, Option<CarrierError>> {
    let value = body_json(NAME, success, body)?;
    let Some(meta) = value.get("meta") else {
        return Err(success.then(|| CarrierError::malformed(NAME, "no meta")));
    };
    let code = meta.get("code").and_then(Value::as_i64).unwrap_or(0);
    let message = text_or_empty(meta, "message");
    match code {
        200 | 201 => match value.get("data") {
            Some(data @ Value::Object(_)) => Ok(data.clone()),
            _ => Err(Some(CarrierError::malformed(NAME, "no data"))),
        },
        401 | 403 => Err(Some(refused_key(NAME, &format!("{code} {message}")))),
        429 if message.to_ascii_lowercase().contains("per day") => {
            Err(Some(quota_error(NAME, &format!("{code} {message}"))))
        }
        429 | 500..=599 => Err(None),
        ALREADY_EXISTS => Err(Some(CarrierError::permanent(format!(
            "{NAME}: 4003 {message}"
        )))),
        _ => Err(Some(CarrierError::permanent(format!(
            "{NAME}: {code} {message}"
        )))),
    }
}

/// Outcomes by number of a list's `trackings` (or of `data` itself, when it is one tracking).
fn read_trackings(data: &Value) -> Answers {
    let trackings = match data.get("tracking_number") {
        Some(_) => vec![data],
        None => list(data, "trackings"),
    };
    super::by_number(trackings, parse_tracking)
}

/// One tracking object (a list's item, or a webhook's `msg`) read as a poll's outcome.
pub fn parse_tracking(tracking: &Value) -> TrackOutcome {
    let mut events = EventList::new(&TABLE, None);
    for checkpoint in list(tracking, "checkpoints") {
        let field = |name| text_or_empty(checkpoint, name);
        let city = first_text(checkpoint, &["city", "location"]);
        events.add(
            &field("checkpoint_time"),
            &first_text(checkpoint, &["subtag", "tag"]),
            &field("message"),
            Place::new(&city, &field("state"), &field("zip"), ""),
        );
    }
    Ok(events.finish(|| ShipmentInfo {
        signed_by: text(tracking, "signed_by"),
        ..ShipmentInfo::default()
    }))
}

/// Parses a list (or single-tracking) body into outcomes by number.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    Ok(read_trackings(&read_body(NAME, body, envelope)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_codes_read_as_their_failures() {
        let body = |code: u16, message: &str| {
            format!(r#"{{"meta":{{"code":{code},"message":"{message}","type":"x"}},"data":{{}}}}"#)
        };
        let read =
            |status: u16, code, message| envelope(status < 300, body(code, message).as_bytes());
        assert!(matches!(
            read(401, 401, "Invalid API key."),
            Err(Some(CarrierError::Credentials { .. }))
        ));
        let quota = read(
            429,
            429,
            "Default limit is 100 request per day for free user",
        )
        .unwrap_err()
        .unwrap();
        assert!(super::super::is_quota_error(&quota), "{quota}");
        assert!(read(429, 429, "Too many requests").unwrap_err().is_none());
        assert!(read(503, 503, "Service unavailable").unwrap_err().is_none());
        let exists = read(400, 4003, "Tracking already exists.")
            .unwrap_err()
            .unwrap();
        assert!(exists.to_string().contains("4003"));
    }
}
