//! The SQLite side of carrier push ([`parceld_store::PushStore`]): claims by number, a batch of
//! pushes' claim, receipts and refresh application in one `BEGIN IMMEDIATE` transaction (the
//! order and bookkeeping are `parceld_store::push::batch`'s), coverage rows.
//!
//! Every call is a bounded number of statements: receipts are one multi-row insert, numbers and
//! primary keys travel as one JSON array each (`json_each`), never one statement per row.

use chrono::{DateTime, Utc};
use parceld_store::push::batch::{self, Claim, PushWrites, ReceiptKey};
use parceld_store::push::{PlanPushes, PushedNumbers};
use parceld_store::{ApplyReport, PushApplied, PushClaim, PushReceipt, RefreshUpdate, Subscribed};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::error::Result;
use crate::refresh::{apply_in, claimed_from_row, ts, CLAIMED_COLUMNS};
use crate::statements::keep_prepared;

fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("numbers and keys serialise")
}

/// The batch's writes on this backend's transaction ([`parceld_store::push::batch`]).
struct Writes<'a>(&'a mut SqliteConnection);

#[async_trait::async_trait]
impl PushWrites for Writes<'_> {
    /// Claims the trackings of `numbers` in every account. `+archived` keeps `archived` out of
    /// the index choice: without statistics SQLite otherwise walks `trackings_by_archived`,
    /// every tracking of the account (20 ms a batch at 20,000 trackings, two thirds of a push
    /// batch's time in `parceld bench --only push`), instead of seeking each number in the
    /// unique (account, number, courier) index.
    async fn claim(&mut self, claim: Claim<'_>) -> Result<PushClaim> {
        let (numbers, owner, now) = (json_list(claim.numbers), claim.owner, claim.now);
        let rows = sqlx::query(&format!(
            "UPDATE trackings SET lease_owner = ?1, lease_until = ?2 \
             WHERE account_id IN (SELECT id FROM accounts) AND courier_code = ?3 \
               AND tracking_number IN (SELECT value FROM json_each(?4)) \
               AND +archived = 0 \
               AND (lease_until IS NULL OR lease_until < ?5 OR lease_owner = ?1) \
             RETURNING {CLAIMED_COLUMNS}"
        ))
        .bind(owner)
        .bind(claim.lease_until.timestamp())
        .bind(claim.courier_code)
        .bind(&numbers)
        .bind(now.timestamp())
        .fetch_all(&mut *self.0)
        .await?;
        let busy: Vec<String> = sqlx::query_scalar(
            "SELECT tracking_number FROM trackings \
             WHERE account_id IN (SELECT id FROM accounts) AND courier_code = ?1 \
               AND tracking_number IN (SELECT value FROM json_each(?2)) \
               AND +archived = 0 AND lease_owner <> ?3 AND lease_until >= ?4",
        )
        .bind(claim.courier_code)
        .bind(&numbers)
        .bind(owner)
        .bind(now.timestamp())
        .fetch_all(&mut *self.0)
        .await?;
        Ok(PushClaim {
            claimed: rows.iter().map(claimed_from_row).collect::<Result<_>>()?,
            busy: busy.into_iter().collect(),
        })
    }

    async fn record_receipts(&mut self, receipts: &[&PushReceipt]) -> Result<Vec<ReceiptKey>> {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO push_receipts (source, digest, received_at, expires_at) ",
        );
        insert.push_values(receipts, |mut row, r| {
            row.push_bind(&r.source)
                .push_bind(r.digest.as_slice())
                .push_bind(r.received_at.timestamp())
                .push_bind(r.expires_at.timestamp());
        });
        insert.push(" ON CONFLICT (source, digest) DO NOTHING RETURNING source, digest");
        let recorded = insert
            .build_query_as::<(String, Vec<u8>)>()
            .persistent(keep_prepared(receipts.len(), 1))
            .fetch_all(&mut *self.0)
            .await?;
        Ok(recorded)
    }

    async fn apply(&mut self, owner: &str, updates: Vec<RefreshUpdate>) -> Result<ApplyReport> {
        apply_in(self.0, owner, updates).await
    }

    async fn release(&mut self, owner: &str, pks: &[i64]) -> Result<()> {
        sqlx::query(
            "UPDATE trackings SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = ?1 AND pk IN (SELECT value FROM json_each(?2))",
        )
        .bind(owner)
        .bind(json_list(pks))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn cover(&mut self, covered: &[(i64, &str)], until: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO push_coverage (tracking_pk, source, covered_until, refused) \
             SELECT c.value ->> 0, c.value ->> 1, ?2, 0 FROM json_each(?1) c WHERE true \
             ON CONFLICT (tracking_pk) DO UPDATE SET source = excluded.source, refused = 0, \
               covered_until = max(coalesce(push_coverage.covered_until, 0), excluded.covered_until)",
        )
        .bind(json_list(covered))
        .bind(until.timestamp())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}

