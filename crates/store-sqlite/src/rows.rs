//! Reading stored values back: times, JSON columns and statuses, shared by every module that
//! reads rows (accounts, trackings, the inline reader, checkpoint lists, refresh, webhooks).
//!
//! They live here, below all of those modules, so that no two modules import each other.
//! Trackings and accounts keep times in unix seconds; the webhook tables keep milliseconds.
//! Tracking ids are stored as their 16 bytes (migration 0010), not their 32 hex characters.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use parceld_model::{DeliveryStatus, SubStatus, TrackingId};
use parceld_store::{StoreError, StoreResult};

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

/// A JSON column; `what` names it in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: String,
    what: &str,
) -> StoreResult<T> {
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn parse_status(text: &str) -> StoreResult<DeliveryStatus> {
    DeliveryStatus::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn parse_substatus(text: Option<String>) -> StoreResult<Option<SubStatus>> {
    text.map(|t| SubStatus::from_str(&t).map_err(StoreError::Corrupt))
        .transpose()
}

/// A tracking id as stored: its 16 bytes ([`TrackingId::to_bytes`]).
pub(crate) fn tracking_id(bytes: &[u8]) -> StoreResult<TrackingId> {
    TrackingId::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("tracking id of {} bytes", bytes.len())))
}
