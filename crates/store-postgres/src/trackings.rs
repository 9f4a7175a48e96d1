//! Trackings in PostgreSQL: creating a batch in one `INSERT … SELECT FROM UNNEST` (a large one
//! through `COPY`: `bulk_create.rs`), reading
//! pages and single trackings, updates, deletes, the set-based v2 operations and retention.
//!
//! Every call is one statement (an update, delete or retrack of one tracking also reads it back,
//! through a data-modifying `WITH`), so none needs a transaction around several and none holds
//! locks longer than its statement.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use parceld_model::{DeliveryStatus, Tracking, TrackingId};
use parceld_store::backend::BackendResult as Result;
use parceld_store::stored::parse_status;
use parceld_store::{
    AccountId, CreateOutcome, Entity, NewTracking, NumberKey, RetrackOutcome, Seek, StoreError,
    TrackingPatch, RETRACKED_STATUS_INFO,
};
use sqlx::{PgPool, Postgres, QueryBuilder};
use tokio::sync::mpsc;

use crate::bulk_create;
use crate::rows::{column, seconds, TrackingRow, TRACKING_COLUMNS};

pub(crate) async fn create(
    pool: &PgPool,
    account: AccountId,
    trackings: Vec<NewTracking>,
) -> Result<Vec<CreateOutcome>> {
    if trackings.is_empty() {
        return Ok(Vec::new());
    }
    let now = seconds(Utc::now());
    let ids: Vec<TrackingId> = trackings.iter().map(|_| TrackingId::generate()).collect();
    if trackings.len() >= bulk_create::COPY_FROM {
        let created = bulk_create::create(pool, account, &trackings, &ids, now).await?;
        return Ok(outcomes(trackings, ids, &created, now));
    }
    let fields = column(&trackings, |new| {
        serde_json::to_string(&new.fields).expect("fields serialise")
    });
    // In input order (`ORDER BY n.ord`), so the primary keys, and with them the newest-first
    // order of lists, follow the input.
    let created: HashSet<Vec<u8>> = sqlx::query_scalar(
        "INSERT INTO trackings (id, account_id, tracking_number, courier_code, courier_detected, \
           delivery_status, status_info, check_error, fields, created_at, updated_at, \
           next_check_at) \
         SELECT n.id, $1, n.number, n.courier, n.detected, $2, n.status_info, n.check_error, \
           n.fields::jsonb, $3, $3, $3 \
         FROM UNNEST($4::bytea[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::text[], \
           $10::text[]) \
           WITH ORDINALITY AS n (id, number, courier, detected, status_info, check_error, \
             fields, ord) \
         ORDER BY n.ord \
         ON CONFLICT (account_id, tracking_number, courier_code) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .bind(column(&ids, |id| id.to_bytes().to_vec()))
    .bind(column(&trackings, |new| new.tracking_number.clone()))
    .bind(column(&trackings, |new| new.courier_code.clone()))
    .bind(column(&trackings, |new| new.courier_detected))
    .bind(column(&trackings, |new| new.status_info.clone()))
    .bind(column(&trackings, |new| new.check_error.clone()))
    .bind(fields)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    Ok(outcomes(trackings, ids, &created, now))
}

/// Each tracking's outcome, in input order: created when its id is among `created`.
fn outcomes(
    trackings: Vec<NewTracking>,
    ids: Vec<TrackingId>,
    created: &HashSet<Vec<u8>>,
    now: DateTime<Utc>,
) -> Vec<CreateOutcome> {
    trackings
        .into_iter()
        .zip(ids)
        .map(|(new, id)| {
            let stored = created.contains(&id.to_bytes()[..]);
            new.outcome(id, now, stored)
        })
        .collect()
}

/// The trackings a query of [`TRACKING_COLUMNS`] rows selects (a page: `listing`).
pub(crate) async fn read(
    pool: &PgPool,
    mut query: QueryBuilder<'static, Postgres>,
) -> Result<Vec<Tracking>> {
    let rows: Vec<TrackingRow> = query.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(TrackingRow::read).collect()
}

/// [`read`] with each tracking's primary key, in `seek`'s order.
pub(crate) async fn read_sorted(
    pool: &PgPool,
    mut query: QueryBuilder<'static, Postgres>,
    seek: &Seek,
) -> Result<Vec<(i64, Tracking)>> {
    let rows: Vec<TrackingRow> = query.build_query_as().fetch_all(pool).await?;
    let rows = rows
        .into_iter()
        .map(|row| Ok((row.pk, row.read()?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(seek.in_order(rows))
}

/// [`read`], sent into `chunks` in chunks of at most `chunk` trackings as the rows arrive; a
/// dropped receiver ends the reading.
pub(crate) async fn read_in_chunks(
    pool: &PgPool,
    mut query: QueryBuilder<'static, Postgres>,
    chunk: usize,
    chunks: mpsc::Sender<Vec<Tracking>>,
) -> Result<()> {
    let chunk = chunk.max(1);
    let mut rows = query.build_query_as::<TrackingRow>().fetch(pool);
    let mut next = Vec::new();
    while let Some(row) = rows.try_next().await? {
        next.push(row.read()?);
        if next.len() == chunk && chunks.send(std::mem::take(&mut next)).await.is_err() {
            return Ok(());
        }
    }
    if !next.is_empty() {
        let _ = chunks.send(next).await;
    }
    Ok(())
}

/// The one tracking `sql` (which selects [`TRACKING_COLUMNS`] and binds the account as `$1`,
/// the id as `$2`) returns.
async fn returned(
    pool: &PgPool,
    sql: &str,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<Tracking>> {
    let row: Option<TrackingRow> = sqlx::query_as(sql)
        .bind(account)
        .bind(id.to_bytes().to_vec())
        .fetch_optional(pool)
        .await?;
    row.map(TrackingRow::read).transpose()
}

pub(crate) async fn one(
    pool: &PgPool,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<Tracking>> {
    let sql =
        format!("SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.account_id = $1 AND t.id = $2");
    returned(pool, &sql, account, id).await
}

/// Deletes the tracking (its checkpoints, list and changes go with it) and returns it as it
/// was: the statement's snapshot still holds the list the cascade removes.
pub(crate) async fn delete(
    pool: &PgPool,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<Tracking>> {
    let sql = format!(
        "WITH gone AS (DELETE FROM trackings t WHERE t.account_id = $1 AND t.id = $2 \
           RETURNING t.*) \
         SELECT {TRACKING_COLUMNS} FROM gone t"
    );
    returned(pool, &sql, account, id).await
}

/// Whether the account has the tracking.
pub(crate) async fn exists(pool: &PgPool, account: AccountId, id: &TrackingId) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM trackings WHERE account_id = $1 AND id = $2)",
    )
    .bind(account)
    .bind(id.to_bytes().to_vec())
    .fetch_one(pool)
    .await?)
}

/// Patches the tracking and reads it back in one statement. The merchant fields of a patch
/// hold only what it sets, so `||` (jsonb's merge) keeps the others, as
/// `TrackingFields::apply` does.
pub(crate) async fn update(
    pool: &PgPool,
    account: AccountId,
    id: &TrackingId,
    patch: &TrackingPatch,
) -> Result<Option<Tracking>> {
    let sql = format!(
        "WITH changed AS ( \
           UPDATE trackings t SET fields = t.fields || $3::jsonb, \
             courier_code = COALESCE($4, t.courier_code), \
             courier_detected = t.courier_detected AND COALESCE($4, t.courier_code) = t.courier_code, \
             archived = COALESCE($5, t.archived), updated_at = $6 \
           WHERE t.account_id = $1 AND t.id = $2 RETURNING t.*) \
         SELECT {TRACKING_COLUMNS} FROM changed t"
    );
    let fields = serde_json::to_string(&patch.fields).expect("fields serialise");
    let updated = sqlx::query_as::<_, TrackingRow>(&sql)
        .bind(account)
        .bind(id.to_bytes().to_vec())
        .bind(fields)
        .bind(&patch.courier_code_new)
        .bind(patch.archived)
        .bind(seconds(Utc::now()))
        .fetch_optional(pool)
        .await;
    let row = match updated {
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            let courier = patch.courier_code_new.as_deref().unwrap_or_default();
            let taken = format!("this account already tracks the number with courier `{courier}`");
            return Err(StoreError::Conflict(Entity::Tracking, taken).into());
        }
        other => other?,
    };
    row.map(TrackingRow::read).transpose()
}

/// Re-activates an expired tracking and makes it due now, reading it back in the same
/// statement.
pub(crate) async fn retrack(
    pool: &PgPool,
    account: AccountId,
    id: &TrackingId,
) -> Result<RetrackOutcome> {
    let sql = format!(
        "WITH retracked AS ( \
           UPDATE trackings t SET delivery_status = $3, substatus = NULL, status_info = $4, \
             next_check_at = $5, updated_at = $5 \
           WHERE t.account_id = $1 AND t.id = $2 AND t.delivery_status = $6 RETURNING t.*) \
         SELECT {TRACKING_COLUMNS} FROM retracked t"
    );
    let row: Option<TrackingRow> = sqlx::query_as(&sql)
        .bind(account)
        .bind(id.to_bytes().to_vec())
        .bind(DeliveryStatus::Pending.as_str())
        .bind(RETRACKED_STATUS_INFO)
        .bind(seconds(Utc::now()))
        .bind(DeliveryStatus::Expired.as_str())
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => RetrackOutcome::Retracked(Box::new(row.read()?)),
        None if exists(pool, account, id).await? => RetrackOutcome::NotExpired,
        None => RetrackOutcome::NotFound,
    })
}

