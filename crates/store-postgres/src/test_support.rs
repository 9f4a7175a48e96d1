//! [`StoreTestSupport`] for [`PostgresStore`], behind the `test-support` feature.
//!
//! The trait (in `parceld-store`) names the states and counts tests need that the `Store` trait
//! does not offer; here each is one SQL statement on this backend's tables, so the tests that use
//! it never write SQL themselves.

use async_trait::async_trait;
use parceld_model::TrackingId;
use parceld_store::test_support::{DeliveryRows, ForcedState, StoreTestSupport, TrackingRows};
use parceld_store::{StoreError, StoreResult};
use sqlx::Executor;

use crate::rows::seconds;
use crate::PostgresStore;

impl PostgresStore {
    /// `SELECT count(*)` of one statement with at most one text parameter.
    async fn count_of(&self, sql: &str, text: Option<&str>) -> StoreResult<u64> {
        let mut query = sqlx::query_scalar::<_, i64>(sql);
        if let Some(text) = text {
            query = query.bind(text);
        }
        let n = query
            .fetch_one(self.pool())
            .await
            .map_err(StoreError::backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl StoreTestSupport for PostgresStore {
    async fn tracking_pk(&self, tracking_number: &str) -> StoreResult<Option<i64>> {
        sqlx::query_scalar(
            "SELECT pk FROM trackings WHERE tracking_number = $1 ORDER BY pk LIMIT 1",
        )
        .bind(tracking_number)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)
    }

    async fn force_tracking_state(
        &self,
        id: &TrackingId,
        state: &ForcedState,
    ) -> StoreResult<bool> {
        let forced: Option<bool> = sqlx::query_scalar(
            "UPDATE trackings SET delivery_status = COALESCE($1, delivery_status), \
             created_at = COALESCE($2, created_at), updated_at = COALESCE($3, updated_at), \
             next_check_at = CASE WHEN $4 THEN $5 ELSE next_check_at END WHERE id = $6 \
             RETURNING true",
        )
        .bind(state.delivery_status.map(|s| s.as_str()))
        .bind(state.created_at.map(seconds))
        .bind(state.updated_at.map(seconds))
        .bind(state.next_check_at.is_some())
        .bind(state.next_check_at.flatten().map(seconds))
        .bind(id.to_bytes().to_vec())
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(forced.is_some())
    }

    async fn count_trackings(&self, which: TrackingRows<'_>) -> StoreResult<u64> {
        let courier = match which {
            TrackingRows::NeverCheckedOfCourier(courier) => courier,
            TrackingRows::All | TrackingRows::NeverChecked | TrackingRows::Leased => "",
        };
        let (all, never_checked, of_courier, leased): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT count(*), \
               count(*) FILTER (WHERE last_checked_at IS NULL), \
               count(*) FILTER (WHERE last_checked_at IS NULL AND courier_code = $1), \
               count(*) FILTER (WHERE lease_owner IS NOT NULL) \
             FROM trackings",
        )
        .bind(courier)
        .fetch_one(self.pool())
        .await
        .map_err(StoreError::backend)?;
        let n = match which {
            TrackingRows::All => all,
            TrackingRows::NeverChecked => never_checked,
            TrackingRows::NeverCheckedOfCourier(_) => of_courier,
            TrackingRows::Leased => leased,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn count_checkpoints(&self, tracking_number: &str) -> StoreResult<u64> {
        let sql = "SELECT count(*) FROM checkpoints c \
             JOIN trackings t ON t.pk = c.tracking_pk AND t.account_id = c.account_id \
             WHERE t.tracking_number = $1";
        self.count_of(sql, Some(tracking_number)).await
    }

    async fn count_changes(&self, tracking_number: Option<&str>) -> StoreResult<u64> {
        let of_number = match tracking_number {
            Some(_) => " WHERE t.tracking_number = $1",
            None => "",
        };
        let sql = format!(
            "SELECT count(*) FROM tracking_changes c \
             JOIN trackings t ON t.pk = c.tracking_pk AND t.account_id = c.account_id{of_number}"
        );
        self.count_of(&sql, tracking_number).await
    }

    async fn count_deliveries(&self, which: DeliveryRows) -> StoreResult<u64> {
        let (state, leased_only) = match which {
            DeliveryRows::All => (None, false),
            DeliveryRows::Pending => (Some("pending"), false),
            DeliveryRows::PendingLeased => (Some("pending"), true),
            DeliveryRows::Delivered => (Some("delivered"), false),
        };
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_deliveries \
             WHERE ($1::text IS NULL OR state = $1) AND (NOT $2 OR lease_owner IS NOT NULL)",
        )
        .bind(state)
        .bind(leased_only)
        .fetch_one(self.pool())
        .await
        .map_err(StoreError::backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn count_delivery_attempts(&self) -> StoreResult<u64> {
        self.count_of("SELECT count(*) FROM webhook_attempts", None)
            .await
    }

    async fn break_tracking_reads(&self) -> StoreResult<()> {
        // Every read of trackings takes their checkpoints from this table.
        let pool = self.pool();
        pool.execute("DROP TABLE checkpoint_lists")
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn delete_webhook_after_redelivery(&self) -> StoreResult<()> {
        // A redelivery sets a finished delivery back to `pending`; the trigger runs after that
        // statement, which has already counted (returned) its row, and deletes the endpoint
        // and, by cascade, the delivery, for the statements after it.
        self.pool()
            .execute(
                "CREATE OR REPLACE FUNCTION test_delete_webhook_after_redelivery() \
                   RETURNS trigger LANGUAGE plpgsql AS $$ \
                   BEGIN DELETE FROM webhook_endpoints WHERE pk = NEW.endpoint_pk; RETURN NULL; \
                   END $$; \
                 DROP TRIGGER IF EXISTS test_delete_webhook_after_redelivery \
                   ON webhook_deliveries; \
                 CREATE TRIGGER test_delete_webhook_after_redelivery \
                   AFTER UPDATE OF state ON webhook_deliveries FOR EACH ROW \
                   WHEN (NEW.state = 'pending' AND OLD.state <> 'pending') \
                   EXECUTE FUNCTION test_delete_webhook_after_redelivery()",
            )
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
