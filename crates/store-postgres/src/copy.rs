//! `CopyStore` on PostgreSQL: every table read into and written from `parceld_store::copy`'s
//! neutral form, for `parceld db copy`.
//!
//! A batch goes in with one `COPY … FROM STDIN` (text format, `copy_text.rs`) in one
//! transaction. What PostgreSQL keeps differently from the neutral form: a tracking page's host
//! lives on its account (`accounts.page_host`, written after the page rows in the same
//! transaction), and keys are handed out by identity sequences, which [`finish`] moves past the
//! copied keys. Text keys (API key ids) are ordered by `COLLATE "C"`, byte order, as SQLite
//! orders them, so that both sides agree on what "after" a key means.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use parceld_store::backend::BackendResult as Result;
use parceld_store::copy::{CopyExtent, CopyRow, CopyTable, CopyValue, Kind, Layout};
use parceld_store::{CopyStore, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tokio::sync::mpsc;

use crate::copy_text::CopyText;
use crate::PostgresStore;

/// Each neutral table as PostgreSQL keeps it (see [`Layout`]).
const LAYOUTS: &[Layout] = &[
    Layout {
        table: "accounts",
        join: "",
        columns: &["id", "name", "disabled", "created_at", "rate_limits::text"],
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
        join: "JOIN accounts a ON a.id = x.account_id",
        columns: &["account_id", "a.page_host", "settings::text"],
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
            "fields::text",
            "shipment::text",
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
        join: "",
        columns: &[
            "seq",
            "account_id",
            "tracking_pk",
            "fingerprint",
            "leg::bigint",
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
        join: "",
        columns: &["tracking_pk", "account_id", "list"],
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
            "new_checkpoints::bigint",
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
            "failing_since",
            "created_at",
            "updated_at",
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
            "next_attempt_at",
            "lease_owner",
            "lease_until",
            "payload",
            "created_at",
            "finished_at",
        ],
    },
    Layout {
        table: "webhook_attempts",
        join: "",
        columns: &[
            "pk",
            "account_id",
            "delivery_pk",
            "attempted_at",
            "http_status::bigint",
            "latency_ms",
            "error",
            "response_snippet",
        ],
    },
];

/// The identity columns, whose sequences must go on after the copied keys.
const IDENTITIES: &[(&str, &str)] = &[
    ("accounts", "id"),
    ("trackings", "pk"),
    ("checkpoints", "seq"),
    ("tracking_changes", "id"),
    ("webhook_endpoints", "pk"),
    ("webhook_deliveries", "pk"),
    ("webhook_attempts", "pk"),
];

fn layout(table: &CopyTable) -> Result<&'static Layout> {
    LAYOUTS
        .iter()
        .find(|layout| layout.table == table.name)
        .ok_or_else(|| {
            StoreError::Corrupt(format!("no PostgreSQL layout of {}", table.name)).into()
        })
}

/// The key as compared and ordered: text in byte order.
fn key(table: &CopyTable, layout: &Layout) -> String {
    match table.columns[0].kind {
        Kind::Text => format!("{} COLLATE \"C\"", layout.key()),
        _ => layout.key(),
    }
}

fn select(table: &CopyTable) -> Result<(String, String)> {
    let layout = layout(table)?;
    let sql = format!("SELECT {} {}", layout.select_list(), layout.from());
    Ok((sql, key(table, layout)))
}

/// One row in the neutral form.
fn read(table: &CopyTable, row: &PgRow) -> Result<CopyRow> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| -> Result<CopyValue> {
            Ok(match column.kind {
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(CopyValue::Bool),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
                Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(CopyValue::Bytes),
                Kind::Json => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Json),
                Kind::Seconds | Kind::Millis => row
                    .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)?
                    .map(CopyValue::Time),
                Kind::TextList => row
                    .try_get::<Option<Vec<String>>, _>(i)?
                    .map(CopyValue::TextList),
            }
            .unwrap_or(CopyValue::Null))
        })
        .collect()
}

fn push_key(builder: &mut QueryBuilder<'_, Postgres>, key: &CopyValue) {
    match key {
        CopyValue::Int(n) => builder.push_bind(*n),
        CopyValue::Text(s) => builder.push_bind(s.clone()),
        other => builder.push_bind(other.shown()),
    };
}

