//! `CopyStore` on PostgreSQL: every table read into and written from `parceld_store::copy`'s
//! neutral form, for `parceld db copy`.
//!
//! A batch goes in with one `COPY … FROM STDIN` (text format, `copy_text.rs`) in one
//! transaction. What PostgreSQL keeps differently from the neutral form: a tracking page's host
//! lives on its account (`accounts.page_host`, written after the page rows in the same
//! transaction), and keys are handed out by identity sequences, which [`finish`] moves past the
//! copied keys. Text keys (API key ids) are ordered by `COLLATE "C"`, byte order, as SQLite
//! orders them, so that both sides agree on what "after" a key means.

use parceld_store::backend::BackendResult as Result;
use parceld_store::copy::{CopyExtent, CopyRow, CopyTable, CopyValue, Kind, Layout, RowChunks};
use parceld_store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};

use crate::copy_text::CopyText;
use crate::PostgresStore;

/// Each neutral table as PostgreSQL keeps it (see [`Layout`]).
#[rustfmt::skip]
const LAYOUTS: &[Layout] = &[
    Layout::new("accounts", "", &["id", "name", "disabled", "created_at", "rate_limits::text"]), Layout::new("api_keys", "", &["id", "account_id", "lookup", "hash", "created_at", "deleted_at"]), Layout::new("users", "", &["id", "account_id", "email", "role", "password_hash", "failed_sign_ins::bigint", "locked_until", "created_at"]), Layout::new("tracking_pages", "JOIN accounts a ON a.id = x.account_id", &["account_id", "a.page_host", "settings::text"]), Layout::new("trackings", "", &["pk", "account_id", "id", "tracking_number", "courier_code", "courier_detected", "delivery_status", "substatus", "status_info", "latest_event", "latest_checkpoint_time", "archived", "fields::text", "shipment::text", "created_at", "updated_at", "last_checked_at", "next_check_at", "check_error", "lease_owner", "lease_until", "check_failures", "notfound_since", "delivered_day", "transit_days::bigint", "first_attempt"]), Layout::new("checkpoints", "", &["seq", "account_id", "tracking_pk", "fingerprint", "leg::bigint", "time", "checkpoint_date", "status", "substatus", "detail", "location", "country_iso2", "state", "city", "zip", "raw_status", "raw_time"]),
    Layout::new("checkpoint_lists", "", &["tracking_pk", "account_id", "list"]), Layout::new("tracking_changes", "", &["id", "account_id", "event_id", "tracking_pk", "delivery_status", "substatus", "new_checkpoints::bigint", "created_at"]), Layout::new("webhook_endpoints", "", &["pk", "account_id", "id", "url", "description", "statuses", "version", "enabled", "secret", "disabled_reason", "failing_since", "created_at", "updated_at"]), Layout::new("webhook_deliveries", "", &["pk", "account_id", "id", "endpoint_pk", "event", "event_id", "tracking_pk", "state", "attempts", "next_attempt_at", "lease_owner", "lease_until", "payload", "created_at", "finished_at"]), Layout::new("webhook_attempts", "", &["pk", "account_id", "delivery_pk", "attempted_at", "http_status::bigint", "latency_ms", "error", "response_snippet"]),
    Layout::new("notification_settings", "", &["account_id", "settings::text"]), Layout::new("notifications", "", &["pk", "account_id", "id", "tracking_pk", "event_id", "trigger", "channel", "recipient", "state", "attempts", "next_attempt_at", "lease_owner", "lease_until", "response", "created_at", "finished_at", "language"]), Layout::new("notification_unsubscribes", "", &["pk", "account_id", "channel", "address", "created_at"]), Layout::new("notification_subscribers", "", &["pk", "account_id", "tracking_pk", "address", "language", "created_at"]),
];

/// The identity columns, whose sequences must go on after the copied keys.
const IDENTITIES: &[(&str, &str)] = &[
    ("accounts", "id"),
    ("users", "id"),
    ("trackings", "pk"),
    ("checkpoints", "seq"),
    ("tracking_changes", "id"),
    ("webhook_endpoints", "pk"),
    ("webhook_deliveries", "pk"),
    ("webhook_attempts", "pk"),
    ("notifications", "pk"),
    ("notification_unsubscribes", "pk"),
    ("notification_subscribers", "pk"),
];

