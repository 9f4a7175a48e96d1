//! The dashboard's analytics reads (`parceld_store::analytics`) on SQLite: the counter rows of
//! the filter's days, read in the order they lie and summed by a `Fold` (SQLite would sort
//! them to group by courier, which cost several times the reading), on a read-only connection,
//! on a blocking thread.
//!
//! Not on the write pool: a few people reading half a year of charts at once would hold the
//! connections that refreshes and pushes write with, and their work would wait behind the
//! charts'. A read-only connection in WAL mode neither waits for the writer nor makes it wait;
//! the blocking thread keeps the reads' milliseconds off the async runtime's threads.

use std::sync::Arc;

use parceld_store::analytics::{rows_sql, Fold};
use parceld_store::{AccountId, AnalyticsFilter, Counters, StoreError};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};

use crate::error::Result;
use crate::reader::Readers;

/// The analytics counters of `account` for `filter`.
pub(crate) async fn analytics(
    readers: Arc<Readers>,
    account: AccountId,
    filter: &AnalyticsFilter,
) -> Result<Counters> {
    let filter = filter.clone();
    tokio::task::spawn_blocking(move || readers.with(|conn| read(conn, account, &filter)))
        .await
        .map_err(StoreError::backend)?
}

fn read(conn: &Connection, account: AccountId, filter: &AnalyticsFilter) -> Result<Counters> {
    let (first, last) = filter.bounds();
    // `$1` to `$4`, and `$5` only when a country is chosen (`rows_sql`).
    let mut params = vec![
        Value::Integer(account),
        Value::Integer(first),
        Value::Integer(last),
        filter.courier_code.clone().map_or(Value::Null, Value::Text),
    ];
    params.extend(filter.country.clone().map(Value::Text));
    let by_country = filter.country.is_some();
    let mut fold = Fold::default();
    let mut statement = conn.prepare_cached(&rows_sql(false, by_country))?;
    let mut rows = statement.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        fold.status(row.get(0)?, text(row, 1)?, text(row, 2)?, row.get(3)?);
    }
    let mut statement = conn.prepare_cached(&rows_sql(true, by_country))?;
    let mut rows = statement.query(params_from_iter(&params))?;
    while let Some(row) = rows.next()? {
        fold.delivery(
            row.get(0)?,
            text(row, 1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
        );
    }
    Ok(fold.finish()?)
}

/// A text column, borrowed from the row.
fn text<'r>(row: &'r Row<'_>, column: usize) -> Result<&'r str> {
    Ok(row.get_ref(column)?.as_str()?)
}
