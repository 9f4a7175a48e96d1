//! Large batches of new trackings (`parceld import`'s thousands at a time) go in through `COPY`:
//! the rows are streamed into a temporary table in COPY's text format, which PostgreSQL parses
//! faster than it unpacks bound arrays, and one `INSERT … SELECT` moves them into `trackings`
//! with the same rules as the array insert of small batches (`trackings::create`): input order
//! for the keys, an account's existing number and courier skipped (`ON CONFLICT DO NOTHING`)
//! and reported as existing. A direct `COPY` into `trackings` cannot skip a conflicting row, so
//! the temporary table is what keeps those rules. It lives for the transaction (`ON COMMIT
//! DROP`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, TrackingId};
use parceld_store::backend::BackendResult as Result;
use parceld_store::{AccountId, NewTracking};
use sqlx::PgPool;

use crate::copy_text::CopyText;

/// Batches of at least this many trackings are created through `COPY`; smaller ones (the
/// API's 40 at most) cost less as one array insert than a temporary table.
pub(crate) const COPY_FROM: usize = 256;

/// Creates `trackings` under `ids` at `now`; the ids of those created (the others' number and
/// courier the account already had).
pub(crate) async fn create(
    pool: &PgPool,
    account: AccountId,
    trackings: &[NewTracking],
    ids: &[TrackingId],
    now: DateTime<Utc>,
) -> Result<HashSet<Vec<u8>>> {
    let mut text = CopyText::new();
    for (ord, (new, id)) in trackings.iter().zip(ids).enumerate() {
        text.int(ord as i64);
        text.bytes(&id.to_bytes());
        text.text(&new.tracking_number);
        text.text(&new.courier_code);
        text.bool(new.courier_detected);
        optional(&mut text, new.status_info.as_deref());
        optional(&mut text, new.check_error.as_deref());
        text.text(&serde_json::to_string(&new.fields).expect("fields serialise"));
        text.end_row();
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "CREATE TEMPORARY TABLE new_trackings (ord bigint, id bytea, number text, courier text, \
           detected boolean, status_info text, check_error text, fields text) ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;
    let mut copy = tx.copy_in_raw("COPY new_trackings FROM STDIN").await?;
    copy.send(text.take()).await?;
    copy.finish().await?;
    let created = sqlx::query_scalar(
        "INSERT INTO trackings (id, account_id, tracking_number, courier_code, courier_detected, \
           delivery_status, status_info, check_error, fields, created_at, updated_at, \
           next_check_at) \
         SELECT n.id, $1, n.number, n.courier, n.detected, $2, n.status_info, n.check_error, \
           n.fields::jsonb, $3, $3, $3 \
         FROM new_trackings n ORDER BY n.ord \
         ON CONFLICT (account_id, tracking_number, courier_code) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    tx.commit().await?;
    Ok(created)
}

fn optional(text: &mut CopyText, value: Option<&str>) {
    match value {
        Some(value) => text.text(value),
        None => text.null(),
    }
}
