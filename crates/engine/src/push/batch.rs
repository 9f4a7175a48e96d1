//! Group commit of pushes: one writer applies many verified pushes per transaction.
//!
//! Alone, a push would cost a durable transaction (the claim of its trackings, its receipt and
//! its update), and the transactions a database commits per second are what limits pushes per
//! second. So the hub's requests do everything that needs no write (signature, body, replay
//! window) on their own, then hand the push to one writer over a bounded channel (a full
//! channel makes the requests wait: nothing grows without bound). The writer closes a batch at
//! [`MAX_BATCH`] pushes or [`LINGER`] after its first, and hands the whole batch to
//! [`parceld_store::PushStore::claim_and_apply_pushes`]: one transaction claims every pushed
//! number of the batch at once (one statement per courier), decides each push's updates in
//! memory inside it ([`Writer::decide`]), and writes every push's receipt and update together,
//! with an outcome for each push of its own (a replay, a stale push or a busy one fails only
//! itself). The claim shares the apply's commit: two commits a batch cost about twice one.
//! Where the database runs transactions side by side (PostgreSQL), two batches are written at
//! once (`PushSettings::batches_at_once`), so that one is claimed and decided while the other
//! commits. Two pushes naming the same tracking never share a batch, nor two batches in
//! flight: the later waits for the earlier's batch to finish.
//! Should the batch's transaction fail, nothing of it was written (its claims neither) and each
//! push is tried again alone, so that one push's failure stays its own.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use parceld_carriers::TrackOutcome;
use parceld_store::push::{PushPlan, PushedNumbers};
use parceld_store::{ClaimedTracking, PushApplied, PushClaim, PushReceipt, PushToApply, Store};
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

/// The writer's loop: until every sender is gone. Up to `settings.batches_at_once` batches are
/// written at once, each on a task of its own; a push naming a tracking that a batch in flight names
/// waits for that batch, as two pushes of one tracking never share a batch.
pub(super) async fn run(writer: Writer, mut queue: mpsc::Receiver<Pending>) {
    let at_once = writer.settings.batches_at_once.max(1);
    let writer = Arc::new(writer);
    let mut carried: VecDeque<Pending> = VecDeque::new();
    let mut writing: VecDeque<(tokio::task::JoinHandle<()>, HashSet<Key>)> = VecDeque::new();
    loop {
        let (done, running) = std::mem::take(&mut writing)
            .into_iter()
            .partition::<Vec<_>, _>(|(task, _)| task.is_finished());
        writing = running.into();
        for (task, _) in done {
            finish(task).await;
        }
        if writing.len() >= at_once {
            finish_oldest(&mut writing).await;
            continue;
        }
        let mut named: HashSet<Key> = writing
            .iter()
            .flat_map(|(_, keys)| keys.iter().cloned())
            .collect();
        let mut batch = Vec::new();
        for pending in std::mem::take(&mut carried) {
            if batch.len() < MAX_BATCH && fits(&pending.push, &mut named) {
                batch.push(pending);
            } else {
                carried.push_back(pending);
            }
        }
        if batch.is_empty() {
            if !carried.is_empty() && !writing.is_empty() {
                // What waits names trackings of a batch in flight.
                finish_oldest(&mut writing).await;
                continue;
            }
            let Some(first) = queue.recv().await else {
                while !writing.is_empty() {
                    finish_oldest(&mut writing).await;
                }
                if carried.is_empty() {
                    return;
                }
                continue;
            };
            if !fits(&first.push, &mut named) {
                carried.push_back(first);
                continue;
            }
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
        let keys = batch
            .iter()
            .flat_map(|pending| pending.push.by_key.keys().cloned())
            .collect();
        let task = tokio::spawn({
            let writer = writer.clone();
            async move { writer.apply(batch).await }
        });
        writing.push_back((task, keys));
    }
}

/// Waits for the oldest batch in flight (its pushes are answered by then).
async fn finish_oldest(writing: &mut VecDeque<(tokio::task::JoinHandle<()>, HashSet<Key>)>) {
    if let Some((task, _)) = writing.pop_front() {
        finish(task).await;
    }
}

/// Waits for a batch's task; one that panicked is logged (its pushes' requests get no answer
/// and fail).
async fn finish(task: tokio::task::JoinHandle<()>) {
    if let Err(error) = task.await {
        tracing::error!(%error, "a batch of pushes stopped before answering");
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
            Err(error) => Outcome::Done(Err(error)),
        }
    }

    /// Claims the batch's trackings, decides each push's updates and applies them together,
    /// in one transaction.
    async fn apply_batch(&self, pushes: &[&Prepared]) -> Result<Vec<Outcome>, PushError> {
        let now = Utc::now();
        let lease = (now, now + Duration::seconds(self.engine.lease_secs));
        let wanted = numbers_of(pushes);
        let mut decided = Decided::default();
        let mut plan = |claims: Vec<PushClaim>| {
            let claimed = Claimed::of(&wanted, claims);
            let (plan, was) = self.decide(pushes, &claimed, now);
            decided = was;
            plan
        };
        let covered_until = now + Duration::seconds(self.settings.covered_secs);
        let applied = self
            .store
            .claim_and_apply_pushes(&self.owner, &wanted, lease, &mut plan, covered_until)
            .await?;
        let Decided {
            mut outcomes,
            applied_index,
        } = decided;
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
        outcomes.resize_with(pushes.len(), || None);
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Busy))
            .collect())
    }

    /// Each push's updates from the batch's claims (inside the batch's transaction: no waiting
    /// here): what to apply and give back, and the outcomes known already (busy, stale).
    fn decide(
        &self,
        pushes: &[&Prepared],
        claimed: &Claimed,
        now: DateTime<Utc>,
    ) -> (PushPlan, Decided) {
        let safety_net = now + Duration::seconds(self.settings.safety_net_secs);
        let mut decided = Decided::default();
        let mut plan = PushPlan {
            pushes: Vec::new(),
            release: claimed.stray.clone(),
        };
        for (index, push) in pushes.iter().enumerate() {
            let mine: Vec<&ClaimedTracking> = push
                .by_key
                .keys()
                .filter_map(|k| claimed.trackings.get(k))
                .flatten()
                .collect();
            if push.by_key.keys().any(|k| claimed.busy.contains(k)) {
                plan.release.extend(mine.iter().map(|t| t.pk));
                decided.outcomes.push(Some(Outcome::Busy));
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
                plan.release.extend(passed_over);
                decided
                    .outcomes
                    .push(Some(Outcome::Done(Err(PushError::Stale(
                        "every tracking it names already has newer events".into(),
                    )))));
                continue;
            }
            decided.applied_index.push((index, passed_over.len()));
            plan.pushes.push(PushToApply {
                receipt: push.receipt.clone(),
                updates,
                release: passed_over,
            });
            decided.outcomes.push(None);
        }
        (plan, decided)
    }
}

