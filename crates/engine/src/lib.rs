//! parceld's engine: the refresh scheduler and real-time tracking.
//!
//! The scheduler keeps every tracking's data fresh without anyone asking: it claims due
//! trackings in batches with a lease, groups them by courier, asks each carrier adapter (which
//! keeps to that carrier's batch size, rate and concurrency), decides each tracking's next state
//! with the pure policy in [`schedule`], and applies a whole batch in one store transaction.
//! Real-time runs the same steps inline for one tracking, behind a single-flight lock so that
//! concurrent requests for the same shipment share one carrier call.

pub mod schedule;
mod settings;
pub mod webhooks;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use parceld_carriers::{CarrierError, Carriers, TrackOutcome, TrackRequest};
use parceld_model::{CourierType, Tracking, TrackingId};
use parceld_store::{
    AccountId, ClaimOne, ClaimedTracking, RefreshUpdate, Store, StoreError, StoreResult,
};
use tokio::sync::{watch, OnceCell};

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

type Flight = Arc<OnceCell<Result<RealtimeResult, String>>>;

/// The engine of one node.
pub struct Engine {
    store: Arc<dyn Store>,
    carriers: Carriers,
    settings: EngineSettings,
    /// This node's worker id, written into every lease it takes.
    owner: String,
    /// Couriers whose credentials were refused, with the reason; paused until restart.
    misconfigured: Mutex<HashMap<String, String>>,
    flights: Mutex<HashMap<(AccountId, TrackingId), Flight>>,
}

fn courier_type(code: &str) -> CourierType {
    parceld_detect::courier(code)
        .map(|c| c.courier_type)
        .unwrap_or(CourierType::Express)
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
            flights: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
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

    /// Couriers the scheduler must not claim: no adapter configured, or credentials refused.
    fn excluded_couriers(&self) -> Vec<String> {
        let configured: HashSet<String> = self.carriers.codes().into_iter().collect();
        let misconfigured = self.misconfigured.lock().unwrap_or_else(|p| p.into_inner());
        parceld_detect::couriers()
            .iter()
            .map(|c| c.code.to_string())
            .filter(|code| !configured.contains(code) || misconfigured.contains_key(code))
            .collect()
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
            Some(carrier) => {
                let mut answers: HashMap<String, Vec<TrackOutcome>> = HashMap::new();
                for (number, outcome) in carrier.track(&requests).await {
                    answers.entry(number).or_default().push(outcome);
                }
                requests
                    .iter()
                    .map(|r| {
                        answers
                            .get_mut(&r.tracking_number)
                            .and_then(|v| (!v.is_empty()).then(|| v.remove(0)))
                            .unwrap_or_else(|| {
                                Err(CarrierError::retryable(format!(
                                    "{courier} gave no answer for this number"
                                )))
                            })
                    })
                    .collect()
            }
            None => requests
                .iter()
                .map(|_| {
                    Err(CarrierError::retryable(format!(
                        "no adapter is configured for {courier}"
                    )))
                })
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

    /// One scheduler round: claim a batch, ask the carriers, apply. Returns how many trackings
    /// were refreshed (0 when nothing was due).
    pub async fn run_round(&self) -> StoreResult<usize> {
        let now = Utc::now();
        let claimed = self
            .store
            .claim_due(
                &self.owner,
                now,
                now + Duration::seconds(self.settings.lease_secs),
                self.settings.batch_size,
                &self.excluded_couriers(),
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut groups: HashMap<String, Vec<ClaimedTracking>> = HashMap::new();
        for c in claimed {
            groups.entry(c.courier_code.clone()).or_default().push(c);
        }
        let mut rounds = Vec::new();
        for (courier, group) in &groups {
            rounds.push(self.track_group(courier, group));
        }
        let mut updates = Vec::new();
        for batch in join_all(rounds).await {
            updates.extend(batch);
        }
        let count = updates.len();
        // A transient write failure (the database busy past its timeout) must not strand the
        // batch until its lease runs out: try again a few times before giving up.
        let mut attempt = 0;
        let report = loop {
            match self.store.apply_refresh(&self.owner, updates.clone()).await {
                Ok(report) => break report,
                Err(error) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "applying a refresh batch failed; retrying");
                    tokio::time::sleep(StdDuration::from_millis(100 * attempt)).await;
                }
                Err(error) => return Err(error),
            }
        };
        tracing::debug!(
            refreshed = count,
            changed = report.changes.len(),
            webhooks = report.deliveries,
            stale = report.stale,
            "refresh round"
        );
        Ok(count)
    }

    /// Runs the scheduler until `shutdown` turns true, with `engine.parallel_rounds` rounds in
    /// flight (claims never overlap, so rounds are independent). On shutdown the rounds in
    /// flight finish and every claim left is released.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let mut loops = Vec::new();
        for _ in 0..self.settings.parallel_rounds.max(1) {
            let engine = self.clone();
            let mut shutdown = shutdown.clone();
            loops.push(tokio::spawn(async move {
                loop {
                    if *shutdown.borrow() {
                        break;
                    }
                    let refreshed = match engine.run_round().await {
                        Ok(n) => n,
                        Err(error) => {
                            tracing::error!(%error, "refresh round failed");
                            0
                        }
                    };
                    if refreshed == 0 {
                        tokio::select! {
                            _ = tokio::time::sleep(StdDuration::from_millis(engine.settings.idle_poll_ms)) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                }
            }));
        }
        for handle in loops {
            let _ = handle.await;
        }
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
        let flight: Flight = self
            .flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let result = flight
            .get_or_init(|| async {
                let outcome = self.fetch_one(account, id).await.map_err(|e| e.to_string());
                self.flights
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&key);
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

/// Polls futures together on the current task (no spawning, no extra dependency).
async fn join_all<Fut: std::future::Future>(futures: Vec<Fut>) -> Vec<Fut::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<Fut>>> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<Fut::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}
