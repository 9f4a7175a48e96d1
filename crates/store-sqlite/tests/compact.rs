//! The compact trackings schema (migration 0010): ids stored as 16 bytes, two unused indexes
//! gone. Trackings written before it stay reachable by their old ids and numbers, and a bulk
//! load gets its large page cache while a server keeps SQLite's default.

mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use parceld_model::TrackingId;
use parceld_store::{ClaimOne, Page, Store, TrackingFilter, TrackingPatch};
use parceld_store_conformance::account_with;
use parceld_store_sqlite::{OpenOptions, SqliteStore};

/// A database at the schema before migration 0010, holding `ids` as trackings `OLD0`, `OLD1`, …
/// of account 1 (ups), stored the way that schema stored ids: as 32 hex characters.
async fn database_before_0010(path: &Path, ids: &[TrackingId]) {
    let pool = common::schema_before(path, 10).await;
    sqlx::query(
        "INSERT INTO accounts (id, name, created_at, rate_limits) VALUES (1, 'old', 0, '{}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (n, id) in ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO trackings (id, account_id, tracking_number, courier_code, \
             delivery_status, created_at, updated_at, next_check_at) \
             VALUES (?1, 1, ?2, 'ups', 'pending', 0, 0, 0)",
        )
        .bind(id.as_str())
        .bind(format!("OLD{n}"))
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
}

fn one_page() -> Page {
    Page {
        number: 1,
        size: 50,
    }
}

#[tokio::test]
async fn trackings_stored_with_text_ids_keep_their_ids_after_migration_0010() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let ids: Vec<TrackingId> = (0..3).map(|_| TrackingId::generate()).collect();
    database_before_0010(&path, &ids).await;

    let store = SqliteStore::open(&path).await.unwrap();
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT typeof(id), length(id) FROM trackings ORDER BY pk")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(stored, vec![("blob".to_string(), 16); 3]);

    for (n, id) in ids.iter().enumerate() {
        let got = store.tracking(1, id).await.unwrap().expect("found by id");
        assert_eq!(got.id, *id);
        assert_eq!(got.tracking_number, format!("OLD{n}"));
        let listed = store
            .list_trackings(
                1,
                &TrackingFilter {
                    tracking_numbers: vec![format!("OLD{n}")],
                    ..TrackingFilter::default()
                },
                one_page(),
            )
            .await
            .unwrap();
        assert_eq!(listed.iter().map(|t| &t.id).collect::<Vec<_>>(), [id]);
    }
    let patched = store
        .update_tracking(
            1,
            &ids[0],
            &TrackingPatch {
                archived: Some(true),
                ..TrackingPatch::default()
            },
        )
        .await
        .unwrap()
        .expect("updated by id");
    assert!(patched.archived);
    let now = Utc::now();
    match store
        .claim_tracking(1, &ids[1], "w", now, now + Duration::seconds(60))
        .await
        .unwrap()
    {
        ClaimOne::Claimed(claimed) => assert_eq!(claimed.id, ids[1]),
        _ => panic!("the tracking is claimable by its old id"),
    }
    let deleted = store.delete_tracking(1, &ids[2]).await.unwrap();
    assert_eq!(deleted.map(|t| t.id), Some(ids[2].clone()));
    assert!(store.tracking(1, &ids[2]).await.unwrap().is_none());
}

#[tokio::test]
async fn migration_0010_drops_the_indexes_nothing_reads() {
    let (_dir, store) = common::fresh().await;
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'trackings' \
         ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(
        !indexes.contains(&"trackings_due".to_string()),
        "{indexes:?}"
    );
    assert!(
        !indexes.contains(&"trackings_by_number".to_string()),
        "{indexes:?}"
    );
    // What the scheduler's claims and look-ups by number need is still there.
    assert!(indexes.contains(&"trackings_due_by_courier".to_string()));
    assert!(indexes.contains(&"sqlite_autoindex_trackings_2".to_string()));
}

#[tokio::test]
async fn new_trackings_are_stored_with_16_byte_ids() {
    let (_dir, store) = common::fresh().await;
    let (account, created) = account_with(&store, "a", &[("NEW1", "ups")]).await;
    let tracking = &created[0];
    let stored: Vec<u8> = sqlx::query_scalar("SELECT id FROM trackings")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, tracking.id.to_bytes());
    let got = store.tracking(account, &tracking.id).await.unwrap();
    assert_eq!(got.map(|t| t.id), Some(tracking.id.clone()));
}

#[tokio::test]
async fn only_a_bulk_load_enlarges_the_write_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let cache_size = |store: SqliteStore| async move {
        sqlx::query_scalar::<_, i64>("PRAGMA cache_size")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    // SQLite's default: 2,000 KiB.
    assert_eq!(
        cache_size(SqliteStore::open(&path).await.unwrap()).await,
        -2000
    );
    let bulk = SqliteStore::open_existing_with(&path, OpenOptions::bulk_load())
        .await
        .unwrap();
    assert_eq!(cache_size(bulk.clone()).await, -256 * 1024);
    // One write connection, so the cache stays warm from one batch to the next.
    let held = bulk.pool().acquire().await.unwrap();
    assert!(bulk.pool().try_acquire().is_none());
    drop(held);
    let server = SqliteStore::open(&path).await.unwrap();
    let _first = server.pool().acquire().await.unwrap();
    assert!(
        server.pool().acquire().await.is_ok(),
        "a server's store has several"
    );
}
