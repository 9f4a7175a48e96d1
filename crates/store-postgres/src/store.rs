//! [`PostgresStore`]: a connection pool to one PostgreSQL database, its migrations (embedded, run
//! under an advisory lock on open), and the `Store` implementation, which hands each call to
//! the module of its job.
//!
//! Statements are prepared once per connection: sqlx keeps each connection's prepared
//! statements and reuses them by their text, and every statement here has a fixed text (values
//! are bound, lists go in as arrays), the list queries one text per combination of filters.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, RateLimits, Tracking, TrackingId};
use parceld_store::backend::BackendResult as Result;
use parceld_store::{
    store_calls, Account, AccountId, AnalyticsFilter, ApiKeyInfo, ApplyReport, AttemptRecord,
    ClaimOne, ClaimedDelivery, ClaimedTracking, Counters, CreateOutcome, CreateWebhook,
    DeliveryInfo, KeyCheck, NewApiKey, NewTracking, NewWebhook, NumberKey, Page, PageAccount,
    PageAccountKey, PageLookup, PageSettings, RefreshUpdate, RetrackOutcome, Seek, SharedBucket,
    StoreResult, TrackingChange, TrackingFilter, TrackingPatch, WebhookEndpoint, WebhookGauges,
    WebhookPatch,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::key_cache::KeyCache;
use crate::outbox::{Disabling, Event};
use crate::rows::Lease;
use crate::trackings::ByKeys;
use crate::webhooks::ById;
use crate::{
    accounts, analytics, listing, outbox, pages, rate_buckets, refresh, trackings, webhooks,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The URL schemes of PostgreSQL databases: `postgres://USER@HOST:PORT/DATABASE` (or
/// `postgresql://…`), with any of libpq's parameters (`?sslmode=require`, …).
pub const URL_SCHEMES: [&str; 2] = ["postgres", "postgresql"];

/// Connections a node keeps at most when `database.max_connections` is not set. Every request
/// and every refresh or webhook batch holds one for the length of one statement or transaction;
/// a node rarely needs more than a few, and N nodes need N times this below the server's own
/// `max_connections` (100 by default).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| URL_SCHEMES.contains(&scheme))
}

/// `url` without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_string(),
    }
}

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// The API-key checks this node remembers, and the listener that makes it forget them.
    pub(crate) key_cache: Arc<KeyCache>,
    /// Stops this node's analytics fold timer (`fold.rs`) when the last clone is dropped.
    _folding: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl PostgresStore {
    /// Connects to the database `url` names (which must exist) with at most `max_connections`
    /// connections, and brings its schema up to date. Nodes opening one database at the same
    /// time migrate it once: sqlx's migrator holds a PostgreSQL advisory lock while it runs, so
    /// the others wait for it and then find nothing left to do.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        Ok(Self::open(url, max_connections).await?)
    }

    async fn open(url: &str, max_connections: u32) -> Result<Self> {
        // The server's notices ("relation … already exists, skipping" at every migration check)
        // are not the operator's business; warnings and errors still come. JIT compilation is
        // off: parceld's statements each touch a few rows by index, but the planner's guesses
        // (a JSON array's elements are always guessed at 100 rows) put some above
        // `jit_above_cost`, and compiling them took 0.5 to 9 seconds a statement where running
        // them took under a millisecond (the refresh's notification statement, seen in
        // `auto_explain`'s plans).
        let options = PgConnectOptions::from_str(url)?
            .application_name("parceld")
            .options([("client_min_messages", "warning"), ("jit", "off")]);
        // Connections are not pinged before each use (sqlx's default): that was a round trip to
        // the server ahead of every statement. A connection that broke meanwhile fails its
        // statement instead, and the pool drops it.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let key_cache = Arc::new(KeyCache::new(options));
        MIGRATOR.run(&pool).await?;
        let folding = Arc::new(crate::fold::start(pool.clone()));
        Ok(PostgresStore {
            pool,
            key_cache,
            _folding: folding,
        })
    }

    /// The connection pool, for the benchmark that looks at tables directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The database itself: whether it answers, and its schema.
mod schema {
    use super::{Result, MIGRATOR};
    use sqlx::PgPool;

    /// Whether the database answers (for `/readyz`).
    pub(super) async fn ping(pool: &PgPool) -> Result<()> {
        sqlx::query("SELECT 1").execute(pool).await?;
        Ok(())
    }

