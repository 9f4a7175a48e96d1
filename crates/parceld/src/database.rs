//! Opening the store the configuration names: the one place that knows which backends exist.
//!
//! The rest of the binary (serve, the admin commands, import) sees only `Arc<dyn Store>`. A
//! backend is a crate `parceld-store-<name>` implementing `parceld_store::Store`; it is chosen
//! here by the scheme of `database.url`, so adding one (PostgreSQL next) is one more arm below.
//!
//! Only `serve` and `migrate` may create a database ([`OpenMode::Create`]); every other command
//! opens an existing one ([`OpenMode::MustExist`]), so an admin command run in the wrong
//! directory or with a mistyped `--data-dir` fails naming the database it looked for, instead of
//! working on a new empty one and exiting 0.
//!
//! A serving process also holds [`ServeLock`], an exclusive lock on `<database>.lock`, so a
//! second `serve` on the same SQLite file is refused rather than running two refresh workers,
//! dispatchers and first-key bootstraps against one file. Admin commands and `import` take no
//! lock: they are meant to run beside the server. `restore` takes it, since it replaces the
//! file under any server; `backup` does not, since it copies consistently beside one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use parceld_store::Store;
use parceld_store_sqlite::{OpenOptions as StoreOptions, SqliteStore};

/// The URL schemes this build can open, for the error message.
const SUPPORTED: &str = "sqlite://PATH";

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database (and its directory) when it does not exist: `serve` and `migrate`.
    Create,
    /// Fail, creating nothing, when the database does not exist: every other command.
    MustExist,
}

/// Opens the database at `url` (creating it only with [`OpenMode::Create`]) and brings its
/// schema up to date.
pub async fn open_store(url: &str, mode: OpenMode) -> anyhow::Result<Arc<dyn Store>> {
    open(url, mode, Use::Serve).await
}

/// What the process opening the store will do with it.
#[derive(Clone, Copy)]
enum Use {
    /// Serve or administer: SQLite's small default page cache, several write connections.
    Serve,
    /// `parceld import`: set up for a bulk load (a large page cache on one write connection),
    /// which a long-running server should not pay for in memory.
    Import,
}

async fn open(url: &str, mode: OpenMode, purpose: Use) -> anyhow::Result<Arc<dyn Store>> {
    let options = match purpose {
        Use::Serve => StoreOptions::default(),
        Use::Import => StoreOptions::bulk_load(),
    };
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some(parceld_store_sqlite::URL_SCHEME) => {
            let path = parceld_store_sqlite::path_of_url(url)?;
            let store = match mode {
                OpenMode::Create => {
                    create_parent_dir(&path)?;
                    SqliteStore::open(&path).await
                }
                OpenMode::MustExist => {
                    if !path.exists() {
                        bail!(
                            "the database {} does not exist (database URL {url}); nothing was \
                             created. Point --data-dir or --database-url at the existing one, or \
                             create it with `parceld migrate` (or `parceld serve`) and the same \
                             --data-dir/--database-url",
                            path.display()
                        );
                    }
                    SqliteStore::open_existing_with(&path, options).await
                }
            };
            let store =
                store.with_context(|| format!("cannot open the database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        _ => bail!(
            "cannot open the database `{url}`: unsupported URL; this parceld supports {SUPPORTED}"
        ),
    }
}

/// [`open_store`] for the administration commands: the database must exist, and the command
/// says on stderr which database it used (stdout stays the command's output).
pub async fn open_existing_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(url, OpenMode::MustExist).await?;
    eprintln!("parceld: using the database {url}");
    Ok(store)
}

/// [`open_existing_store`] for `parceld import`, set up for a bulk load.
pub async fn open_existing_store_for_import(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = open(url, OpenMode::MustExist, Use::Import).await?;
    eprintln!("parceld: using the database {url}");
    Ok(store)
}

fn create_parent_dir(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    Ok(())
}

/// An exclusive lock on `<database>.lock`, held for as long as `serve` runs. The operating
/// system releases it when the process ends, however it ends, so a crash leaves no stale lock.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

