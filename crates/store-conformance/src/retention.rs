//! Retention: finished trackings (delivered, expired) unchanged for long enough are deleted in
//! bounded batches; recent ones, unfinished ones and other statuses stay.

use chrono::{Duration, Utc};
use parceld_model::DeliveryStatus;

use crate::trackings::{listed, numbers, page};
use crate::{account_with, claim_sandbox, update, Factory};

pub async fn only_finished_trackings_unchanged_long_enough_are_deleted_in_batches(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let (account, _) = account_with(
        &*store,
        "a",
        &[
            ("DELIVERED-1", "sandbox"),
            ("DELIVERED-2", "sandbox"),
            ("DELIVERED-3", "sandbox"),
            ("EXPIRED-1", "sandbox"),
            ("TRANSIT-1", "sandbox"),
            ("PENDING-1", "sandbox"),
        ],
    )
    .await;
    // The refresh gives each its status; PENDING-1 stays pending.
    let claimed = claim_sandbox(&*store, "w", Utc::now() + Duration::seconds(1), 100).await;
    let updates = claimed
        .iter()
        .filter_map(|c| {
            let number = c.tracking_number.as_str();
            let status = if number.starts_with("DELIVERED") {
                DeliveryStatus::Delivered
            } else if number.starts_with("EXPIRED") {
                DeliveryStatus::Expired
            } else if number.starts_with("TRANSIT") {
                DeliveryStatus::Transit
            } else {
                return None;
            };
            Some(update(c.pk, Vec::new(), status))
        })
        .collect::<Vec<_>>();
    assert_eq!(updates.len(), 5);
    store.apply_refresh("w", updates).await.unwrap();
    store.release_claims("w").await.unwrap();

    // Changed just now: a cutoff a day ago keeps everything.
    let day_ago = Utc::now() - Duration::days(1);
    for status in [DeliveryStatus::Delivered, DeliveryStatus::Expired] {
        assert_eq!(
            store
                .delete_finished_trackings(status, day_ago, 100)
                .await
                .unwrap(),
            0
        );
    }
    assert_eq!(listed(&*store, account, page(1, 100)).await.len(), 6);

    // A cutoff after the last change: delivered ones go, two per batch, and only they.
    let later = Utc::now() + Duration::seconds(2);
    let mut batches = Vec::new();
    loop {
        let deleted = store
            .delete_finished_trackings(DeliveryStatus::Delivered, later, 2)
            .await
            .unwrap();
        batches.push(deleted);
        if deleted < 2 {
            break;
        }
    }
    assert_eq!(batches, vec![2, 1]);
    let left = listed(&*store, account, page(1, 100)).await;
    let mut left = numbers(&left);
    left.sort();
    assert_eq!(left, vec!["EXPIRED-1", "PENDING-1", "TRANSIT-1"]);

    assert_eq!(
        store
            .delete_finished_trackings(DeliveryStatus::Expired, later, 100)
            .await
            .unwrap(),
        1
    );
    let left = listed(&*store, account, page(1, 100)).await;
    let mut left = numbers(&left);
    left.sort();
    assert_eq!(left, vec!["PENDING-1", "TRANSIT-1"]);
}