    /// Brings the schema up to date (under the migrator's advisory lock); the number of
    /// migrations the schema has.
    pub(super) async fn migrate(pool: &PgPool) -> Result<usize> {
        MIGRATOR.run(pool).await?;
        Ok(MIGRATOR.iter().count())
    }
}

// The whole `Store` implementation: each call is a function of the module of that job, which
// does its work in SQL of its own; the store is handed as `s` (its pool, and the key cache that
// the key check and the changes to keys and accounts use).
store_calls! { PostgresStore, s = std::convert::identity;
    fn ping() -> () => schema::ping(&s.pool);
    fn migrate() -> usize => schema::migrate(&s.pool);
    fn bootstrap(name: &str) -> Option<NewApiKey> => accounts::bootstrap(&s.pool, name);
    fn create_account(name: &str) -> Account => accounts::create(&s.pool, name);
    fn accounts() -> Vec<Account> => accounts::all(&s.pool);
    fn set_account_disabled(name: &str, disabled: bool) -> Account => accounts::set_disabled(&s.pool, &s.key_cache, name, disabled);
    fn set_account_rate_limits(name: &str, limits: &RateLimits) -> Account => accounts::set_rate_limits(&s.pool, &s.key_cache, name, limits);
    fn create_api_key(account_name: &str) -> NewApiKey => accounts::create_key(&s.pool, account_name);
    fn api_keys() -> Vec<ApiKeyInfo> => accounts::list_keys(&s.pool);
    fn delete_api_key(key_id: &str) -> bool => accounts::delete_key(&s.pool, &s.key_cache, key_id);
    fn check_api_key(presented: &str) -> KeyCheck => accounts::check_key(&s.pool, &s.key_cache, presented);
    fn take_rate_tokens(account: AccountId, class: &str, rate: f64, capacity: f64, wanted: u32) -> Option<SharedBucket> => rate_buckets::take(&s.pool, account, class, rate, capacity, wanted);

    fn create_trackings(account: AccountId, new: Vec<NewTracking>) -> Vec<CreateOutcome> => trackings::create(&s.pool, account, new);
    fn list_trackings(account: AccountId, filter: &TrackingFilter, page: Page) -> Vec<Tracking> =>
        trackings::read(&s.pool, listing::page_query(account, filter, page));
    fn list_trackings_in_chunks(account: AccountId, filter: &TrackingFilter, page: Page, chunk: usize, chunks: mpsc::Sender<Vec<Tracking>>) -> () =>
        trackings::read_in_chunks(&s.pool, listing::page_query(account, filter, page), chunk, chunks);
    fn list_sorted(account: AccountId, filter: &TrackingFilter, seek: &Seek) -> Vec<(i64, Tracking)> =>
        trackings::read_sorted(&s.pool, listing::sorted_query(account, filter, seek), seek);
    fn tracking(account: AccountId, id: &TrackingId) -> Option<Tracking> => trackings::one(&s.pool, account, id);
    fn update_tracking(account: AccountId, id: &TrackingId, patch: &TrackingPatch) -> Option<Tracking> => trackings::update(&s.pool, account, id, patch);
    fn delete_tracking(account: AccountId, id: &TrackingId) -> Option<Tracking> => trackings::delete(&s.pool, account, id);
    fn count_by_status(account: AccountId, filter: &TrackingFilter) -> Vec<(DeliveryStatus, u64)> =>
        trackings::counts(&s.pool, listing::count_query(account, filter));
    fn analytics(account: AccountId, filter: &AnalyticsFilter) -> Counters => analytics::analytics(&s.pool, account, filter);
    fn archive_many(account: AccountId, keys: &[NumberKey]) -> Vec<NumberKey> => trackings::by_keys(&s.pool, account, keys, ByKeys::Archive);
    fn delete_many(account: AccountId, keys: &[NumberKey]) -> Vec<NumberKey> => trackings::by_keys(&s.pool, account, keys, ByKeys::Delete);
    fn delete_finished_trackings(status: DeliveryStatus, unchanged_before: DateTime<Utc>, limit: u32) -> u64 =>
        trackings::delete_finished(&s.pool, status, unchanged_before, limit);
    fn retrack(account: AccountId, id: &TrackingId) -> RetrackOutcome => trackings::retrack(&s.pool, account, id);
    fn trackings_by_pk(pks: &[i64]) -> Vec<(i64, Tracking)> => trackings::by_pk(&s.pool, pks);

    fn claim_due(owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize, courier_code: &str) -> Vec<ClaimedTracking> =>
        refresh::claim_due(&s.pool, Lease::of_trackings(owner, now, lease_until), limit, courier_code);
    fn apply_refresh(owner: &str, updates: Vec<RefreshUpdate>) -> ApplyReport => refresh::apply(&s.pool, owner, updates);
    fn claim_tracking(account: AccountId, id: &TrackingId, owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> ClaimOne =>
        refresh::claim_one(&s.pool, account, id, Lease::of_trackings(owner, now, lease_until));
    fn release_claims(owner: &str) -> u64 => refresh::release(&s.pool, owner);
    fn changes_of(tracking_pk: i64) -> Vec<TrackingChange> => refresh::changes_of(&s.pool, tracking_pk);

    fn create_webhook(account: AccountId, new: &NewWebhook, max: usize) -> CreateWebhook => webhooks::create(&s.pool, account, new, max);
    fn webhooks(account: Option<AccountId>) -> Vec<WebhookEndpoint> => webhooks::list(&s.pool, account);
    fn webhook(account: Option<AccountId>, id: &str) -> Option<WebhookEndpoint> => webhooks::by_id(&s.pool, account, id, ById::Read);
    fn update_webhook(account: Option<AccountId>, id: &str, patch: &WebhookPatch) -> Option<WebhookEndpoint> =>
        webhooks::update(&s.pool, account, id, patch);
    fn delete_webhook(account: Option<AccountId>, id: &str) -> Option<WebhookEndpoint> => webhooks::by_id(&s.pool, account, id, ById::Delete);
    fn webhook_gauges() -> WebhookGauges => webhooks::gauges(&s.pool);

    fn insert_delivery(endpoint: &WebhookEndpoint, event: &str, event_id: &str, payload: Option<&str>, due: bool) -> (i64, String) =>
        outbox::insert(&s.pool, endpoint, Event { name: event, id: event_id, payload }, due);
    fn claim_deliveries(owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize, per_endpoint: usize) -> Vec<ClaimedDelivery> =>
        outbox::claim(&s.pool, Lease::of_deliveries(owner, now, lease_until), limit, per_endpoint);
    fn record_attempts(owner: &str, attempts: &[AttemptRecord], disable_after: chrono::Duration, now: DateTime<Utc>) -> Vec<String> =>
        outbox::record(&s.pool, owner, attempts, Disabling { after: disable_after, now });
    fn release_deliveries(owner: &str) -> u64 => outbox::release(&s.pool, owner);
    fn prune_deliveries(before: DateTime<Utc>) -> u64 => outbox::prune(&s.pool, before);
    fn deliveries(endpoint_pk: i64, limit: u32, delivery_id: Option<&str>) -> Vec<DeliveryInfo> => outbox::log(&s.pool, endpoint_pk, delivery_id, limit);
    fn redeliver(endpoint_pk: i64, delivery_id: &str) -> bool => outbox::redeliver(&s.pool, endpoint_pk, delivery_id);

    fn page_settings(account: AccountId) -> PageSettings => pages::settings(&s.pool, account);
    fn set_page_settings(account: AccountId, settings: &PageSettings) -> PageSettings => pages::set_settings(&s.pool, account, settings);
    fn page_account(key: PageAccountKey<'_>) -> Option<PageAccount> => pages::account(&s.pool, key);
    fn page_trackings(account: AccountId, lookup: PageLookup<'_>) -> Vec<Tracking> => pages::trackings(&s.pool, account, lookup);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_told_apart_and_their_passwords_kept_out_of_messages() {
        assert!(is_postgres_url("postgres://parceld@db/parceld"));
        assert!(is_postgres_url("postgresql://db/parceld?sslmode=require"));
        assert!(!is_postgres_url("sqlite://data/parceld.db"));
        assert!(!is_postgres_url("postgres"));
        assert_eq!(
            redacted("postgres://parceld:s3cr3t@db.internal:5432/parceld"),
            "postgres://parceld:***@db.internal:5432/parceld"
        );
        assert_eq!(
            redacted("postgres://parceld@db/parceld"),
            "postgres://parceld@db/parceld"
        );
        assert_eq!(
            redacted("postgresql://u:p@a@host/db"),
            "postgresql://u:***@host/db"
        );
    }
}
