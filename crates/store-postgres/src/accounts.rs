//! Accounts and API keys in PostgreSQL.
//!
//! A key check is one indexed statement, and each node remembers the checks it found valid
//! ([`crate::key_cache`]). Every change to a key or an account announces itself in its own
//! transaction (`NOTIFY`), so a key deleted or an account disabled from any node (or `parceld key
//! delete` anywhere) is refused by every node as soon as the notification arrives.

use chrono::{DateTime, Utc};
use parceld_model::RateLimits;
use parceld_store::backend::BackendResult as Result;
use parceld_store::key_memory::StoredKey;
use parceld_store::stored::parse_json;
use parceld_store::{keys, Account, ApiKeyInfo, Entity, KeyCheck, NewApiKey, StoreError};
use sqlx::{FromRow, PgConnection, PgPool};

use crate::key_cache::{announce_change, KeyCache};
use crate::rows::seconds;

/// The advisory lock `bootstrap` holds (for its transaction), so that nodes starting together
/// on an empty database create one first account, not one each or a conflict.
const BOOTSTRAP_LOCK: i64 = 0x7061_7263_656c_6401; // "parceld" and 1

pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, name, disabled, created_at, rate_limits::text AS rate_limits";

#[derive(FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    name: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    rate_limits: String,
}

impl AccountRow {
    pub(crate) fn read(self) -> Result<Account> {
        Ok(Account {
            rate_limits: parse_json(&self.rate_limits, "rate_limits")?,
            id: self.id,
            name: self.name,
            disabled: self.disabled,
            created_at: self.created_at,
        })
    }
}

pub(crate) async fn bootstrap(pool: &PgPool, name: &str) -> Result<Option<NewApiKey>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BOOTSTRAP_LOCK)
        .execute(&mut *tx)
        .await?;
    let existing: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts)")
        .fetch_one(&mut *tx)
        .await?;
    if existing {
        return Ok(None);
    }
    let account = insert_account(&mut tx, name).await?;
    let key = insert_key(&mut tx, &account.name).await?;
    tx.commit().await?;
    Ok(key)
}

pub(crate) async fn create(pool: &PgPool, name: &str) -> Result<Account> {
    let mut conn = pool.acquire().await?;
    insert_account(&mut conn, name).await
}

pub(crate) async fn all(pool: &PgPool) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
    let rows: Vec<AccountRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter().map(AccountRow::read).collect()
}

pub(crate) async fn set_disabled(
    pool: &PgPool,
    key_cache: &KeyCache,
    name: &str,
    disabled: bool,
) -> Result<Account> {
    let sql =
        format!("UPDATE accounts SET disabled = $1 WHERE name = $2 RETURNING {ACCOUNT_COLUMNS}");
    let query = sqlx::query_as(&sql).bind(disabled).bind(name);
    found(changed_announced(pool, key_cache, query).await?)
}

pub(crate) async fn set_rate_limits(
    pool: &PgPool,
    key_cache: &KeyCache,
    name: &str,
    limits: &RateLimits,
) -> Result<Account> {
    let sql = format!(
        "UPDATE accounts SET rate_limits = $1::jsonb WHERE name = $2 RETURNING {ACCOUNT_COLUMNS}"
    );
    let limits = serde_json::to_string(limits).expect("limits serialise");
    let query = sqlx::query_as(&sql).bind(limits).bind(name);
    found(changed_announced(pool, key_cache, query).await?)
}

/// Runs `change` (an update of one row) and announces it in the same transaction when it
/// changed a row; this node forgets its remembered checks at once.
async fn changed_announced<'q, T>(
    pool: &PgPool,
    key_cache: &KeyCache,
    change: sqlx::query::QueryAs<'q, sqlx::Postgres, T, sqlx::postgres::PgArguments>,
) -> Result<Option<T>>
where
    T: Send + Unpin + for<'r> FromRow<'r, sqlx::postgres::PgRow>,
{
    let mut tx = pool.begin().await?;
    let row = change.fetch_optional(&mut *tx).await?;
    if row.is_some() {
        announce_change(&mut tx).await?;
    }
    tx.commit().await?;
    key_cache.changed_here();
    Ok(row)
}

