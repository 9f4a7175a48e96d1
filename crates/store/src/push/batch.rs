//! The backend-neutral half of applying a batch of pushes ([`crate::PushStore::apply_pushes`],
//! and with its claim in the same transaction [`crate::PushStore::claim_and_apply_pushes`]):
//! which receipts are new, one refresh application for all the new pushes together (the one
//! apply path, so the checkpoint merge, change records, webhook outbox and notifications are a
//! refresh's), the releases and the coverage, and the report split back into one outcome per
//! push. A backend gives the claim and the four writes ([`PushWrites`]) inside its own
//! transaction, each a bounded number of multi-row statements; the order and the bookkeeping
//! are written once, here.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::backend::BackendResult;
use crate::push::{PlanPushes, PushPlan, PushedNumbers};
use crate::{ApplyReport, PushApplied, PushClaim, PushReceipt, PushToApply, RefreshUpdate};

/// What makes two pushes the same push: the source and the digest of the body.
pub type ReceiptKey = (String, Vec<u8>);

fn key(receipt: &PushReceipt) -> ReceiptKey {
    (receipt.source.clone(), receipt.digest.to_vec())
}

/// One courier's claim of a batch: `numbers` of `courier_code` for `owner`, at `now` until
/// `lease_until`.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub courier_code: &'a str,
    pub numbers: &'a [String],
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// A backend's writes inside the one transaction of a batch.
#[async_trait]
pub trait PushWrites: Send {
    /// [`crate::PushStore::claim_pushed`]'s claim, in this transaction.
    async fn claim(&mut self, claim: Claim<'_>) -> BackendResult<PushClaim>;
    /// Records the (distinct) receipts, those already present left as they are; returns the
    /// keys of the ones recorded now.
    async fn record_receipts(
        &mut self,
        receipts: &[&PushReceipt],
    ) -> BackendResult<Vec<ReceiptKey>>;
    /// The refresh's application of `updates` (the backend's `apply_in`).
    async fn apply(
        &mut self,
        owner: &str,
        updates: Vec<RefreshUpdate>,
    ) -> BackendResult<ApplyReport>;
    /// Releases `owner`'s claims of `pks` (some).
    async fn release(&mut self, owner: &str, pks: &[i64]) -> BackendResult<()>;
    /// Marks each `(tracking pk, source)` (some) covered by the source until `until`.
    async fn cover(&mut self, covered: &[(i64, &str)], until: DateTime<Utc>) -> BackendResult<()>;
}

/// [`crate::PushStore::claim_and_apply_pushes`] inside the backend's transaction `tx`: one claim
/// per courier, the plan, then [`apply`].
pub async fn claim_and_apply(
    tx: &mut dyn PushWrites,
    plan: &mut PlanPushes<'_>,
    owner: &str,
    numbers: &[PushedNumbers],
    lease: (DateTime<Utc>, DateTime<Utc>),
    covered_until: DateTime<Utc>,
) -> BackendResult<Vec<PushApplied>> {
    let mut claims = Vec::with_capacity(numbers.len());
    for pushed in numbers {
        claims.push(
            tx.claim(Claim {
                courier_code: &pushed.courier_code,
                numbers: &pushed.numbers,
                owner,
                now: lease.0,
                lease_until: lease.1,
            })
            .await?,
        );
    }
    let PushPlan { pushes, release } = plan(claims);
    apply(tx, owner, pushes, &release, covered_until).await
}

/// One push of the batch once its updates went into the common application.
struct Part {
    receipt: PushReceipt,
    new: bool,
    updated: usize,
}

/// [`crate::PushStore::apply_pushes`] inside the backend's transaction `tx`.
pub async fn apply(
    tx: &mut dyn PushWrites,
    owner: &str,
    pushes: Vec<PushToApply>,
    release: &[i64],
    covered_until: DateTime<Utc>,
) -> BackendResult<Vec<PushApplied>> {
    let mut distinct = HashSet::new();
    let receipts: Vec<&PushReceipt> = pushes
        .iter()
        .map(|p| &p.receipt)
        .filter(|r| distinct.insert(key(r)))
        .collect();
    let mut recorded: HashSet<ReceiptKey> = if receipts.is_empty() {
        HashSet::new()
    } else {
        tx.record_receipts(&receipts).await?.into_iter().collect()
    };
    let mut released = release.to_vec();
    let mut updates = Vec::new();
    let mut push_of: HashMap<i64, usize> = HashMap::new();
    let mut parts = Vec::with_capacity(pushes.len());
    for (index, push) in pushes.into_iter().enumerate() {
        // A receipt recorded now is new for its first push only.
        let new = recorded.remove(&key(&push.receipt));
        released.extend(&push.release);
        let updated = push.updates.len();
        if new {
            push_of.extend(push.updates.iter().map(|u| (u.pk, index)));
            updates.extend(push.updates);
        } else {
            released.extend(push.updates.iter().map(|u| u.pk));
        }
        parts.push(Part {
            receipt: push.receipt,
            new,
            updated,
        });
    }
    let covered: Vec<(i64, &str)> = updates
        .iter()
        .map(|u| (u.pk, parts[push_of[&u.pk]].receipt.source.as_str()))
        .collect();
    let report = if updates.is_empty() {
        ApplyReport::default()
    } else {
        tx.apply(owner, updates).await?
    };
    if !released.is_empty() {
        tx.release(owner, &released).await?;
    }
    if !covered.is_empty() {
        tx.cover(&covered, covered_until).await?;
    }
    Ok(split(report, &parts, &push_of))
}

/// The batch's report as one outcome per push.
fn split(report: ApplyReport, parts: &[Part], push_of: &HashMap<i64, usize>) -> Vec<PushApplied> {
    let mut reports = vec![ApplyReport::default(); parts.len()];
    for change in report.changes {
        if let Some(&index) = push_of.get(&change.tracking_pk) {
            reports[index].changes.push(change);
        }
    }
    for pk in report.dropped {
        if let Some(&index) = push_of.get(&pk) {
            reports[index].stale += 1;
            reports[index].dropped.push(pk);
        }
    }
    for (pk, deliveries) in report.deliveries_of {
        if let Some(&index) = push_of.get(&pk) {
            reports[index].deliveries += deliveries;
            reports[index].deliveries_of.insert(pk, deliveries);
        }
    }
    parts
        .iter()
        .zip(reports)
        .map(|(part, mut report)| {
            if !part.new {
                return PushApplied::Replayed;
            }
            report.applied = part.updated - report.stale;
            PushApplied::Applied(report)
        })
        .collect()
}
