//! The bench's machinery, shared by the scenarios: `parceld serve` as a child process (so its
//! memory can be read from `/proc`), the HTTP load generator and its latency samples, the carrier
//! simulator in this process with the server's environment pointing at it, and a webhook
//! receiver. Nothing here measures by itself; the scenarios decide what is timed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use parceld_model::LimitClass;
use serde::Serialize;

use super::backend::Backend;

/// Requests/s and latency of one HTTP load.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub connections: usize,
}

/// `parceld serve` as a child process, killed when dropped.
pub(super) struct ServerProcess {
    child: Child,
    pub(super) base: String,
}

impl ServerProcess {
    /// Serves `data_dir`'s database on `backend`, with `env` besides the bench's own settings.
    /// A server refreshing through the UPS adapter at the simulator at `sim`, with
    /// [`REFRESH_CONCURRENCY`] calls in flight, and the moment it was ready.
    pub(super) fn refreshing(
        backend: &Backend,
        data_dir: &Path,
        sim: &str,
    ) -> anyhow::Result<(ServerProcess, Instant)> {
        let server = Self::start(backend, data_dir, &carrier_env(sim, REFRESH_CONCURRENCY))?;
        Ok((server, Instant::now()))
    }

    pub(super) fn start(
        backend: &Backend,
        data_dir: &Path,
        env: &[(String, String)],
    ) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("cannot find the parceld executable")?;
        let mut command = Command::new(exe);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PARCELD_LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for class in LimitClass::ALL {
            let variable = format!("PARCELD_RATE_LIMITS__{}", class.key().to_ascii_uppercase());
            command.env(variable, "1000000000");
        }
        for (k, v) in backend.env(data_dir).iter().chain(env) {
            command.env(k, v);
        }
        let mut child = command.spawn().context("cannot start parceld serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    bail!("parceld serve did not start within 60 s");
                }
            };
            if let Some(address) = line.strip_prefix("parceld listening on ") {
                return Ok(ServerProcess {
                    child,
                    base: address.trim().to_string(),
                });
            }
        }
    }

    /// The server's process id, for reading its `/proc` entries.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident and peak resident memory of the server, in MiB.
    pub(super) fn memory_mb(&self) -> Option<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<f64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024.0)
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

/// What one or more timed loads of a URL measured: each request's latency in microseconds.
#[derive(Default)]
pub(super) struct Samples {
    latencies: Vec<u32>,
    errors: u64,
    seconds: f64,
}

impl Samples {
    pub(super) fn add(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.seconds += other.seconds;
    }

    pub(super) fn summary(mut self, connections: usize) -> Load {
        self.latencies.sort_unstable();
        Load {
            requests: self.latencies.len() as u64,
            errors: self.errors,
            per_second: self.latencies.len() as f64 / self.seconds.max(1e-9),
            p50_ms: percentile(&self.latencies, 0.50),
            p99_ms: percentile(&self.latencies, 0.99),
            connections,
        }
    }
}

/// `url` (with `key`, if any) and the bare `/healthz` of the server at `base`, measured in
/// alternating one-second rounds for `seconds` with `connections` each, after half a second of
/// each to open the connections and warm the caches: (baseline, route). Alternating keeps both
/// under the same conditions: on a shared machine a baseline measured alone moved by half
/// between runs.
pub(super) async fn against_baseline(
    base: &str,
    url: &str,
    key: Caller<'_>,
    connections: usize,
    seconds: f64,
) -> (Load, Load) {
    let hello_url = format!("{base}/healthz");
    let (hello_client, route_client) = (load_client(connections), load_client(connections));
    samples(
        &hello_client,
        &hello_url,
        Caller::Anonymous,
        connections,
        0.5,
    )
    .await;
    samples(&route_client, url, key, connections, 0.5).await;
    let (mut hello, mut route) = (Samples::default(), Samples::default());
    for _ in 0..(seconds.ceil() as usize).max(1) {
        hello.add(
            samples(
                &hello_client,
                &hello_url,
                Caller::Anonymous,
                connections,
                1.0,
            )
            .await,
        );
        route.add(samples(&route_client, url, key, connections, 1.0).await);
    }
    (hello.summary(connections), route.summary(connections))
}

