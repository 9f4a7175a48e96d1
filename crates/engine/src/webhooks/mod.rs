//! Webhooks: signed delivery of tracking changes to the endpoints accounts register.
//!
//! The outbox is written by the store in the refresh transaction (one delivery per matching
//! endpoint per change), so this side only has to move rows from "pending" to "delivered" or
//! "failed" without losing any: the [`Dispatcher`] claims due deliveries in batches with a lease
//! (a worker killed mid-send leaves leases that expire, and the delivery is sent again with the
//! same event id — at-least-once, de-duplicated by receivers on `webhook-id`), sends them
//! concurrently within a global and a per-endpoint cap, and records each batch of attempts in
//! one transaction. Retry timing is the pure [`after_attempt`], so the schedule is tested without
//! waiting; outbound safety lives in [`safety`], signatures in [`signing`].

mod attempt;
mod dispatcher;
pub mod safety;
mod settings;
pub mod signing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parceld_model::Tracking;
use parceld_store::{AttemptOutcome, Store, WebhookVersion};
use rand::Rng;

pub use attempt::{attempt, Outgoing};
pub use dispatcher::Dispatcher;
pub use safety::{check_url, AddressPolicy, Cidr, Refused, UrlError};
pub use settings::WebhookSettings;

/// The event of a tracking change.
pub const TRACKING_UPDATED: &str = "TRACKING_UPDATED";
/// The event `POST /v4/webhooks/{id}/test` sends.
pub const TEST_EVENT: &str = "TEST";

/// What a payload says about its event besides the tracking.
#[derive(Debug, Clone)]
pub struct EventContext<'a> {
    pub event: &'a str,
    pub event_id: &'a str,
    /// When the change happened (the delivery was queued).
    pub created_at: DateTime<Utc>,
    pub webhook_id: &'a str,
    pub delivery_id: &'a str,
}

/// Renders a webhook body from the event, the tracking, the endpoint's version and its secret.
/// The wire formats live in the API crate; the dispatcher only needs the bytes, so a plain
/// function is all it is handed.
pub type RenderPayload = fn(&EventContext<'_>, &Tracking, WebhookVersion, &str) -> String;

/// What one HTTP attempt gave.
#[derive(Debug, Clone, Default)]
pub struct SendResult {
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl SendResult {
    pub fn delivered(&self) -> bool {
        matches!(self.http_status, Some(s) if (200..300).contains(&s))
    }
}

/// Decides what follows an attempt: delivered on 2xx; otherwise another attempt after
/// `retry_base × 2ⁿ` (n = attempts already retried, ± jitter) — or after the receiver's
/// `Retry-After` on 429/503 — until `max_attempts`, then give up.
pub fn after_attempt(
    attempts_before: i64,
    result: &SendResult,
    settings: &WebhookSettings,
    now: DateTime<Utc>,
) -> AttemptOutcome {
    if result.delivered() {
        return AttemptOutcome::Delivered;
    }
    let made = attempts_before.max(0) + 1;
    if made >= i64::from(settings.max_attempts) {
        return AttemptOutcome::GiveUp;
    }
    let honour = matches!(result.http_status, Some(429 | 503));
    let delay = match result.retry_after.filter(|_| honour) {
        Some(after) => after.min(Duration::from_secs(settings.max_retry_after_secs)),
        None => {
            let exponent = (made - 1).clamp(0, 40) as u32;
            let base = settings
                .retry_base_ms
                .saturating_mul(1u64 << exponent.min(40));
            let jitter = settings.retry_jitter;
            let factor = if jitter > 0.0 {
                rand::thread_rng().gen_range(1.0 - jitter..=1.0 + jitter)
            } else {
                1.0
            };
            Duration::from_millis((base as f64 * factor) as u64)
        }
    };
    let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(365));
    AttemptOutcome::Retry { at: now + delay }
}

/// What sending webhooks takes, for the dispatcher and for test sends alike: the store, the
/// settings, the HTTP client built from them and the payload renderer.
#[derive(Clone)]
pub struct WebhookSender {
    pub store: Arc<dyn Store>,
    pub settings: WebhookSettings,
    pub client: WebhookClient,
    /// Writes the payloads (its wire formats belong to the API).
    pub renderer: RenderPayload,
}

impl WebhookSender {
    /// Fails when the HTTP client cannot be built from `settings`.
    pub fn new(
        store: Arc<dyn Store>,
        settings: WebhookSettings,
        renderer: RenderPayload,
    ) -> Result<Self, String> {
        let client = WebhookClient::new(&settings)?;
        Ok(WebhookSender {
            store,
            settings,
            client,
            renderer,
        })
    }
}

/// The HTTP side of delivery: signs, posts, and reports what happened. Follows no redirects and
/// connects only to addresses the [`AddressPolicy`] allows.
#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
    snippet_bytes: usize,
}

