//! The PostgreSQL side of the refresh engine: claims with a lease that nodes never share, and
//! set-based application of results.
//!
//! A claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`: the due trackings another
//! node is claiming at that moment are skipped rather than waited for, so any number of nodes
//! claim side by side and never the same tracking; the lease (`lease_until`) hands a dead
//! node's claims to the next claim after it runs out. Applying a batch is one transaction of a
//! bounded number of statements whatever its size: the claimed rows locked and read, one
//! `INSERT … SELECT FROM UNNEST` of checkpoints, one rewrite of the grown trackings' checkpoint
//! lists, one `UPDATE … FROM UNNEST` of every new state, and one statement writing the change
//! records with their webhook deliveries. A node whose lease was taken over cannot apply stale
//! results: every write is conditioned on `lease_owner`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use parceld_model::{Checkpoint, TrackingId};
use parceld_store::backend::BackendResult as Result;
use parceld_store::refresh::{change_of, Before};
use parceld_store::stored::{parse_status, parse_substatus, tracking_id};
use parceld_store::{ApplyReport, ClaimOne, ClaimedTracking, RefreshUpdate, TrackingChange};
use sqlx::{FromRow, PgConnection, PgPool};

use crate::checkpoint_list::REWRITE_LISTS_OF;
use crate::rows::{column, seconds, ClaimedRow, Lease, CLAIMED_COLUMNS};
use crate::{outbox, trackings};

/// Claims up to `limit` due trackings of one courier, most overdue first (see the module
/// comment).
pub(crate) async fn claim_due(
    pool: &PgPool,
    lease: Lease<'_>,
    limit: usize,
    courier_code: &str,
) -> Result<Vec<ClaimedTracking>> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(&format!(
        "UPDATE trackings t SET lease_owner = $1, lease_until = $2 \
         FROM (SELECT pk, account_id FROM trackings \
               WHERE courier_code = $4 AND next_check_at IS NOT NULL AND next_check_at <= $3 \
                 AND NOT archived AND (lease_until IS NULL OR lease_until < $3) \
               ORDER BY next_check_at LIMIT $5 FOR UPDATE SKIP LOCKED) due \
         WHERE t.pk = due.pk AND t.account_id = due.account_id \
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(lease.owner)
    .bind(lease.until)
    .bind(lease.now)
    .bind(courier_code)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ClaimedRow::read).collect()
}

/// Claims one tracking, due or not; a tracking another claim holds (or is taking right now:
/// the update waits for it, then finds the lease) is [`ClaimOne::Busy`].
pub(crate) async fn claim_one(
    pool: &PgPool,
    account: i64,
    id: &TrackingId,
    lease: Lease<'_>,
) -> Result<ClaimOne> {
    let row: Option<ClaimedRow> = sqlx::query_as(&format!(
        "UPDATE trackings t SET lease_owner = $1, lease_until = $2 \
         WHERE t.account_id = $3 AND t.id = $4 AND (t.lease_until IS NULL OR t.lease_until < $5) \
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(lease.owner)
    .bind(lease.until)
    .bind(account)
    .bind(id.to_bytes().to_vec())
    .bind(lease.now)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(row) => ClaimOne::Claimed(Box::new(row.read()?)),
        None if trackings::exists(pool, account, id).await? => ClaimOne::Busy,
        None => ClaimOne::NotFound,
    })
}

/// A claimed tracking's state before the update: what decides whether it really changed.
#[derive(FromRow)]
struct Held {
    pk: i64,
    id: Vec<u8>,
    account_id: i64,
    delivery_status: String,
    substatus: Option<String>,
}

impl Held {
    fn before(&self) -> Before<'_> {
        Before {
            id: &self.id,
            account_id: self.account_id,
            delivery_status: &self.delivery_status,
            substatus: self.substatus.as_deref(),
        }
    }
}

pub(crate) async fn apply(
    pool: &PgPool,
    owner: &str,
    updates: Vec<RefreshUpdate>,
) -> Result<ApplyReport> {
    if updates.is_empty() {
        return Ok(ApplyReport::default());
    }
    let mut tx = pool.begin().await?;
    let report = apply_in(&mut tx, owner, updates).await?;
    tx.commit().await?;
    Ok(report)
}

