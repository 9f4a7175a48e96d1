//! The SQLite side of the refresh engine: batch claims with a lease and set-based application
//! of results.
//!
//! Every call is a bounded number of statements whatever the batch size: one `UPDATE …
//! RETURNING` claims a batch; applying a batch is one multi-row checkpoint insert (per 500
//! checkpoints), one rewrite of the grown trackings' checkpoint lists, one `UPDATE … FROM
//! json_each(?)`, one insert of change records and one each of webhook deliveries and
//! customer notifications, in one transaction. A worker
//! that dies leaves its leases to expire; a worker whose lease expired cannot apply stale results,
//! because every write is conditioned on `lease_owner`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, TrackingId};
use parceld_store::refresh::{change_of, Before};
use parceld_store::{
    ApplyReport, ClaimOne, ClaimedTracking, RefreshUpdate, StoreError, TrackingChange,
};
use serde_json::json;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::checkpoint_list;
use crate::error::Result;
use crate::rows::{from_ts, parse_json, parse_status, parse_substatus, tracking_id};
use crate::statements::keep_prepared;

const CHECKPOINT_CHUNK: usize = 500;

pub(crate) fn ts(time: Option<DateTime<Utc>>) -> Option<i64> {
    time.map(|t| t.timestamp())
}

pub(crate) const CLAIMED_COLUMNS: &str =
    "pk, id, account_id, tracking_number, courier_code, fields, \
    created_at, delivery_status, substatus, latest_event, latest_checkpoint_time, check_failures, \
    notfound_since";

pub(crate) fn claimed_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ClaimedTracking> {
    Ok(ClaimedTracking {
        pk: row.get("pk"),
        id: tracking_id(row.get("id"))?,
        account_id: row.get("account_id"),
        tracking_number: row.get("tracking_number"),
        courier_code: row.get("courier_code"),
        fields: parse_json(row.get("fields"), "fields")?,
        created_at: from_ts(row.get("created_at")),
        delivery_status: parse_status(row.get("delivery_status"))?,
        substatus: parse_substatus(row.get("substatus"))?,
        latest_event: row.get("latest_event"),
        latest_checkpoint_time: row
            .get::<Option<i64>, _>("latest_checkpoint_time")
            .map(from_ts),
        check_failures: row.get("check_failures"),
        notfound_since: row.get::<Option<i64>, _>("notfound_since").map(from_ts),
    })
}

