//! [`DueCouriers`] on PostgreSQL: one index probe per courier on `trackings_due_by_courier`,
//! each stopping at the first claimable row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_store::backend::Failure;
use parceld_store::due::DueCouriers;
use parceld_store::StoreResult;

use crate::PostgresStore;

/// Each asked courier ($1) with a claimable tracking due at $2.
const DUE: &str = "SELECT c FROM UNNEST($1::text[]) AS c WHERE EXISTS ( \
     SELECT 1 FROM trackings \
     WHERE courier_code = c AND next_check_at IS NOT NULL \
       AND next_check_at <= $2 AND NOT archived \
       AND (lease_until IS NULL OR lease_until < $2)) \
 ORDER BY c";

#[async_trait]
impl DueCouriers for PostgresStore {
    async fn couriers_due(
        &self,
        now: DateTime<Utc>,
        couriers: &[String],
    ) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(DUE)
            .bind(couriers)
            .bind(crate::rows::seconds(now))
            .fetch_all(self.pool())
            .await
            .map_err(|e| Failure::from(e).into())
    }
}
