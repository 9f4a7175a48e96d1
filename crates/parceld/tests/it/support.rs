//! Test support: starts the real `parceld` binary on port 0 with a data directory of its own,
//! and talks to it over HTTP. Where a test must see or set what the API does not show, it opens
//! the same database through the store and its test back door (`parceld_store::test_support`),
//! never with SQL, so the tests do not depend on the backend.
//!
//! The backend is SQLite (a file in each data directory), or PostgreSQL with
//! `PARCELD_TEST_DATABASE=postgres`: then every data directory ([`DataDir`]) comes with a fresh
//! database of its own (`parceld_store_postgres::test_database`), which every server and command
//! started on that directory is given (`PARCELD_DATABASE__URL`) and which is dropped with the
//! directory. `.ci/run` runs this suite once on each. The few tests about what only SQLite has
//! (its file, its lock, backup and restore) return early on PostgreSQL ([`sqlite_only`]).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use parceld_model::{LimitClass, Tracking, TrackingId};
use parceld_store::test_support::StoreTestSupport;
use parceld_store::{KeyCheck, Page, TrackingFilter};
use parceld_store_postgres::test_database::{self, TestDatabase};
use parceld_store_postgres::PostgresStore;
use parceld_store_sqlite::SqliteStore;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_parceld");

/// The variable that chooses the test servers' backend: `sqlite` (the default) or `postgres`.
const BACKEND_VARIABLE: &str = "PARCELD_TEST_DATABASE";

/// Whether the test servers run on PostgreSQL. Asked for, PostgreSQL must be reachable: the
/// tests fail rather than quietly run on SQLite.
pub fn on_postgres() -> bool {
    static CHOSEN: OnceLock<bool> = OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => false,
        Ok("postgres") => {
            assert!(
                test_database::available(),
                "{BACKEND_VARIABLE}=postgres, but no PostgreSQL server answers at {}",
                parceld_store_postgres::redacted(&test_database::server_url())
            );
            true
        }
        Ok(other) => panic!("{BACKEND_VARIABLE}={other}: write sqlite or postgres"),
    })
}

/// `true`, after saying why on stderr, when the suite runs on PostgreSQL and the test is about
/// something only SQLite has; the test then returns at once.
pub fn sqlite_only(why: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {why}");
    }
    on_postgres()
}

/// The PostgreSQL database of each live [`DataDir`], by its path.
fn databases() -> &'static Mutex<HashMap<PathBuf, String>> {
    static DATABASES: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    DATABASES.get_or_init(Mutex::default)
}

/// A data directory for servers and commands: a temporary directory, and on PostgreSQL a
/// database of its own that stands for the SQLite file the directory would hold. Both go when
/// it is dropped, after the servers on it (declare it before them).
pub struct DataDir {
    dir: tempfile::TempDir,
    database: Option<TestDatabase>,
}

impl DataDir {
    pub fn new() -> DataDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = on_postgres().then(TestDatabase::create_blocking);
        if let Some(database) = &database {
            let mut known = databases().lock().unwrap_or_else(|p| p.into_inner());
            known.insert(dir.path().to_path_buf(), database.url().to_string());
        }
        DataDir { dir, database }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.database.is_some() {
            let mut known = databases().lock().unwrap_or_else(|p| p.into_inner());
            known.remove(self.dir.path());
        }
    }
}

/// `parceld --data-dir <data_dir>`, with the data directory's database when it is not the
/// SQLite file in it: for tests that run a command themselves.
pub fn parceld(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.arg("--data-dir").arg(data_dir);
    if on_postgres() {
        command.env("PARCELD_DATABASE__URL", database_url(data_dir));
    }
    command
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    /// The first key, printed when the server created the default account (None on restarts).
    pub key: Option<String>,
    /// What the server printed on stdout before it listened (the first key, the first admin).
    pub startup: Vec<String>,
    pub data_dir: PathBuf,
    pub stderr_path: PathBuf,
    _temp: Option<DataDir>,
    http: reqwest::Client,
}

impl Server {
    /// A fresh server with an empty data directory.
    pub fn start() -> Server {
        Self::start_with_env(&[])
    }

    pub fn start_with_env(env: &[(&str, &str)]) -> Server {
        let temp = DataDir::new();
        let mut server = Self::start_in(temp.path(), env);
        server._temp = Some(temp);
        server
    }

