//! Set-based operations on many trackings named by number and courier (the legacy v2 API's
//! way of naming them): counts per status, archive many, delete many — and archived trackings
//! are never claimed for a refresh.

use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, TrackingFields};
use parceld_store::{NewTracking, NumberKey, Store, TrackingFilter};
use parceld_store_sqlite::SqliteStore;

fn key(number: &str, courier: &str) -> NumberKey {
    NumberKey {
        tracking_number: number.into(),
        courier_code: courier.into(),
    }
}

async fn store_with(numbers: &[(&str, &str)]) -> (tempfile::TempDir, SqliteStore, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let account = store.create_account("a").await.unwrap();
    let new = numbers
        .iter()
        .map(|(n, c)| NewTracking {
            tracking_number: n.to_string(),
            courier_code: c.to_string(),
            courier_detected: false,
            fields: TrackingFields::default(),
            status_info: None,
        })
        .collect();
    store.create_trackings(account.id, new).await.unwrap();
    (dir, store, account.id)
}

#[tokio::test]
async fn counts_archive_and_delete_many_by_number_and_courier() {
    let (_dir, store, account) =
        store_with(&[("A1", "ups"), ("A2", "ups"), ("A1", "fedex"), ("B1", "dhl")]).await;
    let other = store.create_account("b").await.unwrap();

    let counts = store
        .count_by_status(account, &TrackingFilter::default())
        .await
        .unwrap();
    assert_eq!(counts, vec![(DeliveryStatus::Pending, 4)]);
    let none = store
        .count_by_status(other.id, &TrackingFilter::default())
        .await
        .unwrap();
    assert!(none.is_empty());

    // Only the exact (number, courier) pairs of this account are touched.
    let archived = store
        .archive_many(
            account,
            &[key("A1", "ups"), key("A1", "usps"), key("ZZ", "ups")],
        )
        .await
        .unwrap();
    assert_eq!(archived, vec![key("A1", "ups")]);
    assert!(store
        .archive_many(other.id, &[key("A2", "ups")])
        .await
        .unwrap()
        .is_empty());

    // Archived trackings are never claimed for a refresh, even when due.
    let now = Utc::now() + Duration::seconds(5);
    let mut claimed: Vec<(String, String)> = Vec::new();
    for courier in ["dhl", "fedex", "ups", "usps"] {
        let batch = store
            .claim_due("w", now, now + Duration::seconds(60), 100, courier)
            .await
            .unwrap();
        claimed.extend(
            batch
                .into_iter()
                .map(|c| (c.tracking_number, c.courier_code)),
        );
    }
    claimed.sort();
    assert_eq!(
        claimed,
        vec![
            ("A1".to_string(), "fedex".to_string()),
            ("A2".to_string(), "ups".to_string()),
            ("B1".to_string(), "dhl".to_string()),
        ]
    );

    let mut deleted = store
        .delete_many(
            account,
            &[key("A1", "fedex"), key("B1", "dhl"), key("B1", "ups")],
        )
        .await
        .unwrap();
    deleted.sort_by(|a, b| a.courier_code.cmp(&b.courier_code));
    assert_eq!(deleted, vec![key("B1", "dhl"), key("A1", "fedex")]);
    let archived_only = TrackingFilter {
        archived: Some(true),
        ..TrackingFilter::default()
    };
    assert_eq!(
        store
            .count_by_status(account, &archived_only)
            .await
            .unwrap(),
        vec![(DeliveryStatus::Pending, 1)]
    );
    assert_eq!(
        store
            .count_by_status(account, &TrackingFilter::default())
            .await
            .unwrap(),
        vec![(DeliveryStatus::Pending, 2)]
    );
}
