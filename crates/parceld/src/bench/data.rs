//! The data the scenarios load, and the bench's only ways into a database.
//!
//! Scenarios fill a fresh database before a server starts on it, through the store's own batch
//! paths, so what is measured afterwards reads rows written the way parceld writes them. Every
//! database is opened by [`open`]: the backend is named there and nowhere else in the bench.
//! Only [`checked`] reads a table directly, because no part of the store's contract counts the
//! trackings refreshed so far, and the refresh scenario polls that count many times a second
//! while the server is writing.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use parceld_model::{Checkpoint, DeliveryStatus, TrackingFields};
use parceld_store::{NewTracking, RefreshUpdate, Store};
use parceld_store_sqlite::SqliteStore;

/// The database file of a scenario's directory.
pub(super) fn database(dir: &Path) -> std::path::PathBuf {
    dir.join("parceld.db")
}

/// The database in `dir`, created and migrated if need be.
pub(super) async fn open(dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::open(&database(dir)).await?))
}

/// A fresh database in `dir` with its first account: (store, account id, that account's key).
pub(super) async fn store_in(dir: &Path) -> anyhow::Result<(Arc<dyn Store>, i64, String)> {
    std::fs::create_dir_all(dir)?;
    let store = open(dir).await?;
    let key = store
        .bootstrap("default")
        .await?
        .context("a fresh database gives a first key")?;
    Ok((store, key.info.account_id, key.key))
}

/// `count` transit checkpoints six hours apart, newest first, the oldest three days ago.
pub(super) fn checkpoints(count: usize) -> Vec<Checkpoint> {
    let base = Utc::now() - chrono::Duration::days(3);
    (0..count)
        .rev()
        .map(|i| Checkpoint {
            detail: format!("Arrived at sort facility {i}"),
            location: "Amsterdam, NL".into(),
            country_iso2: "NL".into(),
            city: "Amsterdam".into(),
            zip: "1011".into(),
            raw_status: "AR".into(),
            ..Checkpoint::at(
                base + chrono::Duration::hours(i as i64 * 6),
                DeliveryStatus::Transit,
            )
        })
        .collect()
}

/// Claims up to `limit` due trackings of `courier` and gives each `events` transit checkpoints
/// through the refresh path (`Store::apply_refresh`), as a carrier's answer would; returns the
/// numbers of the trackings it gave them to.
pub(super) async fn with_checkpoints(
    store: &dyn Store,
    courier: &str,
    limit: usize,
    events: usize,
) -> anyhow::Result<Vec<String>> {
    let now = Utc::now() + chrono::Duration::seconds(1);
    let claimed = store
        .claim_due(
            "bench",
            now,
            now + chrono::Duration::minutes(5),
            limit,
            courier,
        )
        .await?;
    let events = checkpoints(events);
    let updates: Vec<RefreshUpdate> = claimed
        .iter()
        .map(|c| RefreshUpdate {
            pk: c.pk,
            latest_event: events.first().map(|e| e.detail.clone()),
            latest_checkpoint_time: events.first().map(|e| e.time),
            checkpoints: events.clone(),
            shipment: None,
            delivery_status: DeliveryStatus::Transit,
            substatus: None,
            status_info: None,
            check_error: None,
            check_failures: 0,
            notfound_since: None,
            next_check_at: Some(now + chrono::Duration::hours(3)),
            checked_at: now,
        })
        .collect();
    store.apply_refresh("bench", updates).await?;
    Ok(claimed.into_iter().map(|c| c.tracking_number).collect())
}

fn new_trackings(prefix: &str, courier: &str, range: std::ops::Range<usize>) -> Vec<NewTracking> {
    range
        .map(|i| NewTracking {
            tracking_number: match courier {
                "ups" => format!("1Z{prefix}{i:014}"),
                _ => format!("SANDBOX-DELIVERED-{prefix}{i:09}"),
            },
            courier_code: courier.to_string(),
            courier_detected: false,
            fields: TrackingFields {
                order_number: Some(format!("#{i}")),
                ..TrackingFields::default()
            },
            status_info: None,
            check_error: None,
        })
        .collect()
}

/// Stores `count` trackings of `courier` in batches of 5,000, the way `parceld import` does.
pub(super) async fn bulk_create(
    store: &dyn Store,
    account: i64,
    courier: &str,
    count: usize,
) -> anyhow::Result<()> {
    let mut done = 0;
    while done < count {
        let next = (done + 5000).min(count);
        store
            .create_trackings(account, new_trackings("0", courier, done..next))
            .await?;
        done = next;
    }
    Ok(())
}

/// A read-only connection to the database in `dir`, for [`checked`].
pub(super) async fn read_only(dir: &Path) -> anyhow::Result<sqlx::SqlitePool> {
    Ok(sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", database(dir).display())).await?)
}

/// Trackings checked at least once, read straight from the database file.
pub(super) async fn checked(db: &sqlx::SqlitePool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM trackings WHERE last_checked_at IS NOT NULL")
            .fetch_one(db)
            .await?,
    )
}

/// Bytes the database in `dir` takes on disk: the database file and its write-ahead log.
pub(super) fn size_on_disk(dir: &Path) -> u64 {
    let db = database(dir);
    let wal = db.with_extension("db-wal");
    [db, wal]
        .iter()
        .filter_map(|file| std::fs::metadata(file).ok())
        .map(|meta| meta.len())
        .sum()
}
