//! [`SqliteStore`]: one database file in WAL mode, migrations embedded and run on open, and the
//! `Store` implementation, which hands each call to the module of its job (accounts, trackings,
//! refresh, webhooks).
//!
//! SQLite serialises writers, so every write path is a single short transaction with multi-row
//! statements; reads run concurrently on the pool's other connections or inline
//! ([`crate::reader`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, RateLimits, Tracking, TrackingId};
use parceld_store::{
    store_calls, Account, AccountId, AnalyticsFilter, ApiKeyInfo, ApplyReport, AttemptRecord,
    ClaimOne, ClaimedDelivery, ClaimedTracking, Counters, CreateOutcome, CreateWebhook,
    DeliveryInfo, KeyCheck, NewApiKey, NewTracking, NewWebhook, NumberKey, Page, PageAccount,
    PageAccountKey, PageLookup, PageSettings, RefreshUpdate, RetrackOutcome, Seek, StoreResult,
    TrackingChange, TrackingFilter, TrackingPatch, WebhookEndpoint, WebhookGauges, WebhookPatch,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::mpsc;

use crate::checkpointer::{Checkpointer, BACKSTOP_PAGES};
use crate::error::Result;
use crate::key_cache::KeyCache;
use crate::reader::Readers;
use crate::{accounts, analytics, outbox, pages, refresh, sorted, trackings, webhooks};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The URL scheme of SQLite databases: `sqlite://PATH` (`sqlite:///abs/path/parceld.db`,
/// `sqlite://data/parceld.db`).
pub const URL_SCHEME: &str = "sqlite";

/// Why a `sqlite://` URL cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("`{0}` is not a SQLite URL; write sqlite://PATH")]
    NotSqlite(String),
    #[error("`{0}` names no file; write sqlite://PATH")]
    NoPath(String),
}

/// The database file a `sqlite://PATH` URL names; PATH may be relative (to the working
/// directory) or absolute (`sqlite:///var/lib/parceld/parceld.db`).
pub fn path_of_url(url: &str) -> std::result::Result<PathBuf, UrlError> {
    let path = url
        .strip_prefix(URL_SCHEME)
        .and_then(|rest| rest.strip_prefix("://"))
        .ok_or_else(|| UrlError::NotSqlite(url.to_string()))?;
    if path.is_empty() {
        return Err(UrlError::NoPath(url.to_string()));
    }
    Ok(PathBuf::from(path))
}

/// How one process means to use the store, where that changes how SQLite is set up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The page cache of each write connection, in KiB; `None` keeps SQLite's default (2 MiB),
    /// which keeps a server's memory small.
    pub write_cache_kib: Option<u32>,
    /// Write connections at most; `None`: a server's 8.
    pub write_connections: Option<u32>,
}

/// Write connections of a server's store: concurrent requests each hold one while they wait
/// for SQLite's single writer or read inside a write transaction.
const WRITE_CONNECTIONS: u32 = 8;

