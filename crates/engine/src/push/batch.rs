//! Group commit of pushes: one writer applies many verified pushes per transaction.
//!
//! A push costs two durable transactions (the claim of its trackings, then its receipt and its
//! update), and a durable commit is what limits how many pushes a database takes per second.
//! So the hub's requests do everything that needs no write (signature, body, replay window)
//! on their own, then hand the push to one writer over a bounded channel (a full channel makes
//! the requests wait: nothing grows without bound). The writer closes a batch at
//! [`MAX_BATCH`] pushes or [`LINGER`] after its first, claims every pushed number of the batch
//! at once, decides each push's updates in memory, and applies the whole batch with
//! [`parceld_store::PushStore::apply_pushes`]: one transaction, every push's receipt and
//! update together, and an outcome for each push of its own (a replay, a stale push or a busy
//! one fails only itself). Two pushes naming the same tracking never share a batch: the later
//! waits for the next one. Should the batch's transaction fail, nothing of it was written and
//! each push is tried again alone, so that one push's failure stays its own.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use parceld_carriers::TrackOutcome;
use parceld_store::{ClaimedTracking, PushApplied, PushReceipt, PushToApply, Store};
use tokio::sync::{mpsc, oneshot};

use super::{slow_down, PushError, PushReport, PushSettings};
use crate::{courier_type, schedule, EngineSettings};

/// The most pushes in one transaction.
pub(super) const MAX_BATCH: usize = 64;
/// How long a batch waits for more pushes after its first.
pub(super) const LINGER: StdDuration = StdDuration::from_millis(2);
/// Pushes waiting for the writer at most; more wait to be queued.
pub(super) const QUEUE: usize = 4 * MAX_BATCH;

/// A (courier, tracking number) a push names.
pub(super) type Key = (String, String);

/// A verified push, ready to apply.
pub(super) struct Prepared {
    /// Each pushed (courier, number)'s outcome and its newest event.
    pub by_key: HashMap<Key, (DateTime<Utc>, TrackOutcome)>,
    pub receipt: PushReceipt,
}

/// The writer's answer to one push.
pub(super) enum Answer {
    Done(Result<PushReport, PushError>),
    /// A tracking it names is claimed by a refresh: nothing was written; try again.
    Busy(Prepared),
}

/// A push and where its answer goes.
pub(super) struct Pending {
    pub push: Prepared,
    pub reply: oneshot::Sender<Answer>,
    /// When the push was handed to the writer (each batch logs its oldest push's wait).
    pub queued: Instant,
}

enum Outcome {
    Done(Result<PushReport, PushError>),
    Busy,
}

/// What the writer needs of the hub.
pub(super) struct Writer {
    pub store: Arc<dyn Store>,
    pub settings: PushSettings,
    pub engine: EngineSettings,
    /// The writer's claims; every batch gives all of its claims back before the next.
    pub owner: String,
}

/// The writer's loop: until every sender is gone.
pub(super) async fn run(writer: Writer, mut queue: mpsc::Receiver<Pending>) {
    let mut carried: VecDeque<Pending> = VecDeque::new();
    loop {
        let mut batch = Vec::new();
        let mut named = HashSet::new();
        for pending in std::mem::take(&mut carried) {
            if batch.len() < MAX_BATCH && fits(&pending.push, &mut named) {
                batch.push(pending);
            } else {
                carried.push_back(pending);
            }
        }
        if batch.is_empty() {
            let Some(first) = queue.recv().await else {
                return;
            };
            fits(&first.push, &mut named);
            batch.push(first);
        }
        let closes = tokio::time::Instant::now() + LINGER;
        while batch.len() < MAX_BATCH && carried.len() < MAX_BATCH {
            let next = match queue.try_recv() {
                Ok(next) => next,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(closes, queue.recv()).await {
                        Ok(Some(next)) => next,
                        _ => break,
                    }
                }
            };
            if fits(&next.push, &mut named) {
                batch.push(next);
            } else {
                carried.push_back(next);
            }
        }
        writer.apply(batch).await;
    }
}

/// Whether `push` names no tracking the batch names already (then it does now).
fn fits(push: &Prepared, named: &mut HashSet<Key>) -> bool {
    if push.by_key.keys().any(|k| named.contains(k)) {
        return false;
    }
    named.extend(push.by_key.keys().cloned());
    true
}

impl Writer {
    /// Applies a batch and answers each of its pushes.
    async fn apply(&self, batch: Vec<Pending>) {
        let started = Instant::now();
        let waited = batch.iter().map(|p| started - p.queued).max();
        let pushes: Vec<&Prepared> = batch.iter().map(|p| &p.push).collect();
        let outcomes = match self.apply_batch(&pushes).await {
            Ok(outcomes) => outcomes,
            Err(error) => {
                self.release().await;
                if pushes.len() == 1 {
                    vec![Outcome::Done(Err(error))]
                } else {
                    tracing::warn!(%error, pushes = pushes.len(), "a batch of pushes failed; applying each alone");
                    let mut outcomes = Vec::with_capacity(pushes.len());
                    for push in &pushes {
                        outcomes.push(self.alone(push).await);
                    }
                    outcomes
                }
            }
        };
        // The batch's size and times, for finding where a push's time goes (`[log] level`).
        tracing::debug!(
            pushes = batch.len(),
            oldest_waited_us = waited.unwrap_or_default().as_micros() as u64,
            written_us = started.elapsed().as_micros() as u64,
            "a batch of pushes written"
        );
        for (pending, outcome) in batch.into_iter().zip(outcomes) {
            let answer = match outcome {
                Outcome::Done(result) => Answer::Done(result),
                Outcome::Busy => Answer::Busy(pending.push),
            };
            // The request may have gone away; its push is applied all the same.
            let _ = pending.reply.send(answer);
        }
    }

