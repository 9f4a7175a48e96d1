//! `CopyStore` on SQLite: every table read into and written from `parceld_store::copy`'s neutral
//! form, for `parceld db copy`.
//!
//! What SQLite keeps differently from the neutral form: times as unix seconds (the tracking
//! tables) or milliseconds (the webhook tables, columns `…_ms`), a webhook's statuses as a JSON
//! array, and no account id on checkpoints, checkpoint lists and attempts (read through the
//! tracking or delivery they belong to, not written). A batch is one transaction of multi-row
//! inserts (as many rows per statement as SQLite's bound-parameter limit allows).

use parceld_store::backend::BackendResult as Result;
use parceld_store::copy::{
    Column, CopyExtent, CopyRow, CopyTable, CopyValue, Kind, Layout, RowChunks,
};
use parceld_store::stored::parse_json;
use parceld_store::StoreError;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::rows::{from_ms, from_ts};
use crate::SqliteStore;

/// Bound parameters in one statement at most (SQLite's limit is 32766).
const MAX_PARAMETERS: usize = 30_000;

/// Each neutral table as SQLite keeps it (see [`Layout`]).
#[rustfmt::skip]
const LAYOUTS: &[Layout] = &[
    Layout::new("accounts", "", &["id", "name", "disabled", "created_at", "rate_limits"]), Layout::new("api_keys", "", &["id", "account_id", "lookup", "hash", "created_at", "deleted_at"]), Layout::new("users", "", &["id", "account_id", "email", "role", "password_hash", "failed_sign_ins", "locked_until", "created_at"]), Layout::new("tracking_pages", "", &["account_id", "host", "settings"]), Layout::new("trackings", "", &["pk", "account_id", "id", "tracking_number", "courier_code", "courier_detected", "delivery_status", "substatus", "status_info", "latest_event", "latest_checkpoint_time", "archived", "fields", "shipment", "created_at", "updated_at", "last_checked_at", "next_check_at", "check_error", "lease_owner", "lease_until", "check_failures", "notfound_since", "delivered_day", "transit_days", "first_attempt"]), Layout::new("checkpoints", "JOIN trackings t ON t.pk = x.tracking_pk", &["pk", "t.account_id", "tracking_pk", "fingerprint", "leg", "time", "checkpoint_date", "status", "substatus", "detail", "location", "country_iso2", "state", "city", "zip", "raw_status", "raw_time"]),
    Layout::new("checkpoint_lists", "JOIN trackings t ON t.pk = x.tracking_pk", &["tracking_pk", "t.account_id", "list"]), Layout::new("tracking_changes", "", &["id", "account_id", "event_id", "tracking_pk", "delivery_status", "substatus", "new_checkpoints", "created_at"]), Layout::new("webhook_endpoints", "", &["pk", "account_id", "id", "url", "description", "statuses", "version", "enabled", "secret", "disabled_reason", "failing_since_ms", "created_ms", "updated_ms"]), Layout::new("webhook_deliveries", "", &["pk", "account_id", "id", "endpoint_pk", "event", "event_id", "tracking_pk", "state", "attempts", "next_attempt_ms", "lease_owner", "lease_until_ms", "payload", "created_ms", "finished_ms"]), Layout::new("webhook_attempts", "JOIN webhook_deliveries d ON d.pk = x.delivery_pk", &["pk", "d.account_id", "delivery_pk", "attempted_ms", "http_status", "latency_ms", "error", "response_snippet"]),
    Layout::new("notification_settings", "", &["account_id", "settings"]), Layout::new("notifications", "", &["pk", "account_id", "id", "tracking_pk", "event_id", "trigger", "channel", "recipient", "state", "attempts", "next_attempt_ms", "lease_owner", "lease_until_ms", "response", "created_ms", "finished_ms", "language"]), Layout::new("notification_unsubscribes", "", &["pk", "account_id", "channel", "address", "created_ms"]), Layout::new("notification_subscribers", "", &["pk", "account_id", "tracking_pk", "address", "language", "created_ms"]),
];

fn layout(table: &CopyTable) -> Result<&'static Layout> {
    LAYOUTS
        .iter()
        .find(|layout| layout.table == table.name)
        .ok_or_else(|| StoreError::Corrupt(format!("no SQLite layout of {}", table.name)).into())
}

/// One row in the neutral form: SQLite hands over integers (numbers, booleans, times), text
/// (also JSON) and blobs.
fn read(table: &CopyTable, row: &SqliteRow) -> Result<CopyRow> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, column) in table.columns.iter().enumerate() {
        let value = match column.kind {
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(CopyValue::Bool),
            // Tracking ids are blobs in a column declared TEXT (migration 0010).
            Kind::Bytes => row
                .try_get_unchecked::<Option<Vec<u8>>, _>(i)?
                .map(CopyValue::Bytes),
            Kind::Int | Kind::Seconds | Kind::Millis => row
                .try_get::<Option<i64>, _>(i)?
                .map(|n| integer(column.kind, n)),
            Kind::Text | Kind::Json | Kind::TextList => {
                match row.try_get::<Option<String>, _>(i)? {
                    Some(text) => Some(text_value(column, text)?),
                    None => None,
                }
            }
        };
        values.push(value.unwrap_or(CopyValue::Null));
    }
    Ok(values)
}

fn integer(kind: Kind, n: i64) -> CopyValue {
    match kind {
        Kind::Seconds => CopyValue::Time(from_ts(n)),
        Kind::Millis => CopyValue::Time(from_ms(n)),
        _ => CopyValue::Int(n),
    }
}

