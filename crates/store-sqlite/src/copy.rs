//! `CopyStore` on SQLite: every table read into and written from `parceld_store::copy`'s neutral
//! form, for `parceld db copy`.
//!
//! What SQLite keeps differently from the neutral form: times as unix seconds (the tracking
//! tables) or milliseconds (the webhook tables, columns `…_ms`), a webhook's statuses as a JSON
//! array, and no account id on checkpoints, checkpoint lists and attempts (read through the
//! tracking or delivery they belong to, not written). A batch is one transaction of multi-row
//! inserts (as many rows per statement as SQLite's bound-parameter limit allows).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use parceld_store::backend::BackendResult as Result;
use parceld_store::copy::{CopyExtent, CopyRow, CopyTable, CopyValue, Kind, Layout};
use parceld_store::{CopyStore, StoreError, StoreResult};
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::mpsc;

use crate::rows::{from_ms, from_ts};
use crate::SqliteStore;

/// Bound parameters in one statement at most (SQLite's limit is 32766).
const MAX_PARAMETERS: usize = 30_000;

/// Each neutral table as SQLite keeps it (see [`Layout`]).
const LAYOUTS: &[Layout] = &[
    Layout {
        table: "accounts",
        join: "",
        columns: &["id", "name", "disabled", "created_at", "rate_limits"],
    },
    Layout {
        table: "api_keys",
        join: "",
        columns: &[
            "id",
            "account_id",
            "lookup",
            "hash",
            "created_at",
            "deleted_at",
        ],
    },
    Layout {
        table: "tracking_pages",
        join: "",
        columns: &["account_id", "host", "settings"],
    },
    Layout {
        table: "trackings",
        join: "",
        columns: &[
            "pk",
            "account_id",
            "id",
            "tracking_number",
            "courier_code",
            "courier_detected",
            "delivery_status",
            "substatus",
            "status_info",
            "latest_event",
            "latest_checkpoint_time",
            "archived",
            "fields",
            "shipment",
            "created_at",
            "updated_at",
            "last_checked_at",
            "next_check_at",
            "check_error",
            "lease_owner",
            "lease_until",
            "check_failures",
            "notfound_since",
        ],
    },
    Layout {
        table: "checkpoints",
        join: "JOIN trackings t ON t.pk = x.tracking_pk",
        columns: &[
            "pk",
            "t.account_id",
            "tracking_pk",
            "fingerprint",
            "leg",
            "time",
            "checkpoint_date",
            "status",
            "substatus",
            "detail",
            "location",
            "country_iso2",
            "state",
            "city",
            "zip",
            "raw_status",
            "raw_time",
        ],
    },
    Layout {
        table: "checkpoint_lists",
        join: "JOIN trackings t ON t.pk = x.tracking_pk",
        columns: &["tracking_pk", "t.account_id", "list"],
    },
    Layout {
        table: "tracking_changes",
        join: "",
        columns: &[
            "id",
            "account_id",
            "event_id",
            "tracking_pk",
            "delivery_status",
            "substatus",
            "new_checkpoints",
            "created_at",
        ],
    },
    Layout {
        table: "webhook_endpoints",
        join: "",
        columns: &[
            "pk",
            "account_id",
            "id",
            "url",
            "description",
            "statuses",
            "version",
            "enabled",
            "secret",
            "disabled_reason",
            "failing_since_ms",
            "created_ms",
            "updated_ms",
        ],
    },
    Layout {
        table: "webhook_deliveries",
        join: "",
        columns: &[
            "pk",
            "account_id",
            "id",
            "endpoint_pk",
            "event",
            "event_id",
            "tracking_pk",
            "state",
            "attempts",
            "next_attempt_ms",
            "lease_owner",
            "lease_until_ms",
            "payload",
            "created_ms",
            "finished_ms",
        ],
    },
    Layout {
        table: "webhook_attempts",
        join: "JOIN webhook_deliveries d ON d.pk = x.delivery_pk",
        columns: &[
            "pk",
            "d.account_id",
            "delivery_pk",
            "attempted_ms",
            "http_status",
            "latency_ms",
            "error",
            "response_snippet",
        ],
    },
];

