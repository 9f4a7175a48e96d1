//! WAL checkpoints off the writer's path.
//!
//! By SQLite's default, the commit that takes the write-ahead log past 1,000 pages also copies
//! the log back into the database file and syncs it (with `synchronous = NORMAL` that
//! checkpoint is the only sync), inside the commit: the writer, and every request waiting for
//! it, waits for the copy. Here a thread of the store's checkpoints every
//! [`INTERVAL`] instead, in `PASSIVE` mode, which never blocks the writer or a reader; the write
//! connections checkpoint by themselves only past [`BACKSTOP_PAGES`], should that thread fall
//! behind or fail. The thread stops when the last clone of the store is dropped.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints.
const INTERVAL: Duration = Duration::from_millis(100);

/// The log's size in pages past which a write connection checkpoints by itself
/// (`wal_autocheckpoint`).
pub(crate) const BACKSTOP_PAGES: u32 = 10_000;

/// The checkpointing thread of one database file; dropping this stops it.
pub(crate) struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Starts the thread for the database file at `path`.
    pub(crate) fn start(path: &Path) -> Checkpointer {
        let (stop, stopped) = mpsc::channel::<()>();
        let path = path.to_path_buf();
        let started = std::thread::Builder::new()
            .name("parceld-sqlite-checkpoint".into())
            .spawn(move || {
                let mut connection: Option<Connection> = None;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if connection.is_none() {
                        connection = open(&path);
                    }
                    let done = connection.as_ref().map(|c| {
                        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    });
                    if let Some(Err(e)) = done {
                        tracing::warn!(error = %e, "WAL checkpoint failed; the write connections checkpoint past the backstop meanwhile");
                        connection = None;
                    }
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no WAL checkpoint thread; the write connections checkpoint past the backstop");
        }
        Checkpointer { _stop: stop }
    }
}

fn open(path: &Path) -> Option<Connection> {
    let connection = Connection::open(path).ok()?;
    connection.busy_timeout(Duration::from_secs(1)).ok()?;
    Some(connection)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// About 300 pages: under SQLite's own threshold (1,000), so without the thread the rows
    /// would stay in the log and the database file would not grow.
    #[tokio::test]
    async fn the_thread_copies_the_log_into_the_database_file() {
        let size = |path: &Path| std::fs::metadata(path).unwrap().len();
        let dir = tempfile::tempdir().unwrap();
        let path = &dir.path().join("parceld.db");
        let store = crate::SqliteStore::open(path).await.unwrap();
        let before = size(path);
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
             INSERT INTO filler SELECT randomblob(3500) FROM n",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let grown = loop {
            let now = size(path);
            if now >= before + 1_000_000 || Instant::now() > deadline {
                break now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            grown >= before + 1_000_000,
            "the database file stayed at {grown} bytes (was {before})"
        );
    }
}