/// The account an update returned, or `NotFound` when no account has that name.
fn found(row: Option<AccountRow>) -> Result<Account> {
    row.ok_or(StoreError::NotFound(Entity::Account))?.read()
}

pub(crate) async fn create_key(pool: &PgPool, account_name: &str) -> Result<NewApiKey> {
    let mut conn = pool.acquire().await?;
    insert_key(&mut conn, account_name)
        .await?
        .ok_or_else(|| StoreError::NotFound(Entity::Account).into())
}

/// A key as `key list` shows it.
#[derive(FromRow)]
struct KeyInfoRow {
    id: String,
    account_id: i64,
    account_name: String,
    lookup: String,
    created_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<KeyInfoRow> for ApiKeyInfo {
    fn from(key: KeyInfoRow) -> Self {
        ApiKeyInfo {
            id: key.id,
            account_id: key.account_id,
            account_name: key.account_name,
            prefix: keys::shown_prefix(&key.lookup),
            created_at: key.created_at,
            deleted_at: key.deleted_at,
        }
    }
}

pub(crate) async fn list_keys(pool: &PgPool) -> Result<Vec<ApiKeyInfo>> {
    let rows: Vec<KeyInfoRow> = sqlx::query_as(
        "SELECT k.id, k.account_id, a.name AS account_name, k.lookup, k.created_at, \
         k.deleted_at FROM api_keys k JOIN accounts a ON a.id = k.account_id ORDER BY k.created_at, k.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ApiKeyInfo::from).collect())
}

pub(crate) async fn delete_key(pool: &PgPool, key_cache: &KeyCache, key_id: &str) -> Result<bool> {
    let query = sqlx::query_as(
        "UPDATE api_keys SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING id",
    )
    .bind(seconds(Utc::now()))
    .bind(key_id);
    let deleted: Option<(String,)> = changed_announced(pool, key_cache, query).await?;
    Ok(deleted.is_some())
}

#[derive(FromRow)]
struct KeyRow {
    hash: Vec<u8>,
    deleted: bool,
    #[sqlx(flatten)]
    account: AccountRow,
}

pub(crate) async fn check_key(
    pool: &PgPool,
    key_cache: &KeyCache,
    presented: &str,
) -> Result<KeyCheck> {
    let look_up = |lookup: String| async move {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT k.hash, k.deleted_at IS NOT NULL AS deleted, a.id, a.name, a.disabled, \
             a.created_at, a.rate_limits::text AS rate_limits \
             FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.lookup = $1",
        )
        .bind(lookup)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| StoredKey {
                hash: row.hash,
                deleted: row.deleted,
                account: row.account,
            })
            .collect())
    };
    key_cache.check(presented, look_up, AccountRow::read).await
}

/// Inserts a new key for the account named `account_name`; `None` when there is no such
/// account. One statement.
async fn insert_key(conn: &mut PgConnection, account_name: &str) -> Result<Option<NewApiKey>> {
    let key = keys::generate_key();
    let id = keys::generate_key_id();
    let now = seconds(Utc::now());
    let lookup = keys::lookup_part(&key).expect("generated keys are well formed");
    let account_id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO api_keys (account_id, id, lookup, hash, created_at) \
         SELECT id, $2, $3, $4, $5 FROM accounts WHERE name = $1 RETURNING account_id",
    )
    .bind(account_name)
    .bind(&id)
    .bind(lookup)
    .bind(keys::hash_key(&key).to_vec())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let prefix = keys::shown_prefix(lookup);
    Ok(account_id.map(|account_id| NewApiKey {
        info: ApiKeyInfo {
            id,
            account_id,
            account_name: account_name.to_string(),
            prefix,
            created_at: now,
            deleted_at: None,
        },
        key,
    }))
}

async fn insert_account(conn: &mut PgConnection, name: &str) -> Result<Account> {
    let now = seconds(Utc::now());
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (name, created_at) VALUES ($1, $2) \
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(name)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        let taken = format!("an account named `{name}` already exists");
        return Err(StoreError::Conflict(Entity::Account, taken).into());
    };
    Ok(Account {
        id,
        name: name.to_string(),
        disabled: false,
        created_at: now,
        rate_limits: RateLimits::default(),
    })
}
