//! The engine's settings (`[engine]` in the configuration).

use std::collections::HashMap;

use chrono::Duration;
use parceld_model::CourierType;
use serde::Deserialize;

/// How often and how hard the engine refreshes. Times are in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Most trackings claimed at once for one courier (one claim statement, one apply
    /// transaction).
    pub batch_size: usize,
    /// Most trackings claimed and not yet applied on this node, across all couriers.
    pub max_in_flight: usize,
    /// How long a claim lasts; a worker that dies loses its claims after this.
    pub lease_secs: i64,
    /// How long the scheduler sleeps when nothing is due.
    pub idle_poll_ms: u64,
    /// Cadence for express couriers (TrackingMore: 3 h).
    pub express_every_secs: i64,
    /// Cadence for postal services (TrackingMore: 6 h).
    pub postal_every_secs: i64,
    /// Per-courier cadence overrides, by courier code.
    pub courier_every_secs: HashMap<String, i64>,
    /// Each next check is moved by up to this fraction of the cadence, either way, so trackings
    /// created together do not stay bunched.
    pub jitter: f64,
    /// While pending or not found: check again after these delays (in order, by tracking age),
    /// then at the normal cadence.
    pub early_checks_secs: Vec<i64>,
    /// `notfound` for longer than this becomes `expired`.
    pub notfound_expire_secs: i64,
    /// No new checkpoint for this long before delivery → `expired` (express, postal).
    pub express_stale_expire_secs: i64,
    pub postal_stale_expire_secs: i64,
    /// First back-off after a carrier error; doubles per consecutive failure, capped at the
    /// cadence.
    pub backoff_base_secs: i64,
    /// Real-time: the same shipment is fetched from the carrier at most once in this window.
    pub realtime_window_secs: i64,
    /// Real-time and create: how long to wait for the carrier.
    pub realtime_timeout_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            batch_size: 500,
            max_in_flight: 4000,
            lease_secs: 300,
            idle_poll_ms: 1000,
            express_every_secs: 3 * 3600,
            postal_every_secs: 6 * 3600,
            courier_every_secs: HashMap::new(),
            jitter: 0.1,
            early_checks_secs: vec![15 * 60, 3600],
            notfound_expire_secs: 30 * 86400,
            express_stale_expire_secs: 30 * 86400,
            postal_stale_expire_secs: 60 * 86400,
            backoff_base_secs: 300,
            realtime_window_secs: 2 * 3600,
            realtime_timeout_ms: 10_000,
        }
    }
}

impl EngineSettings {
    /// The normal time between checks of a courier's trackings.
    pub fn cadence(&self, courier_code: &str, courier_type: CourierType) -> Duration {
        let secs = self
            .courier_every_secs
            .get(courier_code)
            .copied()
            .unwrap_or(match courier_type {
                CourierType::Express => self.express_every_secs,
                CourierType::Postal => self.postal_every_secs,
            });
        Duration::seconds(secs.max(1))
    }

    pub fn stale_expiry(&self, courier_type: CourierType) -> Duration {
        Duration::seconds(match courier_type {
            CourierType::Express => self.express_stale_expire_secs,
            CourierType::Postal => self.postal_stale_expire_secs,
        })
    }

    /// Checks that the settings make sense; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("engine.batch_size", self.batch_size as i64),
            ("engine.max_in_flight", self.max_in_flight as i64),
            ("engine.lease_secs", self.lease_secs),
            ("engine.express_every_secs", self.express_every_secs),
            ("engine.postal_every_secs", self.postal_every_secs),
            ("engine.notfound_expire_secs", self.notfound_expire_secs),
            (
                "engine.express_stale_expire_secs",
                self.express_stale_expire_secs,
            ),
            (
                "engine.postal_stale_expire_secs",
                self.postal_stale_expire_secs,
            ),
            ("engine.backoff_base_secs", self.backoff_base_secs),
            (
                "engine.realtime_timeout_ms",
                self.realtime_timeout_ms as i64,
            ),
        ];
        for (key, value) in positive {
            if value <= 0 {
                return Err(format!("{key} must be above 0"));
            }
        }
        if !(0.0..=0.5).contains(&self.jitter) {
            return Err("engine.jitter must be between 0 and 0.5".into());
        }
        if self.realtime_window_secs < 0 {
            return Err("engine.realtime_window_secs must not be negative".into());
        }
        Ok(())
    }
}
