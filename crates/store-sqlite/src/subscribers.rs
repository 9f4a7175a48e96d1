//! Subscriptions made on the tracking page in SQLite (migration 0018), in one `BEGIN IMMEDIATE`
//! transaction, which no other writer can interleave: the usual case (a new address on a
//! tracking with room) is one statement that checks the limit as it inserts; only when it
//! inserts nothing does a second read tell why. Two visitors at once cannot pass
//! [`MAX_SUBSCRIBERS`] together.

use parceld_store::subscribers::{NewSubscriber, SubscribeOutcome, MAX_SUBSCRIBERS};
use parceld_store::{Entity, StoreError};
use sqlx::SqlitePool;

use crate::error::Result;
use crate::rows::ms;

pub(crate) async fn subscribe(pool: &SqlitePool, new: &NewSubscriber) -> Result<SubscribeOutcome> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let tracking = new.tracking.to_bytes().to_vec();
    let added = sqlx::query(
        "INSERT INTO notification_subscribers \
           (account_id, tracking_pk, address, language, created_ms) \
         SELECT t.account_id, t.pk, ?3, ?4, ?5 FROM trackings t \
         WHERE t.id = ?1 AND t.account_id = ?2 \
           AND (SELECT COUNT(*) FROM notification_subscribers s WHERE s.tracking_pk = t.pk) < ?6 \
         ON CONFLICT (tracking_pk, address) DO NOTHING",
    )
    .bind(&tracking)
    .bind(new.account_id)
    .bind(&new.address)
    .bind(new.language.code())
    .bind(ms(new.at))
    .bind(MAX_SUBSCRIBERS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let outcome = if added > 0 {
        SubscribeOutcome::Added
    } else {
        let found: Option<(bool, i64)> = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM notification_subscribers s \
                    WHERE s.tracking_pk = t.pk AND s.address = ?3), \
               (SELECT COUNT(*) FROM notification_subscribers s WHERE s.tracking_pk = t.pk) \
             FROM trackings t WHERE t.id = ?1 AND t.account_id = ?2",
        )
        .bind(&tracking)
        .bind(new.account_id)
        .bind(&new.address)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((already, count)) = found else {
            return Err(StoreError::NotFound(Entity::Tracking).into());
        };
        SubscribeOutcome::decide(already, count)
    };
    tx.commit().await?;
    Ok(outcome)
}
