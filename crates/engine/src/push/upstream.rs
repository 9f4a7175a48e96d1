//! Push from the aggregator upstreams (`/hooks/17track`, `/hooks/aftership`), as the reference
//! gives them:
//!
//! - **17TRACK** (`../shared/reference/carrier-apis-2.md` §A1 "Webhook", `trackingmore-api.md`
//!   §3): `{"event":"TRACKING_UPDATED","data":{number, carrier, param, tag, track_info}}`, header
//!   `sign` = lowercase hex SHA-256 of the raw body, `/` and the account's security key (a plain
//!   hash, not an HMAC).
//! - **AfterShip** (`carrier-apis-2.md` §A2 "Webhook", `trackingmore-api.md` §2.8): `{ts, event,
//!   event_id, is_tracking_first_tag, msg}` with the tracking as `msg`, header
//!   `aftership-hmac-sha256` = base64 HMAC-SHA256 of the raw body under the webhook secret.
//!
//! Both proofs are checked in constant time before anything else is read. The tracking is read
//! by the poll adapter's own parser, so a push and a poll give the same checkpoints. The courier
//! comes from the body: 17TRACK's `tag` (parceld sets it to its courier code when it registers a
//! number), else its carrier key; AfterShip's `slug`; each mapped back through the long-tail
//! table (`crates/detect/data/upstreams.tsv`). Events that carry no checkpoint (17TRACK's
//! `TRACKING_STOPPED`, AfterShip's `edd_revise`) are acknowledged and change nothing, so
//! that the upstream does not send them again; any other event is refused as not understood. TrackingMore's
//! webhook is not taken: its signature is documented two contradicting ways
//! (`trackingmore-api.md` §1.14).

use std::collections::HashSet;

use parceld_carriers::upstreams::{aftership, seventeen_track};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{constant_time_eq, header, update_event, verify_hmac_base64};
use super::{PushError, PushSource, PushedEvent};

/// The upstreams that push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    SeventeenTrack,
    AfterShip,
}

/// One upstream's push source.
pub struct UpstreamPush {
    upstream: Upstream,
    secret: String,
    couriers: HashSet<String>,
}

impl UpstreamPush {
    /// `upstream`'s source checking with `secret` (17TRACK's security key, AfterShip's webhook
    /// secret) and updating the `couriers` routed through it on this server.
    pub fn new(upstream: Upstream, secret: &str, couriers: HashSet<String>) -> Self {
        UpstreamPush {
            upstream,
            secret: secret.to_string(),
            couriers,
        }
    }

    /// The courier a 17TRACK `data` is for: its tag, else its carrier key mapped back.
    fn seventeen_track_courier(&self, data: &Value) -> Result<String, PushError> {
        let tag = data.get("tag").and_then(Value::as_str);
        let key = data.get("carrier").and_then(Value::as_u64);
        tag.filter(|tag| self.covers(tag))
            .or_else(|| parceld_detect::courier_by_17track_key(u32::try_from(key?).ok()?))
            .map(str::to_string)
            .ok_or_else(|| {
                PushError::Malformed(format!(
                    "neither its tag nor its carrier key ({key:?}) names a courier routed through 17TRACK here"
                ))
            })
    }
}

impl UpstreamPush {
    /// Whether `body` is an event the upstream documents that carries no tracking update:
    /// 17TRACK's `TRACKING_STOPPED` (it stopped tracking a number), AfterShip's `edd_revise`
    /// (a new estimated delivery date, which parceld does not keep).
    fn notice_without_update(&self, body: &[u8]) -> bool {
        let notice = match self.upstream {
            Upstream::SeventeenTrack => "TRACKING_STOPPED",
            Upstream::AfterShip => "edd_revise",
        };
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|value| value.get("event")?.as_str().map(|e| e == notice))
            .unwrap_or(false)
    }
}

/// 17TRACK's `sign` of `body` under `key`: hex SHA-256 of `body + "/" + key`.
pub fn seventeen_track_sign(key: &str, body: &[u8]) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(body)
            .chain_update(b"/")
            .chain_update(key.as_bytes())
            .finalize(),
    )
}

/// The text at `field` of `value`, or a refusal naming `what`.
fn required<'a>(value: &'a Value, field: &str, what: &str) -> Result<&'a str, PushError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| PushError::Malformed(format!("{what} is missing")))
}

