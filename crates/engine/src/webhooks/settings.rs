//! The webhook settings (`[webhooks]` in the configuration).

use serde::Deserialize;

use super::safety::Cidr;

/// How webhooks are delivered. Times are in the unit their name says, so tests can use
/// milliseconds where production uses minutes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Endpoints one account may have.
    pub max_per_account: usize,
    /// Deliveries in flight at once on this node, and to one endpoint across all nodes.
    pub global_concurrency: usize,
    pub per_endpoint_concurrency: usize,
    /// How long one delivery may take (connect, send, response).
    pub timeout_ms: u64,
    /// Attempts before a delivery is marked failed (TrackingMore and AfterShip: 14).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles for each further one (30 s × 2ⁿ).
    pub retry_base_ms: u64,
    /// Each delay moves by up to this fraction, either way, so retries do not arrive in waves.
    pub retry_jitter: f64,
    /// A receiver's `Retry-After` (on 429/503) is honoured up to this.
    pub max_retry_after_secs: u64,
    /// An endpoint whose every delivery failed for this long is disabled (5 days).
    pub disable_after_secs: u64,
    /// Finished deliveries and their attempts are kept this long (30 days).
    pub retention_secs: u64,
    /// How often old deliveries are pruned.
    pub prune_every_secs: u64,
    /// Deliveries claimed per round at most.
    pub batch_size: usize,
    /// A claim lasts this long; a worker that dies loses its claims after it. Must be longer
    /// than `timeout_ms`.
    pub lease_ms: u64,
    /// Sleep when nothing is due.
    pub idle_poll_ms: u64,
    /// Bytes of the receiver's response kept in the log.
    pub response_snippet_bytes: usize,
    /// Networks deliveries may go to although they are loopback, private, link-local or
    /// metadata addresses, e.g. `["10.1.0.0/16"]`.
    pub allow_networks: Vec<String>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_per_account: 10,
            global_concurrency: 64,
            per_endpoint_concurrency: 4,
            timeout_ms: 10_000,
            max_attempts: 14,
            retry_base_ms: 30_000,
            retry_jitter: 0.1,
            max_retry_after_secs: 86_400,
            disable_after_secs: 5 * 86_400,
            retention_secs: 30 * 86_400,
            prune_every_secs: 3600,
            batch_size: 100,
            lease_ms: 60_000,
            idle_poll_ms: 500,
            response_snippet_bytes: 1024,
            allow_networks: Vec::new(),
        }
    }
}

impl WebhookSettings {
    /// Checks that the settings make sense; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("webhooks.max_per_account", self.max_per_account as u64),
            (
                "webhooks.global_concurrency",
                self.global_concurrency as u64,
            ),
            (
                "webhooks.per_endpoint_concurrency",
                self.per_endpoint_concurrency as u64,
            ),
            ("webhooks.timeout_ms", self.timeout_ms),
            ("webhooks.max_attempts", u64::from(self.max_attempts)),
            ("webhooks.retry_base_ms", self.retry_base_ms),
            ("webhooks.disable_after_secs", self.disable_after_secs),
            ("webhooks.retention_secs", self.retention_secs),
            ("webhooks.prune_every_secs", self.prune_every_secs),
            ("webhooks.batch_size", self.batch_size as u64),
            ("webhooks.lease_ms", self.lease_ms),
            ("webhooks.idle_poll_ms", self.idle_poll_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("{key} must be above 0"));
            }
        }
        if self.lease_ms <= self.timeout_ms {
            return Err(
                "webhooks.lease_ms must be longer than webhooks.timeout_ms, or a slow delivery \
                 would be claimed again while it is still being sent"
                    .into(),
            );
        }
        if !(0.0..=0.5).contains(&self.retry_jitter) {
            return Err("webhooks.retry_jitter must be between 0 and 0.5".into());
        }
        self.allowed_networks()?;
        Ok(())
    }

    /// `allow_networks` parsed.
    pub fn allowed_networks(&self) -> Result<Vec<Cidr>, String> {
        self.allow_networks
            .iter()
            .map(|n| {
                Cidr::parse(n).ok_or_else(|| {
                    format!("webhooks.allow_networks: `{n}` is not a network like 10.0.0.0/8 or fd00::/8")
                })
            })
            .collect()
    }
}
