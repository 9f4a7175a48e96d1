//! The write connections' statement caches stay the same size whatever the sizes of the groups
//! written: a multi-row statement of a one-off row count is prepared for its one use, so a
//! long-running server does not collect a prepared statement (up to about 0.6 MiB each) for
//! every group size it has seen (`src/statements.rs`).

use chrono::{Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, TrackingFields};
use parceld_store::{NewTracking, RefreshUpdate, Store};
use parceld_store_sqlite::{OpenOptions, SqliteStore};
use sqlx::Connection;

fn new_trackings(prefix: &str, n: usize) -> Vec<NewTracking> {
    (0..n)
        .map(|i| NewTracking {
            tracking_number: format!("{prefix}-{n}-{i}"),
            courier_code: "ups".into(),
            courier_detected: false,
            fields: TrackingFields::default(),
            status_info: None,
            check_error: None,
        })
        .collect()
}

/// Creates a group of `n` trackings, then refreshes one of them with `n` new checkpoints.
async fn write_groups_of(store: &SqliteStore, account: i64, n: usize) {
    store
        .create_trackings(account, new_trackings("G", n))
        .await
        .unwrap();
    let now = Utc::now();
    let claimed = store
        .claim_due("worker", now, now + Duration::minutes(5), 1, "ups")
        .await
        .unwrap();
    let now = now + Duration::seconds(n as i64);
    let updates = claimed
        .iter()
        .map(|c| RefreshUpdate {
            pk: c.pk,
            checkpoints: (0..n)
                .map(|i| Checkpoint {
                    detail: format!("scan {i}"),
                    ..Checkpoint::at(now - Duration::minutes(i as i64), DeliveryStatus::Transit)
                })
                .collect(),
            shipment: None,
            delivery_status: DeliveryStatus::Transit,
            substatus: None,
            status_info: None,
            latest_event: Some("scan 0".into()),
            latest_checkpoint_time: Some(now),
            check_error: None,
            check_failures: 0,
            notfound_since: None,
            next_check_at: None,
            checked_at: now,
        })
        .collect();
    store.apply_refresh("worker", updates).await.unwrap();
}

async fn cached_statements(store: &SqliteStore) -> usize {
    store
        .pool()
        .acquire()
        .await
        .unwrap()
        .cached_statements_size()
}

#[tokio::test]
async fn group_sizes_do_not_fill_the_statement_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).await.unwrap());
    // One write connection, so every statement goes through the cache measured.
    let one_connection = OpenOptions {
        write_connections: Some(1),
        ..OpenOptions::default()
    };
    let store = SqliteStore::open_existing_with(&path, one_connection)
        .await
        .unwrap();
    let account = store.create_account("a").await.unwrap().id;
    // Every statement of the paths once, with groups of two (and one, which is kept).
    write_groups_of(&store, account, 1).await;
    write_groups_of(&store, account, 2).await;
    let warm = cached_statements(&store).await;
    for n in 3..40 {
        write_groups_of(&store, account, n).await;
    }
    assert_eq!(
        cached_statements(&store).await,
        warm,
        "37 more group sizes prepared no statement to keep"
    );
}
