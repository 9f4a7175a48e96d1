//! The SQLite backend: one database file in WAL mode, migrations embedded and run on open.
//!
//! SQLite serialises writers, so every write path here is a single short transaction with
//! multi-row statements; reads run concurrently on the pool's other connections.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use parceld_model::{
    DeliveryStatus, RateLimits, ShipmentInfo, SubStatus, Tracking, TrackingFields, TrackingId,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::key_cache::KeyCache;
use crate::keys;
use crate::reader::{self, Readers};
use crate::{
    Account, AccountId, ApiKeyInfo, ApplyReport, ClaimOne, ClaimedTracking, CreateOutcome,
    KeyCheck, NewApiKey, NewTracking, NumberKey, Page, RefreshUpdate, RetrackOutcome, Store,
    StoreError, StoreResult, TrackingChange, TrackingFilter, TrackingPatch,
};
use crate::{
    AttemptRecord, ClaimedDelivery, CreateWebhook, DeliveryInfo, NewWebhook, WebhookEndpoint,
    WebhookPatch,
};
use rusqlite::types::Value;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per multi-row INSERT: well under SQLite's limit of bound parameters.
const INSERT_CHUNK: usize = 500;

/// Trackings with their checkpoint lists (`crate::checkpoint_list`; NULL for a tracking without
/// checkpoints); `reader::tracking_columns` reads these columns by position: keep the order.
/// One row per tracking: joining checkpoint rows instead copied every tracking column into each
/// checkpoint's row, and reading them in a second statement cost about half of a one-tracking
/// read.
const SELECT_TRACKINGS: &str = "SELECT pk, id, tracking_number, courier_code, \
    courier_detected, delivery_status, substatus, status_info, latest_event, \
    latest_checkpoint_time, archived, fields, shipment, created_at, updated_at, last_checked_at, \
    next_check_at, check_error, \
    (SELECT list FROM checkpoint_lists WHERE tracking_pk = trackings.pk) FROM trackings";

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
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let store = SqliteStore {
            pool,
            readers: Arc::new(Readers::new(path)),
            key_cache: Arc::new(KeyCache::new(path)),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The migrations this build knows, as (version, description).
    pub fn known_migrations() -> Vec<(i64, String)> {
        MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn account_by_name(&self, name: &str) -> StoreResult<Account> {
        sqlx::query(
            "SELECT id, name, disabled, created_at, rate_limits FROM accounts WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| account_from_row(&row))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("account `{name}`")))
    }

    async fn insert_key(
        conn: &mut sqlx::SqliteConnection,
        account: &Account,
    ) -> StoreResult<NewApiKey> {
        let key = keys::generate_key();
        let id = keys::generate_key_id();
        let now = Utc::now();
        let lookup = keys::lookup_part(&key).expect("generated keys are well formed");
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(account.id)
        .bind(lookup)
        .bind(keys::hash_key(&key).to_vec())
        .bind(now.timestamp())
        .execute(&mut *conn)
        .await?;
        Ok(NewApiKey {
            info: ApiKeyInfo {
                id,
                account_id: account.id,
                account_name: account.name.clone(),
                created_at: from_ts(now.timestamp()),
                deleted_at: None,
            },
            key,
        })
    }

    /// Reads trackings by primary key, with their checkpoints, in the order of `pks`: one
    /// statement whatever the number.
    async fn load_trackings(&self, pks: &[i64]) -> StoreResult<Vec<Tracking>> {
        Ok(self
            .load_trackings_by_pk(pks)
            .await?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }

    /// [`Self::load_trackings`] with each tracking's primary key.
    async fn load_trackings_by_pk(&self, pks: &[i64]) -> StoreResult<Vec<(i64, Tracking)>> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        let pk_list = serde_json::to_string(pks).expect("integers serialise");
        let rows = self.readers.with(|conn| {
            reader::trackings(
                conn,
                &format!("{SELECT_TRACKINGS} WHERE pk IN (SELECT value FROM json_each(?1))"),
                &[Value::Text(pk_list)],
            )
        })?;
        let mut by_pk: HashMap<i64, Tracking> = rows.into_iter().collect();
        Ok(pks
            .iter()
            .filter_map(|pk| by_pk.remove(pk).map(|t| (*pk, t)))
            .collect())
    }

    async fn tracking_pk(&self, account: AccountId, id: &TrackingId) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT pk FROM trackings WHERE id = ? AND account_id = ?")
                .bind(id.as_str())
                .bind(account)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn load_one(&self, pk: i64) -> StoreResult<Option<Tracking>> {
        Ok(self.load_trackings(&[pk]).await?.pop())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn bootstrap(&self, name: &str) -> StoreResult<Option<NewApiKey>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut *tx)
            .await?;
        if existing > 0 {
            return Ok(None);
        }
        let account = insert_account(&mut tx, name).await?;
        let key = Self::insert_key(&mut tx, &account).await?;
        tx.commit().await?;
        self.key_cache.changed();
        Ok(Some(key))
    }

    async fn create_account(&self, name: &str) -> StoreResult<Account> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let account = insert_account(&mut tx, name).await?;
        tx.commit().await?;
        self.key_cache.changed();
        Ok(account)
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(
            "SELECT id, name, disabled, created_at, rate_limits FROM accounts ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn set_account_disabled(&self, name: &str, disabled: bool) -> StoreResult<Account> {
        let changed = sqlx::query("UPDATE accounts SET disabled = ? WHERE name = ?")
            .bind(disabled)
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.key_cache.changed();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("account `{name}`")));
        }
        self.account_by_name(name).await
    }

    async fn set_account_rate_limits(
        &self,
        name: &str,
        limits: &RateLimits,
    ) -> StoreResult<Account> {
        let changed = sqlx::query("UPDATE accounts SET rate_limits = ? WHERE name = ?")
            .bind(serde_json::to_string(limits).expect("limits serialise"))
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.key_cache.changed();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("account `{name}`")));
        }
        self.account_by_name(name).await
    }

    async fn create_api_key(&self, account_name: &str) -> StoreResult<NewApiKey> {
        let account = self.account_by_name(account_name).await?;
        let mut conn = self.pool.acquire().await?;
        let key = Self::insert_key(&mut conn, &account).await;
        self.key_cache.changed();
        key
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>> {
        let rows = sqlx::query(
            "SELECT k.id, k.account_id, a.name, k.created_at, k.deleted_at \
             FROM api_keys k JOIN accounts a ON a.id = k.account_id ORDER BY k.created_at, k.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ApiKeyInfo {
                id: row.get(0),
                account_id: row.get(1),
                account_name: row.get(2),
                created_at: from_ts(row.get(3)),
                deleted_at: row.get::<Option<i64>, _>(4).map(from_ts),
            })
            .collect())
    }

    async fn delete_api_key(&self, key_id: &str) -> StoreResult<bool> {
        let changed =
            sqlx::query("UPDATE api_keys SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
                .bind(Utc::now().timestamp())
                .bind(key_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        self.key_cache.changed();
        Ok(changed > 0)
    }

    async fn check_api_key(&self, presented: &str) -> StoreResult<KeyCheck> {
        let Some(lookup) = keys::lookup_part(presented) else {
            return Ok(KeyCheck::Invalid);
        };
        let stamp = self.key_cache.stamp();
        if let Some(account) = stamp.and_then(|stamp| self.key_cache.get(stamp, presented)) {
            return Ok(KeyCheck::Valid(account));
        }
        type KeyRow = (Vec<u8>, Option<i64>, i64, String, bool, i64, String);
        let row: Option<KeyRow> = self.readers.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT k.hash, k.deleted_at, a.id, a.name, a.disabled, a.created_at, \
                 a.rate_limits FROM api_keys k JOIN accounts a ON a.id = k.account_id \
                 WHERE k.lookup = ?1",
            )?;
            let mut rows = statement.query([lookup])?;
            Ok(match rows.next()? {
                Some(row) => Some((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                )),
                None => None,
            })
        })?;
        let Some((hash, deleted_at, id, name, disabled, created_at, rate_limits)) = row else {
            return Ok(KeyCheck::Invalid);
        };
        if !keys::matches(presented, &hash) {
            return Ok(KeyCheck::Invalid);
        }
        if deleted_at.is_some() {
            return Ok(KeyCheck::Deleted);
        }
        let account = Account {
            id,
            name,
            disabled,
            created_at: from_ts(created_at),
            rate_limits: parse_json(rate_limits, "rate_limits")?,
        };
        if let Some(stamp) = stamp {
            self.key_cache.remember(stamp, presented, &account);
        }
        Ok(KeyCheck::Valid(account))
    }

    async fn create_trackings(
        &self,
        account: AccountId,
        trackings: Vec<NewTracking>,
    ) -> StoreResult<Vec<CreateOutcome>> {
        let now = Utc::now();
        let now_ts = now.timestamp();
        let prepared: Vec<(TrackingId, String, NewTracking)> = trackings
            .into_iter()
            .map(|new| {
                let fields = serde_json::to_string(&new.fields).expect("fields serialise");
                (TrackingId::generate(), fields, new)
            })
            .collect();
        let mut created_ids = std::collections::HashSet::new();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in prepared.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO trackings (id, account_id, tracking_number, courier_code, \
                 courier_detected, delivery_status, status_info, fields, created_at, updated_at, \
                 next_check_at) ",
            );
            insert.push_values(chunk, |mut row, (id, fields, new)| {
                row.push_bind(id.as_str())
                    .push_bind(account)
                    .push_bind(&new.tracking_number)
                    .push_bind(&new.courier_code)
                    .push_bind(new.courier_detected)
                    .push_bind(DeliveryStatus::Pending.as_str())
                    .push_bind(&new.status_info)
                    .push_bind(fields)
                    .push_bind(now_ts)
                    .push_bind(now_ts)
                    .push_bind(now_ts);
            });
            insert.push(
                " ON CONFLICT (account_id, tracking_number, courier_code) DO NOTHING RETURNING id",
            );
            let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
            created_ids.extend(ids);
        }
        tx.commit().await?;
        let created_at = from_ts(now_ts);
        Ok(prepared
            .into_iter()
            .map(|(id, _, new)| {
                if created_ids.contains(id.as_str()) {
                    CreateOutcome::Created(Box::new(Tracking {
                        id,
                        tracking_number: new.tracking_number,
                        courier_code: new.courier_code,
                        courier_detected: new.courier_detected,
                        fields: new.fields,
                        shipment: ShipmentInfo::default(),
                        delivery_status: DeliveryStatus::Pending,
                        substatus: None,
                        status_info: new.status_info,
                        latest_event: None,
                        latest_checkpoint_time: None,
                        archived: false,
                        created_at,
                        updated_at: created_at,
                        last_checked_at: None,
                        next_check_at: Some(created_at),
                        check_error: None,
                        checkpoints: Vec::new(),
                    }))
                } else {
                    CreateOutcome::AlreadyExists {
                        tracking_number: new.tracking_number,
                        courier_code: new.courier_code,
                    }
                }
            })
            .collect())
    }

    async fn list_trackings(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
    ) -> StoreResult<Vec<Tracking>> {
        let (sql, params) = list_sql(account, filter, page);
        let rows = self
            .readers
            .with(|conn| reader::trackings(conn, &sql, &params))?;
        Ok(rows.into_iter().map(|(_, tracking)| tracking).collect())
    }

    fn list_trackings_in_chunks(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Tracking>) -> bool + Send),
    ) -> StoreResult<()> {
        let (sql, params) = list_sql(account, filter, page);
        self.readers.with(|conn| {
            reader::trackings_in_chunks(conn, &sql, &params, chunk, &mut |rows| {
                each(rows.into_iter().map(|(_, tracking)| tracking).collect())
            })
        })
    }

    async fn tracking(&self, account: AccountId, id: &TrackingId) -> StoreResult<Option<Tracking>> {
        let rows = self.readers.with(|conn| {
            reader::trackings(
                conn,
                &format!("{SELECT_TRACKINGS} WHERE id = ?1 AND account_id = ?2"),
                &[
                    Value::Text(id.as_str().to_string()),
                    Value::Integer(account),
                ],
            )
        })?;
        Ok(rows.into_iter().next().map(|(_, tracking)| tracking))
    }

    async fn update_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        patch: &TrackingPatch,
    ) -> StoreResult<Option<Tracking>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT pk, fields, courier_code FROM trackings WHERE id = ? AND account_id = ?",
        )
        .bind(id.as_str())
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let pk: i64 = row.get(0);
        let mut fields: TrackingFields = parse_json(row.get(1), "fields")?;
        fields.apply(&patch.fields);
        let courier: String = patch.courier_code_new.clone().unwrap_or_else(|| row.get(2));
        let result = sqlx::query(
            "UPDATE trackings SET fields = ?1, courier_code = ?2, \
             courier_detected = CASE WHEN courier_code = ?2 THEN courier_detected ELSE 0 END, \
             archived = COALESCE(?3, archived), updated_at = ?4 WHERE pk = ?5",
        )
        .bind(serde_json::to_string(&fields).expect("fields serialise"))
        .bind(&courier)
        .bind(patch.archived)
        .bind(Utc::now().timestamp())
        .bind(pk)
        .execute(&mut *tx)
        .await;
        match result {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "this account already tracks the number with courier `{courier}`"
                )));
            }
            other => {
                other?;
            }
        }
        tx.commit().await?;
        self.load_one(pk).await
    }

    async fn delete_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
    ) -> StoreResult<Option<Tracking>> {
        let Some(pk) = self.tracking_pk(account, id).await? else {
            return Ok(None);
        };
        let Some(tracking) = self.load_one(pk).await? else {
            return Ok(None);
        };
        let deleted = sqlx::query("DELETE FROM trackings WHERE pk = ? AND account_id = ?")
            .bind(pk)
            .bind(account)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok((deleted > 0).then_some(tracking))
    }

    async fn count_by_status(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
    ) -> StoreResult<Vec<(DeliveryStatus, u64)>> {
        let mut sql =
            String::from("SELECT delivery_status, COUNT(*) FROM trackings WHERE account_id = ?");
        let mut params = vec![Value::Integer(account)];
        push_filter(
            &mut sql,
            &mut params,
            &TrackingFilter {
                tracking_numbers: Vec::new(),
                ..filter.clone()
            },
        );
        sql.push_str(" GROUP BY delivery_status");
        let rows: Vec<(String, i64)> = self.readers.with(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(status, count)| Ok((parse_status(&status)?, count.max(0) as u64)))
            .collect()
    }

    async fn archive_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "UPDATE trackings SET archived = 1, \
             updated_at = CASE WHEN archived = 1 THEN updated_at ELSE ?1 END \
             WHERE account_id = ?2 AND (tracking_number, courier_code) IN \
             (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?3)) \
             RETURNING tracking_number, courier_code",
        )
        .bind(Utc::now().timestamp())
        .bind(account)
        .bind(keys_json(keys))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(number_key).collect())
    }

    async fn delete_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "DELETE FROM trackings WHERE account_id = ?1 AND (tracking_number, courier_code) IN \
             (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2)) \
             RETURNING tracking_number, courier_code",
        )
        .bind(account)
        .bind(keys_json(keys))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(number_key).collect())
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        courier_code: &str,
    ) -> StoreResult<Vec<ClaimedTracking>> {
        crate::refresh::claim_due(&self.pool, owner, now, lease_until, limit, courier_code).await
    }

    async fn apply_refresh(
        &self,
        owner: &str,
        updates: Vec<RefreshUpdate>,
    ) -> StoreResult<ApplyReport> {
        crate::refresh::apply_refresh(&self.pool, owner, updates).await
    }

    async fn claim_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<ClaimOne> {
        crate::refresh::claim_tracking(&self.pool, account, id, owner, now, lease_until).await
    }

    async fn release_claims(&self, owner: &str) -> StoreResult<u64> {
        crate::refresh::release_claims(&self.pool, owner).await
    }

    async fn changes_of(&self, tracking_pk: i64) -> StoreResult<Vec<TrackingChange>> {
        crate::refresh::changes_of(&self.pool, tracking_pk).await
    }

    async fn trackings_by_pk(&self, pks: &[i64]) -> StoreResult<Vec<(i64, Tracking)>> {
        self.load_trackings_by_pk(pks).await
    }

    async fn create_webhook(
        &self,
        account: AccountId,
        new: &NewWebhook,
        max: usize,
    ) -> StoreResult<CreateWebhook> {
        crate::webhooks::create(&self.pool, account, new, max).await
    }

    async fn webhooks(&self, account: Option<AccountId>) -> StoreResult<Vec<WebhookEndpoint>> {
        crate::webhooks::list(&self.pool, account).await
    }

    async fn webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        crate::webhooks::get(&self.pool, account, id).await
    }

    async fn update_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
        patch: &WebhookPatch,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        crate::webhooks::update(&self.pool, account, id, patch).await
    }

    async fn delete_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        crate::webhooks::delete(&self.pool, account, id).await
    }

    async fn insert_delivery(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        event_id: &str,
        payload: Option<&str>,
        due: bool,
    ) -> StoreResult<(i64, String)> {
        crate::webhooks::insert_delivery(&self.pool, endpoint, event, event_id, payload, due).await
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        per_endpoint: usize,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        crate::webhooks::claim(&self.pool, owner, now, lease_until, limit, per_endpoint).await
    }

    async fn record_attempts(
        &self,
        owner: &str,
        attempts: &[AttemptRecord],
        disable_after: chrono::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        crate::webhooks::record(&self.pool, owner, attempts, disable_after, now).await
    }

    async fn release_deliveries(&self, owner: &str) -> StoreResult<u64> {
        crate::webhooks::release(&self.pool, owner).await
    }

    async fn prune_deliveries(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        crate::webhooks::prune(&self.pool, before).await
    }

    async fn deliveries(
        &self,
        endpoint_pk: i64,
        limit: u32,
        delivery_id: Option<&str>,
    ) -> StoreResult<Vec<DeliveryInfo>> {
        crate::webhooks::deliveries(&self.pool, endpoint_pk, limit, delivery_id).await
    }

    async fn redeliver(&self, endpoint_pk: i64, delivery_id: &str) -> StoreResult<bool> {
        crate::webhooks::redeliver(&self.pool, endpoint_pk, delivery_id).await
    }

    async fn webhook_gauges(&self) -> StoreResult<crate::WebhookGauges> {
        crate::webhooks::gauges(&self.pool).await
    }

    async fn retrack(&self, account: AccountId, id: &TrackingId) -> StoreResult<RetrackOutcome> {
        let now = Utc::now().timestamp();
        let pk: Option<i64> = sqlx::query_scalar(
            "UPDATE trackings SET delivery_status = 'pending', substatus = NULL, \
             status_info = 'Retrack requested; waiting for the courier.', next_check_at = ?, \
             updated_at = ? \
             WHERE id = ? AND account_id = ? AND delivery_status = 'expired' RETURNING pk",
        )
        .bind(now)
        .bind(now)
        .bind(id.as_str())
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        match pk {
            Some(pk) => Ok(match self.load_one(pk).await? {
                Some(tracking) => RetrackOutcome::Retracked(Box::new(tracking)),
                None => RetrackOutcome::NotFound,
            }),
            None if self.tracking_pk(account, id).await?.is_some() => {
                Ok(RetrackOutcome::NotExpired)
            }
            None => Ok(RetrackOutcome::NotFound),
        }
    }
}