/// The (status, count) rows of a `listing::count_query`.
pub(crate) async fn counts(
    pool: &PgPool,
    mut query: QueryBuilder<'static, Postgres>,
) -> Result<Vec<(DeliveryStatus, u64)>> {
    let rows: Vec<(String, i64)> = query.build_query_as().fetch_all(pool).await?;
    rows.into_iter()
        .map(|(status, count)| Ok((parse_status(&status)?, u64::try_from(count).unwrap_or(0))))
        .collect()
}

/// What the legacy API does to many trackings named by number and courier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByKeys {
    /// Archive them (archived trackings are not refreshed).
    Archive,
    Delete,
}

/// Archives or deletes the account's trackings named in `keys`, in one statement; returns the
/// keys that exist (archived before or not).
pub(crate) async fn by_keys(
    pool: &PgPool,
    account: AccountId,
    keys: &[NumberKey],
    change: ByKeys,
) -> Result<Vec<NumberKey>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let named = "t.account_id = $1 AND (t.tracking_number, t.courier_code) IN \
                 (SELECT * FROM UNNEST($2::text[], $3::text[]))";
    let sql = match change {
        ByKeys::Archive => format!(
            "UPDATE trackings t SET archived = true, \
               updated_at = CASE WHEN t.archived THEN t.updated_at ELSE $4 END \
             WHERE {named} RETURNING t.tracking_number, t.courier_code"
        ),
        ByKeys::Delete => {
            format!(
                "DELETE FROM trackings t WHERE {named} RETURNING t.tracking_number, t.courier_code"
            )
        }
    };
    let mut query = sqlx::query_as::<_, (String, String)>(&sql)
        .bind(account)
        .bind(column(keys, |key| key.tracking_number.as_str()))
        .bind(column(keys, |key| key.courier_code.as_str()));
    if change == ByKeys::Archive {
        query = query.bind(seconds(Utc::now()));
    }
    let rows = query.fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(tracking_number, courier_code)| NumberKey {
            tracking_number,
            courier_code,
        })
        .collect())
}