/// Runs `connections` loops of GET `url` for `seconds`.
pub(super) async fn load(url: &str, key: Caller<'_>, connections: usize, seconds: f64) -> Load {
    samples(&load_client(connections), url, key, connections, seconds)
        .await
        .summary(connections)
}

/// An HTTP client that keeps `connections` connections open between loads.
pub(super) fn load_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("an HTTP client")
}

/// Who a load's requests come from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Caller<'a> {
    Anonymous,
    /// A program with this API key.
    Key(&'a str),
    /// A dashboard user with this session token.
    Session(&'a str),
}

impl Caller<'_> {
    /// A GET of `url` from this caller.
    pub(super) fn get(self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        match self.header() {
            Some((name, value)) => client.get(url).header(name, value),
            None => client.get(url),
        }
    }

    /// The header a request of this caller carries.
    fn header(self) -> Option<(&'static str, String)> {
        match self {
            Caller::Anonymous => None,
            Caller::Key(key) => Some(("Tracking-Api-Key", key.to_string())),
            Caller::Session(token) => Some((
                "Cookie",
                format!("{}={token}", parceld_dashboard::session::SESSION_COOKIE),
            )),
        }
    }
}

/// [`load`] with `client`, unsummarised.
pub(super) async fn samples(
    client: &reqwest::Client,
    url: &str,
    key: Caller<'_>,
    connections: usize,
    seconds: f64,
) -> Samples {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = url.to_string();
        let header = key.header();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut request = client.get(&url);
                if let Some((name, value)) = &header {
                    request = request.header(*name, value);
                }
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        if response.bytes().await.is_err() {
                            errors += 1;
                            continue;
                        }
                        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    Samples {
        latencies: all,
        errors,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Carrier calls the refresh and webhook scenarios let the engine have in flight.
pub(super) const REFRESH_CONCURRENCY: usize = 256;

/// The server's environment for a UPS adapter pointing at the simulator at `sim`, unthrottled.
pub(super) fn carrier_env(sim: &str, concurrency: usize) -> Vec<(String, String)> {
    vec![
        (
            "PARCELD_CARRIERS__UPS__BASE_URL".into(),
            format!("{sim}/ups"),
        ),
        ("PARCELD_CARRIERS__UPS__CLIENT_ID".into(), "bench".into()),
        (
            "PARCELD_CARRIERS__UPS__CLIENT_SECRET".into(),
            "bench".into(),
        ),
        (
            "PARCELD_CARRIERS__UPS__RATE_PER_SECOND".into(),
            "1000000".into(),
        ),
        (
            "PARCELD_CARRIERS__UPS__CONCURRENCY".into(),
            concurrency.to_string(),
        ),
        ("PARCELD_ENGINE__IDLE_POLL_MS".into(), "100".into()),
    ]
}

/// The carrier simulator, serving on a free port with `latency_ms` on every answer.
pub(super) async fn start_sim(latency_ms: u64) -> anyhow::Result<(parceld_sim::Simulator, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let sim = parceld_sim::Simulator::new();
    sim.set_faults(
        None,
        parceld_sim::Faults {
            latency_ms: Some((latency_ms, latency_ms)),
            ..parceld_sim::Faults::default()
        },
    );
    tokio::spawn(parceld_sim::serve(listener, sim.clone()));
    Ok((sim, url))
}

/// What the bench's webhook receiver got: (webhook-id, unix milliseconds of receipt).
pub(super) type Received = Arc<Mutex<Vec<(String, i64)>>>;

pub(super) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A receiver that answers 200 at once and notes what arrived when.
pub(super) async fn start_receiver() -> anyhow::Result<(String, Received)> {
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let sink = sink.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((id, unix_ms()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, received))
}