impl OpenOptions {
    /// For a bulk load (`parceld import`): every insert touches the last pages of each of the
    /// trackings table's indexes, and with the default cache SQLite read them again through
    /// system calls for every batch, which cost more time than the inserts themselves. One
    /// connection: the pool hands out its idle connections in turn, and a connection's cache is
    /// emptied whenever another connection has written, so with several each batch found a
    /// cold cache whatever its size.
    pub fn bulk_load() -> Self {
        OpenOptions {
            write_cache_kib: Some(256 * 1024),
            write_connections: Some(1),
        }
    }
}

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The hot read path (API keys, trackings): see [`crate::reader`].
    readers: Arc<Readers>,
    /// Valid key checks, remembered: see [`crate::key_cache`].
    key_cache: Arc<KeyCache>,
    /// WAL checkpoints off the writer's path: see [`crate::checkpointer`].
    _checkpointer: Arc<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date. For a
    /// `sqlite://PATH` URL, [`path_of_url`] gives the file.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Ok(Self::open_file(path, true, OpenOptions::default()).await?)
    }

    /// Opens the database file only if it exists (bringing its schema up to date), and creates
    /// nothing otherwise: for commands that must not leave a new empty database behind when
    /// pointed at the wrong place.
    pub async fn open_existing(path: &Path) -> StoreResult<Self> {
        Ok(Self::open_file(path, false, OpenOptions::default()).await?)
    }

    /// [`SqliteStore::open_existing`], set up for the use `options` describe.
    pub async fn open_existing_with(path: &Path, options: OpenOptions) -> StoreResult<Self> {
        Ok(Self::open_file(path, false, options).await?)
    }

    async fn open_file(path: &Path, create_if_missing: bool, open: OpenOptions) -> Result<Self> {
        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", BACKSTOP_PAGES.to_string());
        if let Some(kib) = open.write_cache_kib {
            // A negative cache_size is in KiB rather than pages.
            options = options.pragma("cache_size", format!("-{kib}"));
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(open.write_connections.unwrap_or(WRITE_CONNECTIONS).max(1))
            .min_connections(1)
            .connect_with(options)
            .await?;
        let store = SqliteStore {
            pool,
            readers: Arc::new(Readers::new(path)),
            key_cache: Arc::new(KeyCache::new(path)),
            _checkpointer: Arc::new(Checkpointer::start(path)),
        };
        MIGRATOR.run(&store.pool).await?;
        Ok(store)
    }

    /// The migrations this build knows, as (version, description).
    pub fn known_migrations() -> Vec<(i64, String)> {
        MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// The connection pool, for tests and the benchmark that look at tables directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The database itself: whether it answers, and its schema.
mod schema {
    use super::{Result, SqliteStore, MIGRATOR};

    /// Whether the database answers (for `/readyz`).
    pub(super) async fn answers(store: &SqliteStore) -> Result<()> {
        sqlx::query("SELECT 1").execute(&store.pool).await?;
        Ok(())
    }

    /// Brings the schema up to date; the number of migrations the schema has.
    pub(super) async fn brought_up_to_date(store: &SqliteStore) -> Result<usize> {
        MIGRATOR.run(&store.pool).await?;
        Ok(MIGRATOR.iter().count())
    }
}

// The whole `Store` implementation: each call is a function of the module of that job, which
// takes the write pool, the inline readers (the hot read paths) and the key cache it needs.
store_calls! { SqliteStore, s = std::convert::identity;
    fn ping() -> () => schema::answers(s);
    fn migrate() -> usize => schema::brought_up_to_date(s);
    fn bootstrap(name: &str) -> Option<NewApiKey> => accounts::bootstrap(&s.pool, &s.key_cache, name);
    fn create_account(name: &str) -> Account => accounts::create_account(&s.pool, &s.key_cache, name);
    fn accounts() -> Vec<Account> => accounts::accounts(&s.pool);
    fn set_account_disabled(name: &str, disabled: bool) -> Account =>
        accounts::set_account_disabled(&s.pool, &s.key_cache, name, disabled);
    fn set_account_rate_limits(name: &str, limits: &RateLimits) -> Account =>
        accounts::set_account_rate_limits(&s.pool, &s.key_cache, name, limits);
    fn create_api_key(account_name: &str) -> NewApiKey => accounts::create_api_key(&s.pool, &s.key_cache, account_name);
    fn api_keys() -> Vec<ApiKeyInfo> => accounts::api_keys(&s.pool);
    fn delete_api_key(key_id: &str) -> bool => accounts::delete_api_key(&s.pool, &s.key_cache, key_id);
    fn check_api_key(presented: &str) -> KeyCheck => accounts::check_api_key(&s.readers, &s.key_cache, presented);

    fn create_trackings(account: AccountId, new: Vec<NewTracking>) -> Vec<CreateOutcome> => trackings::create(&s.pool, account, new);
    fn list_trackings(account: AccountId, filter: &TrackingFilter, page: Page) -> Vec<Tracking> =>
        trackings::list(&s.readers, account, filter, page);
    fn list_trackings_in_chunks(account: AccountId, filter: &TrackingFilter, page: Page, chunk: usize, chunks: mpsc::Sender<Vec<Tracking>>) -> () =>
        trackings::list_in_chunks(s.readers.clone(), account, filter, page, chunk, chunks);
    fn list_sorted(account: AccountId, filter: &TrackingFilter, seek: &Seek) -> Vec<(i64, Tracking)> =>
        sorted::list(&s.readers, account, filter, seek);
    fn tracking(account: AccountId, id: &TrackingId) -> Option<Tracking> => trackings::get(&s.readers, account, id);
    fn update_tracking(account: AccountId, id: &TrackingId, patch: &TrackingPatch) -> Option<Tracking> =>
        trackings::update(&s.pool, &s.readers, account, id, patch);
    fn delete_tracking(account: AccountId, id: &TrackingId) -> Option<Tracking> => trackings::delete(&s.pool, &s.readers, account, id);
    fn count_by_status(account: AccountId, filter: &TrackingFilter) -> Vec<(DeliveryStatus, u64)> =>
        trackings::count_by_status(&s.readers, account, filter);
    fn archive_many(account: AccountId, keys: &[NumberKey]) -> Vec<NumberKey> => trackings::archive_many(&s.pool, account, keys);
    fn delete_many(account: AccountId, keys: &[NumberKey]) -> Vec<NumberKey> => trackings::delete_many(&s.pool, account, keys);
    fn delete_finished_trackings(status: DeliveryStatus, unchanged_before: DateTime<Utc>, limit: u32) -> u64 =>
        crate::retention::delete_finished(&s.pool, status, unchanged_before, limit);
    fn retrack(account: AccountId, id: &TrackingId) -> RetrackOutcome => trackings::retrack(&s.pool, &s.readers, account, id);

    fn claim_due(owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize, courier_code: &str) -> Vec<ClaimedTracking> =>
        refresh::claim_due(&s.pool, owner, now, lease_until, limit, courier_code);
    fn apply_refresh(owner: &str, updates: Vec<RefreshUpdate>) -> ApplyReport => refresh::apply_refresh(&s.pool, owner, updates);
    fn claim_tracking(account: AccountId, id: &TrackingId, owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> ClaimOne =>
        refresh::claim_tracking(&s.pool, account, id, owner, now, lease_until);
    fn release_claims(owner: &str) -> u64 => refresh::release_claims(&s.pool, owner);
    fn changes_of(tracking_pk: i64) -> Vec<TrackingChange> => refresh::changes_of(&s.pool, tracking_pk);
    fn trackings_by_pk(pks: &[i64]) -> Vec<(i64, Tracking)> => trackings::load_trackings_by_pk(&s.readers, pks);

    fn create_webhook(account: AccountId, new: &NewWebhook, max: usize) -> CreateWebhook => webhooks::create(&s.pool, account, new, max);
    fn webhooks(account: Option<AccountId>) -> Vec<WebhookEndpoint> => webhooks::list(&s.pool, account);
    fn webhook(account: Option<AccountId>, id: &str) -> Option<WebhookEndpoint> => webhooks::get(&s.pool, account, id);
    fn update_webhook(account: Option<AccountId>, id: &str, patch: &WebhookPatch) -> Option<WebhookEndpoint> =>
        webhooks::update(&s.pool, account, id, patch);
    fn delete_webhook(account: Option<AccountId>, id: &str) -> Option<WebhookEndpoint> => webhooks::delete(&s.pool, account, id);
    fn webhook_gauges() -> WebhookGauges => webhooks::gauges(&s.pool);

    fn insert_delivery(endpoint: &WebhookEndpoint, event: &str, event_id: &str, payload: Option<&str>, due: bool) -> (i64, String) =>
        outbox::insert_delivery(&s.pool, endpoint, event, event_id, payload, due);
    fn claim_deliveries(owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize, per_endpoint: usize) -> Vec<ClaimedDelivery> =>
        outbox::claim(&s.pool, owner, now, lease_until, limit, per_endpoint);
    fn record_attempts(owner: &str, attempts: &[AttemptRecord], disable_after: chrono::Duration, now: DateTime<Utc>) -> Vec<String> =>
        outbox::record(&s.pool, owner, attempts, disable_after, now);
    fn release_deliveries(owner: &str) -> u64 => outbox::release(&s.pool, owner);
    fn prune_deliveries(before: DateTime<Utc>) -> u64 => outbox::prune(&s.pool, before);
    fn deliveries(endpoint_pk: i64, limit: u32, delivery_id: Option<&str>) -> Vec<DeliveryInfo> =>
        outbox::deliveries(&s.pool, endpoint_pk, limit, delivery_id);
    fn redeliver(endpoint_pk: i64, delivery_id: &str) -> bool => outbox::redeliver(&s.pool, endpoint_pk, delivery_id);

    fn page_settings(account: AccountId) -> PageSettings => pages::page_settings(&s.readers, account);
    fn set_page_settings(account: AccountId, settings: &PageSettings) -> PageSettings => pages::set_page_settings(&s.pool, account, settings);
    fn page_account(key: PageAccountKey<'_>) -> Option<PageAccount> => pages::page_account(&s.readers, key);
    fn page_trackings(account: AccountId, lookup: PageLookup<'_>) -> Vec<Tracking> => pages::page_trackings(&s.readers, account, lookup);
    fn analytics(account: AccountId, filter: &AnalyticsFilter) -> Counters => analytics::analytics(s.readers.clone(), account, filter);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_relative_and_absolute_files() {
        assert_eq!(
            path_of_url("sqlite://data/parceld.db").unwrap(),
            PathBuf::from("data/parceld.db")
        );
        assert_eq!(
            path_of_url("sqlite:///var/lib/parceld/parceld.db").unwrap(),
            PathBuf::from("/var/lib/parceld/parceld.db")
        );
        assert!(matches!(
            path_of_url("postgres://localhost/parceld"),
            Err(UrlError::NotSqlite(_))
        ));
        assert!(matches!(path_of_url("sqlite://"), Err(UrlError::NoPath(_))));
    }
}
