//! The refresh path: claims with leases, one-tracking claims, set-based apply with checkpoint
//! de-duplication by fingerprint, change records only on real changes, stale claims refused.

use chrono::{DateTime, Duration, Utc};
use parceld_model::DeliveryStatus;
use parceld_store::{ClaimOne, ClaimedTracking, Store};

use crate::{checkpoint, claim_sandbox, numbered, update, Factory};

/// Claims up to `limit` due sandbox trackings as of `now` for `owner` until `lease`.
async fn claim(
    store: &dyn Store,
    owner: &str,
    now: DateTime<Utc>,
    lease: DateTime<Utc>,
    limit: usize,
) -> Vec<ClaimedTracking> {
    let claimed = store.claim_due(owner, now, lease, limit, "sandbox").await;
    claimed.unwrap()
}

pub async fn claims_are_exclusive_until_the_lease_expires(fresh: impl Factory) {
    let store = fresh().await;
    numbered(&*store, 10).await;
    let now = Utc::now() + Duration::seconds(1);
    let lease = now + Duration::minutes(5);
    let a = claim(&*store, "a", now, lease, 6).await;
    let b = claim(&*store, "b", now, lease, 6).await;
    assert_eq!(a.len(), 6);
    assert_eq!(b.len(), 4, "only what a did not take");
    assert!(claim(&*store, "c", now, lease, 6).await.is_empty());
    // After the lease runs out (a crashed worker), the trackings come back.
    let later = lease + Duration::seconds(1);
    let c = store
        .claim_due("c", later, later + Duration::minutes(5), 100, "sandbox")
        .await
        .unwrap();
    assert_eq!(c.len(), 10);
    assert_eq!(store.release_claims("c").await.unwrap(), 10);
    assert_eq!(store.release_claims("c").await.unwrap(), 0, "nothing left");
    // A claim is for one courier: another courier's claim takes none of these.
    assert!(store
        .claim_due("d", later, lease, 100, "ups")
        .await
        .unwrap()
        .is_empty());
    // Released trackings are due again at once.
    assert_eq!(
        store
            .claim_due("e", now, lease, 100, "sandbox")
            .await
            .unwrap()
            .len(),
        10
    );
}

pub async fn claiming_one_tracking_reports_busy_and_not_found(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) = numbered(&*store, 2).await;
    let now = Utc::now();
    let lease = now + Duration::minutes(1);
    let first = &made[0];
    match store
        .claim_tracking(account, &first.id, "rt", now, lease)
        .await
        .unwrap()
    {
        ClaimOne::Claimed(claimed) => {
            assert_eq!(claimed.id, first.id);
            assert_eq!(claimed.tracking_number, first.tracking_number);
            assert_eq!(claimed.account_id, account);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .claim_tracking(account, &first.id, "other", now, lease)
            .await
            .unwrap(),
        ClaimOne::Busy
    ));
    // The scheduler does not take it either, while the other one is due.
    let due = store
        .claim_due("w", now + Duration::seconds(1), lease, 10, "sandbox")
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, made[1].id);
    assert!(matches!(
        store
            .claim_tracking(account, &made[1].id, "rt", now, lease)
            .await
            .unwrap(),
        ClaimOne::Busy
    ));
    assert!(matches!(
        store
            .claim_tracking(
                account,
                &parceld_model::TrackingId::generate(),
                "rt",
                now,
                lease
            )
            .await
            .unwrap(),
        ClaimOne::NotFound
    ));
    // Once the lease ran out, another owner gets it.
    let later = lease + Duration::seconds(1);
    assert!(matches!(
        store
            .claim_tracking(
                account,
                &first.id,
                "other",
                later,
                later + Duration::minutes(1)
            )
            .await
            .unwrap(),
        ClaimOne::Claimed(_)
    ));
}