/// [`apply`] inside the caller's transaction (a pushed update writes its receipt in the same
/// one).
pub(crate) async fn apply_in(
    tx: &mut PgConnection,
    owner: &str,
    updates: Vec<RefreshUpdate>,
) -> Result<ApplyReport> {
    let mut report = ApplyReport::default();
    // Which of these does this worker still hold, and what was their state? Locked until the
    // end, in primary-key order, so no claim can take them in between.
    let held: Vec<Held> = sqlx::query_as(
        "SELECT pk, id, account_id, delivery_status, substatus FROM trackings \
         WHERE pk = ANY($1) AND lease_owner = $2 ORDER BY pk FOR UPDATE",
    )
    .bind(column(&updates, |u| u.pk))
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    let before: HashMap<i64, Held> = held.into_iter().map(|h| (h.pk, h)).collect();
    let (updates, stale): (Vec<RefreshUpdate>, Vec<RefreshUpdate>) = updates
        .into_iter()
        .partition(|u| before.contains_key(&u.pk));

    let new_checkpoints = merge_checkpoints(tx, &updates, &before).await?;
    if !new_checkpoints.is_empty() {
        let (grown, accounts): (Vec<i64>, Vec<i64>) = new_checkpoints
            .keys()
            .map(|pk| (*pk, before[pk].account_id))
            .unzip();
        sqlx::query(REWRITE_LISTS_OF)
            .bind(grown)
            .bind(accounts)
            .execute(&mut *tx)
            .await?;
    }

    // A change record (and its webhooks) for each tracking that really changed.
    let mut changes = Vec::new();
    for u in &updates {
        let added = new_checkpoints.get(&u.pk).copied().unwrap_or(0);
        changes.extend(change_of(u, before[&u.pk].before(), added)?);
    }
    let changed: HashSet<i64> = changes.iter().map(|c| c.tracking_pk).collect();
    write_states(tx, owner, &updates, &changed, &before).await?;
    // The webhook outbox and the customers' notifications, in the same transaction: a change is
    // announced if and only if it is stored.
    report.deliveries_of = outbox::record_changes(tx, &changes, Utc::now()).await?;
    report.deliveries = report.deliveries_of.values().sum();
    crate::notifications::enqueue_changes(tx, &changes, Utc::now()).await?;
    report.applied = updates.len();
    report.stale = stale.len();
    report.dropped = stale.iter().map(|u| u.pk).collect();
    report.changes = changes;
    Ok(report)
}

/// Inserts the updates' checkpoints, the known ones dropped by the (account, tracking,
/// fingerprint) key; returns how many each tracking gained. One statement, in a set order: an
/// answer lists its checkpoints newest first, with events of one instant in the carrier's order
/// (`parceld_model::normalize`); they are stored oldest first, so that the lists (newest first,
/// the later stored first on a tie) keep that order, and an event a later answer adds at an
/// instant already stored comes before the ones stored earlier.
async fn merge_checkpoints(
    tx: &mut PgConnection,
    updates: &[RefreshUpdate],
    before: &HashMap<i64, Held>,
) -> Result<HashMap<i64, usize>> {
    let rows: Vec<(i64, &Checkpoint)> = updates
        .iter()
        .flat_map(|u| u.checkpoints.iter().rev().map(move |c| (u.pk, c)))
        .collect();
    let mut gained: HashMap<i64, usize> = HashMap::new();
    if rows.is_empty() {
        return Ok(gained);
    }
    let text = |value: fn(&Checkpoint) -> &str| column(&rows, |(_, c)| value(c));
    let inserted: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO checkpoints (account_id, tracking_pk, fingerprint, leg, time, \
           checkpoint_date, status, substatus, detail, location, country_iso2, state, city, zip, \
           raw_status, raw_time) \
         SELECT c.account_id, c.tracking_pk, c.fingerprint, c.leg, c.time, c.checkpoint_date, \
           c.status, c.substatus, c.detail, c.location, c.country_iso2, c.state, c.city, c.zip, \
           c.raw_status, c.raw_time \
         FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::int2[], $5::timestamptz[], \
           $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
           $13::text[], $14::text[], $15::text[], $16::text[]) WITH ORDINALITY \
           AS c (account_id, tracking_pk, fingerprint, leg, time, checkpoint_date, status, \
             substatus, detail, location, country_iso2, state, city, zip, raw_status, raw_time, \
             ord) \
         ORDER BY c.ord \
         ON CONFLICT (account_id, tracking_pk, fingerprint) DO NOTHING RETURNING tracking_pk",
    )
    .bind(column(&rows, |(pk, _)| before[pk].account_id))
    .bind(column(&rows, |(pk, _)| *pk))
    .bind(column(&rows, |(_, c)| c.fingerprint()))
    .bind(column(&rows, |(_, c)| c.leg.as_i64() as i16))
    .bind(column(&rows, |(_, c)| seconds(c.time)))
    .bind(text(|c| &c.checkpoint_date))
    .bind(text(|c| c.status.as_str()))
    .bind(column(&rows, |(_, c)| c.substatus.map(|s| s.as_str())))
    .bind(text(|c| &c.detail))
    .bind(text(|c| &c.location))
    .bind(text(|c| &c.country_iso2))
    .bind(text(|c| &c.state))
    .bind(text(|c| &c.city))
    .bind(text(|c| &c.zip))
    .bind(text(|c| &c.raw_status))
    .bind(text(|c| &c.raw_time))
    .fetch_all(&mut *tx)
    .await?;
    for pk in inserted {
        *gained.entry(pk).or_default() += 1;
    }
    Ok(gained)
}