pub(crate) async fn claim_and_apply_pushes(
    pool: &SqlitePool,
    owner: &str,
    numbers: &[PushedNumbers],
    lease: (DateTime<Utc>, DateTime<Utc>),
    plan: &mut PlanPushes<'_>,
    covered_until: DateTime<Utc>,
) -> Result<Vec<PushApplied>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut writes = Writes(&mut tx);
    let applied =
        batch::claim_and_apply(&mut writes, plan, owner, numbers, lease, covered_until).await?;
    tx.commit().await?;
    Ok(applied)
}

pub(crate) async fn prune_receipts(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    keep_at_most: u64,
) -> Result<u64> {
    let expired = sqlx::query("DELETE FROM push_receipts WHERE expires_at < ?")
        .bind(now.timestamp())
        .execute(pool)
        .await?
        .rows_affected();
    let over = sqlx::query(
        "DELETE FROM push_receipts WHERE (source, digest) IN ( \
           SELECT source, digest FROM push_receipts ORDER BY received_at DESC LIMIT -1 OFFSET ?)",
    )
    .bind(i64::try_from(keep_at_most).unwrap_or(i64::MAX))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(expired + over)
}

pub(crate) async fn receipts(pool: &SqlitePool) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM push_receipts")
        .fetch_one(pool)
        .await?;
    Ok(count as u64)
}

pub(crate) async fn to_subscribe(
    pool: &SqlitePool,
    courier_code: &str,
    source: &str,
    renew_before: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT t.pk, t.tracking_number FROM trackings t \
         LEFT JOIN push_coverage c ON c.tracking_pk = t.pk \
         WHERE t.courier_code = ?1 AND t.archived = 0 AND t.next_check_at IS NOT NULL \
           AND (c.tracking_pk IS NULL \
                OR (c.source = ?2 AND c.refused = 0 AND coalesce(c.covered_until, 0) < ?3)) \
         ORDER BY t.pk LIMIT ?4",
    )
    .bind(courier_code)
    .bind(source)
    .bind(renew_before.timestamp())
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn record_subscriptions(
    pool: &SqlitePool,
    source: &str,
    outcomes: &[Subscribed],
    poll_not_before: DateTime<Utc>,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| serde_json::json!([o.tracking_pk, ts(o.until)]))
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO push_coverage (tracking_pk, source, covered_until, refused) \
         SELECT r.value ->> 0, ?2, r.value ->> 1, (r.value ->> 1) IS NULL FROM json_each(?1) r \
         WHERE EXISTS (SELECT 1 FROM trackings t WHERE t.pk = r.value ->> 0) \
         ON CONFLICT (tracking_pk) DO UPDATE SET source = excluded.source, \
           covered_until = excluded.covered_until, refused = excluded.refused",
    )
    .bind(&rows)
    .bind(source)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE trackings SET next_check_at = ?2 \
         WHERE pk IN (SELECT r.value ->> 0 FROM json_each(?1) r WHERE (r.value ->> 1) IS NOT NULL) \
           AND next_check_at IS NOT NULL AND next_check_at < ?2",
    )
    .bind(&rows)
    .bind(poll_not_before.timestamp())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn covered(
    pool: &SqlitePool,
    pks: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if pks.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT tracking_pk FROM push_coverage \
         WHERE tracking_pk IN (SELECT value FROM json_each(?1)) AND refused = 0 \
           AND covered_until >= ?2",
    )
    .bind(json_list(pks))
    .bind(now.timestamp())
    .fetch_all(pool)
    .await?)
}

parceld_store::push_store_calls!(crate::SqliteStore, crate::SqliteStore::pool, crate::push);
