//! parceld's engine: the refresh scheduler and real-time tracking.
//!
//! The scheduler keeps every tracking's data fresh without anyone asking: it claims due
//! trackings with a lease, one courier at a time, asks that carrier's adapter (which keeps to the
//! carrier's batch size, rate and concurrency), decides each tracking's next state with the pure
//! policy in [`schedule`], and applies the results as they arrive, in small groups of one store
//! transaction each, so a node killed mid-claim loses at most about a second of carrier calls.
//! Each courier has its own budget of claimed-but-unapplied trackings (what it can answer
//! within half a lease), so a slow carrier neither holds up the others nor lets its claims
//! expire.
//! Real-time runs the same steps inline for one tracking, behind a single-flight lock so that
//! concurrent requests for the same shipment share one carrier call.

mod answers;
mod flights;
pub mod push;
mod routed;
pub mod schedule;
mod settings;
pub mod webhooks;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use answers::{match_answers, no_adapter};
use chrono::{DateTime, Duration, Utc};
use flights::Flights;
use parceld_carriers::{CarrierError, Carriers, TrackOutcome, TrackRequest};
use parceld_model::{CourierType, Tracking, TrackingId};
use parceld_store::{AccountId, ClaimOne, ClaimedTracking, RefreshUpdate, Store, StoreError};
use tokio::sync::{watch, Notify};

pub use settings::EngineSettings;

/// How a real-time request was answered.
#[derive(Debug, Clone)]
pub struct RealtimeResult {
    pub tracking: Tracking,
    /// When the data was fetched from the carrier (`None`: never).
    pub fetched_at: Option<DateTime<Utc>>,
    /// The data is the stored copy, because it was fetched less than the real-time window ago
    /// (or another refresh of it is running, or parceld has no adapter for the courier).
    pub from_store: bool,
    /// The carrier failed this time; the stored data is returned unchanged.
    pub carrier_error: Option<String>,
}

/// Why a real-time request could not be answered at all.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    #[error("no such tracking")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The engine of one node.
pub struct Engine {
    store: Arc<dyn Store>,
    carriers: Carriers,
    settings: EngineSettings,
    /// This node's worker id, written into every lease it takes.
    owner: String,
    /// Couriers whose credentials were refused, with the reason; paused until restart.
    misconfigured: Mutex<HashMap<String, String>>,
    /// Couriers with an adapter but no configuration already named in the log, so the log
    /// says it once per courier, not once per tracking.
    unconfigured_logged: Mutex<HashSet<String>>,
    flights: Flights,
    /// Trackings claimed by the scheduler and not yet applied, by courier.
    in_flight: Mutex<HashMap<String, usize>>,
    /// Woken when a group finishes, so the scheduler can claim into the room it left.
    group_done: Notify,
    /// Which courier claims first next time, so no courier always gets the room first.
    rotation: AtomicUsize,
    /// How often a tracking a push source covers is polled; `None`: no push on this server.
    push_safety_net: Option<Duration>,
    /// Couriers every tracking of which is pushed (see [`push::pushed_wholesale`]).
    pushed_couriers: HashSet<String>,
}

fn courier_type(code: &str) -> CourierType {
    parceld_detect::courier(code)
        .map(|c| c.courier_type)
        .unwrap_or(CourierType::Express)
}

