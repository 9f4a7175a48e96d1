//! The PostgreSQL side of carrier push ([`parceld_store::PushStore`]): claims by number, a batch
//! of pushes' claim, receipts and refresh application in one transaction (the order and
//! bookkeeping are `parceld_store::push::batch`'s), coverage rows.
//!
//! Every call is a bounded number of statements: receipts, numbers and primary keys travel as arrays
//! (`= ANY($n)`, `UNNEST`), never one statement per row. A claim skips the rows another
//! node is claiming at that moment (`SKIP LOCKED`), as the refresh's claims do.

use chrono::{DateTime, Utc};
use parceld_store::backend::BackendResult as Result;
use parceld_store::push::batch::{self, Claim, PushWrites, ReceiptKey};
use parceld_store::push::{PlanPushes, PushedNumbers};
use parceld_store::{ApplyReport, PushApplied, PushClaim, PushReceipt, RefreshUpdate, Subscribed};
use sqlx::{PgConnection, PgPool};

use crate::refresh::apply_in;
use crate::rows::{column, seconds, ClaimedRow, Lease, CLAIMED_COLUMNS};

/// The batch's writes on this backend's transaction ([`parceld_store::push::batch`]).
struct Writes<'a>(&'a mut PgConnection);

#[async_trait::async_trait]
impl PushWrites for Writes<'_> {
    async fn claim(&mut self, claim: Claim<'_>) -> Result<PushClaim> {
        let lease = Lease::of_trackings(claim.owner, claim.now, claim.lease_until);
        let (courier_code, numbers) = (claim.courier_code, claim.numbers);
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
        .fetch_all(&mut *self.0)
        .await?;
        let claimed = rows
            .into_iter()
            .map(ClaimedRow::read)
            .collect::<Result<Vec<_>>>()?;
        let busy: Vec<String> = sqlx::query_scalar(
            "SELECT tracking_number FROM trackings \
             WHERE courier_code = $1 AND tracking_number = ANY($2) AND NOT archived \
               AND NOT (pk = ANY($3))",
        )
        .bind(courier_code)
        .bind(numbers)
        .bind(column(&claimed, |c| c.pk))
        .fetch_all(&mut *self.0)
        .await?;
        Ok(PushClaim {
            claimed,
            busy: busy.into_iter().collect(),
        })
    }

    async fn record_receipts(&mut self, receipts: &[&PushReceipt]) -> Result<Vec<ReceiptKey>> {
        Ok(sqlx::query_as(
            "INSERT INTO push_receipts (source, digest, received_at, expires_at) \
             SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::timestamptz[], $4::timestamptz[]) \
             ON CONFLICT (source, digest) DO NOTHING RETURNING source, digest",
        )
        .bind(column(receipts, |r| r.source.as_str()))
        .bind(column(receipts, |r| r.digest.to_vec()))
        .bind(column(receipts, |r| r.received_at))
        .bind(column(receipts, |r| r.expires_at))
        .fetch_all(&mut *self.0)
        .await?)
    }

    async fn release(&mut self, owner: &str, pks: &[i64]) -> Result<()> {
        sqlx::query(
            "UPDATE trackings SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = $1 AND pk = ANY($2)",
        )
        .bind(owner)
        .bind(pks)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Each tracking's account is found by a primary-key seek per row (`LATERAL … OFFSET 0`,
    /// which the planner cannot turn into a join): without statistics on a fresh `trackings`
    /// it hash-joined the array with a scan of every tracking (9 ms a batch of 30 at 20,000
    /// trackings in `parceld bench --only push`; 2 ms a batch of 64 after).
    async fn cover(&mut self, covered: &[(i64, &str)], until: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO push_coverage (tracking_pk, account_id, source, covered_until, refused) \
             SELECT t.pk, t.account_id, c.source, $3, false \
             FROM UNNEST($1::bigint[], $2::text[]) AS c(pk, source) \
             CROSS JOIN LATERAL (SELECT pk, account_id FROM trackings WHERE pk = c.pk OFFSET 0) t \
             ON CONFLICT (tracking_pk, account_id) DO UPDATE SET source = excluded.source, \
               refused = false, \
               covered_until = greatest(push_coverage.covered_until, excluded.covered_until)",
        )
        .bind(column(covered, |c| c.0))
        .bind(column(covered, |c| c.1))
        .bind(seconds(until))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn apply(&mut self, owner: &str, updates: Vec<RefreshUpdate>) -> Result<ApplyReport> {
        apply_in(self.0, owner, updates).await
    }
}

pub(crate) async fn claim_and_apply_pushes(
    pool: &PgPool,
    owner: &str,
    numbers: &[PushedNumbers],
    lease: (DateTime<Utc>, DateTime<Utc>),
    plan: &mut PlanPushes<'_>,
    covered_until: DateTime<Utc>,
) -> Result<Vec<PushApplied>> {
    let mut tx = pool.begin().await?;
    let mut writes = Writes(&mut tx);
    let applied =
        batch::claim_and_apply(&mut writes, plan, owner, numbers, lease, covered_until).await?;
    tx.commit().await?;
    Ok(applied)
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
