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

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, RateLimits, Tracking, TrackingId};
use parceld_store::{
    Account, AccountId, ApiKeyInfo, ApplyReport, AttemptRecord, ClaimOne, ClaimedDelivery,
    ClaimedTracking, CreateOutcome, CreateWebhook, DeliveryInfo, KeyCheck, NewApiKey, NewTracking,
    NewWebhook, NumberKey, Page, PageAccount, PageAccountKey, PageLookup, PageSettings,
    RefreshUpdate, RetrackOutcome, Store, StoreError, StoreResult, TrackingChange, TrackingFilter,
    TrackingPatch, WebhookEndpoint, WebhookGauges, WebhookPatch,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::key_cache::KeyCache;
use crate::reader::Readers;
use crate::{accounts, outbox, pages, refresh, trackings, webhooks};

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
            .busy_timeout(Duration::from_secs(10));
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

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn migrate(&self) -> StoreResult<usize> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(MIGRATOR.iter().count())
    }

    async fn bootstrap(&self, name: &str) -> StoreResult<Option<NewApiKey>> {
        Ok(accounts::bootstrap(&self.pool, &self.key_cache, name).await?)
    }

    async fn create_account(&self, name: &str) -> StoreResult<Account> {
        Ok(accounts::create_account(&self.pool, &self.key_cache, name).await?)
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        Ok(accounts::accounts(&self.pool).await?)
    }

    async fn set_account_disabled(&self, name: &str, disabled: bool) -> StoreResult<Account> {
        Ok(accounts::set_account_disabled(&self.pool, &self.key_cache, name, disabled).await?)
    }

    async fn set_account_rate_limits(
        &self,
        name: &str,
        limits: &RateLimits,
    ) -> StoreResult<Account> {
        Ok(accounts::set_account_rate_limits(&self.pool, &self.key_cache, name, limits).await?)
    }

    async fn create_api_key(&self, account_name: &str) -> StoreResult<NewApiKey> {
        Ok(accounts::create_api_key(&self.pool, &self.key_cache, account_name).await?)
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>> {
        Ok(accounts::api_keys(&self.pool).await?)
    }

    async fn delete_api_key(&self, key_id: &str) -> StoreResult<bool> {
        Ok(accounts::delete_api_key(&self.pool, &self.key_cache, key_id).await?)
    }

    async fn check_api_key(&self, presented: &str) -> StoreResult<KeyCheck> {
        Ok(accounts::check_api_key(&self.readers, &self.key_cache, presented).await?)
    }

    async fn create_trackings(
        &self,
        account: AccountId,
        new: Vec<NewTracking>,
    ) -> StoreResult<Vec<CreateOutcome>> {
        Ok(trackings::create(&self.pool, account, new).await?)
    }

    async fn list_trackings(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
    ) -> StoreResult<Vec<Tracking>> {
        Ok(trackings::list(&self.readers, account, filter, page).await?)
    }

    async fn list_trackings_in_chunks(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
        chunk: usize,
        chunks: mpsc::Sender<Vec<Tracking>>,
    ) -> StoreResult<()> {
        let readers = self.readers.clone();
        Ok(trackings::list_in_chunks(readers, account, filter, page, chunk, chunks).await?)
    }

    async fn tracking(&self, account: AccountId, id: &TrackingId) -> StoreResult<Option<Tracking>> {
        Ok(trackings::get(&self.readers, account, id).await?)
    }

    async fn update_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        patch: &TrackingPatch,
    ) -> StoreResult<Option<Tracking>> {
        Ok(trackings::update(&self.pool, &self.readers, account, id, patch).await?)
    }

    async fn delete_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
    ) -> StoreResult<Option<Tracking>> {
        Ok(trackings::delete(&self.pool, &self.readers, account, id).await?)
    }

    async fn count_by_status(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
    ) -> StoreResult<Vec<(DeliveryStatus, u64)>> {
        Ok(trackings::count_by_status(&self.readers, account, filter).await?)
    }

    async fn archive_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>> {
        Ok(trackings::archive_many(&self.pool, account, keys).await?)
    }

    async fn delete_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>> {
        Ok(trackings::delete_many(&self.pool, account, keys).await?)
    }

    async fn delete_finished_trackings(
        &self,
        status: DeliveryStatus,
        unchanged_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64> {
        Ok(crate::retention::delete_finished(&self.pool, status, unchanged_before, limit).await?)
    }

    async fn retrack(&self, account: AccountId, id: &TrackingId) -> StoreResult<RetrackOutcome> {
        Ok(trackings::retrack(&self.pool, &self.readers, account, id).await?)
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        courier_code: &str,
    ) -> StoreResult<Vec<ClaimedTracking>> {
        Ok(refresh::claim_due(&self.pool, owner, now, lease_until, limit, courier_code).await?)
    }

    async fn apply_refresh(
        &self,
        owner: &str,
        updates: Vec<RefreshUpdate>,
    ) -> StoreResult<ApplyReport> {
        Ok(refresh::apply_refresh(&self.pool, owner, updates).await?)
    }

    async fn claim_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<ClaimOne> {
        Ok(refresh::claim_tracking(&self.pool, account, id, owner, now, lease_until).await?)
    }

    async fn release_claims(&self, owner: &str) -> StoreResult<u64> {
        Ok(refresh::release_claims(&self.pool, owner).await?)
    }

    async fn changes_of(&self, tracking_pk: i64) -> StoreResult<Vec<TrackingChange>> {
        Ok(refresh::changes_of(&self.pool, tracking_pk).await?)
    }

    async fn trackings_by_pk(&self, pks: &[i64]) -> StoreResult<Vec<(i64, Tracking)>> {
        Ok(trackings::load_trackings_by_pk(&self.readers, pks).await?)
    }

    async fn create_webhook(
        &self,
        account: AccountId,
        new: &NewWebhook,
        max: usize,
    ) -> StoreResult<CreateWebhook> {
        Ok(webhooks::create(&self.pool, account, new, max).await?)
    }

    async fn webhooks(&self, account: Option<AccountId>) -> StoreResult<Vec<WebhookEndpoint>> {
        Ok(webhooks::list(&self.pool, account).await?)
    }

    async fn webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(webhooks::get(&self.pool, account, id).await?)
    }

    async fn update_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
        patch: &WebhookPatch,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(webhooks::update(&self.pool, account, id, patch).await?)
    }

    async fn delete_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(webhooks::delete(&self.pool, account, id).await?)
    }

    async fn insert_delivery(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        event_id: &str,
        payload: Option<&str>,
        due: bool,
    ) -> StoreResult<(i64, String)> {
        Ok(outbox::insert_delivery(&self.pool, endpoint, event, event_id, payload, due).await?)
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        per_endpoint: usize,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        Ok(outbox::claim(&self.pool, owner, now, lease_until, limit, per_endpoint).await?)
    }

    async fn record_attempts(
        &self,
        owner: &str,
        attempts: &[AttemptRecord],
        disable_after: chrono::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        Ok(outbox::record(&self.pool, owner, attempts, disable_after, now).await?)
    }

    async fn release_deliveries(&self, owner: &str) -> StoreResult<u64> {
        Ok(outbox::release(&self.pool, owner).await?)
    }

    async fn prune_deliveries(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(outbox::prune(&self.pool, before).await?)
    }

    async fn deliveries(
        &self,
        endpoint_pk: i64,
        limit: u32,
        delivery_id: Option<&str>,
    ) -> StoreResult<Vec<DeliveryInfo>> {
        Ok(outbox::deliveries(&self.pool, endpoint_pk, limit, delivery_id).await?)
    }

    async fn redeliver(&self, endpoint_pk: i64, delivery_id: &str) -> StoreResult<bool> {
        Ok(outbox::redeliver(&self.pool, endpoint_pk, delivery_id).await?)
    }

    async fn page_settings(&self, account: AccountId) -> StoreResult<PageSettings> {
        Ok(pages::page_settings(&self.readers, account).await?)
    }

    async fn set_page_settings(
        &self,
        account: AccountId,
        settings: &PageSettings,
    ) -> StoreResult<PageSettings> {
        Ok(pages::set_page_settings(&self.pool, account, settings).await?)
    }

    async fn page_account(&self, key: PageAccountKey<'_>) -> StoreResult<Option<PageAccount>> {
        Ok(pages::page_account(&self.readers, key).await?)
    }

    async fn page_trackings(
        &self,
        account: AccountId,
        lookup: PageLookup<'_>,
    ) -> StoreResult<Vec<Tracking>> {
        Ok(pages::page_trackings(&self.readers, account, lookup).await?)
    }

    async fn webhook_gauges(&self) -> StoreResult<WebhookGauges> {
        Ok(webhooks::gauges(&self.pool).await?)
    }
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