impl PushSource for UpstreamPush {
    fn name(&self) -> &'static str {
        match self.upstream {
            Upstream::SeventeenTrack => "17track",
            Upstream::AfterShip => "aftership",
        }
    }

    fn covers(&self, courier: &str) -> bool {
        self.couriers.contains(courier)
    }

    /// 17TRACK's `track_info` and AfterShip's `msg` hold every checkpoint, every time.
    fn whole_history(&self) -> bool {
        true
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), PushError> {
        if self.upstream == Upstream::AfterShip {
            return verify_hmac_base64(headers, "aftership-hmac-sha256", &self.secret, body);
        }
        let sent = header(headers, "sign")
            .ok_or_else(|| PushError::Forged("no sign header".into()))?
            .trim()
            .to_ascii_lowercase();
        let expected = seventeen_track_sign(&self.secret, body);
        match constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            true => Ok(()),
            false => Err(PushError::Forged("sign does not match the body".into())),
        }
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<PushedEvent>, PushError> {
        if self.notice_without_update(body) {
            return Ok(Vec::new());
        }
        let event = match self.upstream {
            Upstream::SeventeenTrack => {
                let value = update_event(body, "TRACKING_UPDATED")?;
                let data = value.get("data").unwrap_or(&Value::Null);
                PushedEvent {
                    tracking_number: required(data, "number", "data.number")?.to_string(),
                    outcome: seventeen_track::parse_track_info(
                        data.get("track_info").unwrap_or(&Value::Null),
                    ),
                    courier: Some(self.seventeen_track_courier(data)?),
                }
            }
            Upstream::AfterShip => {
                let value = update_event(body, "tracking_update")?;
                let msg = value.get("msg").unwrap_or(&Value::Null);
                let slug = msg.get("slug").and_then(Value::as_str).unwrap_or("");
                let courier = parceld_detect::courier_by_aftership_slug(slug).ok_or_else(|| {
                    PushError::Malformed(format!(
                        "slug `{}` is not in parceld's courier mapping",
                        slug.chars().take(40).collect::<String>()
                    ))
                })?;
                PushedEvent {
                    tracking_number: required(msg, "tracking_number", "msg.tracking_number")?
                        .to_string(),
                    outcome: aftership::parse_tracking(msg),
                    courier: Some(courier.to_string()),
                }
            }
        };
        Ok(vec![event])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seventeen_track() -> UpstreamPush {
        let couriers = ["yanwen", "china-post"].map(String::from).into();
        UpstreamPush::new(Upstream::SeventeenTrack, "security-key", couriers)
    }

    fn body(tag: &str, carrier: u64) -> Vec<u8> {
        serde_json::json!({"event": "TRACKING_UPDATED", "data": {"number": "UG123456789YW",
            "carrier": carrier, "tag": tag, "track_info": {"tracking": {"providers": [{"events": [
                {"time_iso": "2026-05-03T08:10:00+02:00", "description": "Arrived",
                 "location": "FRANKFURT", "sub_status": "InTransit_Arrival"}]}]}}}})
        .to_string()
        .into_bytes()
    }

    fn checkpoints(event: &PushedEvent) -> usize {
        match &event.outcome {
            Ok(parceld_carriers::TrackResult::Found(shipment)) => shipment.checkpoints.len(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_17tracks_documented_sign_of_the_same_body_verifies() {
        let source = seventeen_track();
        let body = body("yanwen", 0);
        let mut headers = HeaderMap::new();
        headers.insert(
            "sign",
            seventeen_track_sign("security-key", &body).parse().unwrap(),
        );
        assert!(source.verify(&headers, &body).is_ok());
        assert!(source.verify(&headers, b"{}").is_err());
        headers.insert(
            "sign",
            seventeen_track_sign("other", &body).parse().unwrap(),
        );
        assert!(source.verify(&headers, &body).is_err());
        assert!(source.verify(&HeaderMap::new(), &body).is_err());
        // The documented formula spelled out: SHA-256 over body + "/" + key.
        let mut joined = body.clone();
        joined.extend_from_slice(b"/security-key");
        assert_eq!(
            seventeen_track_sign("security-key", &body),
            hex::encode(Sha256::digest(&joined))
        );
    }

    #[test]
    fn a_17track_courier_is_the_tag_else_the_carrier_key_mapped_back() {
        let source = seventeen_track();
        let courier = |body: Vec<u8>| source.parse(&body).map(|e| e[0].courier.clone().unwrap());
        assert_eq!(courier(body("yanwen", 3011)).unwrap(), "yanwen");
        assert_eq!(courier(body("order-17", 3011)).unwrap(), "china-post");
        assert!(courier(body("order-17", 1)).is_err());
        assert_eq!(
            checkpoints(&source.parse(&body("yanwen", 0)).unwrap()[0]),
            1
        );
        let stopped = br#"{"event":"TRACKING_STOPPED","data":{"number":"UG123456789YW"}}"#;
        assert!(source.parse(stopped).unwrap().is_empty(), "acknowledged");
        let unknown = br#"{"event":"TRACKING_PAUSED","data":{"number":"UG123456789YW"}}"#;
        assert!(matches!(
            source.parse(unknown),
            Err(PushError::Malformed(_))
        ));
    }

    #[test]
    fn a_signed_aftership_update_names_its_courier_by_slug() {
        let couriers = ["belgium-post".to_string()].into();
        let source = UpstreamPush::new(Upstream::AfterShip, "whsec", couriers);
        let body = serde_json::json!({"ts": 1, "event": "tracking_update", "event_id": "e",
            "is_tracking_first_tag": true, "msg": {"tracking_number": "CD123456785BE",
            "slug": "bpost", "checkpoints": [{"checkpoint_time": "2026-05-03T08:10:00+02:00",
            "message": "Departed", "city": "Brussels", "tag": "InTransit",
            "subtag": "InTransit_007"}]}})
        .to_string()
        .into_bytes();
        let mut headers = HeaderMap::new();
        let signed = |secret| super::super::hmac_base64(secret, &body).parse().unwrap();
        headers.insert("aftership-hmac-sha256", signed("whsec"));
        assert!(source.verify(&headers, &body).is_ok());
        headers.insert("aftership-hmac-sha256", signed("other"));
        assert!(source.verify(&headers, &body).is_err());
        let events = source.parse(&body).unwrap();
        assert_eq!(events[0].courier.as_deref(), Some("belgium-post"));
        assert_eq!(checkpoints(&events[0]), 1);
        let revised = br#"{"event":"edd_revise","msg":{"tracking_number":"X","slug":"bpost"}}"#;
        assert!(source.parse(revised).unwrap().is_empty(), "acknowledged");
        let other = br#"{"event":"tracking_deleted","msg":{"tracking_number":"X"}}"#;
        assert!(matches!(source.parse(other), Err(PushError::Malformed(_))));
    }
}
