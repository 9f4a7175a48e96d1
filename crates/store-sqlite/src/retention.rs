//! Retention of finished trackings: deleting delivered or expired trackings that have not
//! changed for a configured time.
//!
//! One `DELETE` per call, bounded by a `LIMIT` in a sub-select (SQLite's `DELETE … LIMIT` needs a
//! compile-time option), so each call holds the write lock only for one batch and the server's
//! writers interleave with a long purge. Checkpoints, checkpoint lists and recorded changes go
//! with their tracking by `ON DELETE CASCADE`; the webhook delivery log keeps its rows (it
//! outlives trackings by design and is pruned on its own schedule).

use chrono::{DateTime, Utc};
use parceld_model::DeliveryStatus;
use sqlx::SqlitePool;

use crate::error::Result;

/// Deletes up to `limit` trackings of any account with `status` last changed before
/// `unchanged_before`; returns how many went.
pub(crate) async fn delete_finished(
    pool: &SqlitePool,
    status: DeliveryStatus,
    unchanged_before: DateTime<Utc>,
    limit: u32,
) -> Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM trackings WHERE pk IN \
         (SELECT pk FROM trackings WHERE delivery_status = ?1 AND updated_at < ?2 LIMIT ?3)",
    )
    .bind(status.as_str())
    .bind(unchanged_before.timestamp())
    .bind(limit)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted)
}
