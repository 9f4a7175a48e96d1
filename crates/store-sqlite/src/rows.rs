//! Reading stored values back: times, JSON columns and statuses, shared by every module that
//! reads rows (accounts, trackings, the inline reader, refresh, webhooks).
//!
//! They live here, below all of those modules, so that no two modules import each other. What
//! every backend reads alike (statuses, ids, JSON) is `parceld_store::stored`; what is SQLite's
//! own is how it keeps times: trackings and accounts in unix seconds, the webhook tables in
//! milliseconds. Tracking ids are stored as their 16 bytes (migration 0010), not their 32 hex
//! characters.

use chrono::{DateTime, TimeZone, Utc};
pub(crate) use parceld_store::stored::{parse_status, parse_substatus, tracking_id};
use parceld_store::{Account, StoreError, StoreResult};

/// A time stored in unix seconds.
pub(crate) fn from_ts(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

/// A time as the webhook tables store it: unix milliseconds.
pub(crate) fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A time stored in unix milliseconds (the webhook tables).
pub(crate) fn from_ms(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// A JSON column, as the driver hands it over; `what` names it in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: String,
    what: &str,
) -> StoreResult<T> {
    parceld_store::stored::parse_json(&text, what)
}

/// An account from the columns `id, name, disabled, created_at, rate_limits` of a row read
/// through the inline reader, the first of them at `first`.
pub(crate) fn account_at(row: &rusqlite::Row<'_>, first: usize) -> StoreResult<Account> {
    let column = |e: rusqlite::Error| StoreError::backend(e);
    Ok(Account {
        id: row.get(first).map_err(column)?,
        name: row.get(first + 1).map_err(column)?,
        disabled: row.get(first + 2).map_err(column)?,
        created_at: from_ts(row.get(first + 3).map_err(column)?),
        rate_limits: parse_json(row.get(first + 4).map_err(column)?, "rate_limits")?,
    })
}
