//! The database a bench run measures: a SQLite file per scenario (the default), or a PostgreSQL
//! database per scenario on the server `--database` names.
//!
//! The bench compares the two backends in one run, so every scenario is written once against
//! a [`Backend`] and asks it where a scenario directory's database lives ([`Backend::url`]),
//! what a `parceld` child process needs to find it ([`Backend::env`]), and for a connection that
//! counts the refreshed trackings ([`Reader`]). On PostgreSQL each scenario gets a database of
//! its own with a name unique to this run (`parceld_bench_<process>_<random>_<scenario>`), so
//! that runs on a shared server do not meet, and [`Backend::drop_databases`] drops them all at
//! the end, whatever connections are still open to them.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use rand::RngCore;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// Where the scenarios' databases live.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    /// `parceld.db` in each scenario's directory.
    #[default]
    Sqlite,
    /// A database per scenario on a PostgreSQL server.
    Postgres(Arc<PgServer>),
}

/// A PostgreSQL server and the prefix of this run's databases on it.
#[derive(Debug)]
pub struct PgServer {
    /// A URL of the server whose database one may connect to for creating others.
    url: String,
    prefix: String,
}

impl Backend {
    /// The PostgreSQL server at `url` (any database of it; `postgres` is usual), checked to
    /// answer.
    pub async fn postgres(url: &str) -> anyhow::Result<Backend> {
        let mut random = [0u8; 4];
        rand::thread_rng().fill_bytes(&mut random);
        let server = PgServer {
            url: url.to_string(),
            prefix: format!(
                "parceld_bench_{}_{:08x}_",
                std::process::id(),
                u32::from_be_bytes(random)
            ),
        };
        server.connect().await?.close().await?;
        Ok(Backend::Postgres(Arc::new(server)))
    }

    /// The backend's name, as the report's columns show it.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// The database of the scenario directory `dir`.
    pub fn url(&self, dir: &Path) -> String {
        match self {
            Backend::Sqlite => format!("sqlite://{}", dir.join("parceld.db").display()),
            Backend::Postgres(server) => with_database(&server.url, &server.database(dir)),
        }
    }

    /// What a `parceld` child process working on `dir`'s database needs besides `--data-dir`.
    pub fn env(&self, dir: &Path) -> Vec<(String, String)> {
        match self {
            Backend::Sqlite => Vec::new(),
            Backend::Postgres(_) => vec![("PARCELD_DATABASE__URL".into(), self.url(dir))],
        }
    }

    /// Makes `dir`'s database exist and be empty: on PostgreSQL (re)creates it.
    pub async fn fresh(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        if let Backend::Postgres(server) = self {
            let name = server.database(dir);
            let mut connection = server.connect().await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut connection)
                .await?;
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut connection)
                .await
                .with_context(|| format!("cannot create the bench's database {name}"))?;
            connection.close().await?;
        }
        Ok(())
    }

    /// Drops every database this run created (nothing to do on SQLite: the files go with the
    /// work directory); returns how many.
    pub async fn drop_databases(&self) -> anyhow::Result<usize> {
        let Backend::Postgres(server) = self else {
            return Ok(0);
        };
        let mut connection = server.connect().await?;
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
                .bind(&server.prefix)
                .fetch_all(&mut connection)
                .await?;
        for name in &names {
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut connection)
                .await?;
        }
        connection.close().await?;
        Ok(names.len())
    }

    /// Bytes `dir`'s database takes: the SQLite file and its write-ahead log, or what
    /// PostgreSQL reports for the database (tables, indexes, TOAST; not the server's WAL).
    pub async fn size(&self, dir: &Path) -> anyhow::Result<u64> {
        match self {
            Backend::Sqlite => {
                let db = dir.join("parceld.db");
                let wal = db.with_extension("db-wal");
                Ok([db, wal]
                    .iter()
                    .filter_map(|file| std::fs::metadata(file).ok())
                    .map(|meta| meta.len())
                    .sum())
            }
            Backend::Postgres(_) => {
                let mut connection = PgConnection::connect(&self.url(dir)).await?;
                let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut connection)
                    .await?;
                connection.close().await?;
                Ok(u64::try_from(bytes).unwrap_or(0))
            }
        }
    }

    /// A connection to `dir`'s database for [`Reader::checked`].
    pub async fn reader(&self, dir: &Path) -> anyhow::Result<Reader> {
        Ok(match self {
            Backend::Sqlite => Reader::Sqlite(
                sqlx::SqlitePool::connect(&format!("{}?mode=ro", self.url(dir))).await?,
            ),
            Backend::Postgres(_) => Reader::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&self.url(dir))
                    .await?,
            ),
        })
    }
}

impl PgServer {
    async fn connect(&self) -> anyhow::Result<PgConnection> {
        let options = PgConnectOptions::from_str(&self.url)?
            .options([("client_min_messages", "warning")])
            .disable_statement_logging();
        options.connect().await.with_context(|| {
            format!(
                "cannot reach the PostgreSQL server {} to create the bench's databases",
                parceld_store_postgres::redacted(&self.url)
            )
        })
    }

    /// The database of the scenario directory `dir`: the run's prefix and the directory's last
    /// two names (`webhooks/latency` → `webhooks_latency`).
    fn database(&self, dir: &Path) -> String {
        let names: Vec<String> = dir
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
            .collect();
        let scenario: String = names
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("_")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("{}{scenario}", self.prefix)
    }
}

/// `url` with its database (the path) replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(query) => format!("{scheme}://{host}/{name}?{query}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}

/// A connection that counts refreshed trackings while a server writes them.
pub enum Reader {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Reader {
    /// Trackings checked at least once: no part of the store's contract counts them, and the
    /// refresh scenarios poll the count many times a second while the servers are writing.
    pub async fn checked(&self) -> anyhow::Result<i64> {
        const CHECKED: &str = "SELECT COUNT(*) FROM trackings WHERE last_checked_at IS NOT NULL";
        Ok(match self {
            Reader::Sqlite(pool) => sqlx::query_scalar(CHECKED).fetch_one(pool).await?,
            Reader::Postgres(pool) => sqlx::query_scalar(CHECKED).fetch_one(pool).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenarios_database_is_named_by_the_run_and_its_directory() {
        let server = PgServer {
            url: "postgres://postgres:pw@db:5432/postgres?sslmode=disable".into(),
            prefix: "parceld_bench_7_0000abcd_".into(),
        };
        assert_eq!(
            server.database(Path::new("/tmp/parceld-bench-7/postgres/webhooks/latency")),
            "parceld_bench_7_0000abcd_webhooks_latency"
        );
        let backend = Backend::Postgres(Arc::new(server));
        assert_eq!(
            backend.url(Path::new("/tmp/w/postgres/api")),
            "postgres://postgres:pw@db:5432/parceld_bench_7_0000abcd_postgres_api?sslmode=disable"
        );
    }
}