/// Trackings by primary key (any account), with their checkpoints, in the order of `pks`: one
/// statement whatever the number.
pub(crate) async fn by_pk(pool: &PgPool, pks: &[i64]) -> Result<Vec<(i64, Tracking)>> {
    if pks.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.pk = ANY($1)");
    let rows: Vec<TrackingRow> = sqlx::query_as(&sql).bind(pks).fetch_all(pool).await?;
    let mut by_pk = HashMap::with_capacity(rows.len());
    for row in rows {
        by_pk.insert(row.pk, row.read()?);
    }
    Ok(pks
        .iter()
        .filter_map(|pk| by_pk.remove(pk).map(|tracking| (*pk, tracking)))
        .collect())
}

/// Retention: deletes up to `limit` trackings of any account with `status` last changed before
/// `unchanged_before`, in one statement; their checkpoints, lists and changes go with them
/// (`ON DELETE CASCADE`), the webhook log stays. Rows another transaction holds (a refresh
/// applying) are skipped, not waited for: the next batch takes them.
pub(crate) async fn delete_finished(
    pool: &PgPool,
    status: DeliveryStatus,
    unchanged_before: DateTime<Utc>,
    limit: u32,
) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM trackings t USING ( \
           SELECT pk, account_id FROM trackings WHERE delivery_status = $1 AND updated_at < $2 \
           LIMIT $3 FOR UPDATE SKIP LOCKED) old \
         WHERE t.pk = old.pk AND t.account_id = old.account_id",
    )
    .bind(status.as_str())
    .bind(unchanged_before)
    .bind(i64::from(limit))
    .execute(pool)
    .await?
    .rows_affected())
}
