//! Aggregator upstreams as carriers: the 17TRACK Tracking API v2.2, the AfterShip Tracking API
//! and TrackingMore v4, each configured by `[upstreams.<name>]` and routing the courier codes it
//! names (or, with `couriers = ["*"]`, every courier this server has no adapter of its own for).
//!
//! parceld stays the system of record: a tracking keeps parceld's (TrackingMore's) courier code,
//! its checkpoints, webhooks and page; the upstream is only where the events come from. Every
//! upstream works alike, so the algorithm is written once here ([`Upstream::track`]): ask what it
//! knows of the numbers (one call per batch the upstream allows), register the ones it does not
//! know yet (batched; "already registered" counts as done, so registering is idempotent), count
//! each new registration against the upstream's quota, and ask again for those. A protocol module
//! only says how its upstream spells those calls ([`Protocol`]) and parses its answers with pure
//! functions tested on fixtures. Deleting or archiving a tracking stops it upstream
//! ([`Upstream::stop`]), so the account stops paying for it.

pub mod aftership;
mod api;
pub mod routing;
pub mod settings;
pub mod seventeen_track;
pub mod trackingmore;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::{answer_key, Answers, Carrier, CarrierError, TrackOutcome, TrackRequest, TrackResult};

pub use settings::UpstreamSettings;

/// The upstreams parceld speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    SeventeenTrack,
    AfterShip,
    TrackingMore,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::SeventeenTrack, Kind::AfterShip, Kind::TrackingMore];

    /// The name of its `[upstreams.<name>]` table, its label in metrics and `couriers/all`, and
    /// its prefix in the simulator.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SeventeenTrack => "17track",
            Kind::AfterShip => "aftership",
            Kind::TrackingMore => "trackingmore",
        }
    }

    pub fn by_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The production API root, used unless `base_url` says otherwise.
    pub fn base_url(self) -> &'static str {
        match self {
            Kind::SeventeenTrack => "https://api.17track.net/track/v2.2",
            Kind::AfterShip => "https://api.aftership.com/tracking/2025-01",
            Kind::TrackingMore => "https://api.trackingmore.com/v4",
        }
    }

    /// The most numbers one call carries: 17TRACK's documented 40, TrackingMore's batch of 40,
    /// and for AfterShip's list filter a modest 20 (AfterShip documents no bound).
    pub fn max_batch(self) -> usize {
        match self {
            Kind::SeventeenTrack | Kind::TrackingMore => 40,
            Kind::AfterShip => 20,
        }
    }

    /// Requests per second and in flight unless configured: 17TRACK's 3 a second per key,
    /// AfterShip's 5 on its tracking endpoints, TrackingMore's 10 (3 for creating).
    pub fn default_limits(self) -> (f64, usize) {
        match self {
            Kind::SeventeenTrack => (3.0, 2),
            Kind::AfterShip => (5.0, 2),
            Kind::TrackingMore => (3.0, 2),
        }
    }
}

/// What registering numbers upstream did.
#[derive(Debug, Default)]
pub struct Registered {
    /// Numbers newly registered, each one unit of the upstream's quota.
    pub new: u64,
    /// Numbers the upstream refused, with why.
    pub refused: Vec<(String, CarrierError)>,
}

/// One upstream's wire protocol: how it spells asking, registering and stopping.
#[async_trait::async_trait]
pub(crate) trait Protocol: Send + Sync {
    /// What the upstream knows of `numbers` (trimmed, at most [`Kind::max_batch`]) of parceld's
    /// courier `courier`, keyed by [`answer_key`]; a number it has not registered is absent.
    async fn poll(&self, courier: &str, numbers: &[&str]) -> Result<Answers, CarrierError>;

    /// Registers `requests` (numbers the upstream does not know) for `courier`.
    async fn register(
        &self,
        courier: &str,
        requests: &[&TrackRequest],
    ) -> Result<Registered, CarrierError>;

    /// Stops tracking `numbers` upstream; returns how many it stopped.
    async fn stop(&self, courier: &str, numbers: &[&str]) -> Result<u64, CarrierError>;
}