async fn insert_account(conn: &mut sqlx::SqliteConnection, name: &str) -> StoreResult<Account> {
    let now = Utc::now().timestamp();
    let result = sqlx::query("INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING id")
        .bind(name)
        .bind(now)
        .fetch_one(&mut *conn)
        .await;
    match result {
        Ok(row) => Ok(Account {
            id: row.get(0),
            name: name.to_string(),
            disabled: false,
            created_at: from_ts(now),
            rate_limits: RateLimits::default(),
        }),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(StoreError::Conflict(
            format!("an account named `{name}` already exists"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Appends the conditions of `filter` (after `WHERE account_id = ?`) and their parameters.
/// The statement and parameters of one page of `list_trackings`: a `SELECT_TRACKINGS`.
fn list_sql(account: AccountId, filter: &TrackingFilter, page: Page) -> (String, Vec<Value>) {
    // Looking numbers up goes through the number index; left alone, the planner prefers the
    // index that yields newest-first order and scans the whole account.
    let mut sql = String::from(SELECT_TRACKINGS);
    let mut params = vec![Value::Integer(account)];
    let offset = i64::from(page.number.max(1) - 1) * i64::from(page.size);
    if let [number] = filter.tracking_numbers.as_slice() {
        // One number (the commonest call): a plain index search. The general form below
        // builds temporary tables for `json_each` and the inner `ORDER BY`, which were a
        // quarter of SQLite's time for one tracking.
        sql.push_str(
            " INDEXED BY trackings_by_number WHERE account_id = ? AND tracking_number = ?",
        );
        params.push(Value::Text(number.clone()));
        push_other_filters(&mut sql, &mut params, filter);
        sql.push_str(" ORDER BY pk DESC LIMIT ? OFFSET ?");
    } else {
        sql.push_str(if filter.tracking_numbers.is_empty() {
            " WHERE pk IN (SELECT pk FROM trackings WHERE account_id = ?"
        } else {
            " WHERE pk IN (SELECT pk FROM trackings INDEXED BY trackings_by_number WHERE account_id = ?"
        });
        push_filter(&mut sql, &mut params, filter);
        sql.push_str(" ORDER BY pk DESC LIMIT ? OFFSET ?) ORDER BY pk DESC");
    }
    params.extend([Value::Integer(i64::from(page.size)), Value::Integer(offset)]);
    (sql, params)
}

fn push_filter(sql: &mut String, params: &mut Vec<Value>, filter: &TrackingFilter) {
    if !filter.tracking_numbers.is_empty() {
        sql.push_str(" AND tracking_number IN (SELECT value FROM json_each(?))");
        params.push(Value::Text(
            serde_json::to_string(&filter.tracking_numbers).expect("strings"),
        ));
    }
    push_other_filters(sql, params, filter);
}

/// The conditions of `filter` other than `tracking_numbers`.
fn push_other_filters(sql: &mut String, params: &mut Vec<Value>, filter: &TrackingFilter) {
    if let Some(courier) = &filter.courier_code {
        sql.push_str(" AND courier_code = ?");
        params.push(Value::Text(courier.clone()));
    }
    if let Some(status) = filter.delivery_status {
        sql.push_str(" AND delivery_status = ?");
        params.push(Value::Text(status.as_str().to_string()));
    }
    if let Some(archived) = filter.archived {
        sql.push_str(" AND archived = ?");
        params.push(Value::Integer(i64::from(archived)));
    }
    for (column, op, value) in [
        ("created_at", ">=", filter.created_min),
        ("created_at", "<=", filter.created_max),
        ("updated_at", ">=", filter.updated_min),
        ("updated_at", "<=", filter.updated_max),
    ] {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} {op} ?"));
            params.push(Value::Integer(value.timestamp()));
        }
    }
}

/// `[[number, courier], …]`, for `json_each` look-ups of many keys in one statement.
fn keys_json(keys: &[NumberKey]) -> String {
    let pairs: Vec<[&str; 2]> = keys
        .iter()
        .map(|k| [k.tracking_number.as_str(), k.courier_code.as_str()])
        .collect();
    serde_json::to_string(&pairs).expect("strings serialise")
}

fn number_key((tracking_number, courier_code): (String, String)) -> NumberKey {
    NumberKey {
        tracking_number,
        courier_code,
    }
}

pub(crate) fn from_ts(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: String,
    what: &str,
) -> StoreResult<T> {
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn parse_status(text: &str) -> StoreResult<DeliveryStatus> {
    DeliveryStatus::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn parse_substatus(text: Option<String>) -> StoreResult<Option<SubStatus>> {
    text.map(|t| SubStatus::from_str(&t).map_err(StoreError::Corrupt))
        .transpose()
}

fn account_from_row(row: &SqliteRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.get(0),
        name: row.get(1),
        disabled: row.get(2),
        created_at: from_ts(row.get(3)),
        rate_limits: parse_json(row.get(4), "rate_limits")?,
    })
}
