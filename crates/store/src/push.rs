//! What parceld stores for carrier push: the replay record of verified pushes, and which
//! trackings a push source covers (a subscription, or pushes lately), so the refresh only polls
//! them as a slow safety net.
//!
//! A pushed update is applied through the same transaction as a refresh
//! ([`PushStore::apply_pushes`]): the same checkpoint merge, the same change records and the same
//! webhook outbox, with the push's receipt written alongside. A receipt already present means
//! the push was seen before: nothing is applied. Receipts expire, and the table is pruned and
//! capped, so no sender can make it grow without bound (and only verified pushes are recorded
//! at all). Many pushes are applied in one transaction (group commit), each with its own
//! outcome; what that takes besides SQL is written once, in [`batch`].

pub mod batch;

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{ApplyReport, ClaimedTracking, RefreshUpdate, StoreResult};

/// A verified push, remembered until `expires_at` so that its replay is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReceipt {
    /// The push source (`ups`, `fedex`, …).
    pub source: String,
    /// SHA-256 of the push as received: what makes two deliveries the same push.
    pub digest: [u8; 32],
    pub received_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What [`PushStore::apply_pushes`] did with one push.
#[derive(Debug, Clone)]
pub enum PushApplied {
    /// The receipt is new; the updates were applied as a refresh.
    Applied(ApplyReport),
    /// The receipt was already recorded: nothing was applied, the claims were released.
    Replayed,
}

/// One verified push of a batch for [`PushStore::apply_pushes`].
#[derive(Debug, Clone)]
pub struct PushToApply {
    pub receipt: PushReceipt,
    /// The new states of the claimed trackings the push updates.
    pub updates: Vec<RefreshUpdate>,
    /// Claimed trackings the push passes over (they have newer events): released only.
    pub release: Vec<i64>,
}

/// The outcome of subscribing one tracking with a push source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed {
    pub tracking_pk: i64,
    /// Until when the source pushes this tracking's events; `None`: the source refused it
    /// (it is not asked again, and stays polled at the normal cadence).
    pub until: Option<DateTime<Utc>>,
}

/// What [`PushStore::claim_pushed`] found: the trackings claimed for the push (every account
/// that tracks the number), and the numbers of which another worker holds a matching tracking
/// right now.
#[derive(Debug, Clone, Default)]
pub struct PushClaim {
    pub claimed: Vec<ClaimedTracking>,
    pub busy: BTreeSet<String>,
}

/// The pushed numbers of one courier that a batch claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedNumbers {
    pub courier_code: String,
    pub numbers: Vec<String>,
}

/// Decides a batch's [`PushPlan`] from its claims (one [`PushClaim`] per [`PushedNumbers`], in
/// order), inside the batch's transaction: it must not wait on anything.
pub type PlanPushes<'a> = dyn FnMut(Vec<PushClaim>) -> PushPlan + Send + 'a;

/// What a batch applies once its claims are known: the pushes (see [`PushStore::apply_pushes`])
/// and the claims given back unapplied.
#[derive(Debug, Clone, Default)]
pub struct PushPlan {
    pub pushes: Vec<PushToApply>,
    pub release: Vec<i64>,
}

