//! Rows as PostgreSQL returns them and reading them back into parceld's types; the times the
//! tables keep.
//!
//! Each row type names its columns (`sqlx::FromRow`), so a statement selects them by name and
//! the conversion is written once per type. The values themselves are read with
//! `parceld_store::stored`, as every backend reads them. Times: the tracking tables keep whole
//! seconds and the webhook tables whole milliseconds ([`seconds`], [`millis`]), the precision
//! the SQLite backend keeps, so both answer alike.

use chrono::{DateTime, TimeZone, Utc};
use parceld_model::{DeliveryStatus, SubStatus, Tracking};
use parceld_store::backend::BackendResult as Result;
use parceld_store::checkpoint_list;
use parceld_store::stored::{parse_json, parse_status, parse_substatus, tracking_id};
use parceld_store::{ClaimedTracking, WebhookEndpoint};
use sqlx::FromRow;

/// A time as the tracking tables keep it: whole seconds (towards the past, as the SQLite
/// backend's unix seconds are).
pub(crate) fn seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(time.timestamp(), 0)
        .single()
        .unwrap_or(time)
}

/// A time as the webhook tables keep it: whole milliseconds.
pub(crate) fn millis(time: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(time.timestamp_millis())
        .single()
        .unwrap_or(time)
}

/// One value of every item, as an array to bind (`UNNEST($n::type[])`).
pub(crate) fn column<'a, T, V>(items: &'a [T], value: impl Fn(&'a T) -> V) -> Vec<V> {
    items.iter().map(value).collect()
}

/// A claim: who takes the rows, as of when, until when; in the precision of the table claimed
/// from, so that a lease compares with the times stored beside it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lease<'a> {
    pub(crate) owner: &'a str,
    pub(crate) now: DateTime<Utc>,
    pub(crate) until: DateTime<Utc>,
}

impl<'a> Lease<'a> {
    /// A claim of trackings (whole seconds).
    pub(crate) fn of_trackings(owner: &'a str, now: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Lease {
            owner,
            now: seconds(now),
            until: seconds(until),
        }
    }

    /// A claim of webhook deliveries (whole milliseconds).
    pub(crate) fn of_deliveries(owner: &'a str, now: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Lease {
            owner,
            now: millis(now),
            until: millis(until),
        }
    }
}

/// The columns of a [`TrackingRow`] from `trackings t`, with its checkpoint list.
pub(crate) const TRACKING_COLUMNS: &str = "t.pk, t.id, t.tracking_number, t.courier_code, \
    t.courier_detected, t.delivery_status, t.substatus, t.status_info, t.latest_event, \
    t.latest_checkpoint_time, t.archived, t.fields::text AS fields, \
    t.shipment::text AS shipment, t.created_at, t.updated_at, t.last_checked_at, \
    t.next_check_at, t.check_error, \
    (SELECT l.list FROM checkpoint_lists l \
     WHERE l.tracking_pk = t.pk AND l.account_id = t.account_id) AS checkpoint_list";

/// A tracking with its checkpoint list ([`TRACKING_COLUMNS`]).
#[derive(FromRow)]
pub(crate) struct TrackingRow {
    pub(crate) pk: i64,
    id: Vec<u8>,
    tracking_number: String,
    courier_code: String,
    courier_detected: bool,
    #[sqlx(flatten)]
    status: StatusColumns,
    status_info: Option<String>,
    latest_event: Option<String>,
    latest_checkpoint_time: Option<DateTime<Utc>>,
    archived: bool,
    fields: String,
    shipment: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_checked_at: Option<DateTime<Utc>>,
    next_check_at: Option<DateTime<Utc>>,
    check_error: Option<String>,
    checkpoint_list: Option<Vec<u8>>,
}

impl TrackingRow {
    /// The tracking; a tracking without a checkpoint list has no checkpoints.
    pub(crate) fn read(self) -> Result<Tracking> {
        let (delivery_status, substatus) = self.status.read()?;
        Ok(Tracking {
            id: tracking_id(&self.id)?,
            tracking_number: self.tracking_number,
            courier_code: self.courier_code,
            courier_detected: self.courier_detected,
            fields: parse_json(&self.fields, "fields")?,
            shipment: parse_json(&self.shipment, "shipment")?,
            delivery_status,
            substatus,
            status_info: self.status_info,
            latest_event: self.latest_event,
            latest_checkpoint_time: self.latest_checkpoint_time,
            archived: self.archived,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_checked_at: self.last_checked_at,
            next_check_at: self.next_check_at,
            check_error: self.check_error,
            checkpoints: match self.checkpoint_list {
                Some(list) => checkpoint_list::decode(&list)?,
                None => Vec::new(),
            },
        })
    }
}