/// The words every "quota used up" error carries, so the ledger can tell it from other errors.
const QUOTA_USED_UP: &str = "the quota of this account is used up";

/// A refusal because the account's quota is used up: retried later, after the quota renews or
/// is raised.
pub(crate) fn quota_error(name: &str, detail: &str) -> CarrierError {
    CarrierError::retryable(format!(
        "{name}: {QUOTA_USED_UP} ({detail}); new trackings routed through [upstreams.{name}] wait \
         until it renews or is raised"
    ))
}

fn is_quota_error(error: &CarrierError) -> bool {
    matches!(error, CarrierError::Retryable { reason, .. } if reason.contains(QUOTA_USED_UP))
}

/// What an upstream has cost since this process started, for `/metrics` and `couriers/all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamReport {
    pub name: &'static str,
    /// Numbers registered upstream by this process (each one unit of quota).
    pub registered: u64,
    /// Numbers stopped upstream by this process.
    pub stopped: u64,
    /// The configured allowance (`quota`), if set.
    pub quota: Option<u64>,
    /// `quota` less what this process registered, if `quota` is set.
    pub quota_remaining: Option<u64>,
    /// Whether the upstream's last registration answer said the quota is used up.
    pub quota_exhausted: bool,
}

/// One configured upstream: its protocol and what it has cost.
pub struct Upstream {
    kind: Kind,
    protocol: Box<dyn Protocol>,
    quota: Option<u64>,
    registered: AtomicU64,
    stopped: AtomicU64,
    exhausted: AtomicBool,
    rate: f64,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("kind", &self.kind)
            .finish()
    }
}