/// Carrier push: replay records, push coverage and the pushed update's application.
#[async_trait]
pub trait PushStore: Send + Sync {
    /// Claims for `owner` every non-archived tracking of `courier_code` whose number is one of
    /// `numbers` (any account), unless another worker's live lease holds it (then its number
    /// is busy). A tracking `owner` already holds is claimed again. One transaction:
    /// [`PushStore::claim_and_apply_pushes`] with nothing to apply.
    async fn claim_pushed(
        &self,
        courier_code: &str,
        numbers: &[String],
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<PushClaim> {
        let wanted = [PushedNumbers {
            courier_code: courier_code.to_string(),
            numbers: numbers.to_vec(),
        }];
        let mut claimed = None;
        let mut plan = |claims: Vec<PushClaim>| {
            claimed = claims.into_iter().next();
            PushPlan::default()
        };
        self.claim_and_apply_pushes(owner, &wanted, (now, lease_until), &mut plan, now)
            .await?;
        Ok(claimed.unwrap_or_default())
    }

    /// A batch's claim and application in one transaction (one commit for both, where two
    /// transactions cost two): claims `numbers` as [`PushStore::claim_pushed`] does (`lease`:
    /// now, and the claims' end), asks `plan` what to apply, and applies it as
    /// [`PushStore::apply_pushes`] does. On failure nothing of it is written, the claims
    /// neither.
    async fn claim_and_apply_pushes(
        &self,
        owner: &str,
        numbers: &[PushedNumbers],
        lease: (DateTime<Utc>, DateTime<Utc>),
        plan: &mut PlanPushes<'_>,
        covered_until: DateTime<Utc>,
    ) -> StoreResult<Vec<PushApplied>>;

    /// In one transaction, for every push (in order): records its receipt; when it was already
    /// recorded, releases `owner`'s claims of its updates and `release` and applies nothing
    /// ([`PushApplied::Replayed`]); otherwise applies its `updates` exactly as
    /// [`crate::Store::apply_refresh`] does (one application for all the new pushes together),
    /// releases its `release`, and marks the updated trackings covered by the push source until
    /// `covered_until`. `release` besides: claims of the batch given back unapplied. One outcome
    /// per push, in order. The pushes' updates name distinct trackings. A bounded number of
    /// statements, whatever the number of pushes ([`batch::apply`]): it is
    /// [`PushStore::claim_and_apply_pushes`] with nothing to claim.
    async fn apply_pushes(
        &self,
        owner: &str,
        pushes: Vec<PushToApply>,
        release: &[i64],
        covered_until: DateTime<Utc>,
    ) -> StoreResult<Vec<PushApplied>> {
        let mut given = Some(PushPlan {
            pushes,
            release: release.to_vec(),
        });
        let mut plan = move |_| given.take().unwrap_or_default();
        let now = Utc::now();
        self.claim_and_apply_pushes(owner, &[], (now, now), &mut plan, covered_until)
            .await
    }

    /// [`PushStore::apply_pushes`] of one push.
    async fn apply_push(
        &self,
        owner: &str,
        receipt: &PushReceipt,
        updates: Vec<RefreshUpdate>,
        release: &[i64],
        covered_until: DateTime<Utc>,
    ) -> StoreResult<PushApplied> {
        let push = PushToApply {
            receipt: receipt.clone(),
            updates,
            release: release.to_vec(),
        };
        let mut applied = self
            .apply_pushes(owner, vec![push], &[], covered_until)
            .await?;
        Ok(applied.pop().unwrap_or(PushApplied::Replayed))
    }

    /// Deletes the receipts expired at `now`, then the oldest beyond `keep_at_most`. Returns
    /// how many went.
    async fn prune_push_receipts(&self, now: DateTime<Utc>, keep_at_most: u64) -> StoreResult<u64>;

    /// How many receipts are stored.
    async fn push_receipts(&self) -> StoreResult<u64>;

    /// Up to `limit` trackings of `courier_code` still refreshed (not archived, not finished)
    /// that `source` does not cover beyond `renew_before` and has not refused: the ones to
    /// subscribe (or subscribe again). `(pk, tracking number)`, oldest first.
    async fn to_subscribe(
        &self,
        courier_code: &str,
        source: &str,
        renew_before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<(i64, String)>>;

    /// Records subscription outcomes for `source`. Each subscribed tracking due before
    /// `poll_not_before` is moved to it: from now on the refresh only polls it as a safety net.
    async fn record_subscriptions(
        &self,
        source: &str,
        outcomes: &[Subscribed],
        poll_not_before: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Which of `pks` a push source covers at `now` (a live subscription or a recent push).
    async fn push_covered(&self, pks: &[i64], now: DateTime<Utc>) -> StoreResult<Vec<i64>>;
}

/// Implements [`PushStore`] for a backend's store type from its `push` module's functions
/// (`claim_and_apply_pushes`, `prune_receipts`, `receipts`, `to_subscribe`,
/// `record_subscriptions`, `covered`, each taking the pool first), written once for every
/// backend.
#[macro_export]
macro_rules! push_store_calls {
    ($store:ty, $parts:expr, $module:path) => {
        $crate::store_calls! { impl PushStore for $store, pool = $parts;
            fn claim_and_apply_pushes(owner: &str, numbers: &[$crate::push::PushedNumbers], lease: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), plan: &mut $crate::push::PlanPushes<'_>, covered_until: chrono::DateTime<chrono::Utc>) -> Vec<$crate::PushApplied> =>
                { use $module as m; m::claim_and_apply_pushes(pool, owner, numbers, lease, plan, covered_until) };
            fn prune_push_receipts(now: chrono::DateTime<chrono::Utc>, keep_at_most: u64) -> u64 =>
                { use $module as m; m::prune_receipts(pool, now, keep_at_most) };
            fn push_receipts() -> u64 => { use $module as m; m::receipts(pool) };
            fn to_subscribe(courier_code: &str, source: &str, renew_before: chrono::DateTime<chrono::Utc>, limit: usize) -> Vec<(i64, String)> =>
                { use $module as m; m::to_subscribe(pool, courier_code, source, renew_before, limit) };
            fn record_subscriptions(source: &str, outcomes: &[$crate::Subscribed], poll_not_before: chrono::DateTime<chrono::Utc>) -> () =>
                { use $module as m; m::record_subscriptions(pool, source, outcomes, poll_not_before) };
            fn push_covered(pks: &[i64], now: chrono::DateTime<chrono::Utc>) -> Vec<i64> =>
                { use $module as m; m::covered(pool, pks, now) };
        }
    };
}