pub(crate) async fn claim_tracking(
    pool: &SqlitePool,
    account: i64,
    id: &TrackingId,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<ClaimOne> {
    let row = sqlx::query(&format!(
        "UPDATE trackings SET lease_owner = ?1, lease_until = ?2 \
         WHERE id = ?3 AND account_id = ?4 AND (lease_until IS NULL OR lease_until < ?5) \
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(owner)
    .bind(lease_until.timestamp())
    .bind(id.to_bytes().to_vec())
    .bind(account)
    .bind(now.timestamp())
    .fetch_optional(pool)
    .await?;
    if let Some(row) = row {
        return Ok(ClaimOne::Claimed(Box::new(claimed_from_row(&row)?)));
    }
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT pk FROM trackings WHERE id = ? AND account_id = ?")
            .bind(id.to_bytes().to_vec())
            .bind(account)
            .fetch_optional(pool)
            .await?;
    Ok(if exists.is_some() {
        ClaimOne::Busy
    } else {
        ClaimOne::NotFound
    })
}

pub(crate) async fn claim_due(
    pool: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
    courier_code: &str,
) -> Result<Vec<ClaimedTracking>> {
    let rows = sqlx::query(&format!(
        "UPDATE trackings SET lease_owner = ?1, lease_until = ?2 \
         WHERE pk IN ( \
             SELECT pk FROM trackings \
             WHERE courier_code = ?4 AND next_check_at IS NOT NULL AND next_check_at <= ?3 \
               AND archived = 0 AND (lease_until IS NULL OR lease_until < ?3) \
             ORDER BY next_check_at LIMIT ?5) \
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(owner)
    .bind(lease_until.timestamp())
    .bind(now.timestamp())
    .bind(courier_code)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(claimed_from_row).collect()
}

pub(crate) async fn apply_refresh(
    pool: &SqlitePool,
    owner: &str,
    updates: Vec<RefreshUpdate>,
) -> Result<ApplyReport> {
    if updates.is_empty() {
        return Ok(ApplyReport::default());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let report = apply_in(&mut tx, owner, updates).await?;
    tx.commit().await?;
    Ok(report)
}

/// [`apply_refresh`] inside the caller's transaction (a pushed update writes its receipt in
/// the same one).
pub(crate) async fn apply_in(
    tx: &mut SqliteConnection,
    owner: &str,
    updates: Vec<RefreshUpdate>,
) -> Result<ApplyReport> {
    let pks: Vec<i64> = updates.iter().map(|u| u.pk).collect();

    // Which of these does this worker still hold, and what was their state?
    let held = sqlx::query(
        "SELECT pk, id, account_id, delivery_status, substatus FROM trackings \
         WHERE lease_owner = ?1 AND pk IN (SELECT value FROM json_each(?2))",
    )
    .bind(owner)
    .bind(serde_json::to_string(&pks).expect("integers serialise"))
    .fetch_all(&mut *tx)
    .await?;
    struct Held {
        id: Vec<u8>,
        account_id: i64,
        status: String,
        substatus: Option<String>,
    }
    let before: HashMap<i64, Held> = held
        .iter()
        .map(|row| {
            (
                row.get("pk"),
                Held {
                    id: row.get("id"),
                    account_id: row.get("account_id"),
                    status: row.get("delivery_status"),
                    substatus: row.get("substatus"),
                },
            )
        })
        .collect();
    let (updates, stale): (Vec<RefreshUpdate>, Vec<RefreshUpdate>) = updates
        .into_iter()
        .partition(|u| before.contains_key(&u.pk));

    // Merge checkpoints: the unique (tracking_pk, fingerprint) index drops the known ones. An
    // answer lists its checkpoints newest first, with events of one instant in the carrier's
    // order (`parceld_model::normalize`); they are stored oldest first, so that the lists (newest
    // first, the later stored first on a tie) keep that order, and an event a later answer adds
    // at an instant already stored comes before the ones stored earlier.
    let mut new_checkpoints: HashMap<i64, usize> = HashMap::new();
    let rows: Vec<(i64, &parceld_model::Checkpoint)> = updates
        .iter()
        .flat_map(|u| u.checkpoints.iter().rev().map(move |c| (u.pk, c)))
        .collect();
    for chunk in rows.chunks(CHECKPOINT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO checkpoints (tracking_pk, leg, time, checkpoint_date, status, substatus, \
             detail, location, country_iso2, state, city, zip, raw_status, raw_time, fingerprint) ",
        );
        insert.push_values(chunk, |mut row, (pk, c)| {
            row.push_bind(*pk)
                .push_bind(c.leg.as_i64())
                .push_bind(c.time.timestamp())
                .push_bind(&c.checkpoint_date)
                .push_bind(c.status.as_str())
                .push_bind(c.substatus.map(|s| s.as_str()))
                .push_bind(&c.detail)
                .push_bind(&c.location)
                .push_bind(&c.country_iso2)
                .push_bind(&c.state)
                .push_bind(&c.city)
                .push_bind(&c.zip)
                .push_bind(&c.raw_status)
                .push_bind(&c.raw_time)
                .push_bind(c.fingerprint());
        });
        insert.push(" ON CONFLICT (tracking_pk, fingerprint) DO NOTHING RETURNING tracking_pk");
        let inserted: Vec<i64> = insert
            .build_query_scalar()
            .persistent(keep_prepared(chunk.len(), CHECKPOINT_CHUNK))
            .fetch_all(&mut *tx)
            .await?;
        for pk in inserted {
            *new_checkpoints.entry(pk).or_default() += 1;
        }
    }
    // The checkpoint lists of the trackings that gained checkpoints, rewritten from their rows.
    if !new_checkpoints.is_empty() {
        let grown: Vec<i64> = new_checkpoints.keys().copied().collect();
        sqlx::query(checkpoint_list::REWRITE_LISTS_OF)
            .bind(serde_json::to_string(&grown).expect("integers serialise"))
            .execute(&mut *tx)
            .await?;
    }

    // Decide which really changed, then write every new state in one statement.
    let mut changes = Vec::new();
    let mut states = Vec::with_capacity(updates.len());
    for u in &updates {
        let was = &before[&u.pk];
        let was = Before {
            id: &was.id,
            account_id: was.account_id,
            delivery_status: &was.status,
            substatus: was.substatus.as_deref(),
        };
        let added = new_checkpoints.get(&u.pk).copied().unwrap_or(0);
        let change = change_of(u, was, added)?;
        let changed = change.is_some();
        changes.extend(change);
        states.push(json!({
            "pk": u.pk,
            "changed": changed,
            "status": u.delivery_status.as_str(),
            "substatus": u.substatus.map(|s| s.as_str()),
            "status_info": u.status_info,
            "latest_event": u.latest_event,
            "latest_checkpoint_time": ts(u.latest_checkpoint_time),
            "shipment": u.shipment.as_ref().map(|s| serde_json::to_string(s).expect("shipment serialises")),
            "check_error": u.check_error,
            "check_failures": u.check_failures,
            "notfound_since": ts(u.notfound_since),
            "next_check_at": ts(u.next_check_at),
            "checked_at": u.checked_at.timestamp(),
        }));
    }
    sqlx::query(
        "UPDATE trackings SET \
           delivery_status = u.value ->> 'status', \
           substatus = u.value ->> 'substatus', \
           status_info = u.value ->> 'status_info', \
           latest_event = COALESCE(u.value ->> 'latest_event', trackings.latest_event), \
           latest_checkpoint_time = COALESCE(u.value ->> 'latest_checkpoint_time', trackings.latest_checkpoint_time), \
           shipment = COALESCE(u.value ->> 'shipment', trackings.shipment), \
           check_error = u.value ->> 'check_error', \
           check_failures = u.value ->> 'check_failures', \
           notfound_since = u.value ->> 'notfound_since', \
           next_check_at = u.value ->> 'next_check_at', \
           last_checked_at = u.value ->> 'checked_at', \
           updated_at = CASE WHEN u.value ->> 'changed' THEN u.value ->> 'checked_at' ELSE trackings.updated_at END, \
           lease_owner = NULL, lease_until = NULL \
         FROM json_each(?1) AS u \
         WHERE trackings.pk = u.value ->> 'pk' AND trackings.lease_owner = ?2",
    )
    .bind(serde_json::Value::Array(states).to_string())
    .bind(owner)
    .execute(&mut *tx)
    .await?;

    if !changes.is_empty() {
        let now = Utc::now().timestamp();
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO tracking_changes (event_id, tracking_pk, account_id, delivery_status, \
             substatus, new_checkpoints, created_at) ",
        );
        insert.push_values(&changes, |mut row, c| {
            row.push_bind(&c.event_id)
                .push_bind(c.tracking_pk)
                .push_bind(c.account_id)
                .push_bind(c.delivery_status.as_str())
                .push_bind(c.substatus.map(|s| s.as_str()))
                .push_bind(c.new_checkpoints as i64)
                .push_bind(now);
        });
        // One statement for all of a group's changes (at most a group's size).
        insert
            .build()
            .persistent(keep_prepared(changes.len(), 1))
            .execute(&mut *tx)
            .await?;
    }
    // The webhook outbox and the customers' notifications, in the same transaction: a change is
    // announced if and only if it is stored.
    let event_ids: Vec<&str> = changes.iter().map(|c| c.event_id.as_str()).collect();
    let deliveries_of = crate::outbox::enqueue_changes(tx, &event_ids, Utc::now()).await?;
    if !event_ids.is_empty() {
        let changes = serde_json::to_string(&event_ids).expect("strings serialise");
        crate::notifications::enqueue_changes(tx, &changes, Utc::now().timestamp_millis()).await?;
    }
    Ok(ApplyReport {
        applied: updates.len(),
        stale: stale.len(),
        changes,
        deliveries: deliveries_of.values().sum(),
        dropped: stale.iter().map(|u| u.pk).collect(),
        deliveries_of,
    })
}

pub(crate) async fn release_claims(pool: &SqlitePool, owner: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE trackings SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
    )
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected())
}

pub(crate) async fn changes_of(pool: &SqlitePool, tracking_pk: i64) -> Result<Vec<TrackingChange>> {
    let rows = sqlx::query(
        "SELECT c.event_id, c.tracking_pk, t.id, c.account_id, c.delivery_status, c.substatus, \
         c.new_checkpoints FROM tracking_changes c JOIN trackings t ON t.pk = c.tracking_pk \
         WHERE c.tracking_pk = ? ORDER BY c.id",
    )
    .bind(tracking_pk)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.get(4);
            Ok(TrackingChange {
                event_id: row.get(0),
                tracking_pk: row.get(1),
                tracking_id: tracking_id(row.get(2))?,
                account_id: row.get(3),
                delivery_status: status
                    .parse::<DeliveryStatus>()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                substatus: parse_substatus(row.get(5))?,
                new_checkpoints: row.get::<i64, _>(6) as usize,
            })
        })
        .collect()
}