impl Upstream {
    /// The upstream configured by `[upstreams.<name>]`.
    pub fn from_settings(
        name: &str,
        settings: &UpstreamSettings,
    ) -> Result<Arc<Upstream>, crate::ConfigError> {
        let kind = Kind::by_name(name)
            .ok_or_else(|| crate::ConfigError::UnknownUpstream(name.to_string()))?;
        let api = api::Api::new(kind, settings)?;
        let protocol: Box<dyn Protocol> = match kind {
            Kind::SeventeenTrack => Box::new(seventeen_track::SeventeenTrack::new(api)),
            Kind::AfterShip => Box::new(aftership::AfterShip::new(api)),
            Kind::TrackingMore => Box::new(trackingmore::TrackingMore::new(api)),
        };
        Ok(Arc::new(Upstream {
            kind,
            protocol,
            quota: settings.quota,
            registered: AtomicU64::new(0),
            stopped: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
            rate: settings.rate_per_second.unwrap_or(kind.default_limits().0),
        }))
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn report(&self) -> UpstreamReport {
        let registered = self.registered.load(Ordering::Relaxed);
        UpstreamReport {
            name: self.kind.name(),
            registered,
            stopped: self.stopped.load(Ordering::Relaxed),
            quota: self.quota,
            quota_remaining: self.quota.map(|q| q.saturating_sub(registered)),
            quota_exhausted: self.exhausted.load(Ordering::Relaxed),
        }
    }

    /// One call's worth of `batch` (at most [`Kind::max_batch`]) for `courier`: poll, register
    /// what the upstream does not know, poll those again. A number registered but without data
    /// yet is `NotFound` until the upstream has fetched it.
    async fn track_chunk(&self, courier: &str, batch: &[TrackRequest]) -> Answers {
        let numbers: Vec<&str> = batch.iter().map(|r| r.tracking_number.trim()).collect();
        let mut answers = match self.protocol.poll(courier, &numbers).await {
            Ok(answers) => answers,
            Err(error) => return every(&numbers, &error),
        };
        let missing: Vec<&TrackRequest> = batch
            .iter()
            .filter(|r| !answers.contains_key(&answer_key(&r.tracking_number)))
            .collect();
        if missing.is_empty() {
            return answers;
        }
        let registered = match self.protocol.register(courier, &missing).await {
            Ok(registered) => registered,
            Err(error) => {
                self.note_quota(&error);
                let numbers: Vec<&str> = missing.iter().map(|r| r.tracking_number.trim()).collect();
                answers.extend(every(&numbers, &error));
                return answers;
            }
        };
        self.registered.fetch_add(registered.new, Ordering::Relaxed);
        let mut refused = HashSet::new();
        for (number, error) in registered.refused {
            self.note_quota(&error);
            refused.insert(answer_key(&number));
            answers.insert(answer_key(&number), Err(error));
        }
        if registered.new > 0 {
            self.exhausted.store(false, Ordering::Relaxed);
        }
        let again: Vec<&str> = missing
            .iter()
            .map(|r| r.tracking_number.trim())
            .filter(|n| !refused.contains(&answer_key(n)))
            .collect();
        if again.is_empty() {
            return answers;
        }
        let fresh = match self.protocol.poll(courier, &again).await {
            Ok(fresh) => fresh,
            Err(error) => every(&again, &error),
        };
        for number in again {
            let key = answer_key(number);
            let outcome = fresh
                .get(&key)
                .cloned()
                .unwrap_or(Ok(TrackResult::NotFound));
            answers.insert(key, outcome);
        }
        answers
    }

    fn note_quota(&self, error: &CarrierError) {
        if is_quota_error(error) {
            self.exhausted.store(true, Ordering::Relaxed);
        }
    }

    /// Stops `numbers` of `courier` upstream; failures are logged, not retried (the upstream
    /// stops tracking on its own when a shipment ends or expires).
    pub async fn stop(&self, courier: &str, numbers: &[String]) {
        for chunk in numbers.chunks(self.kind.max_batch()) {
            let chunk: Vec<&str> = chunk.iter().map(|n| n.trim()).collect();
            match self.protocol.stop(courier, &chunk).await {
                Ok(stopped) => {
                    self.stopped.fetch_add(stopped, Ordering::Relaxed);
                }
                Err(error) => tracing::warn!(
                    upstream = self.kind.name(),
                    courier,
                    %error,
                    "stopping trackings upstream failed"
                ),
            }
        }
    }
}

/// Each tracking's outcome by its `tracking_number` (keyed by [`answer_key`]).
fn by_number<'a>(
    trackings: impl IntoIterator<Item = &'a serde_json::Value>,
    parse: fn(&serde_json::Value) -> TrackOutcome,
) -> Answers {
    let number = |t: &serde_json::Value| crate::json::text_or_empty(t, "tracking_number");
    trackings
        .into_iter()
        .map(|t| (answer_key(&number(t)), parse(t)))
        .collect()
}

/// The same failure for every number.
fn every(numbers: &[&str], error: &CarrierError) -> Answers {
    numbers
        .iter()
        .map(|n| (answer_key(n), Err(error.clone())))
        .collect()
}

/// One courier routed through an upstream: the [`Carrier`] the engine sees for that code.
pub struct Routed {
    pub upstream: Arc<Upstream>,
    pub courier: String,
}

#[async_trait::async_trait]
impl Carrier for Routed {
    fn code(&self) -> &'static str {
        self.upstream.kind.name()
    }

    fn max_batch(&self) -> usize {
        self.upstream.kind.max_batch()
    }

    fn default_rate(&self) -> f64 {
        self.upstream.rate
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        let upstream = &self.upstream;
        let courier = self.courier.as_str();
        crate::track_in_chunks(batch, upstream.kind.max_batch(), |chunk| async move {
            let answers = upstream.track_chunk(courier, chunk).await;
            chunk
                .iter()
                .map(|r| {
                    let outcome = answers
                        .get(&answer_key(&r.tracking_number))
                        .cloned()
                        .unwrap_or(Ok(TrackResult::NotFound));
                    (r.tracking_number.clone(), outcome)
                })
                .collect()
        })
        .await
    }

    async fn stop(&self, numbers: &[String]) {
        self.upstream.stop(&self.courier, numbers).await;
    }

    fn upstream(&self) -> Option<&'static str> {
        Some(self.upstream.kind.name())
    }
}