fn layout(table: &CopyTable) -> Result<(&'static Layout, String)> {
    let layout = LAYOUTS
        .iter()
        .find(|layout| layout.table == table.name)
        .ok_or_else(|| StoreError::Corrupt(format!("no PostgreSQL layout of {}", table.name)))?;
    // The key as compared and ordered: text in byte order.
    let key = match table.columns[0].kind {
        Kind::Text => format!("{} COLLATE \"C\"", layout.key()),
        _ => layout.key(),
    };
    Ok((layout, key))
}

/// One row in the neutral form (PostgreSQL hands over each type as its own).
fn read(table: &CopyTable, row: &PgRow) -> Result<CopyRow> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, column) in table.columns.iter().enumerate() {
        let value = match column.kind {
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(CopyValue::Bool),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(CopyValue::Bytes),
            Kind::Json => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Json),
            Kind::Seconds | Kind::Millis => row.try_get::<Option<Time>, _>(i)?.map(CopyValue::Time),
            Kind::TextList => row
                .try_get::<Option<Vec<String>>, _>(i)?
                .map(CopyValue::TextList),
        };
        values.push(value.unwrap_or(CopyValue::Null));
    }
    Ok(values)
}

type Time = chrono::DateTime<chrono::Utc>;

/// Keys as one array to bind: `bigint[]` or `text[]` by the key's kind.
enum Keys {
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl Keys {
    fn of(table: &CopyTable, keys: &[CopyValue]) -> Keys {
        match table.columns[0].kind {
            Kind::Text => Keys::Texts(keys.iter().filter_map(text_key).collect()),
            _ => Keys::Ints(keys.iter().filter_map(int_key).collect()),
        }
    }

    fn bind<'q>(self, query: PgQuery<'q>) -> PgQuery<'q> {
        match self {
            Keys::Ints(ints) => query.bind(ints),
            Keys::Texts(texts) => query.bind(texts),
        }
    }

    /// One key bound on its own (the array's first element).
    fn bind_first<'q>(self, query: PgQuery<'q>) -> PgQuery<'q> {
        match self {
            Keys::Ints(ints) => query.bind(ints.first().copied()),
            Keys::Texts(texts) => query.bind(texts.into_iter().next()),
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn int_key(key: &CopyValue) -> Option<i64> {
    match key {
        CopyValue::Int(n) => Some(*n),
        _ => None,
    }
}

fn text_key(key: &CopyValue) -> Option<String> {
    match key {
        CopyValue::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn key_of(table: &CopyTable, row: &PgRow, i: usize) -> Result<Option<CopyValue>> {
    Ok(match table.columns[0].kind {
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
        _ => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
    })
}

pub(crate) async fn stream(pool: &PgPool, after: Option<CopyValue>, out: RowChunks) -> Result<()> {
    let (layout, key) = layout(out.table())?;
    let sql = layout.select_after(&key, after.as_ref().map(|_| "$1"));
    let query = match &after {
        Some(after) => {
            Keys::of(out.table(), std::slice::from_ref(after)).bind_first(sqlx::query(&sql))
        }
        None => sqlx::query(&sql),
    };
    out.send_all(query.fetch(pool), read).await
}

/// The rows as COPY's text, only the columns PostgreSQL keeps in the table itself.
fn copy_text(stored: &[(usize, &str)], rows: &[CopyRow]) -> CopyText {
    let mut text = CopyText::new();
    for row in rows {
        for (i, _) in stored {
            match &row[*i] {
                CopyValue::Null => text.null(),
                CopyValue::Int(n) => text.int(*n),
                CopyValue::Bool(b) => text.bool(*b),
                CopyValue::Text(s) | CopyValue::Json(s) => text.text(s),
                CopyValue::Bytes(b) => text.bytes(b),
                CopyValue::Time(t) => text.time(*t),
                CopyValue::TextList(list) => text.text_list(list),
            }
        }
        text.end_row();
    }
    text
}

/// A tracking page's host goes onto its account (unique there), in the page rows' transaction.
async fn write_page_hosts(
    tx: &mut sqlx::PgConnection,
    table: &CopyTable,
    rows: &[CopyRow],
) -> Result<()> {
    let column = |name: &str| table.column(name).unwrap_or(0);
    let (id, host) = (column("account_id"), column("host"));
    let (ids, hosts): (Vec<i64>, Vec<String>) = rows
        .iter()
        .filter_map(|row| Some((int_key(&row[id])?, text_key(&row[host])?)))
        .unzip();
    sqlx::query(
        "UPDATE accounts a SET page_host = v.host \
         FROM UNNEST($1::bigint[], $2::text[]) AS v (id, host) WHERE a.id = v.id",
    )
    .bind(ids)
    .bind(hosts)
    .execute(tx)
    .await?;
    Ok(())
}

pub(crate) async fn write(
    pool: &PgPool,
    table: &'static CopyTable,
    rows: &[CopyRow],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (layout, _) = layout(table)?;
    let stored = layout.stored();
    let names: Vec<&str> = stored.iter().map(|(_, name)| *name).collect();
    let mut tx = pool.begin().await?;
    let statement = format!("COPY {} ({}) FROM STDIN", layout.table, names.join(", "));
    let mut copy = tx.copy_in_raw(&statement).await?;
    copy.send(copy_text(&stored, rows).take()).await?;
    copy.finish().await?;
    if table.name == "tracking_pages" {
        write_page_hosts(&mut tx, table, rows).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn extent(pool: &PgPool, table: &'static CopyTable) -> Result<CopyExtent> {
    let (layout, key) = layout(table)?;
    let row = sqlx::query(&layout.extent_sql(&key))
        .fetch_one(pool)
        .await?;
    Ok(CopyExtent {
        rows: row.try_get::<i64, _>(0)? as u64,
        last: key_of(table, &row, 1)?,
    })
}

pub(crate) async fn count_through(
    pool: &PgPool,
    table: &'static CopyTable,
    key_value: &CopyValue,
) -> Result<u64> {
    let (layout, key) = layout(table)?;
    let sql = layout.count_through_sql(&key, "$1");
    let query = Keys::of(table, std::slice::from_ref(key_value)).bind_first(sqlx::query(&sql));
    let count: i64 = query.fetch_one(pool).await?.try_get(0)?;
    Ok(count as u64)
}

pub(crate) async fn keys(
    pool: &PgPool,
    table: &'static CopyTable,
    n: usize,
    last: bool,
) -> Result<Vec<CopyValue>> {
    let (layout, key) = layout(table)?;
    let sql = layout.keys_sql(&key, last, "random()", "$1");
    let mut found = Vec::new();
    for row in sqlx::query(&sql).bind(n as i64).fetch_all(pool).await? {
        found.extend(key_of(table, &row, 0)?);
    }
    Ok(found)
}

pub(crate) async fn rows(
    pool: &PgPool,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> Result<Vec<CopyRow>> {
    let (layout, key) = layout(table)?;
    let sql = layout.select_among(&key, "= ANY($1)");
    let found = Keys::of(table, keys)
        .bind(sqlx::query(&sql))
        .fetch_all(pool)
        .await?;
    found.iter().map(|row| read(table, row)).collect()
}

/// Moves every identity sequence past the largest key its table holds (or back to the start
/// of an empty table), in one statement.
pub(crate) async fn finish(pool: &PgPool) -> Result<()> {
    let calls: Vec<String> = IDENTITIES
        .iter()
        .map(|(table, column)| {
            format!(
                "setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT max({column}) FROM {table}), 1), \
                 (SELECT max({column}) FROM {table}) IS NOT NULL)"
            )
        })
        .collect();
    sqlx::query(&format!("SELECT {}", calls.join(", ")))
        .execute(pool)
        .await?;
    Ok(())
}

parceld_store::impl_copy_store!(PostgresStore, crate::copy);
