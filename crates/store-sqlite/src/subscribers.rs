//! Subscriptions made on the tracking page in SQLite (migration 0018): the limit is read and
//! the row written in one `BEGIN IMMEDIATE` transaction, which no other writer can interleave,
//! so two visitors at once cannot pass [`MAX_SUBSCRIBERS`] together.
//!
//! [`MAX_SUBSCRIBERS`]: parceld_store::subscribers::MAX_SUBSCRIBERS

use parceld_store::subscribers::{NewSubscriber, SubscribeOutcome};
use parceld_store::{Entity, StoreError};
use sqlx::SqlitePool;

use crate::error::Result;
use crate::rows::ms;

pub(crate) async fn subscribe(pool: &SqlitePool, new: &NewSubscriber) -> Result<SubscribeOutcome> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let found: Option<(i64, bool, i64)> = sqlx::query_as(
        "SELECT t.pk, \
           EXISTS (SELECT 1 FROM notification_subscribers s \
                   WHERE s.tracking_pk = t.pk AND s.address = ?3), \
           (SELECT COUNT(*) FROM notification_subscribers s WHERE s.tracking_pk = t.pk) \
         FROM trackings t WHERE t.id = ?1 AND t.account_id = ?2",
    )
    .bind(new.tracking.to_bytes().to_vec())
    .bind(new.account_id)
    .bind(&new.address)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((tracking_pk, already, count)) = found else {
        return Err(StoreError::NotFound(Entity::Tracking).into());
    };
    let outcome = SubscribeOutcome::decide(already, count);
    if outcome == SubscribeOutcome::Added {
        sqlx::query(
            "INSERT INTO notification_subscribers \
               (account_id, tracking_pk, address, language, created_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(new.account_id)
        .bind(tracking_pk)
        .bind(&new.address)
        .bind(new.language.code())
        .bind(ms(new.at))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}
