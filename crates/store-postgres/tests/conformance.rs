//! The store conformance suite (`parceld-store-conformance`) against PostgreSQL: every case on a
//! fresh database of its own, dropped afterwards. Skipped, saying why, when no PostgreSQL server
//! answers (`parceld_store_postgres::test_database`), unless `PARCELD_REQUIRE_POSTGRES=1`.

use std::sync::Arc;

use parceld_store_conformance::StoreUnderTest;
use parceld_store_postgres::test_database::{available, TestDatabase};
use parceld_store_postgres::PostgresStore;

async fn fresh_postgres() -> StoreUnderTest {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect(database.url(), 4).await.unwrap();
    StoreUnderTest::new(Arc::new(store), database)
}

parceld_store_conformance::conformance_tests!(fresh_postgres, if available);