fn key_of(table: &CopyTable, row: &PgRow, i: usize) -> Result<Option<CopyValue>> {
    Ok(match table.columns[0].kind {
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map(CopyValue::Text),
        _ => row.try_get::<Option<i64>, _>(i)?.map(CopyValue::Int),
    })
}

pub(crate) async fn stream(
    pool: &PgPool,
    table: &'static CopyTable,
    after: Option<CopyValue>,
    chunk: usize,
    chunks: mpsc::Sender<Vec<CopyRow>>,
) -> Result<()> {
    let (sql, key) = select(table)?;
    let mut query = QueryBuilder::<Postgres>::new(sql);
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

/// The rows as COPY's text, only the columns PostgreSQL keeps in the table itself.
fn copy_text(table: &CopyTable, stored: &[(usize, &str)], rows: &[CopyRow]) -> CopyText {
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
    debug_assert!(rows.is_empty() || !text.is_empty() || table.columns.is_empty());
    text
}

pub(crate) async fn write(
    pool: &PgPool,
    table: &'static CopyTable,
    rows: &[CopyRow],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let layout = layout(table)?;
    let stored = layout.stored();
    let names: Vec<&str> = stored.iter().map(|(_, name)| *name).collect();
    let mut tx = pool.begin().await?;
    let statement = format!("COPY {} ({}) FROM STDIN", layout.table, names.join(", "));
    let mut copy = tx.copy_in_raw(&statement).await?;
    copy.send(copy_text(table, &stored, rows).take()).await?;
    copy.finish().await?;
    if table.name == "tracking_pages" {
        // The host is the account's (unique across accounts there).
        let column = |name: &str| table.column(name).unwrap_or(0);
        let (id, host) = (column("account_id"), column("host"));
        let (ids, hosts): (Vec<i64>, Vec<String>) = rows
            .iter()
            .filter_map(|row| match (&row[id], &row[host]) {
                (CopyValue::Int(id), CopyValue::Text(host)) => Some((*id, host.clone())),
                _ => None,
            })
            .unzip();
        sqlx::query(
            "UPDATE accounts a SET page_host = v.host \
             FROM UNNEST($1::bigint[], $2::text[]) AS v (id, host) WHERE a.id = v.id",
        )
        .bind(ids)
        .bind(hosts)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn extent(pool: &PgPool, table: &'static CopyTable) -> Result<CopyExtent> {
    let layout = layout(table)?;
    let sql = format!(
        "SELECT count(*), max({}) FROM {} x",
        key(table, layout),
        layout.table
    );
    let row = sqlx::query(&sql).fetch_one(pool).await?;
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
    let layout = layout(table)?;
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT count(*) FROM {} x WHERE {} <= ",
        layout.table,
        key(table, layout)
    ));
    push_key(&mut query, key_value);
    let count: i64 = query.build_query_scalar().fetch_one(pool).await?;
    Ok(count as u64)
}

pub(crate) async fn rows(
    pool: &PgPool,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> Result<Vec<CopyRow>> {
    let (sql, key) = select(table)?;
    let mut query = QueryBuilder::<Postgres>::new(format!("{sql} WHERE {key} = ANY("));
    match table.columns[0].kind {
        Kind::Text => query.push_bind(
            keys.iter()
                .filter_map(|k| match k {
                    CopyValue::Text(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        _ => query.push_bind(
            keys.iter()
                .filter_map(|k| match k {
                    CopyValue::Int(n) => Some(*n),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
    };
    query.push(format!(") ORDER BY {key}"));
    let found = query.build().fetch_all(pool).await?;
    found.iter().map(|row| read(table, row)).collect()
}

pub(crate) async fn keys(
    pool: &PgPool,
    table: &'static CopyTable,
    n: usize,
    last: bool,
) -> Result<Vec<CopyValue>> {
    let layout = layout(table)?;
    let key = key(table, layout);
    let order = if last {
        format!("{key} DESC")
    } else {
        "random()".into()
    };
    let sql = format!(
        "SELECT {key} FROM {} x ORDER BY {order} LIMIT $1",
        layout.table
    );
    let found = sqlx::query(&sql).bind(n as i64).fetch_all(pool).await?;
    let mut keys = Vec::with_capacity(found.len());
    for row in &found {
        keys.extend(key_of(table, row, 0)?);
    }
    Ok(keys)
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

#[async_trait]
impl CopyStore for PostgresStore {
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

    async fn copy_finish(&self) -> StoreResult<()> {
        Ok(finish(self.pool()).await?)
    }
}