    async fn alone(&self, push: &Prepared) -> Outcome {
        match self.apply_batch(&[push]).await {
            Ok(mut outcomes) => outcomes.pop().unwrap_or(Outcome::Busy),
            Err(error) => {
                self.release().await;
                Outcome::Done(Err(error))
            }
        }
    }

    /// After a failed transaction: gives back every claim (only this writer's batch holds any).
    async fn release(&self) {
        if let Err(error) = self.store.release_claims(&self.owner).await {
            tracing::warn!(%error, "releasing a failed push batch's claims failed");
        }
    }

    /// Claims the batch's trackings, decides each push's updates, applies them together.
    async fn apply_batch(&self, pushes: &[&Prepared]) -> Result<Vec<Outcome>, PushError> {
        let now = Utc::now();
        let claimed = self.claim(pushes, now).await?;
        let safety_net = now + Duration::seconds(self.settings.safety_net_secs);
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(pushes.len());
        let (mut to_apply, mut applied_index) = (Vec::new(), Vec::new());
        let mut release = claimed.stray.clone();
        for (index, push) in pushes.iter().enumerate() {
            let mine: Vec<&ClaimedTracking> = push
                .by_key
                .keys()
                .filter_map(|k| claimed.trackings.get(&(k.0.as_str(), k.1.as_str())))
                .flatten()
                .collect();
            let held_elsewhere = push
                .by_key
                .keys()
                .any(|k| claimed.busy.contains(&(k.0.as_str(), k.1.as_str())));
            if held_elsewhere {
                release.extend(mine.iter().map(|t| t.pk));
                outcomes.push(Some(Outcome::Busy));
                continue;
            }
            let (mut updates, mut passed_over) = (Vec::new(), Vec::new());
            for tracking in &mine {
                let key = (
                    tracking.courier_code.clone(),
                    tracking.tracking_number.clone(),
                );
                let Some((newest, outcome)) = push.by_key.get(&key) else {
                    passed_over.push(tracking.pk);
                    continue;
                };
                if tracking.latest_checkpoint_time.is_some_and(|t| t > *newest) {
                    passed_over.push(tracking.pk);
                    continue;
                }
                let kind = courier_type(&tracking.courier_code);
                let mut update =
                    schedule::next_state(tracking, outcome.clone(), kind, now, &self.engine);
                // A push carries one event, not the shipment's facts: the stored ones stay.
                update.shipment = None;
                slow_down(&mut update, safety_net);
                updates.push(update);
            }
            if updates.is_empty() && !mine.is_empty() {
                release.extend(passed_over);
                outcomes.push(Some(Outcome::Done(Err(PushError::Stale(
                    "every tracking it names already has newer events".into(),
                )))));
                continue;
            }
            applied_index.push((index, passed_over.len()));
            to_apply.push(PushToApply {
                receipt: push.receipt.clone(),
                updates,
                release: passed_over,
            });
            outcomes.push(None);
        }
        let covered_until = now + Duration::seconds(self.settings.covered_secs);
        let applied = self
            .store
            .apply_pushes(&self.owner, to_apply, &release, covered_until)
            .await?;
        for ((index, stale), applied) in applied_index.into_iter().zip(applied) {
            outcomes[index] = Some(Outcome::Done(match applied {
                PushApplied::Replayed => Err(PushError::Replayed),
                PushApplied::Applied(report) => Ok(PushReport {
                    applied: report.applied,
                    changed: report.changes.len(),
                    webhooks: report.deliveries,
                    stale,
                }),
            }));
        }
        // Every push has its outcome by now; a missing one would be answered "try again".
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Busy))
            .collect())
    }

    /// Claims every pushed number of the batch, one statement per courier.
    async fn claim<'p>(
        &self,
        pushes: &[&'p Prepared],
        now: DateTime<Utc>,
    ) -> Result<Claimed<'p>, PushError> {
        let lease = now + Duration::seconds(self.engine.lease_secs);
        let mut by_courier: BTreeMap<&'p str, BTreeSet<&'p str>> = BTreeMap::new();
        for push in pushes {
            for (courier, number) in push.by_key.keys() {
                by_courier.entry(courier).or_default().insert(number);
            }
        }
        let mut claimed = Claimed::default();
        for (courier, numbers) in by_courier {
            let list: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
            let claim = self
                .store
                .claim_pushed(courier, &list, &self.owner, now, lease)
                .await?;
            for tracking in claim.claimed {
                match numbers.get(tracking.tracking_number.as_str()) {
                    Some(number) => claimed
                        .trackings
                        .entry((courier, *number))
                        .or_default()
                        .push(tracking),
                    None => claimed.stray.push(tracking.pk),
                }
            }
            for number in claim.busy {
                if let Some(number) = numbers.get(number.as_str()) {
                    claimed.busy.insert((courier, *number));
                }
            }
        }
        Ok(claimed)
    }
}

/// What a batch's claim found, by (courier, number).
#[derive(Default)]
struct Claimed<'p> {
    trackings: HashMap<(&'p str, &'p str), Vec<ClaimedTracking>>,
    /// Numbers a refresh holds.
    busy: HashSet<(&'p str, &'p str)>,
    /// Claimed trackings no push names (given back).
    stray: Vec<i64>,
}