fn layout(table: &CopyTable) -> Result<&'static Layout> {
    LAYOUTS
        .iter()
        .find(|layout| layout.table == table.name)
        .ok_or_else(|| StoreError::Corrupt(format!("no SQLite layout of {}", table.name)).into())
}

fn select(table: &CopyTable) -> Result<(String, String)> {
    let layout = layout(table)?;
    let sql = format!("SELECT {} {}", layout.select_list(), layout.from());
    Ok((sql, layout.key()))
}

/// One row in the neutral form.
fn read(table: &CopyTable, row: &SqliteRow) -> Result<CopyRow> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| -> Result<CopyValue> {
            Ok(match column.kind {
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(CopyValue::Bool),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
                // Tracking ids are blobs in a column declared TEXT (migration 0010).
                Kind::Bytes => row
                    .try_get_unchecked::<Option<Vec<u8>>, _>(i)?
                    .map(CopyValue::Bytes),
                Kind::Json => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Json),
                Kind::Seconds => row
                    .try_get::<Option<i64>, _>(i)?
                    .map(|s| CopyValue::Time(from_ts(s))),
                Kind::Millis => row
                    .try_get::<Option<i64>, _>(i)?
                    .map(|m| CopyValue::Time(from_ms(m))),
                Kind::TextList => match row.try_get::<Option<String>, _>(i)? {
                    Some(text) => Some(CopyValue::TextList(parceld_store::stored::parse_json(
                        &text,
                        column.name,
                    )?)),
                    None => None,
                },
            }
            .unwrap_or(CopyValue::Null))
        })
        .collect()
}

/// Binds one neutral value as SQLite keeps a column of `kind`.
fn push_value(
    builder: &mut Separated<'_, '_, Sqlite, &'static str>,
    value: &CopyValue,
    kind: Kind,
) {
    let time = |time: &DateTime<Utc>| match kind {
        Kind::Millis => time.timestamp_millis(),
        _ => time.timestamp(),
    };
    match value {
        CopyValue::Null => builder.push_bind(None::<i64>),
        CopyValue::Int(n) => builder.push_bind(*n),
        CopyValue::Bool(b) => builder.push_bind(*b),
        CopyValue::Text(s) | CopyValue::Json(s) => builder.push_bind(s.clone()),
        CopyValue::Bytes(b) => builder.push_bind(b.clone()),
        CopyValue::Time(t) => builder.push_bind(time(t)),
        CopyValue::TextList(list) => {
            builder.push_bind(serde_json::to_string(list).unwrap_or_else(|_| "[]".into()))
        }
    };
}

/// A key bound on its own (`WHERE key > ?`).
fn push_key(builder: &mut QueryBuilder<'_, Sqlite>, key: &CopyValue) {
    match key {
        CopyValue::Int(n) => builder.push_bind(*n),
        CopyValue::Text(s) => builder.push_bind(s.clone()),
        other => builder.push_bind(other.shown()),
    };
}

fn key_of(table: &CopyTable, row: &SqliteRow, i: usize) -> Result<Option<CopyValue>> {
    Ok(match table.columns[0].kind {
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
        _ => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
    })
}

pub(crate) async fn stream(
    pool: &SqlitePool,
    table: &'static CopyTable,
    after: Option<CopyValue>,
    chunk: usize,
    chunks: mpsc::Sender<Vec<CopyRow>>,
) -> Result<()> {
    let (sql, key) = select(table)?;
    let mut query = QueryBuilder::<Sqlite>::new(sql);
    if let Some(after) = &after {
        query.push(format!(" WHERE {key} > "));
        push_key(&mut query, after);
    }
    query.push(format!(" ORDER BY {key}"));
    let mut rows = query.build().fetch(pool);
    let mut next = Vec::with_capacity(chunk);
    while let Some(row) = rows.try_next().await? {
        next.push(read(table, &row)?);
        if next.len() >= chunk.max(1) && chunks.send(std::mem::take(&mut next)).await.is_err() {
            return Ok(());
        }
    }
    if !next.is_empty() {
        let _ = chunks.send(next).await;
    }
    Ok(())
}

