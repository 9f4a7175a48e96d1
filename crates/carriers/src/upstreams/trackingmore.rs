//! TrackingMore v4 (`https://api.trackingmore.com/v4`, header `Tracking-Api-Key`), the API whose
//! wire parceld itself speaks, so a shop can move off TrackingMore gradually. Answers are
//! `{"meta":{"code","message"},"data":…}`. parceld polls up to 40 numbers a call
//! (`GET /trackings/get?tracking_numbers=a,b&courier_code=…`), registers with `POST
//! /trackings/batch` (at most 40; error 4101 "already exists" is success), and stops by deleting
//! (`DELETE /trackings/delete/{id}`, the id read from the poll). Courier codes are TrackingMore's,
//! so they go as they are; its statuses are parceld's, so `tables/trackingmore.tsv` maps each
//! sub-status onto itself. Meta 4190 says the account's quota is used up.

use std::sync::LazyLock;

use parceld_model::ShipmentInfo;
use serde_json::{json, Value};

use super::api::{body_json, read, read_body, refused_key, Api};
use super::{quota_error, Protocol, Registered};
use crate::event::{EventList, Place};
use crate::json::{first_text, list, path, text, text_or_empty};
use crate::tables::CodeTable;
use crate::{answer_key, Answers, CarrierError, TrackOutcome, TrackRequest};

const NAME: &str = "trackingmore";

static TABLE: LazyLock<CodeTable> =
    LazyLock::new(|| CodeTable::built_in(NAME, include_str!("../../tables/trackingmore.tsv")));

/// "Tracking No. already exists."
const ALREADY_EXISTS: i64 = 4101;
/// "You are reaching the maximum quota limitation."
const QUOTA: i64 = 4190;

/// The TrackingMore protocol.
pub struct TrackingMore {
    api: Api,
}

impl TrackingMore {
    pub(crate) fn new(api: Api) -> Self {
        TrackingMore { api }
    }

    async fn get(&self, courier: &str, numbers: &[&str]) -> Result<Value, CarrierError> {
        let query = [
            ("tracking_numbers", numbers.join(",")),
            ("courier_code", courier.to_string()),
        ];
        let reply = self.api.get("/trackings/get", &query).await?;
        read(NAME, &reply, data)
    }
}

#[async_trait::async_trait]
impl Protocol for TrackingMore {
    async fn poll(&self, courier: &str, numbers: &[&str]) -> Result<Answers, CarrierError> {
        Ok(read_trackings(&self.get(courier, numbers).await?))
    }

    async fn register(
        &self,
        courier: &str,
        requests: &[&TrackRequest],
    ) -> Result<Registered, CarrierError> {
        let items: Vec<Value> = requests
            .iter()
            .map(|r| {
                let mut item =
                    json!({"tracking_number": r.tracking_number.trim(), "courier_code": courier});
                if let Some(code) = &r.postal_code {
                    item["tracking_postal_code"] = json!(code);
                }
                item
            })
            .collect();
        let reply = self
            .api
            .post("/trackings/batch", &Value::Array(items))
            .await?;
        Ok(read_registration(&read(NAME, &reply, data)?))
    }

    async fn stop(&self, courier: &str, numbers: &[&str]) -> Result<u64, CarrierError> {
        let found = self.get(courier, numbers).await?;
        let trackings = found
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        self.api
            .delete_each(trackings, |id| format!("/trackings/delete/{id}"))
            .await
    }
}

/// The `data` of a successful answer; `Err(Some)` for what the meta code says (refused key,
/// quota, another refusal), `Err(None)` for a failure only the HTTP status explains (429, 5xx).
fn data(success: bool, body: &[u8]) -> Result<Value, Option<CarrierError>> {
    let value = body_json(NAME, success, body)?;
    let Some(code) = path(&value, &["meta", "code"]).and_then(Value::as_i64) else {
        return Err(success.then(|| CarrierError::malformed(NAME, "no meta code")));
    };
    let message = path(&value, &["meta", "message"])
        .and_then(crate::json::as_text)
        .unwrap_or_default();
    match code {
        200 => value
            .get("data")
            .cloned()
            .ok_or_else(|| Some(CarrierError::malformed(NAME, "no data"))),
        401 | 403 => Err(Some(refused_key(NAME, &format!("{code} {message}")))),
        QUOTA => Err(Some(quota_error(NAME, &format!("{code} {message}")))),
        429 | 500..=599 => Err(None),
        _ => Err(Some(CarrierError::permanent(format!(
            "{NAME}: {code} {message}"
        )))),
    }
}

fn read_registration(data: &Value) -> Registered {
    let mut registered = Registered {
        new: list(data, "success").len() as u64,
        refused: Vec::new(),
    };
    for item in list(data, "error") {
        let code = item.get("errorCode").and_then(Value::as_i64).unwrap_or(0);
        if code == ALREADY_EXISTS {
            continue;
        }
        let message = format!("{code} {}", text_or_empty(item, "errorMessage"));
        let error = if code == QUOTA {
            quota_error(NAME, &message)
        } else {
            CarrierError::permanent(format!("{NAME}: {message}"))
        };
        registered
            .refused
            .push((answer_key(&text_or_empty(item, "tracking_number")), error));
    }
    registered
}

fn read_trackings(data: &Value) -> Answers {
    super::by_number(data.as_array().into_iter().flatten(), parse_tracking)
}

/// One tracking: both legs' checkpoints, each by its sub-status (or status).
fn parse_tracking(tracking: &Value) -> TrackOutcome {
    let mut events = EventList::new(&TABLE, None);
    for leg in ["origin_info", "destination_info"] {
        let checkpoints = tracking
            .get(leg)
            .map(|l| list(l, "trackinfo"))
            .unwrap_or_default();
        for c in checkpoints {
            let field = |name| text_or_empty(c, name);
            let place = Place::new(
                &field("city"),
                &field("state"),
                &field("zip"),
                &field("country_iso2"),
            );
            let code = [
                "checkpoint_delivery_substatus",
                "checkpoint_delivery_status",
            ];
            events.add(
                &field("checkpoint_date"),
                &first_text(c, &code),
                &field("tracking_detail"),
                place,
            );
        }
    }
    Ok(events.finish(|| ShipmentInfo {
        signed_by: text(tracking, "signed_by"),
        ..ShipmentInfo::default()
    }))
}

/// Parses a `/trackings/get` body into outcomes by number.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    Ok(read_trackings(&read_body(NAME, body, data)?))
}

/// Parses a `/trackings/batch` body.
pub fn parse_registration(body: &[u8]) -> Result<Registered, CarrierError> {
    Ok(read_registration(&read_body(NAME, body, data)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_takes_4101_as_done_and_4190_as_the_quota() {
        let body = br#"{"meta":{"code":200,"message":"ok"},"data":{"success":[{"tracking_number":"A1"}],
            "error":[{"tracking_number":"B2","errorCode":4101,"errorMessage":"Tracking No. already exists."},
                     {"tracking_number":"C3","errorCode":4190,"errorMessage":"quota"}]}}"#;
        let registered = parse_registration(body).unwrap();
        assert_eq!(registered.new, 1);
        assert_eq!(registered.refused.len(), 1);
        assert!(super::super::is_quota_error(&registered.refused[0].1));
    }
}
