//! The data the scenarios load, and the bench's only ways into a database.
//!
//! Scenarios fill a fresh database before a server starts on it, through the store's own batch
//! paths, so what is measured afterwards reads rows written the way parceld writes them. Every
//! database is opened by [`open`], on the [`Backend`] the run measures; only `backend` reads a
//! table directly (the count of refreshed trackings, which no part of the store's contract
//! gives).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use parceld_model::{Checkpoint, DeliveryStatus, TrackingFields};
use parceld_store::{NewTracking, RefreshUpdate, Store};
use parceld_store_postgres::PostgresStore;
use parceld_store_sqlite::SqliteStore;

use super::backend::Backend;

/// The database file of a scenario's directory, on SQLite.
pub(super) fn database(dir: &Path) -> std::path::PathBuf {
    dir.join("parceld.db")
}

/// The database of `dir` on `backend`, created (SQLite) and migrated if need be.
pub(super) async fn open(backend: &Backend, dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(&database(dir)).await?),
        Backend::Postgres(_) => Arc::new(
            PostgresStore::connect(
                &backend.url(dir),
                parceld_store_postgres::DEFAULT_MAX_CONNECTIONS,
            )
            .await?,
        ),
    })
}

/// A fresh database of `dir` with its first account: (store, account id, that account's key).
pub(super) async fn store_in(
    backend: &Backend,
    dir: &Path,
) -> anyhow::Result<(Arc<dyn Store>, i64, String)> {
    backend.fresh(dir).await?;
    let store = open(backend, dir).await?;
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

/// Trackings `range` of `courier`, each with an order number and, when `customers`, a customer's
/// email address.
fn new_trackings(
    prefix: &str,
    courier: &str,
    range: std::ops::Range<usize>,
    customers: bool,
) -> Vec<NewTracking> {
    range
        .map(|i| NewTracking {
            tracking_number: match courier {
                "ups" => format!("1Z{prefix}{i:014}"),
                "aramex" => format!("4{prefix}{i:09}"),
                "fedex" => format!("7{prefix}{i:011}"),
                _ => format!("SANDBOX-DELIVERED-{prefix}{i:09}"),
            },
            courier_code: courier.to_string(),
            courier_detected: false,
            fields: TrackingFields {
                order_number: Some(format!("#{i}")),
                customer_email: customers.then(|| format!("customer{i}@bench.test")),
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
    bulk_create_for(store, account, courier, count, false).await
}

/// [`bulk_create`], each tracking with its customer's email address when `customers`.
pub(super) async fn bulk_create_for(
    store: &dyn Store,
    account: i64,
    courier: &str,
    count: usize,
    customers: bool,
) -> anyhow::Result<()> {
    let mut done = 0;
    while done < count {
        let next = (done + 5000).min(count);
        let batch = new_trackings("0", courier, done..next, customers);
        store.create_trackings(account, batch).await?;
        done = next;
    }
    Ok(())
}

/// A read-only connection to the SQLite database in `dir`, for the soak's own counts.
pub(super) async fn read_only(dir: &Path) -> anyhow::Result<sqlx::SqlitePool> {
    Ok(sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", database(dir).display())).await?)
}
