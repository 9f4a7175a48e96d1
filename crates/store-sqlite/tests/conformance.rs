//! The store conformance suite (`parceld-store-conformance`) against SQLite: every case on a
//! fresh database file in its own temporary directory.

use std::sync::Arc;

use parceld_store_conformance::StoreUnderTest;
use parceld_store_sqlite::SqliteStore;

async fn fresh_sqlite() -> StoreUnderTest {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    StoreUnderTest::new(Arc::new(store), dir)
}

parceld_store_conformance::conformance_tests!(fresh_sqlite);
