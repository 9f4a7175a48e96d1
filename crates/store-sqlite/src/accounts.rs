//! Accounts and API keys in SQLite.
//!
//! Every committed change to an account or a key rewrites the key cache's stamp
//! ([`KeyCache::changed`]), so that every process forgets the key checks it remembered; the
//! check itself reads through the inline reader ([`crate::reader`]).

use chrono::Utc;
use parceld_model::RateLimits;
use parceld_store::key_memory::StoredKey;
use parceld_store::{keys, Account, ApiKeyInfo, Entity, KeyCheck, NewApiKey, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::error::Result;
use crate::key_cache::KeyCache;
use crate::reader::Readers;
use crate::rows::{account_at, from_ts, parse_json};

pub(crate) async fn bootstrap(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    name: &str,
) -> Result<Option<NewApiKey>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Ok(None);
    }
    let account = insert_account(&mut tx, name).await?;
    let key = insert_key(&mut tx, &account).await?;
    tx.commit().await?;
    key_cache.changed();
    Ok(Some(key))
}

pub(crate) async fn create_account(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    name: &str,
) -> Result<Account> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let account = insert_account(&mut tx, name).await?;
    tx.commit().await?;
    key_cache.changed();
    Ok(account)
}

pub(crate) async fn accounts(pool: &SqlitePool) -> Result<Vec<Account>> {
    let rows =
        sqlx::query("SELECT id, name, disabled, created_at, rate_limits FROM accounts ORDER BY id")
            .fetch_all(pool)
            .await?;
    rows.iter().map(account_from_row).collect()
}

pub(crate) async fn set_account_disabled(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    name: &str,
    disabled: bool,
) -> Result<Account> {
    let sql = "UPDATE accounts SET disabled = ? WHERE name = ?";
    update_account(pool, key_cache, name, sql, disabled).await
}

pub(crate) async fn set_account_rate_limits(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    name: &str,
    limits: &RateLimits,
) -> Result<Account> {
    let limits = serde_json::to_string(limits).expect("limits serialise");
    let sql = "UPDATE accounts SET rate_limits = ? WHERE name = ?";
    update_account(pool, key_cache, name, sql, limits).await
}

/// Sets one column of the account `name` (`sql` binds the value, then the name), tells every
/// process's key cache that accounts changed, and reads the account back.
async fn update_account<'q, T>(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    name: &'q str,
    sql: &'q str,
    value: T,
) -> Result<Account>
where
    T: 'q + Send + sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    let changed = sqlx::query(sql)
        .bind(value)
        .bind(name)
        .execute(pool)
        .await?
        .rows_affected();
    key_cache.changed();
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Account).into());
    }
    account_by_name(pool, name).await
}

pub(crate) async fn create_api_key(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    account_name: &str,
) -> Result<NewApiKey> {
    let account = account_by_name(pool, account_name).await?;
    let mut conn = pool.acquire().await?;
    let key = insert_key(&mut conn, &account).await;
    key_cache.changed();
    key
}

pub(crate) async fn api_keys(pool: &SqlitePool) -> Result<Vec<ApiKeyInfo>> {
    let rows = sqlx::query(
        "SELECT k.id, k.account_id, a.name, k.created_at, k.deleted_at, k.lookup \
         FROM api_keys k JOIN accounts a ON a.id = k.account_id ORDER BY k.created_at, k.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| ApiKeyInfo {
            id: row.get(0),
            account_id: row.get(1),
            account_name: row.get(2),
            prefix: keys::shown_prefix(&row.get::<String, _>(5)),
            created_at: from_ts(row.get(3)),
            deleted_at: row.get::<Option<i64>, _>(4).map(from_ts),
        })
        .collect())
}

pub(crate) async fn delete_api_key(
    pool: &SqlitePool,
    key_cache: &KeyCache,
    key_id: &str,
) -> Result<bool> {
    let changed =
        sqlx::query("UPDATE api_keys SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(Utc::now().timestamp())
            .bind(key_id)
            .execute(pool)
            .await?
            .rows_affected();
    key_cache.changed();
    Ok(changed > 0)
}

pub(crate) async fn check_api_key(
    readers: &Readers,
    key_cache: &KeyCache,
    presented: &str,
) -> Result<KeyCheck> {
    key_cache
        .check(presented, |lookup: String| async move {
            readers.with(|conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT k.hash, k.deleted_at, a.id, a.name, a.disabled, a.created_at, \
                     a.rate_limits FROM api_keys k JOIN accounts a ON a.id = k.account_id \
                     WHERE k.lookup = ?1",
                )?;
                let mut rows = statement.query([lookup])?;
                let mut found = Vec::new();
                while let Some(row) = rows.next()? {
                    let deleted_at: Option<i64> = row.get(1)?;
                    found.push(StoredKey {
                        hash: row.get(0)?,
                        deleted: deleted_at.is_some(),
                        account: account_at(row, 2)?,
                    });
                }
                Ok(found)
            })
        })
        .await
}

async fn account_by_name(pool: &SqlitePool, name: &str) -> Result<Account> {
    sqlx::query("SELECT id, name, disabled, created_at, rate_limits FROM accounts WHERE name = ?")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(|row| account_from_row(&row))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(Entity::Account).into())
}

async fn insert_key(conn: &mut sqlx::SqliteConnection, account: &Account) -> Result<NewApiKey> {
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
            prefix: keys::shown_prefix(lookup),
            created_at: from_ts(now.timestamp()),
            deleted_at: None,
        },
        key,
    })
}

async fn insert_account(conn: &mut sqlx::SqliteConnection, name: &str) -> Result<Account> {
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
            Entity::Account,
            format!("an account named `{name}` already exists"),
        )
        .into()),
        Err(other) => Err(other.into()),
    }
}

fn account_from_row(row: &SqliteRow) -> Result<Account> {
    Ok(Account {
        id: row.get(0),
        name: row.get(1),
        disabled: row.get(2),
        created_at: from_ts(row.get(3)),
        rate_limits: parse_json(row.get(4), "rate_limits")?,
    })
}
