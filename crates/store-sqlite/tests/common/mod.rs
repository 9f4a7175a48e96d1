//! What the SQLite store's integration tests share: a fresh store, and a database at the schema an
//! older parceld left.
// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::borrow::Cow;
use std::path::Path;

use parceld_store_sqlite::SqliteStore;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

/// A new store in a temporary directory, which lives as long as the returned guard.
pub async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    (dir, store)
}

/// A new database at `path` with the migrations before `version` applied and none after: the
/// schema a parceld of that time wrote. The caller fills it with that schema's rows.
pub async fn schema_before(path: &Path, version: i64) -> SqlitePool {
    let mut before = Migrator::new(Path::new("migrations/sqlite")).await.unwrap();
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect(),
    );
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    before.run(&pool).await.unwrap();
    pool
}