pub(crate) async fn write(
    pool: &SqlitePool,
    table: &'static CopyTable,
    rows: &[CopyRow],
) -> Result<()> {
    let layout = layout(table)?;
    let stored = layout.stored();
    let names: Vec<&str> = stored.iter().map(|(_, name)| *name).collect();
    let mut tx = pool.begin().await?;
    for part in rows.chunks((MAX_PARAMETERS / stored.len()).max(1)) {
        let mut insert = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO {} ({}) ",
            layout.table,
            names.join(", ")
        ));
        insert.push_values(part, |mut values, row| {
            for (i, _) in &stored {
                push_value(&mut values, &row[*i], table.columns[*i].kind);
            }
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn extent(pool: &SqlitePool, table: &'static CopyTable) -> Result<CopyExtent> {
    let layout = layout(table)?;
    let key = layout.key();
    let sql = format!("SELECT count(*), max({key}) FROM {} x", layout.table);
    let row = sqlx::query(&sql).fetch_one(pool).await?;
    Ok(CopyExtent {
        rows: row.try_get::<i64, _>(0)? as u64,
        last: key_of(table, &row, 1)?,
    })
}

pub(crate) async fn count_through(
    pool: &SqlitePool,
    table: &'static CopyTable,
    key: &CopyValue,
) -> Result<u64> {
    let layout = layout(table)?;
    let mut query = QueryBuilder::<Sqlite>::new(format!(
        "SELECT count(*) FROM {} x WHERE {} <= ",
        layout.table,
        layout.key()
    ));
    push_key(&mut query, key);
    let count: i64 = query.build_query_scalar().fetch_one(pool).await?;
    Ok(count as u64)
}

pub(crate) async fn rows(
    pool: &SqlitePool,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> Result<Vec<CopyRow>> {
    let (sql, key) = select(table)?;
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|key| match key {
            CopyValue::Int(n) => serde_json::Value::from(*n),
            other => serde_json::Value::from(match other {
                CopyValue::Text(s) => s.clone(),
                other => other.shown(),
            }),
        })
        .collect();
    let sql = format!("{sql} WHERE {key} IN (SELECT value FROM json_each(?1)) ORDER BY {key}");
    let found = sqlx::query(&sql)
        .bind(serde_json::Value::Array(keys).to_string())
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
    let key = layout.key();
    let order = if last {
        format!("{key} DESC")
    } else {
        "random()".into()
    };
    let sql = format!(
        "SELECT {key} FROM {} x ORDER BY {order} LIMIT ?1",
        layout.table
    );
    let found = sqlx::query(&sql).bind(n as i64).fetch_all(pool).await?;
    let mut keys = Vec::with_capacity(found.len());
    for row in &found {
        keys.extend(key_of(table, row, 0)?);
    }
    Ok(keys)
}

#[async_trait]
impl CopyStore for SqliteStore {
    async fn copy_stream(
        &self,
        table: &'static CopyTable,
        after: Option<CopyValue>,
        chunk: usize,
        chunks: mpsc::Sender<Vec<CopyRow>>,
    ) -> StoreResult<()> {
        Ok(stream(self.pool(), table, after, chunk, chunks).await?)
    }

    async fn copy_write(&self, table: &'static CopyTable, rows: &[CopyRow]) -> StoreResult<()> {
        Ok(write(self.pool(), table, rows).await?)
    }

    async fn copy_extent(&self, table: &'static CopyTable) -> StoreResult<CopyExtent> {
        Ok(extent(self.pool(), table).await?)
    }

    async fn copy_count_through(
        &self,
        table: &'static CopyTable,
        key: &CopyValue,
    ) -> StoreResult<u64> {
        Ok(count_through(self.pool(), table, key).await?)
    }

    async fn copy_rows(
        &self,
        table: &'static CopyTable,
        keys: &[CopyValue],
    ) -> StoreResult<Vec<CopyRow>> {
        Ok(rows(self.pool(), table, keys).await?)
    }

    async fn copy_keys(
        &self,
        table: &'static CopyTable,
        n: usize,
        last: bool,
    ) -> StoreResult<Vec<CopyValue>> {
        Ok(keys(self.pool(), table, n, last).await?)
    }

    /// SQLite hands out the next integer key after the largest stored: nothing to do.
    async fn copy_finish(&self) -> StoreResult<()> {
        Ok(())
    }
}