    /// A server on an existing data directory (a [`DataDir`]'s, on PostgreSQL).
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let stderr_path = data_dir.join(format!("stderr-{}.log", rand_suffix()));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        // A port of the test's choosing when it must know the address before the server
        // starts (links the server writes into messages); else any free port.
        let bind = env
            .iter()
            .find(|(k, _)| *k == "PARCELD_SERVER__BIND")
            .map_or("127.0.0.1:0", |(_, v)| *v);
        let mut command = parceld(data_dir);
        command
            .args(["serve", "--bind", bind])
            .current_dir(data_dir)
            .env("PARCELD_LOG__LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        // The background refresh is switched on by the tests that are about it.
        command.env("PARCELD_SERVER__WORKER", "false");
        // Tests that are not about rate limits must not trip them.
        for class in LimitClass::ALL {
            let variable = format!("PARCELD_RATE_LIMITS__{}", class.key().to_ascii_uppercase());
            command.env(variable, "100000");
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start parceld");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut key = None;
        let mut startup = Vec::new();
        let base = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| {
                    panic!(
                        "parceld did not start; stderr: {}",
                        std::fs::read_to_string(&stderr_path).unwrap_or_default()
                    )
                });
            if let Some(k) = line.trim().strip_prefix("pk_") {
                key = Some(format!("pk_{k}"));
            }
            if let Some(address) = line.strip_prefix("parceld listening on ") {
                break address.trim().to_string();
            }
            startup.push(line);
        };
        Server {
            child: Some(child),
            base,
            key,
            startup,
            data_dir: data_dir.to_path_buf(),
            stderr_path,
            _temp: None,
            http: reqwest::Client::new(),
        }
    }

    /// A server started with `env`, and three keys: the first key and a second one of the
    /// default account, and a key of another account (for budgets an account's keys share).
    pub fn start_with_two_accounts(env: &[(&str, &str)]) -> (Server, String, String, String) {
        let server = Server::start_with_env(env);
        let first = server.key().to_string();
        let second = server.new_key("default");
        let other = server.new_account("other");
        (server, first, second, other)
    }

    pub fn key(&self) -> &str {
        self.key
            .as_deref()
            .expect("this server printed a first key")
    }

    /// Runs `parceld <args>` against this server's data directory; returns (success, stdout+stderr).
    pub fn admin(&self, args: &[&str]) -> (bool, String) {
        let output = parceld(&self.data_dir)
            .args(args)
            .current_dir(&self.data_dir)
            .output()
            .expect("run parceld");
        let mut text = String::from_utf8_lossy(&output.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    /// Creates an account with a key and returns the key.
    pub fn new_account(&self, name: &str) -> String {
        let (ok, out) = self.admin(&["account", "create", name]);
        assert!(ok, "{out}");
        self.new_key(name)
    }

    /// Creates another key for the account `name` and returns it.
    pub fn new_key(&self, account: &str) -> String {
        let (ok, out) = self.admin(&["key", "create", "--account", account]);
        assert!(ok, "{out}");
        extract_key(&out)
    }

    /// Sends a request with `key` (if any) and a raw body; returns status, headers and JSON.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, HeaderMap, Value) {
        let key = key.map(|key| ("Tracking-Api-Key", key));
        self.request(method, path, key, body).await
    }

    /// [`Server::raw`] with the key in a header of the caller's choice (`(header, key)`), for
    /// the faces that name it otherwise.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<(&str, &str)>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("Content-Type", "application/json");
        if let Some((header, key)) = key {
            request = request.header(header, key);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, json)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| serde_json::to_vec(&b).expect("json"));
        let (status, _, json) = self.raw(method, path, Some(key), body).await;
        (status, json)
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, key, Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, key, Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, key, None).await
    }

    /// Posts a number and courier to `path` (create, real-time); returns status and JSON.
    pub async fn post_number(
        &self,
        path: &str,
        key: &str,
        number: &str,
        courier: &str,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({"tracking_number": number, "courier_code": courier});
        self.post(path, key, body).await
    }

    /// Changes tracking `id` with `PUT /v4/trackings/update/{id}`; returns status and JSON.
    pub async fn update(&self, key: &str, id: &str, body: Value) -> (StatusCode, Value) {
        self.put(&format!("/v4/trackings/update/{id}"), key, body)
            .await
    }

    /// Posts `items` to `POST /v4/trackings/batch`; returns status and JSON.
    pub async fn batch(&self, key: &str, items: Vec<Value>) -> (StatusCode, Value) {
        self.post("/v4/trackings/batch", key, Value::Array(items))
            .await
    }

    /// Creates trackings from batch `items`, 40 to a call, and asserts that each was created.
    pub async fn create_items(&self, key: &str, items: Vec<Value>) {
        for chunk in items.chunks(40) {
            let (status, body) = self.batch(key, chunk.to_vec()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["data"]["error"].as_array().unwrap().len(), 0, "{body}");
        }
    }

    /// Creates `numbers` with `courier`, 40 to a call, and asserts that each was created.
    pub async fn create_numbers(&self, key: &str, numbers: &[String], courier: &str) {
        let items = numbers
            .iter()
            .map(|n| serde_json::json!({"tracking_number": n, "courier_code": courier}))
            .collect();
        self.create_items(key, items).await
    }

    /// The tracking of `number` as `GET /v4/trackings/get` shows it (null when there is none).
    pub async fn tracking(&self, key: &str, number: &str) -> Value {
        let path = format!("/v4/trackings/get?tracking_numbers={number}");
        let (status, body) = self.get(&path, key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"][0].clone()
    }

    /// Creates one tracking and returns its id.
    pub async fn create(&self, key: &str, number: &str, courier: &str) -> String {
        let (status, body) = self
            .post_number("/v4/trackings/create", key, number, courier)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["id"].as_str().expect("id").to_string()
    }

    /// The body of an unauthenticated GET (`/metrics`, `/openapi.json`), as text.
    pub async fn text(&self, path: &str) -> String {
        let response = self.http.get(format!("{}{path}", self.base)).send().await;
        response.expect("request").text().await.expect("body")
    }

    /// All of an account's trackings (up to 2000), newest first.
    pub async fn list_all(&self, key: &str) -> Vec<Value> {
        let (status, body) = self.get("/v4/trackings/get?items_amount=2000", key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().expect("array").clone()
    }

    /// The server's database, opened beside it through the store: for the test back door
    /// ([`StoreTestSupport`]) and for reads the API does not offer.
    pub async fn store(&self) -> Box<dyn StoreTestSupport> {
        open_store(&self.data_dir).await
    }

    /// Every tracking of `key`'s account as stored (up to 10,000), newest first.
    pub async fn stored_trackings(&self, key: &str) -> Vec<Tracking> {
        let store = self.store().await;
        let KeyCheck::Valid(account) = store.check_api_key(key).await.expect("check key") else {
            panic!("{key} is not a valid key");
        };
        let page = Page {
            number: 1,
            size: 10_000,
        };
        store
            .list_trackings(account.id, &TrackingFilter::default(), page)
            .await
            .expect("list trackings")
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server with SIGTERM and hands over its data directory (when the server made
    /// it), which then outlives the server.
    pub fn stop_keeping_data(mut self) -> Option<DataDir> {
        self.terminate();
        self._temp.take()
    }

    /// Stops the server with SIGTERM and waits; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        self.terminate()
    }

    fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The database URL a server started in `data_dir` uses: on SQLite the default,
/// `sqlite://<data_dir>/parceld.db` (the tests set no `database.url`); on PostgreSQL its
/// [`DataDir`]'s database.
pub fn database_url(data_dir: &Path) -> String {
    if on_postgres() {
        let known = databases().lock().unwrap_or_else(|p| p.into_inner());
        return known.get(data_dir).cloned().unwrap_or_else(|| {
            panic!(
                "{} has no PostgreSQL database: on PostgreSQL a data directory must be a \
                 support::DataDir",
                data_dir.display()
            )
        });
    }
    format!(
        "{}://{}",
        parceld_store_sqlite::URL_SCHEME,
        data_dir.join("parceld.db").display()
    )
}

/// The database of a server's data directory, whether or not a server runs on it, opened from
/// its URL the way the server opens it (with the backend's test back door).
pub async fn open_store(data_dir: &Path) -> Box<dyn StoreTestSupport> {
    let url = database_url(data_dir);
    if on_postgres() {
        let store = PostgresStore::connect(&url, 2).await;
        return Box::new(store.expect("open the store"));
    }
    let path = parceld_store_sqlite::path_of_url(&url).expect("a SQLite URL");
    let store = SqliteStore::open(&path).await.expect("open the store");
    Box::new(store)
}

/// A tracking id the API returned, as the store takes it.
pub fn tracking_id(id: &str) -> TrackingId {
    TrackingId::parse(id).unwrap_or_else(|| panic!("{id} is not a tracking id"))
}

/// Settings built as owned pairs (`engine_env`), in the form [`Server::start_in`] takes.
pub fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The first key id (`key_…`) in an admin command's output.
pub fn extract_key_id(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("key_"))
        .unwrap_or_else(|| panic!("no key id in {text}"))
        .to_string()
}

/// Asserts the rate-limit headers of a response: the limit, what remains, and a reset time.
/// Makes one GET of `path` with the server's first key in `header`, asserts that it succeeds and
/// carries the limit headers, `limit` and `remaining`, then waits for the budget to refill.
pub async fn assert_one_call_shows_its_limit(
    server: &Server,
    path: &str,
    header: &str,
    limit: &str,
    remaining: &str,
) {
    let key = Some((header, server.key()));
    let (status, headers, _) = server.request(Method::GET, path, key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_limit_headers(&headers, limit, remaining);
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

pub fn assert_limit_headers(headers: &HeaderMap, limit: &str, remaining: &str) {
    assert_eq!(headers["x-ratelimit-limit"], limit);
    assert_eq!(headers["x-ratelimit-remaining"], remaining);
    let reset = headers["x-ratelimit-reset"].to_str().unwrap();
    assert!(reset.parse::<u64>().unwrap() > 1_700_000_000, "{reset}");
}

pub fn extract_key(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("pk_"))
        .unwrap_or_else(|| panic!("no key in {text}"))
        .to_string()
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Asserts an error envelope: HTTP status, meta code, and that the message contains `needle`.
pub fn assert_error(status: StatusCode, body: &Value, http: u16, code: u64, needle: &str) {
    assert_eq!(status.as_u16(), http, "{body}");
    assert_eq!(body["meta"]["code"].as_u64(), Some(code), "{body}");
    let message = body["meta"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(needle),
        "message {message:?} should contain {needle:?}"
    );
    assert!(body["data"].is_null(), "{body}");
}
