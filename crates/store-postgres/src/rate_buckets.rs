//! Rate-limit buckets shared by every node: one statement per request refills the account's
//! bucket of a class by the time since its last request, takes a token if there is one, and
//! says whether there was.
//!
//! The same token bucket as each process keeps on SQLite (`parceld_api::ratelimit`), so the
//! limit behaves alike on both backends; PostgreSQL serialises the nodes' upserts on the row, so
//! the bucket cannot be overdrawn however many nodes take from it at once. Time is the database
//! server's clock, the one clock every node shares.

use parceld_store::backend::BackendResult as Result;
use parceld_store::{AccountId, SharedBucket};
use sqlx::PgPool;

/// Takes a token from `account`'s bucket of `class` (filled at `rate` a second up to `capacity`).
pub(crate) async fn take(
    pool: &PgPool,
    account: AccountId,
    class: &str,
    rate: f64,
    capacity: f64,
) -> Result<Option<SharedBucket>> {
    let (allowed, tokens): (bool, f64) = sqlx::query_as(
        "WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS at) \
         INSERT INTO rate_buckets AS b (account_id, class, tokens, refilled_at, allowed) \
         SELECT $1, $2, $4 - 1, now.at, true FROM now \
         ON CONFLICT (account_id, class) DO UPDATE SET \
             tokens = CASE \
                 WHEN least($4, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $3) \
                      >= 1 - 1e-9 \
                 THEN greatest(0, least($4, b.tokens \
                      + greatest(0, excluded.refilled_at - b.refilled_at) * $3) - 1) \
                 ELSE least($4, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $3) \
             END, \
             allowed = least($4, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $3) \
                       >= 1 - 1e-9, \
             refilled_at = greatest(b.refilled_at, excluded.refilled_at) \
         RETURNING b.allowed, b.tokens",
    )
    .bind(account)
    .bind(class)
    .bind(rate)
    .bind(capacity)
    .fetch_one(pool)
    .await?;
    Ok(Some(SharedBucket { allowed, tokens }))
}
