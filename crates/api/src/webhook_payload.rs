//! Webhook bodies: `{"event", "event_id", "meta", "data"}` with the tracking in the endpoint's
//! version.
//!
//! v4 endpoints get the same tracking object `GET /v4/trackings/get` returns ([`TrackingView`]).
//! Legacy v2 endpoints get TrackingMore v2's field names (`carrier_code`, `status`, `lastEvent`,
//! `origin_info.trackinfo[{Date, StatusDescription, Details}]`) and the body-level `verifyInfo
//! {timeStr, signature}` old receivers check. The v2 object here is deliberately small: it is
//! what v2 webhook receivers read, not the whole legacy API.

use chrono::{DateTime, Utc};
use parceld_engine::webhooks::{signing, EventContext, RenderPayload};
use parceld_model::{Leg, Tracking};
use parceld_store::WebhookVersion;
use serde_json::{json, Value};

use crate::v2::wire::{local_time, plain_time};
use crate::v4::wire::{iso, TrackingView};

/// The tracking a test event carries (it lives with the test send in `parceld_service`; the wire
/// tests render it too).
pub use parceld_service::webhooks::sample_tracking;

/// The renderer the dispatcher and the test endpoint use: [`render`] at the time of sending.
pub const RENDERER: RenderPayload = |event, tracking, version, secret| {
    render(event, tracking, version, secret, Utc::now()).to_string()
};

/// The body as JSON; `now` is when it is rendered (first attempt).
pub fn render(
    event: &EventContext<'_>,
    tracking: &Tracking,
    version: WebhookVersion,
    secret: &str,
    now: DateTime<Utc>,
) -> Value {
    let meta = json!({
        "code": 200,
        "message": "Success",
        "webhook_id": event.webhook_id,
        "delivery_id": event.delivery_id,
        "event_time": iso(event.created_at),
        "version": version.as_str(),
    });
    match version {
        WebhookVersion::V4 => json!({
            "event": event.event,
            "event_id": event.event_id,
            "meta": meta,
            "data": serde_json::to_value(TrackingView::new(tracking, now)).unwrap_or(Value::Null),
        }),
        WebhookVersion::V2 => {
            let time_str = now.timestamp().to_string();
            json!({
                "event": event.event,
                "event_id": event.event_id,
                "meta": meta,
                "data": v2_tracking(tracking),
                "verifyInfo": {
                    "timeStr": time_str,
                    "signature": signing::v2_signature(secret, &time_str),
                },
            })
        }
    }
}

fn v2_leg(tracking: &Tracking, leg: Leg, courier: Option<&str>) -> Value {
    let registry = courier.and_then(parceld_detect::courier);
    let trackinfo: Vec<Value> = tracking
        .checkpoints
        .iter()
        .filter(|c| c.leg == leg)
        .map(|c| {
            json!({
                "Date": local_time(c),
                "StatusDescription": c.detail,
                "Details": c.location,
                "checkpoint_status": c.status.as_str(),
                "substatus": c.substatus.map(|s| s.as_str()),
            })
        })
        .collect();
    json!({
        "weblink": registry.map(|c| c.url),
        "phone": registry.map(|c| c.phone),
        "trackinfo": trackinfo,
    })
}

/// The tracking with TrackingMore v2's names.
pub fn v2_tracking(t: &Tracking) -> Value {
    let f = &t.fields;
    let s = &t.shipment;
    json!({
        "id": t.id.to_string(),
        "tracking_number": t.tracking_number,
        "carrier_code": t.courier_code,
        "status": t.delivery_status.as_str(),
        "substatus": t.substatus.map(|s| s.as_str()),
        "created_at": plain_time(t.created_at),
        "updated_at": plain_time(t.updated_at),
        "order_create_time": f.order_date,
        "title": f.title,
        "order_id": f.order_id.clone().or_else(|| f.order_number.clone()),
        "comment": f.note,
        "customer_name": f.customer_name,
        "customer_email": f.customer_email,
        "original_country": s.origin_country.clone().or_else(|| f.origin_country_iso2.clone()),
        "destination_country": s.destination_country.clone().or_else(|| f.destination_country_iso2.clone()),
        "lastEvent": t.latest_event,
        "lastUpdateTime": t.latest_checkpoint_time.map(plain_time),
        "origin_info": v2_leg(t, Leg::Origin, Some(&t.courier_code)),
        "destination_info": v2_leg(t, Leg::Destination, s.destination_courier_code.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(created_at: DateTime<Utc>) -> EventContext<'static> {
        EventContext {
            event: "TRACKING_UPDATED",
            event_id: "evt_1",
            created_at,
            webhook_id: "wh_1",
            delivery_id: "dlv_1",
        }
    }

    #[test]
    fn v4_payload_carries_the_v4_tracking() {
        let now = Utc::now();
        let t = sample_tracking(now);
        let body = render(&context(now), &t, WebhookVersion::V4, "whsec_AAAA", now);
        assert_eq!(body["event"], "TRACKING_UPDATED");
        assert_eq!(body["event_id"], "evt_1");
        assert_eq!(body["meta"]["code"], 200);
        assert_eq!(body["data"]["courier_code"], "sandbox");
        assert_eq!(body["data"]["delivery_status"], "transit");
        assert_eq!(
            body["data"]["origin_info"]["trackinfo"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(body.get("verifyInfo").is_none());
    }

    #[test]
    fn v2_payload_uses_v2_names_and_verify_info() {
        let now = Utc::now();
        let t = sample_tracking(now);
        let secret = "whsec_AAAA";
        let body = render(&context(now), &t, WebhookVersion::V2, secret, now);
        let data = &body["data"];
        assert_eq!(data["carrier_code"], "sandbox");
        assert_eq!(data["status"], "transit");
        assert!(data["lastEvent"].is_string());
        assert!(data["lastUpdateTime"].is_string());
        let first = &data["origin_info"]["trackinfo"][0];
        assert_eq!(first["StatusDescription"], "Arrived at the sorting center");
        assert_eq!(first["Details"], "Utrecht, NL");
        assert!(first["Date"].as_str().unwrap().len() == 19);
        assert!(data.get("courier_code").is_none());
        let time_str = body["verifyInfo"]["timeStr"].as_str().unwrap();
        assert_eq!(
            body["verifyInfo"]["signature"],
            signing::v2_signature(secret, time_str)
        );
    }
}