pub async fn applying_merges_checkpoints_once_and_records_only_real_changes(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = numbered(&*store, 3).await;
    let now = Utc::now() + Duration::seconds(1);
    let claimed = claim_sandbox(&*store, "w", now, 10).await;
    let events = vec![
        checkpoint(30, DeliveryStatus::Transit, "Departed"),
        checkpoint(10, DeliveryStatus::Inforeceived, "Label created"),
    ];
    let in_transit = |claimed: &[ClaimedTracking]| -> Vec<_> {
        let transit = DeliveryStatus::Transit;
        claimed
            .iter()
            .map(|c| update(c.pk, events.clone(), transit))
            .collect()
    };
    let report = store
        .apply_refresh("w", in_transit(&claimed))
        .await
        .unwrap();
    assert_eq!(report.applied, 3);
    assert_eq!(report.changes.len(), 3);
    assert!(report.changes.iter().all(|c| c.new_checkpoints == 2));
    assert!(report
        .changes
        .iter()
        .all(|c| c.account_id == account && c.delivery_status == DeliveryStatus::Transit));

    // The same data again: nothing new, no change records, no duplicate checkpoints.
    let again = claim_sandbox(&*store, "w", now + Duration::hours(4), 10).await;
    assert_eq!(again.len(), 3, "due again after the next_check_at");
    let report = store.apply_refresh("w", in_transit(&again)).await.unwrap();
    assert_eq!(report.applied, 3);
    assert!(report.changes.is_empty());

    // One new event: one change record for that tracking only.
    let third = claim_sandbox(&*store, "w", now + Duration::hours(8), 10).await;
    let mut more = events.clone();
    more.insert(0, checkpoint(50, DeliveryStatus::Delivered, "Delivered"));
    let updates = third
        .iter()
        .map(|c| {
            if c.pk == third[0].pk {
                update(c.pk, more.clone(), DeliveryStatus::Delivered)
            } else {
                update(c.pk, events.clone(), DeliveryStatus::Transit)
            }
        })
        .collect();
    let report = store.apply_refresh("w", updates).await.unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].tracking_pk, third[0].pk);
    assert_eq!(report.changes[0].tracking_id, third[0].id);
    assert_eq!(report.changes[0].new_checkpoints, 1);
    assert_eq!(report.changes[0].delivery_status, DeliveryStatus::Delivered);

    let tracking = store
        .tracking(account, &third[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tracking.checkpoints.len(), 3);
    assert_eq!(tracking.checkpoints[0].detail, "Delivered", "newest first");
    assert_eq!(tracking.delivery_status, DeliveryStatus::Delivered);
    assert_eq!(tracking.latest_event.as_deref(), Some("Delivered"));
    assert!(tracking.last_checked_at.is_some());
    let changes = store.changes_of(third[0].pk).await.unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].delivery_status,
        DeliveryStatus::Transit,
        "oldest first"
    );
    assert_eq!(changes[1], report.changes[0]);
    assert_ne!(changes[0].event_id, changes[1].event_id);

    // Reading by primary key gives the same trackings, in the order asked.
    let pks = [third[1].pk, third[0].pk];
    let by_pk = store.trackings_by_pk(&pks).await.unwrap();
    assert_eq!(by_pk.len(), 2);
    assert_eq!(by_pk[0].0, third[1].pk);
    assert_eq!(by_pk[1].1.id, third[0].id);
    assert_eq!(by_pk[1].1.checkpoints.len(), 3);
    assert!(store.trackings_by_pk(&[]).await.unwrap().is_empty());
}

pub async fn a_worker_that_lost_its_claim_cannot_apply(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = numbered(&*store, 1).await;
    let now = Utc::now() + Duration::seconds(1);
    let lease = now + Duration::minutes(1);
    let old = claim(&*store, "old", now, lease, 10).await;
    let new = store
        .claim_due(
            "new",
            lease + Duration::seconds(1),
            lease + Duration::minutes(5),
            10,
            "sandbox",
        )
        .await
        .unwrap();
    assert_eq!(new.len(), 1);
    let report = store
        .apply_refresh(
            "old",
            vec![update(
                old[0].pk,
                vec![checkpoint(1, DeliveryStatus::Transit, "x")],
                DeliveryStatus::Transit,
            )],
        )
        .await
        .unwrap();
    assert_eq!((report.applied, report.stale), (0, 1));
    assert!(report.changes.is_empty());
    let tracking = store.tracking(account, &old[0].id).await.unwrap().unwrap();
    assert!(tracking.checkpoints.is_empty());
    assert_eq!(tracking.delivery_status, DeliveryStatus::Pending);
}

pub async fn trackings_without_a_next_check_are_not_claimed(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) = numbered(&*store, 2).await;
    let now = Utc::now() + Duration::seconds(1);
    let claimed = claim_sandbox(&*store, "w", now, 10).await;
    let updates = claimed
        .iter()
        .map(|c| {
            let mut done = update(
                c.pk,
                vec![checkpoint(5, DeliveryStatus::Delivered, "Delivered")],
                DeliveryStatus::Delivered,
            );
            if c.id == made[0].id {
                done.next_check_at = None;
            }
            done
        })
        .collect();
    let report = store.apply_refresh("w", updates).await.unwrap();
    assert_eq!(report.applied, 2);
    let much_later = now + Duration::days(400);
    let due = claim_sandbox(&*store, "w", much_later, 10).await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, made[1].id);
    let stopped = store.tracking(account, &made[0].id).await.unwrap().unwrap();
    assert!(stopped.next_check_at.is_none());
    assert_eq!(stopped.delivery_status, DeliveryStatus::Delivered);
}
