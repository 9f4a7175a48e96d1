//! Opening the store the configuration names: the one place that knows which backends exist.
//!
//! The rest of the binary (serve, the admin commands, import) sees only `Arc<dyn Store>`. A
//! backend is a crate `parceld-store-<name>` implementing `parceld_store::Store`; it is chosen
//! here by the scheme of `database.url`: `sqlite://PATH` (the default, a file in the data
//! directory) or `postgres://…` (`postgresql://…`), a database server any number of nodes
//! share.
//!
//! Only `serve` and `migrate` may create a SQLite database ([`OpenMode::Create`]); every other
//! command opens an existing one ([`OpenMode::MustExist`]), so an admin command run in the wrong
//! directory or with a mistyped `--data-dir` fails naming the database it looked for, instead of
//! working on a new empty one and exiting 0. A PostgreSQL database is never created by parceld
//! (that needs rights an application should not hold): it must exist, and every command brings
//! its schema up to date.
//!
//! A process serving a SQLite file also holds [`ServeLock`], an exclusive lock on
//! `<database>.lock`, so a second `serve` on the same file is refused rather than running two
//! refresh workers, dispatchers and first-key bootstraps against one file. Admin commands and
//! `import` take no lock: they are meant to run beside the server. `restore` takes it, since it
//! replaces the file under any server; `backup` does not, since it copies consistently beside
//! one. PostgreSQL needs no such lock: nodes sharing one database is what it is for.
//!
//! A PostgreSQL URL may hold a password; every message shows it without
//! ([`Database::shown`]).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use parceld_store::Store;
use parceld_store_postgres::PostgresStore;
use parceld_store_sqlite::{OpenOptions as StoreOptions, SqliteStore};

use crate::config::Config;

/// The URL schemes this build can open, for the error message.
const SUPPORTED: &str = "sqlite://PATH or postgres://USER@HOST:PORT/DATABASE";

/// The database a command works on: `database.url` (or the default file in the data
/// directory) and `database.max_connections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub url: String,
    pub max_connections: Option<u32>,
}

impl Database {
    pub fn of(config: &Config) -> Database {
        Database {
            url: config.database_url(),
            max_connections: config.database.max_connections,
        }
    }

    /// The URL as messages and logs show it: without a password.
    pub fn shown(&self) -> String {
        parceld_store_postgres::redacted(&self.url)
    }
}

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database (and its directory) when it does not exist: `serve` and `migrate`.
    Create,
    /// Fail, creating nothing, when the database does not exist: every other command.
    MustExist,
}

/// Opens the database (creating a SQLite file only with [`OpenMode::Create`]) and brings its
/// schema up to date.
pub async fn open_store(database: &Database, mode: OpenMode) -> anyhow::Result<Arc<dyn Store>> {
    open(database, mode, Use::Serve).await
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

async fn open(database: &Database, mode: OpenMode, purpose: Use) -> anyhow::Result<Arc<dyn Store>> {
    let url = database.url.as_str();
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some(parceld_store_sqlite::URL_SCHEME) => open_sqlite(url, mode, purpose).await,
        Some(scheme) if parceld_store_postgres::URL_SCHEMES.contains(&scheme) => {
            let connections = database
                .max_connections
                .unwrap_or(parceld_store_postgres::DEFAULT_MAX_CONNECTIONS);
            let store = PostgresStore::connect(url, connections)
                .await
                .with_context(|| {
                    format!(
                        "cannot open the PostgreSQL database {}; parceld creates its tables but \
                         not the database itself (createdb), and needs a user that may connect \
                         to it",
                        database.shown()
                    )
                })?;
            Ok(Arc::new(store))
        }
        _ => bail!(
            "cannot open the database `{}`: unsupported URL; this parceld supports {SUPPORTED}",
            database.shown()
        ),
    }
}