fn text_value(column: &Column, text: String) -> Result<CopyValue> {
    Ok(match column.kind {
        Kind::Json => CopyValue::Json(text),
        Kind::TextList => CopyValue::TextList(parse_json(&text, column.name)?),
        _ => CopyValue::Text(text),
    })
}

/// Binds one neutral value as SQLite keeps a column of `kind`.
fn push_value(values: &mut Separated<'_, '_, Sqlite, &'static str>, value: &CopyValue, kind: Kind) {
    match value {
        CopyValue::Null => values.push_bind(None::<i64>),
        CopyValue::Int(n) => values.push_bind(*n),
        CopyValue::Bool(b) => values.push_bind(*b),
        CopyValue::Text(s) | CopyValue::Json(s) => values.push_bind(s.clone()),
        CopyValue::Bytes(b) => values.push_bind(b.clone()),
        CopyValue::Time(t) if kind == Kind::Millis => values.push_bind(t.timestamp_millis()),
        CopyValue::Time(t) => values.push_bind(t.timestamp()),
        CopyValue::TextList(list) => {
            values.push_bind(serde_json::Value::from(list.clone()).to_string())
        }
    };
}

/// A key as a statement binds it.
fn key_param(key: &CopyValue) -> serde_json::Value {
    match key {
        CopyValue::Int(n) => serde_json::Value::from(*n),
        CopyValue::Text(s) => serde_json::Value::from(s.as_str()),
        other => serde_json::Value::from(other.shown()),
    }
}

/// A key bound on its own: SQLite compares the JSON value's text or integer as the column's.
fn bind_key<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    key: &CopyValue,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    match key_param(key) {
        serde_json::Value::Number(n) => query.bind(n.as_i64()),
        other => query.bind(other.as_str().map(str::to_string)),
    }
}

/// The key in column `i`: an integer or, for API keys, text.
fn key_of(table: &CopyTable, row: &SqliteRow, i: usize) -> Result<Option<CopyValue>> {
    if table.columns[0].kind == Kind::Text {
        return Ok(row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text));
    }
    Ok(row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int))
}

pub(crate) async fn stream(
    pool: &SqlitePool,
    after: Option<CopyValue>,
    out: RowChunks,
) -> Result<()> {
    let layout = layout(out.table())?;
    let sql = layout.select_after(&layout.key(), after.as_ref().map(|_| "?1"));
    let mut query = sqlx::query(&sql);
    if let Some(after) = &after {
        query = bind_key(query, after);
    }
    out.send_all(query.fetch(pool), read).await
}

pub(crate) async fn write(
    pool: &SqlitePool,
    table: &'static CopyTable,
    rows: &[CopyRow],
) -> Result<()> {
    let layout = layout(table)?;
    let stored = layout.stored();
    let names: Vec<&str> = stored.iter().map(|(_, name)| *name).collect();
    let insert = format!("INSERT INTO {} ({}) ", layout.table, names.join(", "));
    let mut tx = pool.begin().await?;
    for part in rows.chunks((MAX_PARAMETERS / stored.len()).max(1)) {
        let mut statement = QueryBuilder::<Sqlite>::new(&insert);
        statement.push_values(part, |mut values, row| {
            for (i, _) in &stored {
                push_value(&mut values, &row[*i], table.columns[*i].kind);
            }
        });
        statement.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn extent(pool: &SqlitePool, table: &'static CopyTable) -> Result<CopyExtent> {
    let layout = layout(table)?;
    let row = sqlx::query(&layout.extent_sql(&layout.key()))
        .fetch_one(pool)
        .await?;
    let rows: i64 = row.try_get(0)?;
    let last = key_of(table, &row, 1)?;
    Ok(CopyExtent {
        rows: rows as u64,
        last,
    })
}

pub(crate) async fn count_through(
    pool: &SqlitePool,
    table: &'static CopyTable,
    key: &CopyValue,
) -> Result<u64> {
    let layout = layout(table)?;
    let sql = layout.count_through_sql(&layout.key(), "?1");
    let row = bind_key(sqlx::query(&sql), key).fetch_one(pool).await?;
    Ok(row.try_get::<i64, _>(0)? as u64)
}

pub(crate) async fn rows(
    pool: &SqlitePool,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> Result<Vec<CopyRow>> {
    let layout = layout(table)?;
    let sql = layout.select_among(&layout.key(), "IN (SELECT value FROM json_each(?1))");
    let keys = serde_json::Value::Array(keys.iter().map(key_param).collect());
    let found = sqlx::query(&sql)
        .bind(keys.to_string())
        .fetch_all(pool)
        .await?;
    found.iter().map(|row| read(table, row)).collect()
}

pub(crate) async fn keys(
    pool: &SqlitePool,
    table: &'static CopyTable,
    n: usize,
    last: bool,
) -> Result<Vec<CopyValue>> {
    let layout = layout(table)?;
    let sql = layout.keys_sql(&layout.key(), last, "random()", "?1");
    let found = sqlx::query(&sql).bind(n as i64).fetch_all(pool).await?;
    let mut keys = Vec::with_capacity(found.len());
    for row in &found {
        keys.extend(key_of(table, row, 0)?);
    }
    Ok(keys)
}

/// SQLite hands out the next integer key after the largest stored: nothing to do.
pub(crate) async fn finish(_pool: &SqlitePool) -> Result<()> {
    Ok(())
}

parceld_store::impl_copy_store!(SqliteStore, crate::copy);
