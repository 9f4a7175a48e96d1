//! [`DueCouriers`] on SQLite: one index probe per courier on `trackings_due_by_courier`, each
//! stopping at the first claimable row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_store::backend::Failure;
use parceld_store::due::DueCouriers;
use parceld_store::StoreResult;

use crate::SqliteStore;

/// Each asked courier (a JSON array in ?1) with a claimable tracking due at ?2.
const DUE: &str = "SELECT c.value FROM json_each(?1) AS c WHERE EXISTS ( \
     SELECT 1 FROM trackings \
     WHERE courier_code = c.value AND next_check_at IS NOT NULL \
       AND next_check_at <= ?2 AND archived = 0 \
       AND (lease_until IS NULL OR lease_until < ?2)) \
 ORDER BY c.value";

#[async_trait]
impl DueCouriers for SqliteStore {
    async fn couriers_due(
        &self,
        now: DateTime<Utc>,
        couriers: &[String],
    ) -> StoreResult<Vec<String>> {
        let list = serde_json::to_string(couriers).expect("strings serialise");
        let query = sqlx::query_scalar(DUE).bind(list).bind(now.timestamp());
        Ok(query.fetch_all(self.pool()).await.map_err(Failure::from)?)
    }
}
