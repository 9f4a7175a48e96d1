//! [`DueCouriers`] on PostgreSQL: one index probe per courier on `trackings_due_by_courier`,
//! each stopping at the first claimable row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_store::{DueCouriers, StoreResult};

use crate::PostgresStore;

#[async_trait]
impl DueCouriers for PostgresStore {
    async fn couriers_due(
        &self,
        now: DateTime<Utc>,
        couriers: &[String],
    ) -> StoreResult<Vec<String>> {
        if couriers.is_empty() {
            return Ok(Vec::new());
        }
        let due: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            "SELECT c FROM UNNEST($1::text[]) AS c WHERE EXISTS ( \
                 SELECT 1 FROM trackings \
                 WHERE courier_code = c AND next_check_at IS NOT NULL \
                   AND next_check_at <= $2 AND NOT archived \
                   AND (lease_until IS NULL OR lease_until < $2)) \
             ORDER BY c",
        )
        .bind(couriers)
        .bind(crate::rows::seconds(now))
        .fetch_all(self.pool())
        .await;
        Ok(due.map_err(parceld_store::backend::Failure::from)?)
    }
}