/// Every (courier, number) the batch's pushes name, by courier.
fn numbers_of(pushes: &[&Prepared]) -> Vec<PushedNumbers> {
    let mut by_courier: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for push in pushes {
        for (courier, number) in push.by_key.keys() {
            by_courier.entry(courier).or_default().insert(number);
        }
    }
    by_courier
        .into_iter()
        .map(|(courier, numbers)| PushedNumbers {
            courier_code: courier.to_string(),
            numbers: numbers.into_iter().map(str::to_string).collect(),
        })
        .collect()
}

/// What the plan decided beyond the store's work: the outcomes known before the apply (`None`
/// for the pushes applied), and for each applied push its index and how many of its trackings
/// it passed over.
#[derive(Default)]
struct Decided {
    outcomes: Vec<Option<Outcome>>,
    applied_index: Vec<(usize, usize)>,
}

/// What a batch's claim found, by (courier, number).
#[derive(Default)]
struct Claimed {
    trackings: HashMap<Key, Vec<ClaimedTracking>>,
    /// Numbers a refresh holds.
    busy: HashSet<Key>,
    /// Claimed trackings no push names (given back).
    stray: Vec<i64>,
}

impl Claimed {
    /// The claims of `wanted` (one each, in order) by the keys the pushes name.
    fn of(wanted: &[PushedNumbers], claims: Vec<PushClaim>) -> Self {
        let mut claimed = Claimed::default();
        for (pushed, claim) in wanted.iter().zip(claims) {
            let courier = &pushed.courier_code;
            let named = |number: &str| {
                pushed
                    .numbers
                    .binary_search_by(|n| n.as_str().cmp(number))
                    .is_ok()
            };
            for tracking in claim.claimed {
                if named(&tracking.tracking_number) {
                    let key = (courier.clone(), tracking.tracking_number.clone());
                    claimed.trackings.entry(key).or_default().push(tracking);
                } else {
                    claimed.stray.push(tracking.pk);
                }
            }
            for number in claim.busy.into_iter().filter(|n| named(n)) {
                claimed.busy.insert((courier.clone(), number));
            }
        }
        claimed
    }
}
