//! The dashboard's analytics reads (`parceld_store::analytics`) on SQLite: the per-day sums as
//! SQLite makes them (in index order, no sort), the per-courier counter rows as they lie,
//! summed by a `Fold` (SQLite would sort them to group by courier, which cost several times the
//! reading); on a read-only connection, on a blocking thread.
//!
//! Not on the write pool: a few people reading half a year of charts at once would hold the
//! connections that refreshes and pushes write with, and their work would wait behind the
//! charts'. A read-only connection in WAL mode neither waits for the writer nor makes it wait;
//! the blocking thread keeps the reads' milliseconds off the async runtime's threads.

use std::sync::Arc;

use parceld_store::analytics::{Fold, Param, Read};
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
    let params = |read: Read| {
        read.params(account, filter)
            .into_iter()
            .map(|p| match p {
                Param::Int(n) => Value::Integer(n),
                Param::Text(text) => Value::Text(text),
            })
            .collect::<Vec<_>>()
    };
    let mut per_day = [Vec::new(), Vec::new()];
    for (read, days) in [Read::Created, Read::Delivered]
        .into_iter()
        .zip(&mut per_day)
    {
        let mut statement = conn.prepare_cached(&read.rows_sql(filter))?;
        let mut rows = statement.query(params_from_iter(params(read)))?;
        while let Some(row) = rows.next()? {
            days.push((row.get(0)?, row.get(1)?));
        }
    }
    let mut fold = Fold::default();
    let mut statement = conn.prepare_cached(&Read::Statuses.rows_sql(filter))?;
    let mut rows = statement.query(params_from_iter(params(Read::Statuses)))?;
    while let Some(row) = rows.next()? {
        fold.status(text(row, 0)?, text(row, 1)?, row.get(2)?);
    }
    let mut statement = conn.prepare_cached(&Read::Transit.rows_sql(filter))?;
    let mut rows = statement.query(params_from_iter(params(Read::Transit)))?;
    while let Some(row) = rows.next()? {
        fold.delivery(text(row, 0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    }
    let [created, delivered] = per_day;
    Ok(fold.finish(created, delivered)?)
}

/// A text column, borrowed from the row.
fn text<'r>(row: &'r Row<'_>, column: usize) -> Result<&'r str> {
    Ok(row.get_ref(column)?.as_str()?)
}
