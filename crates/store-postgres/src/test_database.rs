//! Fresh PostgreSQL databases for tests, behind the `test-support` feature.
//!
//! Every test that runs against PostgreSQL gets a database of its own: [`TestDatabase`] creates
//! one with a unique name (`parceld_test_<process>_<n>_<random>`) on the server of
//! `PARCELD_TEST_POSTGRES_URL` (by default `postgres://postgres@127.0.0.1:5432/postgres`, the
//! development and CI machines' server with trust authentication) and drops it when dropped,
//! whatever connections are still open to it. Databases left behind by test processes that
//! were killed (on this machine) are dropped by the next process that creates one.
//!
//! Without a server the PostgreSQL tests are skipped: [`available`] says why on stderr, once per
//! process (outside the test harness's capture, so it shows), and returns `false`; with
//! `PARCELD_REQUIRE_POSTGRES=1` (CI sets it) an unreachable server fails the test instead.

use std::future::Future;
use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use rand::RngCore;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The server tests create their databases on: a URL whose database is one to connect to for
/// creating others (`postgres`).
pub const SERVER_VARIABLE: &str = "PARCELD_TEST_POSTGRES_URL";
/// Set to `1`, an unreachable server fails the PostgreSQL tests instead of skipping them.
pub const REQUIRE_VARIABLE: &str = "PARCELD_REQUIRE_POSTGRES";

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Every test database's name starts so; nothing else is ever dropped.
const PREFIX: &str = "parceld_test_";

/// The server's URL.
pub fn server_url() -> String {
    std::env::var(SERVER_VARIABLE).unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

fn required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|v| v == "1")
}

/// Whether the PostgreSQL tests can run. When the server cannot be reached: with
/// `PARCELD_REQUIRE_POSTGRES=1` a panic naming the server and why, otherwise `false` and, once
/// per process, the reason on stderr.
pub fn available() -> bool {
    static REACHED: OnceLock<Result<(), String>> = OnceLock::new();
    let reached = REACHED.get_or_init(|| {
        block_on(async {
            let connected = tokio::time::timeout(Duration::from_secs(5), connect_server()).await;
            match connected {
                Ok(Ok(connection)) => {
                    let _ = connection.close().await;
                    Ok(())
                }
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err("no answer within 5 seconds".to_string()),
            }
        })
    });
    let Err(why) = reached else {
        return true;
    };
    let server = crate::redacted(&server_url());
    if required() {
        panic!(
            "PostgreSQL is required ({REQUIRE_VARIABLE}=1) but the server {server} cannot be \
             reached: {why}"
        );
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "parceld: skipping the PostgreSQL tests: the server {server} cannot be reached \
             ({why}); start one, point {SERVER_VARIABLE} at one, or set {REQUIRE_VARIABLE}=1 to \
             make this a failure"
        );
    });
    false
}

/// A database of a test's own, dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name. Panics when it cannot: call
    /// [`available`] first.
    pub async fn create() -> TestDatabase {
        static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let mut server = connect_server()
            .await
            .expect("connect to the PostgreSQL server");
        SWEPT.get_or_init(|| drop_abandoned(&mut server)).await;
        let mut random = [0u8; 4];
        rand::thread_rng().fill_bytes(&mut random);
        let name = format!(
            "{PREFIX}{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            u32::from_be_bytes(random)
        );
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut server)
            .await
            .unwrap_or_else(|e| panic!("create the test database {name}: {e}"));
        let _ = server.close().await;
        let url = with_database(&server_url(), &name);
        TestDatabase { name, url }
    }

    /// [`TestDatabase::create`] from code that is not async.
    pub fn create_blocking() -> TestDatabase {
        block_on(TestDatabase::create())
    }

    /// The database's URL, to open a store on or to give a server.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = block_on(async move {
            let mut server = connect_server().await?;
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            sqlx::query(&sql).execute(&mut server).await?;
            server.close().await
        });
        if let Err(error) = dropped {
            let _ = writeln!(
                std::io::stderr(),
                "parceld: could not drop the test database {}: {error}",
                self.name
            );
        }
    }
}

async fn connect_server() -> Result<PgConnection, sqlx::Error> {
    PgConnectOptions::from_str(&server_url())?
        .application_name("parceld-tests")
        .connect()
        .await
}

/// Drops the test databases of processes that no longer run, when the server is on this
/// machine (the process ids in their names are this machine's).
async fn drop_abandoned(server: &mut PgConnection) {
    let local = PgConnectOptions::from_str(&server_url())
        .map(|o| {
            matches!(o.get_host(), "127.0.0.1" | "localhost" | "::1")
                || o.get_host().starts_with('/')
        })
        .unwrap_or(false);
    if !local || !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *server)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name[PREFIX.len()..].split('_').next().unwrap_or_default();
        let running = pid
            .parse::<u32>()
            .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !running {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = sqlx::query(&sql).execute(&mut *server).await;
        }
    }
}

/// `url` naming the database `name` instead of its own, its parameters kept.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, format!("?{query}")),
        None => (rest, String::new()),
    };
    let host = location.split('/').next().unwrap_or_default();
    format!("{scheme}://{host}/{name}{query}")
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own, so it works both
/// from plain code and from inside a test's runtime (which must not be blocked on itself).
fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the test database")
                    .block_on(future)
            })
            .join()
            .expect("the test database's thread")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_names_the_new_database_and_keeps_its_parameters() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "parceld_test_1"
            ),
            "postgres://postgres@127.0.0.1:5432/parceld_test_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@db/x?sslmode=disable", "t"),
            "postgresql://u:p@db/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://db", "t"), "postgres://db/t");
    }
}