/// Takes the serving lock of the database at `url`, or fails naming the database and its lock
/// file when another `serve` holds it. Backends with their own server (not SQLite) need no lock:
/// `Ok(None)`.
pub fn lock_for_serving(url: &str) -> anyhow::Result<Option<ServeLock>> {
    if url.split_once("://").map(|(scheme, _)| scheme) != Some(parceld_store_sqlite::URL_SCHEME) {
        return Ok(None);
    }
    let path = parceld_store_sqlite::path_of_url(url)?;
    create_parent_dir(&path)?;
    let mut lock_path = path.clone().into_os_string();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(ServeLock { _file: file })),
        Err(TryLockError::WouldBlock) => bail!(
            "another `parceld serve` is already using the database {} (it holds {}); stop it \
             first, or give this one another --data-dir or --database-url. Admin commands and \
             `parceld import` can run beside it",
            path.display(),
            lock_path.display()
        ),
        Err(TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", lock_path.display()))
        }
    }
}

/// `parceld backup FILE`: a consistent copy of the database while a server may be running.
/// Per backend by URL scheme, like [`open_store`]: a file database is copied through SQLite's
/// online backup (`parceld_store_sqlite::backup`); a database with its own server would be
/// backed up with that server's tools, so it is not part of the `Store` trait.
pub fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    let path = sqlite_path(url, "backup")?;
    let copied = parceld_store_sqlite::backup::backup(&path, file)?;
    eprintln!("parceld: using the database {url}");
    say!(
        "backed up {} to {} ({} bytes)",
        path.display(),
        file.display(),
        copied.bytes
    );
    Ok(())
}

/// `parceld restore FILE`: replaces the database with a backup. It takes the serving lock, so it
/// is refused while a server runs on the database, and no server starts while it runs.
pub fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
    let path = sqlite_path(url, "restore")?;
    let _lock = lock_for_serving(url).context(
        "restore replaces the whole database, so it needs the server on it stopped first",
    )?;
    let copied = parceld_store_sqlite::backup::restore(file, &path)?;
    eprintln!("parceld: using the database {url}");
    say!(
        "restored {} from {} ({} bytes); start `parceld serve` on it",
        path.display(),
        file.display(),
        copied.bytes
    );
    Ok(())
}

fn sqlite_path(url: &str, what: &str) -> anyhow::Result<PathBuf> {
    if url.split_once("://").map(|(scheme, _)| scheme) != Some(parceld_store_sqlite::URL_SCHEME) {
        bail!(
            "cannot {what} the database `{url}`: `parceld {what}` works on {SUPPORTED} databases; \
             use the database's own tools for others"
        );
    }
    Ok(parceld_store_sqlite::path_of_url(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_scheme_names_the_supported_ones() {
        let error = open_store("postgres://localhost/parceld", OpenMode::Create)
            .await
            .err()
            .expect("postgres is not supported yet")
            .to_string();
        assert!(error.contains("postgres://localhost/parceld"), "{error}");
        assert!(error.contains("sqlite://"), "{error}");
        let error = open_store("data/parceld.db", OpenMode::Create)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("sqlite://"), "{error}");
    }

    #[tokio::test]
    async fn a_sqlite_url_opens_a_migrated_store_and_creates_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested").join("parceld.db");
        let store = open_store(&format!("sqlite://{}", file.display()), OpenMode::Create)
            .await
            .unwrap();
        assert!(file.exists());
        assert!(store.migrate().await.unwrap() > 0);
        assert!(store.accounts().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn must_exist_creates_nothing_and_names_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("missing").join("parceld.db");
        let url = format!("sqlite://{}", file.display());
        let error = open_store(&url, OpenMode::MustExist)
            .await
            .err()
            .expect("no database there")
            .to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("parceld migrate"), "{error}");
        assert!(!file.exists());
        assert!(!dir.path().join("missing").exists());
        open_store(&url, OpenMode::Create).await.unwrap();
        assert!(open_store(&url, OpenMode::MustExist).await.is_ok());
    }

    #[test]
    fn a_second_serving_lock_on_one_database_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("parceld.db").display());
        let first = lock_for_serving(&url).unwrap().expect("SQLite is locked");
        let error = lock_for_serving(&url).unwrap_err().to_string();
        assert!(error.contains("another `parceld serve`"), "{error}");
        assert!(error.contains("parceld.db.lock"), "{error}");
        drop(first);
        assert!(lock_for_serving(&url).unwrap().is_some());
    }
}
