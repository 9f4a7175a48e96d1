//! [`StoreTestSupport`] for [`SqliteStore`], behind the `test-support` feature.
//!
//! The trait (in `parceld-store`) names the states and counts tests need that the `Store` trait
//! does not offer; here each is one SQL statement on this backend's tables, so the tests that use
//! it never write SQL themselves.

use async_trait::async_trait;
use parceld_model::TrackingId;
use parceld_store::test_support::{DeliveryRows, ForcedState, StoreTestSupport, TrackingRows};
use parceld_store::{StoreError, StoreResult};

use crate::SqliteStore;

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl StoreTestSupport for SqliteStore {
    async fn tracking_pk(&self, tracking_number: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT pk FROM trackings WHERE tracking_number = ? ORDER BY pk LIMIT 1",
        )
        .bind(tracking_number)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)?)
    }

    async fn force_tracking_state(
        &self,
        id: &TrackingId,
        state: &ForcedState,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE trackings SET delivery_status = COALESCE(?1, delivery_status), \
             created_at = COALESCE(?2, created_at), updated_at = COALESCE(?3, updated_at), \
             next_check_at = CASE WHEN ?4 THEN ?5 ELSE next_check_at END WHERE id = ?6",
        )
        .bind(state.delivery_status.map(|s| s.as_str()))
        .bind(state.created_at.map(|t| t.timestamp()))
        .bind(state.updated_at.map(|t| t.timestamp()))
        .bind(state.next_check_at.is_some())
        .bind(state.next_check_at.flatten().map(|t| t.timestamp()))
        .bind(id.to_bytes().to_vec())
        .execute(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn count_trackings(&self, which: TrackingRows<'_>) -> StoreResult<u64> {
        let (condition, courier) = match which {
            TrackingRows::All => ("1", None),
            TrackingRows::NeverChecked => ("last_checked_at IS NULL", None),
            TrackingRows::NeverCheckedOfCourier(courier) => (
                "last_checked_at IS NULL AND courier_code = ?",
                Some(courier),
            ),
            TrackingRows::Leased => ("lease_owner IS NOT NULL", None),
        };
        let sql = format!("SELECT COUNT(*) FROM trackings WHERE {condition}");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        if let Some(courier) = courier {
            query = query.bind(courier);
        }
        Ok(count(
            query
                .fetch_one(self.pool())
                .await
                .map_err(StoreError::backend)?,
        ))
    }

    async fn count_checkpoints(&self, tracking_number: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM checkpoints c JOIN trackings t ON t.pk = c.tracking_pk \
             WHERE t.tracking_number = ?",
        )
        .bind(tracking_number)
        .fetch_one(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(count(n))
    }

    async fn count_changes(&self, tracking_number: Option<&str>) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tracking_changes c JOIN trackings t ON t.pk = c.tracking_pk \
             WHERE ?1 IS NULL OR t.tracking_number = ?1",
        )
        .bind(tracking_number)
        .fetch_one(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(count(n))
    }

    async fn count_deliveries(&self, which: DeliveryRows) -> StoreResult<u64> {
        let condition = match which {
            DeliveryRows::All => "1",
            DeliveryRows::Pending => "state = 'pending'",
            DeliveryRows::PendingLeased => "state = 'pending' AND lease_owner IS NOT NULL",
            DeliveryRows::Delivered => "state = 'delivered'",
        };
        let sql = format!("SELECT COUNT(*) FROM webhook_deliveries WHERE {condition}");
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(self.pool())
            .await
            .map_err(StoreError::backend)?;
        Ok(count(n))
    }

    async fn count_delivery_attempts(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_attempts")
            .fetch_one(self.pool())
            .await
            .map_err(StoreError::backend)?;
        Ok(count(n))
    }

    async fn break_tracking_reads(&self) -> StoreResult<()> {
        // Every read of trackings takes their checkpoints from this table.
        sqlx::query("DROP TABLE checkpoint_lists")
            .execute(self.pool())
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn delete_webhook_after_redelivery(&self) -> StoreResult<()> {
        // A redelivery sets a finished delivery back to `pending`. The trigger's delete is not
        // counted in the statement's changes, so the redelivery still finds its row updated;
        // the endpoint and (by cascade) the delivery are gone for the statements after it.
        sqlx::query(
            "CREATE TRIGGER IF NOT EXISTS test_delete_webhook_after_redelivery \
             AFTER UPDATE OF state ON webhook_deliveries \
             WHEN NEW.state = 'pending' AND OLD.state <> 'pending' \
             BEGIN DELETE FROM webhook_endpoints WHERE pk = NEW.endpoint_pk; END",
        )
        .execute(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }
}
