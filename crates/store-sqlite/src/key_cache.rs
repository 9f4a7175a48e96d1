//! Remembered API-key checks, kept true across processes by a stamp file.
//!
//! Every authenticated request checks its key. Done in SQLite that is a read transaction of its
//! own, about a tenth of the server's time for `GET /v4/trackings/get` of one number. Keys and
//! accounts change rarely, so valid checks are remembered in memory.
//!
//! What makes that safe is that a change must take effect at once, including a change made by
//! another process (`parceld key delete` or `parceld account disable` while the server runs).
//! Every change to keys or accounts goes through the store, which, after committing, writes new
//! random bytes to a stamp file beside the database (`<database>-keys`). Each check first reads
//! the stamp (one `pread`, far cheaper than a SQLite transaction); a stamp other than the one the
//! remembered checks were made under forgets them all. The stamp is read *before* the database,
//! so a check that raced with a change is remembered under the old stamp and forgotten on the
//! next request. Like SQLite's own WAL index, this assumes the processes share one machine's file
//! system. A database changed by hand (the `sqlite3` shell) is seen after a restart, or after
//! any `parceld key`/`account` command. What is remembered, and how a stamp forgets it, is
//! `parceld_store::key_memory`, shared with the PostgreSQL backend.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parceld_store::key_memory::{RememberedKeys, StoredKey};
use parceld_store::{Account, KeyCheck};
use rand::RngCore;

pub(crate) struct KeyCache {
    path: PathBuf,
    /// The stamp file, opened once (`None` when it cannot be: then nothing is remembered).
    file: Option<File>,
    remembered: RememberedKeys<[u8; 16]>,
}

impl KeyCache {
    /// The cache for the database at `database`; creates its stamp file if missing.
    pub(crate) fn new(database: &Path) -> KeyCache {
        let mut name = database.as_os_str().to_owned();
        name.push("-keys");
        let path = PathBuf::from(name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .ok();
        if let Some(file) = &file {
            let mut current = [0u8; 16];
            if !matches!(file.read_at(&mut current, 0), Ok(16)) {
                let _ = file.write_all_at(&random_stamp(), 0);
            }
        }
        KeyCache {
            path,
            file,
            remembered: RememberedKeys::new(None),
        }
    }

    /// The current stamp; `None` when it cannot be read (then the caller asks the database).
    pub(crate) fn stamp(&self) -> Option<[u8; 16]> {
        let mut stamp = [0u8; 16];
        match self.file.as_ref()?.read_at(&mut stamp, 0) {
            Ok(16) => Some(stamp),
            _ => None,
        }
    }

    /// Checks `presented` as [`RememberedKeys::check`] does, under the current stamp.
    pub(crate) async fn check<E, Found>(
        &self,
        presented: &str,
        look_up: impl FnOnce(String) -> Found,
    ) -> Result<KeyCheck, E>
    where
        Found: std::future::Future<Output = Result<Vec<StoredKey<Account>>, E>>,
    {
        let stamp = self.stamp();
        self.remembered.check(stamp, presented, look_up, Ok).await
    }

    /// Called after a committed change to keys or accounts: every process forgets its checks.
    pub(crate) fn changed(&self) {
        let written = self
            .file
            .as_ref()
            .map(|file| file.write_all_at(&random_stamp(), 0));
        if !matches!(written, Some(Ok(()))) {
            tracing::warn!(
                path = %self.path.display(),
                "could not write the API-key stamp file; a server may accept a changed key until it restarts"
            );
        }
        self.remembered.forget_all();
    }
}

fn random_stamp() -> [u8; 16] {
    let mut stamp = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut stamp);
    stamp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_another_cache_of_the_same_database_moves_the_stamp_both_read() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("parceld.db");
        let server = KeyCache::new(&database);
        let cli = KeyCache::new(&database);
        let stamp = server.stamp().unwrap();
        assert_eq!(cli.stamp(), Some(stamp), "one stamp per database");
        cli.changed();
        let moved = server.stamp().unwrap();
        assert_ne!(moved, stamp);
        assert_eq!(cli.stamp(), Some(moved));
    }
}
