//! UPS Track Alert API v2: subscriptions to UPS's push of package events, and reading a pushed
//! event.
//!
//! `POST /api/track/v2/subscription/standard/package` with up to 100 `1Z`/`1R` numbers answers
//! which numbers UPS accepted (`validTrackingNumbers`) and which it refused; a subscription
//! lasts 14 days and sends no history. UPS then posts each event to the URL set in the UPS
//! developer portal, with the `x-api-key` given there. A pushed event has the Track API's
//! activity in other words (`activityStatus`, `localActivityDate`, …), so it is rewritten into
//! the Track API's shape and read by the same parser as a poll ([`crate::ups::parse_response`]):
//! the same status mapping and time zones.

use chrono::Duration;
use serde_json::{json, Value};

use crate::http::HttpClient;
use crate::json::{text, text_or_empty};
use crate::oauth::{OAuthClient, TokenAuth};
use crate::settings::{CarrierSettings, ConfigError};
use crate::{CarrierApi, CarrierError, TrackOutcome};

const CODE: &str = "ups";
/// The most numbers one subscription call takes.
pub const MAX_BATCH: usize = 100;
/// How long UPS pushes a subscribed number's events.
pub const SUBSCRIPTION_DAYS: i64 = 14;
/// The subscription route under the API root.
pub const SUBSCRIBE_PATH: &str = "/api/track/v2/subscription/standard/package";

/// Which numbers a subscription call covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeAnswer {
    pub accepted: Vec<String>,
    pub refused: Vec<String>,
}

/// A Track Alert client: the UPS adapter's credentials and API root.
#[derive(Debug)]
pub struct TrackAlert {
    http: HttpClient,
    oauth: OAuthClient,
    base: String,
}

impl TrackAlert {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(TrackAlert {
            http: crate::ups::Ups::http_client(settings),
            oauth: OAuthClient::from_settings(
                CODE,
                settings,
                "/security/v1/oauth/token",
                TokenAuth::Basic,
            )?,
            base: settings.base_url_for(CODE)?,
        })
    }

    /// How long a subscription lasts.
    pub fn lifetime(&self) -> Duration {
        Duration::days(SUBSCRIPTION_DAYS)
    }

    /// Subscribes up to [`MAX_BATCH`] numbers (more are refused by UPS; the caller batches).
    pub async fn subscribe(&self, numbers: &[String]) -> Result<SubscribeAnswer, CarrierError> {
        let url = format!("{}{SUBSCRIBE_PATH}", self.base);
        let body = json!({
            "locale": "en_US",
            "countryCode": "US",
            "trackingNumberList": numbers,
            "eventPreferences": ["D", "I", "M", "X", "U"],
        });
        let reply = self
            .oauth
            .send_authorized(&self.http, |client| {
                client
                    .post(&url)
                    .header("transId", format!("parceld-sub-{}", numbers.len()))
                    .header("transactionSrc", "parceld")
                    .json(&body)
            })
            .await?;
        reply.parsed(CODE, |body| {
            let value: Value =
                serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
            let list = |key: &str| -> Vec<String> {
                value
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            Ok(SubscribeAnswer {
                accepted: list("validTrackingNumbers"),
                refused: list("invalidTrackingNumbers"),
            })
        })
    }
}

/// The tracking number and the event of a Track Alert push body.
pub fn parse_push(body: &[u8]) -> Result<(String, TrackOutcome), CarrierError> {
    let push: Value = serde_json::from_slice(body).map_err(|e| CarrierError::malformed(CODE, e))?;
    let number = text(&push, "trackingNumber")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| CarrierError::malformed(CODE, "no trackingNumber"))?;
    let status = push
        .get("activityStatus")
        .filter(|s| s.is_object())
        .ok_or_else(|| CarrierError::malformed(CODE, "no activityStatus"))?;
    let location = push.get("activityLocation").cloned().unwrap_or(Value::Null);
    let activity = json!({
        "date": text_or_empty(&push, "localActivityDate"),
        "time": text_or_empty(&push, "localActivityTime"),
        "gmtDate": text_or_empty(&push, "gmtActivityDate"),
        "gmtTime": text_or_empty(&push, "gmtActivityTime"),
        "gmtOffset": text_or_empty(&push, "gmtOffset"),
        "location": {"address": {
            "city": text_or_empty(&location, "city"),
            "stateProvince": text_or_empty(&location, "stateProvince"),
            "postalCode": text_or_empty(&location, "postalCode"),
            "country": text_or_empty(&location, "country"),
        }},
        "status": {
            "type": text_or_empty(status, "type"),
            "code": text_or_empty(status, "code"),
            "description": text_or_empty(status, "description"),
            "statusCode": text_or_empty(status, "statusCode"),
        },
    });
    let answer = json!({"trackResponse": {"shipment": [{"package": [{
        "trackingNumber": number, "activity": [activity],
    }]}]}});
    let outcome = crate::ups::parse_response(&number, answer.to_string().as_bytes());
    Ok((number, outcome))
}
