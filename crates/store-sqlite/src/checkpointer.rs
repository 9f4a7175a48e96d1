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
                let mut failing = false;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    let done = checkpoint(&path, &mut connection);
                    match (Change::after(failing, &done), &done) {
                        (Some(Change::Failing), Err(error)) => {
                            tracing::warn!(%error, "WAL checkpoints fail; the write connections checkpoint past the backstop meanwhile");
                        }
                        (Some(Change::Working), _) => tracing::info!("WAL checkpoints work again"),
                        _ => {}
                    }
                    failing = done.is_err();
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no WAL checkpoint thread; the write connections checkpoint past the backstop");
        }
        Checkpointer { _stop: stop }
    }
}

/// A change worth a log line: a failure after checkpoints worked, or success after they failed.
/// A failure that lasts is reported once, not every [`INTERVAL`].
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Failing,
    Working,
}

impl Change {
    fn after<T, E>(was_failing: bool, now: &Result<T, E>) -> Option<Change> {
        match (was_failing, now.is_err()) {
            (false, true) => Some(Change::Failing),
            (true, false) => Some(Change::Working),
            _ => None,
        }
    }
}

/// One `PASSIVE` checkpoint on `connection`, opened first if need be; a connection that failed
/// is dropped, to be opened again next time.
fn checkpoint(path: &Path, connection: &mut Option<Connection>) -> rusqlite::Result<()> {
    let conn = match connection.take() {
        Some(conn) => conn,
        None => open(path)?,
    };
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    *connection = Some(conn);
    Ok(())
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(1))?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_lasting_failure_is_reported_once_and_its_end_once() {
        let (ok, failed): (Result<(), ()>, Result<(), ()>) = (Ok(()), Err(()));
        let mut failing = false;
        let mut changes = Vec::new();
        for done in [&ok, &failed, &failed, &failed, &ok, &ok, &failed] {
            changes.extend(Change::after(failing, done));
            failing = done.is_err();
        }
        assert_eq!(
            changes,
            vec![Change::Failing, Change::Working, Change::Failing]
        );
    }

    #[test]
    fn a_database_that_cannot_be_opened_fails_the_checkpoint_and_keeps_no_connection() {
        let dir = tempfile::tempdir().unwrap();
        let mut connection = None;
        let missing = dir.path().join("no-such-dir").join("parceld.db");
        assert!(checkpoint(&missing, &mut connection).is_err());
        assert!(connection.is_none());
        let path = dir.path().join("parceld.db");
        assert!(checkpoint(&path, &mut connection).is_ok());
        assert!(connection.is_some());
    }

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
