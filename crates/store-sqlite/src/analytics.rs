//! The dashboard's analytics reads (`parceld_store::analytics`) on SQLite: its four reads on a
//! read-only connection, on a blocking thread.
//!
//! Not on the write pool: a few people reading half a year of charts at once would hold the
//! connections that refreshes and pushes write with, and their work would wait behind the
//! charts'. A read-only connection in WAL mode neither waits for the writer nor makes it wait;
//! the blocking thread keeps the reads' milliseconds off the async runtime's threads.

use std::sync::Arc;

use parceld_store::analytics::{DayRow, Read, StatusRow, TransitRow};
use parceld_store::{AccountId, AnalyticsFilter, Counters, StoreError};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

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
    // `$1` to `$4`, and `$5` only when a country is chosen (`Read::sql`).
    let mut params = vec![
        Value::Integer(account),
        Value::Integer(first),
        Value::Integer(last),
        filter.courier_code.clone().map_or(Value::Null, Value::Text),
    ];
    params.extend(filter.country.clone().map(Value::Text));
    let by_country = filter.country.is_some();
    let rows = |read: Read| conn.prepare_cached(&read.sql(by_country));
    let days = |read: Read| -> Result<Vec<DayRow>> {
        let mut statement = rows(read)?;
        let found =
            statement.query_map(params_from_iter(&params), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(found.collect::<rusqlite::Result<_>>()?)
    };
    let mut statement = rows(Read::Statuses)?;
    let statuses: Vec<StatusRow> = statement
        .query_map(params_from_iter(&params), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut statement = rows(Read::Transit)?;
    let transit: Vec<TransitRow> = statement
        .query_map(params_from_iter(&params), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Counters::from_rows(
        days(Read::Created)?,
        statuses,
        days(Read::Delivered)?,
        transit,
    )?)
}