/// Writes every update's new state and releases its claim, where `owner` still holds it. One
/// statement.
async fn write_states(
    tx: &mut PgConnection,
    owner: &str,
    updates: &[RefreshUpdate],
    changed: &HashSet<i64>,
    before: &HashMap<i64, Held>,
) -> Result<()> {
    let time = |value: fn(&RefreshUpdate) -> Option<DateTime<Utc>>| {
        column(updates, |u| value(u).map(seconds))
    };
    let text = |value: fn(&RefreshUpdate) -> Option<&str>| column(updates, value);
    let shipments = column(updates, |u| {
        u.shipment
            .as_ref()
            .map(|s| serde_json::to_string(s).expect("shipment serialises"))
    });
    sqlx::query(
        "UPDATE trackings t SET \
           delivery_status = u.status, substatus = u.substatus, status_info = u.status_info, \
           latest_event = COALESCE(u.latest_event, t.latest_event), \
           latest_checkpoint_time = COALESCE(u.latest_checkpoint_time, t.latest_checkpoint_time), \
           shipment = COALESCE(u.shipment::jsonb, t.shipment), \
           check_error = u.check_error, check_failures = u.check_failures, \
           notfound_since = u.notfound_since, next_check_at = u.next_check_at, \
           last_checked_at = u.checked_at, \
           updated_at = CASE WHEN u.changed THEN u.checked_at ELSE t.updated_at END, \
           lease_owner = NULL, lease_until = NULL \
         FROM UNNEST($2::int8[], $3::int8[], $4::bool[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::int8[], \
           $13::timestamptz[], $14::timestamptz[], $15::timestamptz[]) \
           AS u (pk, account_id, changed, status, substatus, status_info, latest_event, \
             latest_checkpoint_time, shipment, check_error, check_failures, notfound_since, \
             next_check_at, checked_at) \
         WHERE t.pk = u.pk AND t.account_id = u.account_id AND t.lease_owner = $1",
    )
    .bind(owner)
    .bind(column(updates, |u| u.pk))
    .bind(column(updates, |u| before[&u.pk].account_id))
    .bind(column(updates, |u| changed.contains(&u.pk)))
    .bind(text(|u| Some(u.delivery_status.as_str())))
    .bind(text(|u| u.substatus.map(|s| s.as_str())))
    .bind(text(|u| u.status_info.as_deref()))
    .bind(text(|u| u.latest_event.as_deref()))
    .bind(time(|u| u.latest_checkpoint_time))
    .bind(shipments)
    .bind(text(|u| u.check_error.as_deref()))
    .bind(column(updates, |u| u.check_failures))
    .bind(time(|u| u.notfound_since))
    .bind(time(|u| u.next_check_at))
    .bind(time(|u| Some(u.checked_at)))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(crate) async fn release(pool: &PgPool, owner: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE trackings SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
    )
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected())
}

#[derive(FromRow)]
struct ChangeRow {
    event_id: String,
    tracking_pk: i64,
    id: Vec<u8>,
    account_id: i64,
    delivery_status: String,
    substatus: Option<String>,
    new_checkpoints: i32,
}

pub(crate) async fn changes_of(pool: &PgPool, tracking_pk: i64) -> Result<Vec<TrackingChange>> {
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT c.event_id, c.tracking_pk, t.id, c.account_id, c.delivery_status, c.substatus, \
           c.new_checkpoints \
         FROM tracking_changes c \
         JOIN trackings t ON t.pk = c.tracking_pk AND t.account_id = c.account_id \
         WHERE c.tracking_pk = $1 ORDER BY c.id",
    )
    .bind(tracking_pk)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(TrackingChange {
                tracking_id: tracking_id(&row.id)?,
                delivery_status: parse_status(&row.delivery_status)?,
                substatus: parse_substatus(row.substatus)?,
                new_checkpoints: usize::try_from(row.new_checkpoints).unwrap_or(0),
                event_id: row.event_id,
                tracking_pk: row.tracking_pk,
                account_id: row.account_id,
            })
        })
        .collect()
}
