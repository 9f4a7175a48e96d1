//! The `[push]` settings: which push sources are on, their credentials, and how a pushed
//! tracking is polled.

use std::collections::HashMap;

use serde::Deserialize;

/// The largest push body any setting may allow (bytes): what the HTTP layer reads at most.
pub const MAX_PUSH_BODY_BYTES: usize = 4 * 1024 * 1024;

/// `[push]`: carrier push, for every source alike, and `[push.sources.<name>]` per source.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PushSettings {
    /// A tracking a push source covers is polled only this often, as a safety net (seconds).
    pub safety_net_secs: i64,
    /// A verified push is remembered this long so that its replay is refused; a push whose
    /// newest event is older than this is refused as stale (seconds).
    pub replay_window_secs: i64,
    /// The most push receipts kept; beyond it the oldest go first.
    pub max_receipts: u64,
    /// The largest push body accepted from a carrier (bytes); larger ones get a 413 before any
    /// work. A carrier's push carries its new event (UPS, FedEx): a few KB.
    pub max_body_bytes: usize,
    /// The largest push body accepted from an aggregator upstream (17TRACK, AfterShip), whose
    /// every push carries the shipment's whole history (each event with its address and
    /// translation, often from two carriers' sides): a long cross-border journey goes past 64 KB.
    /// At most [`MAX_PUSH_BODY_BYTES`].
    pub max_upstream_body_bytes: usize,
    /// A push keeps its tracking counted as pushed this long when no subscription covers it
    /// (seconds).
    pub covered_secs: i64,
    /// How often new trackings are subscribed with the sources that take subscriptions
    /// (milliseconds).
    pub subscribe_every_ms: u64,
    /// The sources by name (`ups`, `fedex`).
    pub sources: HashMap<String, PushSourceSettings>,
    /// Batches of pushes written at once. Not read from the configuration: `parceld serve`
    /// sets 2 on PostgreSQL, where two transactions run side by side, and leaves 1 on SQLite,
    /// where a second batch only waits for the one writer (measured slower: docs/benchmarks.md,
    /// "Pushes on PostgreSQL, two batches at once").
    #[serde(skip)]
    pub batches_at_once: usize,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            safety_net_secs: 86_400,
            replay_window_secs: 86_400,
            max_receipts: 1_000_000,
            max_body_bytes: 64 * 1024,
            max_upstream_body_bytes: 1024 * 1024,
            covered_secs: 14 * 86_400,
            subscribe_every_ms: 60_000,
            sources: HashMap::new(),
            batches_at_once: 1,
        }
    }
}

/// `[push.sources.<name>]`.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PushSourceSettings {
    pub enabled: bool,
    /// What the source proves itself with: UPS's `x-api-key` as set in the UPS portal, FedEx's
    /// webhook project security token (the HMAC key of `fdx-signature`).
    pub secret: Option<String>,
    /// Subscribe new trackings with the source (UPS Track Alert); without it the source covers
    /// a tracking from its first push on.
    pub subscribe: bool,
    /// The source's subscription is the whole carrier account, made in the carrier's portal
    /// (FedEx: a webhook project subscribed by account number, carrier-apis-2.md §C2): every
    /// tracking of the courier is covered from its creation, without a call, and polled only
    /// as the safety net.
    pub account: bool,
}

impl std::fmt::Debug for PushSourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSourceSettings")
            .field("enabled", &self.enabled)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("subscribe", &self.subscribe)
            .field("account", &self.account)
            .finish()
    }
}

impl PushSettings {
    /// The enabled sources, with their secrets; an enabled source without one is refused.
    pub fn validate(&self) -> Result<(), String> {
        for (name, source) in &self.sources {
            if source.enabled && source.secret.as_deref().unwrap_or("").is_empty() {
                return Err(format!(
                    "[push.sources.{name}] is enabled without a secret: set `secret`"
                ));
            }
            if name == "fedex" && source.subscribe {
                // carrier-apis-2.md §C2: FedEx's Tracking Number Subscription API exists, but its
                // paths are published only inside the FedEx developer portal, so parceld cannot
                // call it; a subscription by account number (made in the portal) covers every
                // FedEx tracking instead.
                return Err(
                    "[push.sources.fedex] subscribe = true: parceld makes no per-tracking \
                     FedEx subscription (its API's paths are not published); subscribe the \
                     shipper account in the FedEx webhook project and set `account = true`"
                        .into(),
                );
            }
            if source.subscribe && source.account {
                return Err(format!(
                    "[push.sources.{name}]: `subscribe` and `account` exclude each other"
                ));
            }
        }
        if self.max_body_bytes.max(self.max_upstream_body_bytes) > MAX_PUSH_BODY_BYTES {
            return Err(format!(
                "[push] max_body_bytes and max_upstream_body_bytes may be at most {MAX_PUSH_BODY_BYTES}"
            ));
        }
        if self.safety_net_secs <= 0 || self.replay_window_secs <= 0 || self.max_receipts == 0 {
            return Err(
                "[push] safety_net_secs, replay_window_secs and max_receipts must be positive"
                    .into(),
            );
        }
        Ok(())
    }

    /// The source's settings when it is enabled.
    pub fn enabled(&self, name: &str) -> Option<&PushSourceSettings> {
        self.sources.get(name).filter(|s| s.enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, source: PushSourceSettings) -> PushSettings {
        PushSettings {
            sources: [(name.to_string(), source)].into(),
            ..PushSettings::default()
        }
    }

    #[test]
    fn batches_at_once_is_one_and_no_setting_of_the_configuration() {
        let read: PushSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(read.batches_at_once, 1);
        assert!(serde_json::from_str::<PushSettings>(r#"{"batches_at_once": 4}"#).is_err());
    }

    #[test]
    fn fedex_is_covered_by_account_never_by_a_per_tracking_subscription() {
        let source = |subscribe, account| PushSourceSettings {
            enabled: true,
            secret: Some("s".into()),
            subscribe,
            account,
        };
        assert!(with("fedex", source(false, true)).validate().is_ok());
        let refused = with("fedex", source(true, false)).validate().unwrap_err();
        assert!(refused.contains("account = true"), "{refused}");
        assert!(with("ups", source(true, false)).validate().is_ok());
        assert!(with("ups", source(true, true)).validate().is_err());
    }
}