impl WebhookClient {
    pub fn new(settings: &WebhookSettings) -> Result<Self, String> {
        let policy = Arc::new(AddressPolicy::new(settings.allowed_networks()?));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(safety::SafeResolver {
                policy: policy.clone(),
            }))
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms))
            .user_agent(concat!("parceld-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(WebhookClient {
            http,
            policy,
            snippet_bytes: settings.response_snippet_bytes,
        })
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// POSTs `body` to `url` with Standard Webhooks headers (`webhook-id` = `msg_id`).
    pub async fn send(&self, url: &str, secret: &str, msg_id: &str, body: &str) -> SendResult {
        let started = Instant::now();
        let elapsed = |started: Instant| started.elapsed().as_millis() as i64;
        if let Err(error) = check_url(url, &self.policy) {
            return SendResult {
                error: Some(error.to_string()),
                ..SendResult::default()
            };
        }
        let timestamp = Utc::now().timestamp();
        let signature = match signing::sign(secret, msg_id, timestamp, body.as_bytes()) {
            Ok(signature) => signature,
            Err(error) => {
                return SendResult {
                    error: Some(error.to_string()),
                    ..SendResult::default()
                }
            }
        };
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return SendResult {
                    latency_ms: elapsed(started),
                    error: Some(error_chain(&error)),
                    ..SendResult::default()
                }
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut snippet = Vec::new();
        let mut error = None;
        while snippet.len() < self.snippet_bytes {
            match response.chunk().await {
                Ok(Some(chunk)) => snippet.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!("reading the response failed: {}", error_chain(&e)));
                    break;
                }
            }
        }
        snippet.truncate(self.snippet_bytes);
        let latency_ms = elapsed(started);
        if error.is_none() && !(200..300).contains(&status) {
            error = Some(match status {
                300..=399 => {
                    format!("HTTP {status}: redirects are not followed; use the final URL")
                }
                _ => format!("HTTP {status}"),
            });
        }
        SendResult {
            http_status: Some(status),
            latency_ms,
            error,
            response_snippet: (!snippet.is_empty())
                .then(|| String::from_utf8_lossy(&snippet).into_owned()),
            retry_after,
        }
    }
}

/// An error with its causes, so "error sending request" says which address was refused.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let delta = at.with_timezone(&Utc) - Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            retry_jitter: 0.0,
            ..WebhookSettings::default()
        }
    }

    fn failed(status: Option<u16>) -> SendResult {
        SendResult {
            http_status: status,
            ..SendResult::default()
        }
    }

    fn delay(outcome: AttemptOutcome, now: DateTime<Utc>) -> i64 {
        match outcome {
            AttemptOutcome::Retry { at } => (at - now).num_seconds(),
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn the_default_schedule_is_30s_doubling_for_14_attempts_about_68_hours() {
        let s = settings();
        let now = Utc::now();
        let mut total = 0;
        let mut delays = Vec::new();
        for before in 0..13 {
            let d = delay(after_attempt(before, &failed(Some(500)), &s, now), now);
            delays.push(d);
            total += d;
        }
        assert_eq!(delays[..4], [30, 60, 120, 240]);
        assert_eq!(delays[12], 30 * 4096);
        assert_eq!(total, 245_730);
        assert!((67..=69).contains(&(total / 3600)));
        assert_eq!(
            after_attempt(13, &failed(Some(500)), &s, now),
            AttemptOutcome::GiveUp
        );
    }

    #[test]
    fn success_is_any_2xx() {
        let s = settings();
        for status in [200, 201, 204, 299] {
            assert_eq!(
                after_attempt(5, &failed(Some(status)), &s, Utc::now()),
                AttemptOutcome::Delivered
            );
        }
        for status in [None, Some(199), Some(301), Some(400), Some(500)] {
            assert_ne!(
                after_attempt(0, &failed(status), &s, Utc::now()),
                AttemptOutcome::Delivered
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_only_and_capped() {
        let s = WebhookSettings {
            max_retry_after_secs: 600,
            ..settings()
        };
        let now = Utc::now();
        let with = |status, secs| SendResult {
            http_status: Some(status),
            retry_after: Some(Duration::from_secs(secs)),
            ..SendResult::default()
        };
        assert_eq!(delay(after_attempt(0, &with(429, 90), &s, now), now), 90);
        assert_eq!(delay(after_attempt(0, &with(503, 7), &s, now), now), 7);
        assert_eq!(delay(after_attempt(0, &with(500, 90), &s, now), now), 30);
        assert_eq!(
            delay(after_attempt(0, &with(429, 99_999), &s, now), now),
            600
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let s = WebhookSettings {
            retry_jitter: 0.2,
            ..WebhookSettings::default()
        };
        let now = Utc::now();
        for _ in 0..200 {
            let d = delay(after_attempt(2, &failed(Some(500)), &s, now), now);
            assert!((96..=144).contains(&d), "{d}");
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn settings_are_validated() {
        assert!(WebhookSettings::default().validate().is_ok());
        let bad = WebhookSettings {
            lease_ms: 1000,
            timeout_ms: 5000,
            ..WebhookSettings::default()
        };
        assert!(bad.validate().unwrap_err().contains("lease_ms"));
        let bad = WebhookSettings {
            allow_networks: vec!["10.0.0.0/99".into()],
            ..WebhookSettings::default()
        };
        assert!(bad.validate().unwrap_err().contains("allow_networks"));
    }
}
