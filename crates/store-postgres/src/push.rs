//! The PostgreSQL side of carrier push ([`parceld_store::PushStore`]): claims by number, the
//! receipt and the refresh application in one transaction, coverage rows.
//!
//! Every call is a bounded number of statements: numbers and primary keys travel as arrays
//! (`= ANY($n)`, `UNNEST`), never one statement per row. A claim skips the rows another
//! node is claiming at that moment (`SKIP LOCKED`), as the refresh's claims do.

use chrono::{DateTime, Utc};
use parceld_store::backend::BackendResult as Result;
use parceld_store::{PushApplied, PushClaim, PushReceipt, RefreshUpdate, Subscribed};
use sqlx::{PgConnection, PgPool};

use crate::refresh::apply_in;
use crate::rows::{seconds, ClaimedRow, Lease, CLAIMED_COLUMNS};

pub(crate) async fn claim_pushed(
    pool: &PgPool,
    courier_code: &str,
    numbers: &[String],
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<PushClaim> {
    let lease = Lease::of_trackings(owner, now, lease_until);
    let mut tx = pool.begin().await?;
    let rows: Vec<ClaimedRow> = sqlx::query_as(&format!(
        "UPDATE trackings t SET lease_owner = $1, lease_until = $2 \
         FROM (SELECT pk, account_id FROM trackings \
               WHERE courier_code = $3 AND tracking_number = ANY($4) AND NOT archived \
                 AND (lease_until IS NULL OR lease_until < $5 OR lease_owner = $1) \
               FOR UPDATE SKIP LOCKED) hit \
         WHERE t.pk = hit.pk AND t.account_id = hit.account_id \
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(lease.owner)
    .bind(lease.until)
    .bind(courier_code)
    .bind(numbers)
    .bind(lease.now)
    .fetch_all(&mut *tx)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM trackings \
         WHERE courier_code = $1 AND tracking_number = ANY($2) AND NOT archived",
    )
    .bind(courier_code)
    .bind(numbers)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let claimed = rows
        .into_iter()
        .map(ClaimedRow::read)
        .collect::<Result<Vec<_>>>()?;
    Ok(PushClaim {
        busy: (total as usize).saturating_sub(claimed.len()),
        claimed,
    })
}

async fn release(conn: &mut PgConnection, owner: &str, pks: &[i64]) -> Result<()> {
    if pks.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE trackings SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1 AND pk = ANY($2)",
    )
    .bind(owner)
    .bind(pks)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn apply_push(
    pool: &PgPool,
    owner: &str,
    receipt: &PushReceipt,
    updates: Vec<RefreshUpdate>,
    release_pks: &[i64],
    covered_until: DateTime<Utc>,
) -> Result<PushApplied> {
    let mut tx = pool.begin().await?;
    let new = sqlx::query(
        "INSERT INTO push_receipts (source, digest, received_at, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (source, digest) DO NOTHING",
    )
    .bind(&receipt.source)
    .bind(receipt.digest.as_slice())
    .bind(receipt.received_at)
    .bind(receipt.expires_at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let mut pks: Vec<i64> = updates.iter().map(|u| u.pk).collect();
    if !new {
        pks.extend_from_slice(release_pks);
        release(&mut tx, owner, &pks).await?;
        tx.commit().await?;
        return Ok(PushApplied::Replayed);
    }
    let report = if updates.is_empty() {
        Default::default()
    } else {
        apply_in(&mut tx, owner, updates).await?
    };
    release(&mut tx, owner, release_pks).await?;
    sqlx::query(
        "INSERT INTO push_coverage (tracking_pk, account_id, source, covered_until, refused) \
         SELECT pk, account_id, $2, $3, false FROM trackings WHERE pk = ANY($1) \
         ON CONFLICT (tracking_pk, account_id) DO UPDATE SET source = excluded.source, \
           refused = false, \
           covered_until = greatest(push_coverage.covered_until, excluded.covered_until)",
    )
    .bind(&pks)
    .bind(&receipt.source)
    .bind(seconds(covered_until))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PushApplied::Applied(report))
}

pub(crate) async fn prune_receipts(pool: &PgPool, now: DateTime<Utc>, keep: u64) -> Result<u64> {
    // One statement: the expired receipts, and the oldest beyond `keep`.
    let gone: i64 = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM push_receipts WHERE expires_at < $1 OR (source, digest) IN \
           (SELECT source, digest FROM push_receipts ORDER BY received_at DESC OFFSET $2) \
         RETURNING 1) SELECT count(*) FROM gone",
    )
    .bind(now)
    .bind(i64::try_from(keep).unwrap_or(i64::MAX))
    .fetch_one(pool)
    .await?;
    Ok(gone as u64)
}

pub(crate) async fn receipts(pool: &PgPool) -> Result<u64> {
    let count = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM push_receipts");
    Ok(count.fetch_one(pool).await? as u64)
}

pub(crate) async fn to_subscribe(
    pool: &PgPool,
    courier_code: &str,
    source: &str,
    renew_before: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT t.pk, t.tracking_number FROM trackings t \
         LEFT JOIN push_coverage c ON c.tracking_pk = t.pk AND c.account_id = t.account_id \
         WHERE t.courier_code = $1 AND NOT t.archived AND t.next_check_at IS NOT NULL \
           AND (c.tracking_pk IS NULL \
                OR (c.source = $2 AND NOT c.refused \
                    AND coalesce(c.covered_until, '-infinity') < $3)) \
         ORDER BY t.pk LIMIT $4",
    )
    .bind(courier_code)
    .bind(source)
    .bind(renew_before)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn record_subscriptions(
    pool: &PgPool,
    source: &str,
    outcomes: &[Subscribed],
    poll_not_before: DateTime<Utc>,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let pks: Vec<i64> = outcomes.iter().map(|o| o.tracking_pk).collect();
    let until: Vec<Option<DateTime<Utc>>> = outcomes.iter().map(|o| o.until.map(seconds)).collect();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO push_coverage (tracking_pk, account_id, source, covered_until, refused) \
         SELECT t.pk, t.account_id, $3, o.until, o.until IS NULL \
         FROM UNNEST($1::bigint[], $2::timestamptz[]) AS o(pk, until) \
         JOIN trackings t ON t.pk = o.pk \
         ON CONFLICT (tracking_pk, account_id) DO UPDATE SET source = excluded.source, \
           covered_until = excluded.covered_until, refused = excluded.refused",
    )
    .bind(&pks)
    .bind(&until)
    .bind(source)
    .execute(&mut *tx)
    .await?;
    let subscribed: Vec<i64> = outcomes
        .iter()
        .filter(|o| o.until.is_some())
        .map(|o| o.tracking_pk)
        .collect();
    sqlx::query(
        "UPDATE trackings SET next_check_at = $2 \
         WHERE pk = ANY($1) AND next_check_at IS NOT NULL AND next_check_at < $2",
    )
    .bind(&subscribed)
    .bind(seconds(poll_not_before))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn covered(pool: &PgPool, pks: &[i64], now: DateTime<Utc>) -> Result<Vec<i64>> {
    if pks.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT tracking_pk FROM push_coverage \
         WHERE tracking_pk = ANY($1) AND NOT refused AND covered_until >= $2",
    )
    .bind(pks)
    .bind(now)
    .fetch_all(pool)
    .await?)
}

parceld_store::push_store_calls!(
    crate::PostgresStore,
    crate::PostgresStore::pool,
    crate::push
);
