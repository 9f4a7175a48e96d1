//! Subscriptions made on the tracking page in PostgreSQL (migration 0017). The tracking's row
//! is locked first (`FOR UPDATE`), and the count read by a later statement of the same
//! transaction, which sees every subscription committed while it waited: two visitors at once
//! cannot pass [`MAX_SUBSCRIBERS`] together.
//!
//! [`MAX_SUBSCRIBERS`]: parceld_store::subscribers::MAX_SUBSCRIBERS

use parceld_store::backend::BackendResult as Result;
use parceld_store::subscribers::{NewSubscriber, SubscribeOutcome};
use parceld_store::{Entity, StoreError};
use sqlx::PgPool;

use crate::rows::millis;

pub(crate) async fn subscribe(pool: &PgPool, new: &NewSubscriber) -> Result<SubscribeOutcome> {
    let mut tx = pool.begin().await?;
    let tracking_pk: Option<i64> =
        sqlx::query_scalar("SELECT pk FROM trackings WHERE id = $1 AND account_id = $2 FOR UPDATE")
            .bind(new.tracking.to_bytes().to_vec())
            .bind(new.account_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(tracking_pk) = tracking_pk else {
        return Err(StoreError::NotFound(Entity::Tracking).into());
    };
    let (already, count): (bool, i64) = sqlx::query_as(
        "SELECT COALESCE(bool_or(address = $3), false), COUNT(*) FROM notification_subscribers \
         WHERE account_id = $1 AND tracking_pk = $2",
    )
    .bind(new.account_id)
    .bind(tracking_pk)
    .bind(&new.address)
    .fetch_one(&mut *tx)
    .await?;
    let outcome = SubscribeOutcome::decide(already, count);
    if outcome == SubscribeOutcome::Added {
        sqlx::query(
            "INSERT INTO notification_subscribers \
               (account_id, tracking_pk, address, language, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.account_id)
        .bind(tracking_pk)
        .bind(&new.address)
        .bind(new.language.code())
        .bind(millis(new.at))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}
