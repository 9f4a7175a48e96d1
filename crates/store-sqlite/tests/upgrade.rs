//! Opening a database written by an older parceld brings its schema up to date without losing
//! what it held: the checkpoints stored before checkpoint lists existed (migration 0009), and the
//! tracking numbers stored before numbers were normalized (0011).

mod common;

use parceld_model::{DeliveryStatus, TrackingId};
use parceld_store::Store;
use parceld_store_sqlite::SqliteStore;

#[tokio::test]
async fn numbers_stored_before_migration_0011_are_normalized_unless_that_would_collide() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let pool = common::schema_before(&path, 11).await;
    let ids: Vec<TrackingId> = (0..4).map(|_| TrackingId::generate()).collect();
    let rows = [
        (&ids[0], "abc-123", "ups"),
        (&ids[1], "ABC123", "ups"),
        (&ids[2], "abc-123", "fedex"),
        (&ids[3], "SANDBOX-DELIVERED-1", "sandbox"),
    ];
    sqlx::query(
        "INSERT INTO accounts (id, name, created_at, rate_limits) VALUES (1, 'old', 0, '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (id, number, courier) in rows {
        sqlx::query(
            "INSERT INTO trackings (id, account_id, tracking_number, courier_code, delivery_status, \
             created_at, updated_at) VALUES (unhex(?1), 1, ?2, ?3, 'pending', 0, 0)",
        )
        .bind(id.as_str())
        .bind(number)
        .bind(courier)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let mut numbers = Vec::new();
    for id in &ids {
        numbers.push(
            store
                .tracking(1, id)
                .await
                .unwrap()
                .unwrap()
                .tracking_number,
        );
    }
    // The first would collide with the second, so it keeps its old form.
    assert_eq!(
        numbers,
        ["abc-123", "ABC123", "ABC123", "SANDBOXDELIVERED1"]
    );
}

#[tokio::test]
async fn checkpoints_stored_before_migration_0009_are_read_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");

    // The schema as it was before checkpoint lists, and data written with it.
    let pool = common::schema_before(&path, 9).await;
    let id = TrackingId::generate();
    let empty = TrackingId::generate();
    sqlx::query(
        "INSERT INTO accounts (id, name, created_at, rate_limits) VALUES (1, 'old', 0, '{}'); \
         INSERT INTO trackings (pk, id, account_id, tracking_number, courier_code, \
           delivery_status, created_at, updated_at) VALUES (1, ?1, 1, 'OLD1', 'ups', 'delivered', 0, 0); \
         INSERT INTO trackings (pk, id, account_id, tracking_number, courier_code, \
           delivery_status, created_at, updated_at) VALUES (2, ?2, 1, 'OLD2', 'ups', 'pending', 0, 0); \
         INSERT INTO checkpoints (tracking_pk, leg, time, checkpoint_date, status, substatus, \
           detail, location, raw_time, fingerprint) VALUES \
           (1, 0, 1000, 'first', 'transit', NULL, 'Picked up', 'Memphis', '', 'a'), \
           (1, 1, 3000, 'last', 'delivered', 'delivered001', 'Delivered', 'Toronto', 'raw', 'b'), \
           (1, 0, 2000, 'same instant, stored first', 'transit', 'transit001', 'Sorted', '', '', 'c'), \
           (1, 0, 2000, 'same instant, stored later', 'transit', 'transit001', 'Arrived', '', '', 'd');",
    )
    .bind(id.as_str())
    .bind(empty.as_str())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let tracking = store.tracking(1, &id).await.unwrap().unwrap();
    let dates: Vec<&str> = tracking
        .checkpoints
        .iter()
        .map(|c| c.checkpoint_date.as_str())
        .collect();
    assert_eq!(
        dates,
        [
            "last",
            "same instant, stored later",
            "same instant, stored first",
            "first"
        ]
    );
    let last = &tracking.checkpoints[0];
    assert_eq!(last.status, DeliveryStatus::Delivered);
    assert_eq!(last.substatus.map(|s| s.as_str()), Some("delivered001"));
    assert_eq!(
        (
            last.detail.as_str(),
            last.location.as_str(),
            last.raw_time.as_str()
        ),
        ("Delivered", "Toronto", "raw")
    );
    assert_eq!(tracking.checkpoints[3].substatus, None);
    let none = store.tracking(1, &empty).await.unwrap().unwrap();
    assert!(none.checkpoints.is_empty(), "no checkpoints, no list");
}
