//! Rate-limit buckets shared by every node: one statement refills the account's bucket of a
//! class by the time since it was last touched, takes as many of the wanted tokens as it holds
//! (none when empty), and says how many it took and how many are left.
//!
//! The same token bucket as each process keeps on SQLite (`parceld_api::ratelimit`), so the
//! limit behaves alike on both backends; PostgreSQL serialises the nodes' upserts on the row, so
//! the bucket cannot be overdrawn however many nodes take from it at once. A node asks for more
//! than one token only while its own traffic uses them up quickly (the lease in
//! `parceld_api::ratelimit`), so a busy account costs a statement per batch of requests, not one
//! per request. Time is the database server's clock, the one clock every node shares.

use parceld_store::backend::BackendResult as Result;
use parceld_store::{AccountId, SharedBucket};
use sqlx::PgPool;

/// Takes up to `wanted` tokens from `account`'s bucket of `class` (filled at `rate` a second up
/// to `capacity`).
pub(crate) async fn take(
    pool: &PgPool,
    account: AccountId,
    class: &str,
    rate: f64,
    capacity: f64,
    wanted: u32,
) -> Result<Option<SharedBucket>> {
    let wanted = f64::from(wanted.max(1));
    // `filled` is the bucket refilled up to now; every SET expression sees the row as it was, so
    // `granted` and `tokens` are computed from the same `filled`. A hair of tolerance, so that
    // waiting exactly the advertised time is always enough.
    let filled = "least($4, b.tokens + greatest(0, excluded.refilled_at - b.refilled_at) * $3)";
    let granted = format!("least($5, floor({filled} + 1e-9))");
    let (granted, tokens): (i32, f64) = sqlx::query_as(&format!(
        "WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS at) \
         INSERT INTO rate_buckets AS b (account_id, class, tokens, refilled_at, allowed, granted) \
         SELECT $1, $2, greatest(0, $4 - least($5, floor($4 + 1e-9))), now.at, $4 >= 1 - 1e-9, \
                least($5, floor($4 + 1e-9))::integer \
         FROM now \
         ON CONFLICT (account_id, class) DO UPDATE SET \
             tokens = greatest(0, {filled} - {granted}), \
             allowed = {granted} >= 1, \
             granted = ({granted})::integer, \
             refilled_at = greatest(b.refilled_at, excluded.refilled_at) \
         RETURNING b.granted, b.tokens",
    ))
    .bind(account)
    .bind(class)
    .bind(rate)
    .bind(capacity)
    .bind(wanted)
    .fetch_one(pool)
    .await?;
    Ok(Some(SharedBucket {
        granted: u32::try_from(granted).unwrap_or(0),
        tokens,
    }))
}