/// A tracking's status columns, which every tracking row reads the same way.
#[derive(FromRow)]
pub(crate) struct StatusColumns {
    delivery_status: String,
    substatus: Option<String>,
}

impl StatusColumns {
    fn read(self) -> Result<(DeliveryStatus, Option<SubStatus>)> {
        Ok((
            parse_status(&self.delivery_status)?,
            parse_substatus(self.substatus)?,
        ))
    }
}

/// The columns of a [`ClaimedRow`] from `trackings t`.
pub(crate) const CLAIMED_COLUMNS: &str = "t.pk, t.id, t.account_id, t.tracking_number, \
    t.courier_code, t.fields::text AS fields, t.created_at, t.delivery_status, t.substatus, \
    t.latest_event, t.latest_checkpoint_time, t.check_failures, t.notfound_since";

/// A tracking as a claim hands it to the engine ([`CLAIMED_COLUMNS`]).
#[derive(FromRow)]
pub(crate) struct ClaimedRow {
    pk: i64,
    id: Vec<u8>,
    account_id: i64,
    tracking_number: String,
    courier_code: String,
    fields: String,
    created_at: DateTime<Utc>,
    #[sqlx(flatten)]
    status: StatusColumns,
    latest_event: Option<String>,
    latest_checkpoint_time: Option<DateTime<Utc>>,
    check_failures: i64,
    notfound_since: Option<DateTime<Utc>>,
}

impl ClaimedRow {
    pub(crate) fn read(self) -> Result<ClaimedTracking> {
        let (delivery_status, substatus) = self.status.read()?;
        Ok(ClaimedTracking {
            pk: self.pk,
            id: tracking_id(&self.id)?,
            account_id: self.account_id,
            tracking_number: self.tracking_number,
            courier_code: self.courier_code,
            fields: parse_json(&self.fields, "fields")?,
            created_at: self.created_at,
            delivery_status,
            substatus,
            latest_event: self.latest_event,
            latest_checkpoint_time: self.latest_checkpoint_time,
            check_failures: self.check_failures,
            notfound_since: self.notfound_since,
        })
    }
}

/// The columns of an [`EndpointRow`] from `webhook_endpoints` (unqualified, so that `RETURNING`
/// can name them too).
pub(crate) const ENDPOINT_COLUMNS: &str = "pk, id, account_id, url, description, statuses, \
    version, enabled, secret, disabled_reason, failing_since, created_at, updated_at";

/// A webhook endpoint ([`ENDPOINT_COLUMNS`]).
#[derive(FromRow)]
pub(crate) struct EndpointRow {
    pk: i64,
    id: String,
    account_id: i64,
    url: String,
    description: String,
    statuses: Vec<String>,
    version: String,
    enabled: bool,
    secret: String,
    disabled_reason: Option<String>,
    failing_since: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EndpointRow {
    pub(crate) fn read(self) -> Result<WebhookEndpoint> {
        Ok(WebhookEndpoint {
            pk: self.pk,
            id: self.id,
            account_id: self.account_id,
            url: self.url,
            description: self.description,
            statuses: self
                .statuses
                .iter()
                .map(|status| parse_status(status))
                .collect::<parceld_store::StoreResult<_>>()?,
            version: parceld_store::stored::webhook_version(&self.version)?,
            enabled: self.enabled,
            secret: self.secret,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_the_precision_of_their_tables() {
        let time = Utc.timestamp_opt(1_700_000_000, 987_654_321).unwrap();
        assert_eq!(seconds(time), Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        assert_eq!(
            millis(time),
            Utc.timestamp_opt(1_700_000_000, 987_000_000).unwrap()
        );
        let before_1970 = Utc.timestamp_opt(-5, 500_000_000).unwrap();
        assert_eq!(seconds(before_1970), Utc.timestamp_opt(-5, 0).unwrap());
    }
}