/// Results are applied at the latest once this many have come back from the carrier…
const APPLY_AT_MOST: usize = 50;
/// …or once the oldest unapplied result has waited this long, whichever comes first.
const APPLY_WITHIN: StdDuration = StdDuration::from_millis(500);

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn request_for(claimed: &ClaimedTracking) -> TrackRequest {
    let fields = &claimed.fields;
    TrackRequest {
        tracking_number: claimed.tracking_number.clone(),
        postal_code: fields
            .tracking_postal_code
            .clone()
            .or_else(|| fields.recipient_postcode.clone()),
        ship_date: fields.tracking_ship_date.clone(),
        destination_country: fields
            .tracking_destination_country
            .clone()
            .or_else(|| fields.destination_country_iso2.clone()),
        created_at: Some(claimed.created_at),
    }
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, carriers: Carriers, settings: EngineSettings) -> Self {
        let owner = format!(
            "{}-{}-{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        Engine {
            store,
            carriers,
            settings,
            owner,
            misconfigured: Mutex::new(HashMap::new()),
            unconfigured_logged: Mutex::new(HashSet::new()),
            flights: Flights::default(),
            in_flight: Mutex::new(HashMap::new()),
            group_done: Notify::new(),
            rotation: AtomicUsize::new(0),
            push_safety_net: None,
            pushed_couriers: HashSet::new(),
        }
    }

    /// The same engine polling the trackings a push source covers only as `push` says;
    /// `pushed_couriers` are covered wholesale ([`push::pushed_wholesale`]).
    pub fn with_push(
        mut self,
        push: &push::PushSettings,
        pushed_couriers: HashSet<String>,
    ) -> Self {
        self.push_safety_net = Some(Duration::seconds(push.safety_net_secs));
        self.pushed_couriers = pushed_couriers;
        self
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The carriers and upstreams of this node: their reports, health, and stopping.
    pub fn carriers(&self) -> &Carriers {
        &self.carriers
    }

    /// Whether parceld can fetch tracking for this courier right now.
    pub fn can_track(&self, courier_code: &str) -> bool {
        self.carriers.get(courier_code).is_some()
            && !self
                .misconfigured
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(courier_code)
    }

    /// Why parceld cannot fetch tracking for a courier it has an adapter for, when the adapter
    /// is not configured on this server (no credentials): the settings to set. `None` when the
    /// courier is configured or has no adapter at all. The first time for each courier it is
    /// also said in the log.
    pub fn unconfigured_reason(&self, courier_code: &str) -> Option<String> {
        if self.carriers.get(courier_code).is_some() {
            return None;
        }
        let name = parceld_detect::courier(courier_code)
            .map(|c| c.name)
            .unwrap_or(courier_code);
        let reason = parceld_carriers::settings::not_configured_message(courier_code, name)?;
        let first = self
            .unconfigured_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(courier_code.to_string());
        if first {
            tracing::warn!(courier = courier_code, "{reason}");
        }
        Some(reason)
    }

    fn note_outcome(&self, courier: &str, outcome: &TrackOutcome) {
        if let Err(CarrierError::Credentials { reason }) = outcome {
            let mut misconfigured = self.misconfigured.lock().unwrap_or_else(|p| p.into_inner());
            if misconfigured
                .insert(courier.to_string(), reason.clone())
                .is_none()
            {
                tracing::error!(courier, %reason, "courier credentials refused: its trackings are paused until the configuration is fixed and parceld restarted");
            }
        }
    }

    /// Asks the carrier about `claimed` (all of one courier) and returns their next states.
    async fn track_group(&self, courier: &str, claimed: &[ClaimedTracking]) -> Vec<RefreshUpdate> {
        let requests: Vec<TrackRequest> = claimed.iter().map(request_for).collect();
        let outcomes: Vec<TrackOutcome> = match self.carriers.get(courier) {
            Some(carrier) => match_answers(courier, &requests, carrier.track(&requests).await),
            None => (0..requests.len())
                .map(|_| Err(CarrierError::retryable(no_adapter(courier))))
                .collect(),
        };
        let now = Utc::now();
        let kind = courier_type(courier);
        claimed
            .iter()
            .zip(outcomes)
            .map(|(c, outcome)| {
                self.note_outcome(courier, &outcome);
                schedule::next_state(c, outcome, kind, now, &self.settings)
            })
            .collect()
    }

    /// How many of `courier`'s trackings may be claimed and not yet applied: what the carrier
    /// can answer (at its configured rate and batch size) within half a lease, so that a claim
    /// never outlives its lease waiting for a slow carrier, and never more than the node's cap.
    fn courier_cap(&self, courier: &str) -> usize {
        let half_lease = self.settings.lease_secs as f64 / 2.0;
        let answerable = (self.carriers.numbers_per_second(courier) * half_lease).floor();
        (answerable as usize).clamp(1, self.settings.max_in_flight.max(1))
    }

    /// Claims due trackings for every configured courier that has room, one claim statement
    /// per courier, starting with a different courier each time. A failed claim is logged and
    /// the other couriers still get theirs.
    async fn claim_groups(&self) -> Vec<(String, Vec<ClaimedTracking>)> {
        let now = Utc::now();
        let lease_until = now + Duration::seconds(self.settings.lease_secs);
        let codes: Vec<String> = {
            let misconfigured = self.misconfigured.lock().unwrap_or_else(|p| p.into_inner());
            self.carriers
                .codes()
                .into_iter()
                .filter(|code| !misconfigured.contains_key(code))
                .collect()
        };
        let mut codes = self.without_idle_routed(codes, now).await;
        if codes.is_empty() {
            return Vec::new();
        }
        let first = self.rotation.fetch_add(1, Ordering::Relaxed) % codes.len();
        codes.rotate_left(first);
        let mut groups = Vec::new();
        for code in codes {
            let room = {
                let in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                let total: usize = in_flight.values().sum();
                let used = in_flight.get(&code).copied().unwrap_or(0);
                self.settings
                    .max_in_flight
                    .saturating_sub(total)
                    .min(self.courier_cap(&code).saturating_sub(used))
                    .min(self.settings.batch_size)
            };
            if room == 0 {
                continue;
            }
            match self
                .store
                .claim_due(&self.owner, now, lease_until, room, &code)
                .await
            {
                Ok(claimed) if claimed.is_empty() => {}
                Ok(claimed) => {
                    *self
                        .in_flight
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(code.clone())
                        .or_default() += claimed.len();
                    groups.push((code, claimed));
                }
                Err(error) => {
                    tracing::error!(%error, courier = code, "claiming due trackings failed")
                }
            }
        }
        groups
    }

    /// Refreshes one claimed group of one courier, applying results as they come back from
    /// the carrier in small groups ([`APPLY_AT_MOST`] results, or whatever arrived within
    /// [`APPLY_WITHIN`]), each in one transaction. A node killed mid-claim thus loses at most
    /// about a second of carrier calls; the rest of its claims come back when the lease runs
    /// out. Each applied group gives its share of the in-flight budget back at once, so the
    /// scheduler can claim into the room. Returns how many were applied.
    async fn refresh_group(&self, courier: String, claimed: Vec<ClaimedTracking>) -> usize {
        let mut calls = self.start_calls(&courier, &claimed);
        let kind = courier_type(&courier);
        let mut ready: Vec<RefreshUpdate> = Vec::new();
        let mut applied = 0;
        let mut settled = 0;
        let mut flush_at: Option<tokio::time::Instant> = None;
        loop {
            let finished = tokio::select! {
                answered = calls.join_next() => match answered {
                    Some(Ok(answers)) => {
                        let now = Utc::now();
                        for (index, outcome) in answers {
                            self.note_outcome(&courier, &outcome);
                            ready.push(schedule::next_state(&claimed[index], outcome, kind, now, &self.settings));
                        }
                        false
                    }
                    Some(Err(error)) => {
                        tracing::error!(%error, courier, "a carrier call failed; its claims return when the lease runs out");
                        false
                    }
                    None => true,
                },
                _ = sleep_until_some(flush_at) => false,
            };
            let due = flush_at.is_some_and(|at| tokio::time::Instant::now() >= at);
            if !ready.is_empty() && (finished || due || ready.len() >= APPLY_AT_MOST) {
                settled += ready.len();
                applied += self.apply_group(&courier, std::mem::take(&mut ready)).await;
                flush_at = None;
            } else if !ready.is_empty() && flush_at.is_none() {
                flush_at = Some(tokio::time::Instant::now() + APPLY_WITHIN);
            }
            if finished {
                break;
            }
        }
        // Whatever was claimed and never answered (a call that panicked) stays leased until the
        // lease runs out; its share of the budget is given back now all the same.
        let unapplied = claimed.len().saturating_sub(settled);
        if unapplied > 0 {
            self.release_budget(&courier, unapplied);
        }
        applied
    }

    /// Starts the carrier calls for a claimed group: one call per carrier batch, each on its
    /// own task (the adapter still keeps to its rate and concurrency), each answering with the
    /// claimed group's indexes and their outcomes.
    fn start_calls(
        &self,
        courier: &str,
        claimed: &[ClaimedTracking],
    ) -> tokio::task::JoinSet<Vec<(usize, TrackOutcome)>> {
        let mut calls = tokio::task::JoinSet::new();
        let Some(carrier) = self.carriers.get(courier) else {
            let reason = no_adapter(courier);
            let outcomes: Vec<(usize, TrackOutcome)> = (0..claimed.len())
                .map(|i| (i, Err(CarrierError::retryable(reason.clone()))))
                .collect();
            calls.spawn(async move { outcomes });
            return calls;
        };
        let indexes: Vec<usize> = (0..claimed.len()).collect();
        for chunk in indexes.chunks(carrier.max_batch().max(1)) {
            let chunk = chunk.to_vec();
            let requests: Vec<TrackRequest> =
                chunk.iter().map(|&i| request_for(&claimed[i])).collect();
            let carrier = carrier.clone();
            let courier = courier.to_string();
            calls.spawn(async move {
                let answers = carrier.track(&requests).await;
                let outcomes = match_answers(&courier, &requests, answers);
                chunk.into_iter().zip(outcomes).collect()
            });
        }
        calls
    }

    /// Applies one group of results in one transaction, retrying a transient failure, and
    /// gives the group's share of the in-flight budget back. Returns how many were applied.
    async fn apply_group(&self, courier: &str, mut updates: Vec<RefreshUpdate>) -> usize {
        let count = updates.len();
        self.slow_pushed(courier, &mut updates).await;
        // A transient write failure (the database busy past its timeout) must not strand the
        // group until its lease runs out: try again a few times before giving up.
        let mut attempt = 0;
        let outcome = loop {
            match self.store.apply_refresh(&self.owner, updates.clone()).await {
                Ok(report) => break Ok(report),
                Err(error) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "applying a refresh batch failed; retrying");
                    tokio::time::sleep(StdDuration::from_millis(100 * attempt)).await;
                }
                Err(error) => break Err(error),
            }
        };
        self.release_budget(courier, count);
        match outcome {
            Ok(report) => {
                tracing::debug!(
                    courier,
                    refreshed = count,
                    changed = report.changes.len(),
                    webhooks = report.deliveries,
                    stale = report.stale,
                    "refresh group applied"
                );
                count
            }
            Err(error) => {
                tracing::error!(%error, courier, "applying a refresh group failed; its claims return when the lease runs out");
                0
            }
        }
    }

    /// Gives `count` of `courier`'s in-flight budget back and wakes the scheduler.
    fn release_budget(&self, courier: &str, count: usize) {
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(used) = in_flight.get_mut(courier) {
                *used = used.saturating_sub(count);
            }
        }
        self.group_done.notify_one();
    }

    /// Runs the scheduler until `shutdown` turns true. Each claimed group (one courier's due
    /// trackings) is refreshed in its own task, so a slow carrier holds up only its own
    /// trackings; the loop claims again whenever a group finishes or the idle poll comes round.
    /// On shutdown the groups in flight finish and every claim left is released.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            while tasks.try_join_next().is_some() {}
            let groups = self.claim_groups().await;
            if groups.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(StdDuration::from_millis(self.settings.idle_poll_ms)) => {}
                    _ = self.group_done.notified() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for (courier, group) in groups {
                let engine = self.clone();
                tasks.spawn(async move { engine.refresh_group(courier, group).await });
            }
        }
        while tasks.join_next().await.is_some() {}
        match self.store.release_claims(&self.owner).await {
            Ok(released) => tracing::info!(released, "scheduler stopped"),
            Err(error) => tracing::error!(%error, "could not release claims on shutdown"),
        }
    }

    /// Real-time: the latest from the carrier for one tracking, unless it was fetched less than
    /// the real-time window ago (`respect_window`), in which case the stored copy comes back.
    /// Concurrent calls for the same tracking share one carrier call.
    pub async fn refresh_now(
        &self,
        account: AccountId,
        id: &TrackingId,
        respect_window: bool,
    ) -> Result<RealtimeResult, RealtimeError> {
        let stored = self
            .store
            .tracking(account, id)
            .await?
            .ok_or(RealtimeError::NotFound)?;
        let window = Duration::seconds(self.settings.realtime_window_secs);
        if respect_window {
            if let Some(checked) = stored.last_checked_at {
                if Utc::now() - checked < window {
                    return Ok(RealtimeResult {
                        fetched_at: Some(checked),
                        tracking: stored,
                        from_store: true,
                        carrier_error: None,
                    });
                }
            }
        }
        if !self.can_track(&stored.courier_code) {
            return Ok(RealtimeResult {
                fetched_at: stored.last_checked_at,
                tracking: stored,
                from_store: true,
                carrier_error: None,
            });
        }
        let key = (account, id.clone());
        let share = self.flights.join(key.clone());
        let result = share
            .flight
            .get_or_init(|| async {
                let outcome = self.fetch_one(account, id).await.map_err(|e| e.to_string());
                self.flights.finish(&key);
                outcome
            })
            .await
            .clone();
        match result {
            Ok(result) => Ok(result),
            Err(message) if message == RealtimeError::NotFound.to_string() => {
                Err(RealtimeError::NotFound)
            }
            Err(message) => Err(RealtimeError::Store(StoreError::Corrupt(message))),
        }
    }

    async fn fetch_one(
        &self,
        account: AccountId,
        id: &TrackingId,
    ) -> Result<RealtimeResult, RealtimeError> {
        let now = Utc::now();
        let timeout = StdDuration::from_millis(self.settings.realtime_timeout_ms);
        let lease_until = now + Duration::from_std(timeout).unwrap_or(Duration::seconds(30)) * 2;
        let claimed = match self
            .store
            .claim_tracking(account, id, &self.owner, now, lease_until)
            .await?
        {
            ClaimOne::Claimed(claimed) => *claimed,
            ClaimOne::NotFound => return Err(RealtimeError::NotFound),
            ClaimOne::Busy => {
                // The scheduler is refreshing it right now: wait (within the real-time timeout)
                // for that refresh to land, and answer with its result.
                let before = self
                    .store
                    .tracking(account, id)
                    .await?
                    .ok_or(RealtimeError::NotFound)?
                    .last_checked_at;
                let deadline = tokio::time::Instant::now() + timeout;
                loop {
                    let stored = self
                        .store
                        .tracking(account, id)
                        .await?
                        .ok_or(RealtimeError::NotFound)?;
                    if stored.last_checked_at != before || tokio::time::Instant::now() >= deadline {
                        return Ok(RealtimeResult {
                            fetched_at: stored.last_checked_at,
                            from_store: stored.last_checked_at == before,
                            tracking: stored,
                            carrier_error: None,
                        });
                    }
                    tokio::time::sleep(StdDuration::from_millis(25)).await;
                }
            }
        };
        let courier = claimed.courier_code.clone();
        let group = std::slice::from_ref(&claimed);
        let updates = match tokio::time::timeout(timeout, self.track_group(&courier, group)).await {
            Ok(updates) => updates,
            Err(_) => vec![schedule::next_state(
                &claimed,
                Err(CarrierError::retryable(format!(
                    "{courier} did not answer within {} ms",
                    timeout.as_millis()
                ))),
                courier_type(&courier),
                Utc::now(),
                &self.settings,
            )],
        };
        let carrier_error = updates.first().and_then(|u| u.check_error.clone());
        let mut updates = updates;
        self.slow_pushed(&courier, &mut updates).await;
        self.store.apply_refresh(&self.owner, updates).await?;
        let tracking = self
            .store
            .tracking(account, id)
            .await?
            .ok_or(RealtimeError::NotFound)?;
        Ok(RealtimeResult {
            fetched_at: tracking.last_checked_at,
            tracking,
            from_store: false,
            carrier_error,
        })
    }
}
