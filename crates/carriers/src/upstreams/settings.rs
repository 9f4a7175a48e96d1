//! `[upstreams.<name>]`: an aggregator's key, where it answers, and which couriers go through it.

use serde::Deserialize;

/// Settings of one upstream.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamSettings {
    /// The account's API key (17TRACK `17token`, AfterShip `as-api-key`, TrackingMore
    /// `Tracking-Api-Key`); never printed.
    pub(crate) api_key: Option<ApiKey>,
    /// The API root, defaulting to the upstream's production one.
    pub(crate) base_url: Option<String>,
    /// parceld courier codes routed through this upstream; `["*"]` routes every courier this
    /// server has no adapter of its own configured for.
    pub(crate) couriers: Vec<String>,
    /// Requests per second, at most.
    pub(crate) rate_per_second: Option<f64>,
    /// The account's allowance of registrations (17TRACK: 100 a month on the free plan), so
    /// that what is left can be reported; unset means parceld reports only what it used.
    pub(crate) quota: Option<u64>,
    /// Take the upstream's webhook pushes at `/hooks/<name>` (17TRACK, AfterShip): the
    /// trackings it routes are then polled only as a safety net.
    pub(crate) push: bool,
    /// What the upstream signs its pushes with: AfterShip's webhook secret (Settings ›
    /// Webhooks); for 17TRACK its security key, which is `api_key` unless set here. Never printed.
    pub(crate) webhook_secret: Option<ApiKey>,
}

/// An API key: read as written, shown as `<redacted>`.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct ApiKey(pub String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The settings that are text, read as written from environment variables (a key made only of
/// digits is still a key).
pub const TEXT_FIELDS: &[&str] = &["api_key", "base_url", "webhook_secret"];

impl UpstreamSettings {
    /// Whether `courier` goes through this upstream: named, or `*` and without an adapter of
    /// its own on this server (`has_own`).
    pub fn routes(&self, courier: &str, has_own: bool) -> bool {
        self.couriers.iter().any(|c| c == courier) || (!has_own && self.routes_all())
    }

    /// Whether its pushes are taken (`push = true`).
    pub fn push(&self) -> bool {
        self.push
    }

    /// The secret its pushes are checked with: `webhook_secret`, else (17TRACK signs with its
    /// security key, the API key) `api_key` when `key_signs` says so.
    pub fn push_secret(&self, key_signs: bool) -> Option<&str> {
        let secret = match (&self.webhook_secret, key_signs) {
            (Some(secret), _) => Some(secret),
            (None, true) => self.api_key.as_ref(),
            (None, false) => None,
        };
        secret.map(|s| s.0.trim()).filter(|s| !s.is_empty())
    }

    /// Whether it takes every courier without an adapter (`couriers = ["*"]`).
    pub fn routes_all(&self) -> bool {
        self.couriers.iter().any(|c| c == "*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_key_and_routing_follows_the_list() {
        let s = UpstreamSettings {
            api_key: Some(ApiKey("s3cret".into())),
            couriers: vec!["yanwen".into()],
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(s.push_secret(true), Some("s3cret"));
        assert_eq!(s.push_secret(false), None);
        assert!(s.routes("yanwen", true));
        assert!(!s.routes("4px", false));
        let all = UpstreamSettings {
            couriers: vec!["*".into()],
            ..Default::default()
        };
        assert!(all.routes("4px", false) && !all.routes("ups", true));
    }
}