async fn open_sqlite(url: &str, mode: OpenMode, purpose: Use) -> anyhow::Result<Arc<dyn Store>> {
    let options = match purpose {
        Use::Serve => StoreOptions::default(),
        Use::Import => StoreOptions::bulk_load(),
    };
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
    let store = store.with_context(|| format!("cannot open the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// [`open_store`] for the administration commands: the database must exist, and the command
/// says on stderr which database it used (stdout stays the command's output).
pub async fn open_existing_store(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(database, OpenMode::MustExist).await?;
    eprintln!("parceld: using the database {}", database.shown());
    Ok(store)
}

/// [`open_existing_store`] for `parceld import`, set up for a bulk load.
pub async fn open_existing_store_for_import(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store = open(database, OpenMode::MustExist, Use::Import).await?;
    eprintln!("parceld: using the database {}", database.shown());
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
            "cannot {what} the database `{}`: `parceld {what}` works on SQLite databases \
             (sqlite://PATH); back up and restore PostgreSQL with its own tools (pg_dump, \
             pg_restore, or the server's base backups)",
            parceld_store_postgres::redacted(url)
        );
    }
    Ok(parceld_store_sqlite::path_of_url(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_store_postgres::test_database::{available, TestDatabase};

    /// Opens the database at `url` with the backend's own pool size.
    async fn open_at(url: &str, mode: OpenMode) -> anyhow::Result<Arc<dyn Store>> {
        let database = Database {
            url: url.to_string(),
            max_connections: None,
        };
        open_store(&database, mode).await
    }

    #[tokio::test]
    async fn an_unknown_scheme_names_the_supported_ones() {
        let error = open_at("mysql://localhost/parceld", OpenMode::Create)
            .await
            .err()
            .expect("mysql is not supported")
            .to_string();
        assert!(error.contains("mysql://localhost/parceld"), "{error}");
        assert!(error.contains("sqlite://"), "{error}");
        assert!(error.contains("postgres://"), "{error}");
        let error = open_at("data/parceld.db", OpenMode::Create)
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
        let store = open_at(&format!("sqlite://{}", file.display()), OpenMode::Create)
            .await
            .unwrap();
        assert!(file.exists());
        assert!(store.migrate().await.unwrap() > 0);
        assert!(store.accounts().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_postgres_url_opens_a_migrated_store_with_the_pool_size_given() {
        if !available() {
            return;
        }
        let test_database = TestDatabase::create().await;
        let database = Database {
            url: test_database.url().to_string(),
            max_connections: Some(3),
        };
        let store = open_store(&database, OpenMode::MustExist).await.unwrap();
        assert!(store.migrate().await.unwrap() > 0);
        assert!(store.accounts().await.unwrap().is_empty());
        store.create_account("on postgres").await.unwrap();
        let again = open_store(&database, OpenMode::Create).await.unwrap();
        assert_eq!(again.accounts().await.unwrap()[0].name, "on postgres");
    }

    #[tokio::test]
    async fn a_missing_postgres_database_is_named_without_its_password() {
        if !available() {
            return;
        }
        let server = parceld_store_postgres::test_database::server_url();
        let (host, _) = server
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .unwrap();
        let host = host.rsplit('@').next().unwrap();
        let url = format!("postgres://postgres:hunter2@{host}/parceld_no_such_database");
        let error = format!("{:#}", open_at(&url, OpenMode::Create).await.err().unwrap());
        assert!(error.contains("parceld_no_such_database"), "{error}");
        assert!(error.contains("postgres:***@"), "{error}");
        assert!(error.contains("createdb"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[tokio::test]
    async fn must_exist_creates_nothing_and_names_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("missing").join("parceld.db");
        let url = format!("sqlite://{}", file.display());
        let error = open_at(&url, OpenMode::MustExist)
            .await
            .err()
            .expect("no database there")
            .to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("parceld migrate"), "{error}");
        assert!(!file.exists());
        assert!(!dir.path().join("missing").exists());
        open_at(&url, OpenMode::Create).await.unwrap();
        assert!(open_at(&url, OpenMode::MustExist).await.is_ok());
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
