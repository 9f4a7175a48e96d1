//! Rate-limit windows shared by every node: one statement per request counts it in its
//! account's window and forgets that account's older windows of the class.
//!
//! A fixed-window counter rather than each node's token bucket, because it needs one row and
//! one upsert per request, which PostgreSQL serialises on the row for the nodes (the counter
//! cannot overshoot however many nodes count at once); the caller turns the count into the
//! same decision and headers as the in-process bucket.

use parceld_store::backend::BackendResult as Result;
use parceld_store::AccountId;
use sqlx::PgPool;

/// Counts one request in window `window` of `account`'s limit `class`; the window's count now.
pub(crate) async fn count(
    pool: &PgPool,
    account: AccountId,
    class: &str,
    window: i64,
) -> Result<Option<u64>> {
    let used: i64 = sqlx::query_scalar(
        "WITH forgotten AS ( \
             DELETE FROM rate_windows \
              WHERE account_id = $1 AND class = $2 AND window_no < $3 \
         ) \
         INSERT INTO rate_windows (account_id, class, window_no, used) \
         VALUES ($1, $2, $3, 1) \
         ON CONFLICT (account_id, class, window_no) \
         DO UPDATE SET used = rate_windows.used + 1 \
         RETURNING used",
    )
    .bind(account)
    .bind(class)
    .bind(window)
    .fetch_one(pool)
    .await?;
    Ok(Some(u64::try_from(used).unwrap_or(0)))
}
