//! A consistent copy of the database file while the server runs, and putting one back.
//!
//! Copying `parceld.db` with `cp` while `serve` writes can give a torn file (pages from before
//! and after a transaction) and misses what still sits in the `-wal` file. SQLite's online backup
//! API copies the database as one read transaction sees it: in WAL mode that reader does not
//! block the server's writers, and the copy is exactly the committed state at its start. The
//! whole file is copied in one step, because a step-by-step copy starts over each time another
//! connection writes, and a busy server would keep it from ever finishing.
//!
//! These are plain functions on file paths, not `Store` methods: a backup of a file database is a
//! file operation, while a database with its own server is backed up with that server's tools.
//! The binary picks them by the database URL's scheme. Restoring is only safe with no server on
//! the database, which the binary ensures by taking the serving lock first.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// How long a copy waits for a lock the server holds before giving up.
const BUSY_FOR: Duration = Duration::from_secs(30);

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the database {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} already exists; choose a new file name or remove it first")]
    DestinationExists(PathBuf),
    #[error("{path} is not a parceld database: {reason}")]
    NotParceldDatabase { path: PathBuf, reason: String },
    #[error("the database stayed locked for {0:?}; try again")]
    Busy(Duration),
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// The size of the copy in bytes.
    pub bytes: u64,
}

fn sqlite(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the database at `database` into the new file `destination`, consistently, while other
/// processes (a running server) read and write it. The copy is written beside `destination` and
/// renamed into place when complete, so `destination` is never a partial file; it is a single
/// self-contained file (no `-wal`).
pub fn backup(database: &Path, destination: &Path) -> Result<Copied, BackupError> {
    if !database.exists() {
        return Err(BackupError::Missing(database.to_path_buf()));
    }
    if destination.exists() {
        return Err(BackupError::DestinationExists(destination.to_path_buf()));
    }
    let source = open_source(database)?;
    let mut partial = destination.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(io(&partial))?;
    }
    {
        let mut copy = Connection::open(&partial).map_err(sqlite(&partial))?;
        copy_all(&source, &mut copy, database)?;
        copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(sqlite(&partial))?;
        check(&copy, &partial)?;
    }
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(io(&partial))?;
    std::fs::rename(&partial, destination).map_err(io(destination))?;
    let bytes = std::fs::metadata(destination)
        .map_err(io(destination))?
        .len();
    Ok(Copied { bytes })
}

/// Replaces the database at `database` (creating it and its directory when missing) with the
/// backup `source`, after checking that `source` is a sound parceld database. The caller makes
/// sure no server uses `database` meanwhile.
pub fn restore(source: &Path, database: &Path) -> Result<Copied, BackupError> {
    if !source.exists() {
        return Err(BackupError::Missing(source.to_path_buf()));
    }
    let from = open_source(source)?;
    check(&from, source)?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut to = Connection::open(database).map_err(sqlite(database))?;
    to.busy_timeout(BUSY_FOR).map_err(sqlite(database))?;
    copy_all(&from, &mut to, database)?;
    check(&to, database)?;
    // Fold the restored pages into the main file, so the restored database is the file itself.
    to.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sqlite(database))?;
    drop(to);
    let bytes = std::fs::metadata(database).map_err(io(database))?.len();
    Ok(Copied { bytes })
}

fn open_source(path: &Path) -> Result<Connection, BackupError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite(path))?;
    connection.busy_timeout(BUSY_FOR).map_err(sqlite(path))?;
    Ok(connection)
}

/// Copies every page of `from` into `to` in one step (see the module comment), retrying while
/// a lock is held elsewhere.
fn copy_all(from: &Connection, to: &mut Connection, path: &Path) -> Result<(), BackupError> {
    let backup = Backup::new(from, to).map_err(sqlite(path))?;
    let started = Instant::now();
    loop {
        match backup.step(-1).map_err(sqlite(path))? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ if started.elapsed() > BUSY_FOR => return Err(BackupError::Busy(BUSY_FOR)),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Refuses a file that is damaged or not a parceld database (no migration table).
fn check(connection: &Connection, path: &Path) -> Result<(), BackupError> {
    let not_parceld = |reason: String| BackupError::NotParceldDatabase {
        path: path.to_path_buf(),
        reason,
    };
    let verdict: String = connection
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| not_parceld(e.to_string()))?;
    if verdict != "ok" {
        return Err(not_parceld(format!("integrity check: {verdict}")));
    }
    let migrations: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |row| row.get(0),
        )
        .map_err(|e| not_parceld(e.to_string()))?;
    if migrations == 0 {
        return Err(not_parceld("it has no parceld schema".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use parceld_store::Store;

    #[tokio::test]
    async fn a_backup_restores_into_a_fresh_directory_with_the_same_data() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("parceld.db");
        let store = SqliteStore::open(&database).await.unwrap();
        store.bootstrap("default").await.unwrap();
        store.create_account("acme").await.unwrap();
        let copy = dir.path().join("copy.db");
        let copied = backup(&database, &copy).unwrap();
        assert!(copied.bytes > 0);
        assert!(matches!(
            backup(&database, &copy),
            Err(BackupError::DestinationExists(_))
        ));

        let restored = dir.path().join("fresh").join("parceld.db");
        restore(&copy, &restored).unwrap();
        let reopened = SqliteStore::open_existing(&restored).await.unwrap();
        let names: Vec<String> = reopened
            .accounts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert!(names.contains(&"acme".to_string()), "{names:?}");
        assert!(names.contains(&"default".to_string()), "{names:?}");
    }

    #[test]
    fn a_file_that_is_not_a_parceld_database_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let target = dir.path().join("parceld.db");
        assert!(matches!(
            restore(&other, &target),
            Err(BackupError::NotParceldDatabase { .. })
        ));
        assert!(matches!(
            restore(&dir.path().join("none.db"), &target),
            Err(BackupError::Missing(_))
        ));
    }
}
