//! The store's refresh path against a real SQLite file: claims with leases, set-based apply,
//! de-duplication by fingerprint, change records only on real changes, stale claims refused.

use chrono::{Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, Leg, SubStatus, TrackingFields};
use parceld_store::{NewTracking, RefreshUpdate, Store};
use parceld_store_sqlite::SqliteStore;

async fn store_with(n: usize) -> (tempfile::TempDir, SqliteStore, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let account = store.create_account("a").await.unwrap();
    let new = (0..n)
        .map(|i| NewTracking {
            tracking_number: format!("NUM-{i:05}"),
            courier_code: "sandbox".into(),
            courier_detected: false,
            fields: TrackingFields::default(),
            status_info: None,
        })
        .collect();
    store.create_trackings(account.id, new).await.unwrap();
    (dir, store, account.id)
}

fn checkpoint(minute: u32, status: DeliveryStatus, text: &str) -> Checkpoint {
    Checkpoint {
        leg: Leg::Origin,
        time: format!("2024-05-01T10:{minute:02}:00Z").parse().unwrap(),
        checkpoint_date: format!("2024-05-01T10:{minute:02}:00+00:00"),
        status,
        substatus: None,
        detail: text.into(),
        location: "Here".into(),
        country_iso2: "NL".into(),
        state: String::new(),
        city: String::new(),
        zip: String::new(),
        raw_status: "X".into(),
        raw_time: String::new(),
    }
}

fn update(pk: i64, checkpoints: Vec<Checkpoint>, status: DeliveryStatus) -> RefreshUpdate {
    let now = Utc::now();
    RefreshUpdate {
        pk,
        latest_event: checkpoints.first().map(|c| c.detail.clone()),
        latest_checkpoint_time: checkpoints.first().map(|c| c.time),
        checkpoints,
        shipment: None,
        delivery_status: status,
        substatus: (status == DeliveryStatus::Delivered).then_some(SubStatus::Delivered001),
        status_info: None,
        check_error: None,
        check_failures: 0,
        notfound_since: None,
        next_check_at: Some(now + Duration::hours(3)),
        checked_at: now,
    }
}

#[tokio::test]
async fn claims_are_exclusive_until_the_lease_expires() {
    let (_dir, store, _) = store_with(10).await;
    let now = Utc::now() + Duration::seconds(1);
    let lease = now + Duration::minutes(5);
    let a = store
        .claim_due("a", now, lease, 6, "sandbox")
        .await
        .unwrap();
    let b = store
        .claim_due("b", now, lease, 6, "sandbox")
        .await
        .unwrap();
    assert_eq!(a.len(), 6);
    assert_eq!(b.len(), 4, "only what a did not take");
    assert!(store
        .claim_due("c", now, lease, 6, "sandbox")
        .await
        .unwrap()
        .is_empty());
    // After the lease runs out (a crashed worker), the trackings come back.
    let later = lease + Duration::seconds(1);
    let c = store
        .claim_due("c", later, later + Duration::minutes(5), 100, "sandbox")
        .await
        .unwrap();
    assert_eq!(c.len(), 10);
    assert_eq!(store.release_claims("c").await.unwrap(), 10);
    // A claim is for one courier: another courier's claim takes none of these.
    assert!(store
        .claim_due("d", later, lease, 100, "ups")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn applying_merges_checkpoints_once_and_records_only_real_changes() {
    let (_dir, store, account) = store_with(3).await;
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("w", now, now + Duration::minutes(5), 10, "sandbox")
        .await
        .unwrap();
    let events = vec![
        checkpoint(30, DeliveryStatus::Transit, "Departed"),
        checkpoint(10, DeliveryStatus::Inforeceived, "Label created"),
    ];
    let updates = claimed
        .iter()
        .map(|c| update(c.pk, events.clone(), DeliveryStatus::Transit))
        .collect();
    let report = store.apply_refresh("w", updates).await.unwrap();
    assert_eq!(report.applied, 3);
    assert_eq!(report.changes.len(), 3);
    assert!(report.changes.iter().all(|c| c.new_checkpoints == 2));

    // The same data again: nothing new, no change records, no duplicate checkpoints.
    let again = store
        .claim_due(
            "w",
            now + Duration::hours(4),
            now + Duration::hours(5),
            10,
            "sandbox",
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 3, "due again after the next_check_at");
    let updates = again
        .iter()
        .map(|c| update(c.pk, events.clone(), DeliveryStatus::Transit))
        .collect();
    let report = store.apply_refresh("w", updates).await.unwrap();
    assert_eq!(report.applied, 3);
    assert!(report.changes.is_empty());

    // One new event: one change record for that tracking only.
    let third = store
        .claim_due(
            "w",
            now + Duration::hours(8),
            now + Duration::hours(9),
            10,
            "sandbox",
        )
        .await
        .unwrap();
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
    assert_eq!(store.changes_of(third[0].pk).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_worker_that_lost_its_claim_cannot_apply() {
    let (_dir, store, account) = store_with(1).await;
    let now = Utc::now() + Duration::seconds(1);
    let lease = now + Duration::minutes(1);
    let old = store
        .claim_due("old", now, lease, 10, "sandbox")
        .await
        .unwrap();
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
    let tracking = store.tracking(account, &old[0].id).await.unwrap().unwrap();
    assert!(tracking.checkpoints.is_empty());
    assert_eq!(tracking.delivery_status, DeliveryStatus::Pending);
}
