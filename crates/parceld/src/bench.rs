//! `parceld bench`: the performance figures, measured in one self-contained run.
//!
//! Machines are noisy, so every figure that can be is paired with a baseline measured in the same
//! run on the same machine, and the ratio is what the targets speak of: an authenticated lookup
//! against the bare `/healthz` route of the same server, the refresh pipeline against the carrier
//! adapter calling the simulator directly. The bench starts everything itself — `parceld serve`
//! as a child process (so its memory can be read from `/proc`), the carrier simulator in this
//! process — loads data through the real paths (the store's batch insert, `parceld import`,
//! `POST /v4/trackings/batch`), prints a table and writes the same figures as JSON.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use parceld_model::{Checkpoint, DeliveryStatus, Leg, TrackingFields};
use parceld_store::{NewTracking, RefreshUpdate, Store};
use parceld_store_sqlite::SqliteStore;
use serde::Serialize;
use serde_json::{json, Value};

pub struct Options {
    /// Seconds each timed scenario runs.
    pub seconds: u64,
    /// Trackings stored for the memory and import scenario.
    pub trackings: usize,
    /// Trackings stored for the refresh scenario.
    pub refresh_trackings: usize,
    /// Concurrent connections of the API scenarios.
    pub connections: usize,
    /// Simulated carrier latency in the refresh scenario (milliseconds).
    pub carrier_latency_ms: u64,
    /// Trackings whose first refresh each sends one webhook, in the throughput run.
    pub webhook_trackings: usize,
    /// Only these scenarios (detection, api, refresh, webhooks, memory); all when empty.
    pub only: Vec<String>,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// Where temporary data goes.
    pub work_dir: Option<PathBuf>,
    /// Keep `work_dir` afterwards instead of removing it.
    pub keep: bool,
}

impl Options {
    /// The full run, with the scales the performance targets name.
    pub fn full() -> Options {
        Options {
            seconds: 10,
            trackings: 1_000_000,
            refresh_trackings: 100_000,
            connections: 64,
            carrier_latency_ms: 50,
            webhook_trackings: 20_000,
            only: Vec::new(),
            json: None,
            work_dir: None,
            keep: false,
        }
    }

    /// A small run that exercises every scenario in seconds (for checking that the bench works,
    /// not for figures).
    pub fn quick() -> Options {
        Options {
            seconds: 1,
            trackings: 20_000,
            refresh_trackings: 3_000,
            connections: 16,
            webhook_trackings: 1_000,
            ..Options::full()
        }
    }
}

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

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub machine: Value,
    pub api_hello: Option<Load>,
    pub api_get_one: Option<Load>,
    /// `api_get_one.per_second / api_hello.per_second`.
    pub api_get_one_ratio: Option<f64>,
    pub api_page_2000: Option<Load>,
    pub ingest_per_second: Option<f64>,
    pub refresh_per_second: Option<f64>,
    pub refresh_adapter_direct_per_second: Option<f64>,
    /// `refresh_per_second / refresh_adapter_direct_per_second`.
    pub refresh_ratio: Option<f64>,
    pub refresh_trackings_stored: usize,
    pub detection_per_second_one_core: Option<f64>,
    /// Share of random 10–22 character strings (A-Z0-9, and digits only) given any candidate.
    pub detection_false_positive_alnum: Option<f64>,
    pub detection_false_positive_digits: Option<f64>,
    /// The same, counting only candidates whose check digit validated.
    pub detection_validated_alnum: Option<f64>,
    pub detection_validated_digits: Option<f64>,
    pub import_trackings: usize,
    pub import_seconds: Option<f64>,
    pub rss_idle_mb: Option<f64>,
    pub rss_peak_refreshing_mb: Option<f64>,
    /// Deliveries/s while the engine produces changes as fast as it can.
    pub webhook_deliveries_per_second: Option<f64>,
    pub webhook_deliveries: usize,
    /// Change (written with the refresh) to receipt by the receiver, with changes at 500/s.
    pub webhook_latency_p50_ms: Option<f64>,
    pub webhook_latency_p99_ms: Option<f64>,
    pub webhook_latency_rate: f64,
}

/// `parceld serve` as a child process, killed when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl ServerProcess {
    fn start(data_dir: &Path, env: &[(String, String)]) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("cannot find the parceld executable")?;
        let mut command = Command::new(exe);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PARCELD_LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for class in [
            "V4_CREATE",
            "V4_REALTIME",
            "V4_OTHER",
            "V2_REALTIME",
            "V2_LIST",
            "V2_OTHER",
        ] {
            command.env(format!("PARCELD_RATE_LIMITS__{class}"), "1000000000");
        }
        for (k, v) in env {
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

    /// Resident and peak resident memory of the server, in MiB.
    fn memory_mb(&self) -> Option<(f64, f64)> {
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
struct Samples {
    latencies: Vec<u32>,
    errors: u64,
    seconds: f64,
}

impl Samples {
    fn add(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.seconds += other.seconds;
    }

    fn summary(mut self, connections: usize) -> Load {
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

/// Runs `connections` loops of GET `url` for `seconds`.
async fn load(url: &str, key: Option<&str>, connections: usize, seconds: f64) -> Load {
    samples(&load_client(connections), url, key, connections, seconds)
        .await
        .summary(connections)
}

/// An HTTP client that keeps `connections` connections open between loads.
fn load_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("an HTTP client")
}

/// [`load`] with `client`, unsummarised.
async fn samples(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    connections: usize,
    seconds: f64,
) -> Samples {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = url.to_string();
        let key = key.map(str::to_string);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut request = client.get(&url);
                if let Some(key) = &key {
                    request = request.header("Tracking-Api-Key", key);
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

fn checkpoints(count: usize) -> Vec<Checkpoint> {
    let base = Utc::now() - chrono::Duration::days(3);
    (0..count)
        .rev()
        .map(|i| {
            let time = base + chrono::Duration::hours(i as i64 * 6);
            Checkpoint {
                leg: Leg::Origin,
                time,
                checkpoint_date: time.to_rfc3339(),
                status: DeliveryStatus::Transit,
                substatus: None,
                detail: format!("Arrived at sort facility {i}"),
                location: "Amsterdam, NL".into(),
                country_iso2: "NL".into(),
                state: String::new(),
                city: "Amsterdam".into(),
                zip: "1011".into(),
                raw_status: "AR".into(),
                raw_time: String::new(),
            }
        })
        .collect()
}

fn new_trackings(prefix: &str, courier: &str, range: std::ops::Range<usize>) -> Vec<NewTracking> {
    range
        .map(|i| NewTracking {
            tracking_number: match courier {
                "ups" => format!("1Z{prefix}{i:014}"),
                _ => format!("SANDBOX-DELIVERED-{prefix}{i:09}"),
            },
            courier_code: courier.to_string(),
            courier_detected: false,
            fields: TrackingFields {
                order_number: Some(format!("#{i}")),
                ..TrackingFields::default()
            },
            status_info: None,
        })
        .collect()
}

async fn store_in(dir: &Path) -> anyhow::Result<(SqliteStore, i64, String)> {
    std::fs::create_dir_all(dir)?;
    let store = SqliteStore::open(&dir.join("parceld.db")).await?;
    let key = store
        .bootstrap("default")
        .await?
        .context("a fresh database gives a first key")?;
    Ok((store, key.info.account_id, key.key))
}

async fn bulk_create(
    store: &SqliteStore,
    account: i64,
    courier: &str,
    count: usize,
) -> anyhow::Result<()> {
    let mut done = 0;
    while done < count {
        let next = (done + 5000).min(count);
        store
            .create_trackings(account, new_trackings("0", courier, done..next))
            .await?;
        done = next;
    }
    Ok(())
}

/// API scenarios: hello-world, one tracking, a 2000-tracking page, batch ingest.
async fn api(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (store, account, key) = store_in(dir).await?;
    bulk_create(&store, account, "sandbox", 2000).await?;
    // Give every tracking 10 checkpoints through the refresh path.
    let now = Utc::now() + chrono::Duration::seconds(1);
    let claimed = store
        .claim_due(
            "bench",
            now,
            now + chrono::Duration::minutes(5),
            2000,
            "sandbox",
        )
        .await?;
    let events = checkpoints(10);
    let updates: Vec<RefreshUpdate> = claimed
        .iter()
        .map(|c| RefreshUpdate {
            pk: c.pk,
            latest_event: Some(events[0].detail.clone()),
            latest_checkpoint_time: Some(events[0].time),
            checkpoints: events.clone(),
            shipment: None,
            delivery_status: DeliveryStatus::Transit,
            substatus: None,
            status_info: None,
            check_error: None,
            check_failures: 0,
            notfound_since: None,
            next_check_at: Some(now + chrono::Duration::hours(3)),
            checked_at: now,
        })
        .collect();
    store.apply_refresh("bench", updates).await?;
    drop(store);

    let server = ServerProcess::start(dir, &[("PARCELD_SERVER__WORKER".into(), "false".into())])?;
    let seconds = options.seconds as f64;
    let n = options.connections;
    // The route and its baseline alternate in one-second rounds, so both are measured under
    // the same conditions: on a shared machine the baseline alone moved by half between runs.
    let one_number = "SANDBOX-DELIVERED-0000001000";
    let one_url = format!(
        "{}/v4/trackings/get?tracking_numbers={one_number}",
        server.base
    );
    let hello_url = format!("{}/healthz", server.base);
    let (hello_client, one_client) = (load_client(n), load_client(n));
    // Open the connections and warm the caches before the clock runs.
    samples(&hello_client, &hello_url, None, n, 0.5).await;
    samples(&one_client, &one_url, Some(&key), n, 0.5).await;
    let (mut hello, mut one) = (Samples::default(), Samples::default());
    for _ in 0..(seconds.ceil() as usize).max(1) {
        hello.add(samples(&hello_client, &hello_url, None, n, 1.0).await);
        one.add(samples(&one_client, &one_url, Some(&key), n, 1.0).await);
    }
    let (hello, one) = (hello.summary(n), one.summary(n));
    if one.errors > 0 && one.requests == 0 {
        bail!("GET one tracking failed every time");
    }
    let page = load(
        &format!(
            "{}/v4/trackings/get?items_amount=2000&pages_amount=1",
            server.base
        ),
        Some(&key),
        1,
        seconds,
    )
    .await;
    report.api_get_one_ratio = Some(one.per_second / hello.per_second.max(1e-9));
    report.api_hello = Some(hello);
    report.api_get_one = Some(one);
    report.api_page_2000 = Some(page);
    report.ingest_per_second = Some(ingest(&server.base, &key, options).await?);
    Ok(())
}

/// Batch create through the API, 40 a call, for the scenario's time.
async fn ingest(base: &str, key: &str, options: &Options) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..16usize {
        let client = client.clone();
        let url = format!("{base}/v4/trackings/batch");
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let mut created = 0u64;
            let mut call = 0usize;
            while Instant::now() < deadline {
                let body: Vec<Value> = (0..40)
                    .map(|i| {
                        json!({
                            "tracking_number": format!("SANDBOX-DELIVERED-I{worker:02}{call:08}{i:02}"),
                            "courier_code": "sandbox",
                            "order_number": format!("#{call}-{i}"),
                        })
                    })
                    .collect();
                call += 1;
                let Ok(response) = client
                    .post(&url)
                    .header("Tracking-Api-Key", &key)
                    .json(&body)
                    .send()
                    .await
                else {
                    continue;
                };
                let Ok(value) = response.json::<Value>().await else {
                    continue;
                };
                created += value["data"]["success"]
                    .as_array()
                    .map(|a| a.len() as u64)
                    .unwrap_or(0);
            }
            created
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.unwrap_or(0);
    }
    Ok(created as f64 / started.elapsed().as_secs_f64())
}

fn carrier_env(sim: &str, concurrency: usize) -> Vec<(String, String)> {
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

async fn start_sim(latency_ms: u64) -> anyhow::Result<(parceld_sim::Simulator, String)> {
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

/// Trackings checked at least once, read straight from the database file.
async fn checked(db: &sqlx::SqlitePool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM trackings WHERE last_checked_at IS NOT NULL")
            .fetch_one(db)
            .await?,
    )
}

const REFRESH_CONCURRENCY: usize = 256;

/// Refresh: trackings/s end to end against the adapter calling the simulator directly.
async fn refresh(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (_sim, sim_url) = start_sim(options.carrier_latency_ms).await?;
    let seconds = options.seconds as f64;
    // Baseline: the UPS adapter alone, as many calls in flight as the engine may have.
    let carriers =
        parceld_carriers::Carriers::from_settings(&std::collections::HashMap::from([(
            "ups".to_string(),
            parceld_carriers::CarrierSettings {
                base_url: Some(format!("{sim_url}/ups")),
                client_id: Some("bench".into()),
                client_secret: Some("bench".into()),
                rate_per_second: Some(1_000_000.0),
                concurrency: Some(REFRESH_CONCURRENCY),
                ..Default::default()
            },
        )]))?;
    let ups = carriers.get("ups").context("the UPS adapter")?;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..REFRESH_CONCURRENCY {
        let ups = ups.clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = 0u64;
            let mut i = 0u64;
            while Instant::now() < deadline {
                let number = format!("1Z9{worker:03}{i:012}");
                i += 1;
                let request = parceld_carriers::TrackRequest::new(&number);
                if ups.track(std::slice::from_ref(&request)).await[0].1.is_ok() {
                    answered += 1;
                }
            }
            answered
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += task.await.unwrap_or(0);
    }
    report.refresh_adapter_direct_per_second =
        Some(answered as f64 / started.elapsed().as_secs_f64());

    let (store, account, _key) = store_in(dir).await?;
    bulk_create(&store, account, "ups", options.refresh_trackings).await?;
    drop(store);
    report.refresh_trackings_stored = options.refresh_trackings;
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.join("parceld.db").display()
    ))
    .await?;
    let _server = ServerProcess::start(dir, &carrier_env(&sim_url, REFRESH_CONCURRENCY))?;
    // Measure from the first refresh on, for the scenario's time or until all are done.
    let wait = Instant::now();
    while checked(&db).await? == 0 {
        if wait.elapsed() > Duration::from_secs(60) {
            bail!("no tracking was refreshed within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let from = checked(&db).await?;
    let started = Instant::now();
    let target = options.refresh_trackings as i64;
    let mut to = from;
    while started.elapsed().as_secs_f64() < seconds && to < target {
        tokio::time::sleep(Duration::from_millis(100)).await;
        to = checked(&db).await?;
    }
    report.refresh_per_second = Some((to - from) as f64 / started.elapsed().as_secs_f64());
    report.refresh_ratio = Some(
        report.refresh_per_second.unwrap_or(0.0)
            / report
                .refresh_adapter_direct_per_second
                .unwrap_or(1.0)
                .max(1e-9),
    );
    Ok(())
}

/// Detection speed on one core, and how often random strings are taken for tracking numbers.
fn detection(options: &Options, report: &mut Report) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut numbers = Vec::new();
    for i in 0..50_000u64 {
        numbers.push(match i % 5 {
            0 => format!("1Z{:016}", rng.gen::<u64>() % 10u64.pow(16)),
            1 => format!("9400{:018}", i * 7919),
            2 => format!("{:012}", rng.gen::<u64>() % 10u64.pow(12)),
            3 => format!("RR{:09}NL", i),
            _ => format!("3S{:011}", i),
        });
    }
    let budget = Duration::from_secs_f64((options.seconds as f64 / 2.0).max(0.5));
    let started = Instant::now();
    let mut detected = 0u64;
    let mut runs = 0u64;
    while started.elapsed() < budget {
        for n in &numbers {
            detected += parceld_detect::detect(n).len() as u64;
        }
        runs += numbers.len() as u64;
    }
    std::hint::black_box(detected);
    report.detection_per_second_one_core = Some(runs as f64 / started.elapsed().as_secs_f64());
    let trials = 100_000;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    // (any candidate, a candidate with a validated check digit) for letters+digits, digits only.
    let mut hits = [[0u32; 2]; 2];
    for _ in 0..trials {
        let len = rng.gen_range(10..=22);
        let alnum: String = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
            .collect();
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect();
        for (kind, text) in [alnum, digits].iter().enumerate() {
            let candidates = parceld_detect::detect(text);
            if !candidates.is_empty() {
                hits[kind][0] += 1;
            }
            if candidates
                .iter()
                .any(|c| c.check_digit == parceld_detect::CheckDigit::Valid)
            {
                hits[kind][1] += 1;
            }
        }
    }
    let rate = |n: u32| Some(f64::from(n) / f64::from(trials));
    report.detection_false_positive_alnum = rate(hits[0][0]);
    report.detection_false_positive_digits = rate(hits[1][0]);
    report.detection_validated_alnum = rate(hits[0][1]);
    report.detection_validated_digits = rate(hits[1][1]);
}

/// Import of `options.trackings` with `parceld import`, then the server's memory idle and while
/// refreshing them.
async fn memory(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (store, _account, _key) = store_in(dir).await?;
    drop(store);
    let file = dir.join("import.jsonl");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..options.trackings {
            writeln!(
                out,
                "{{\"tracking_number\":\"1Z8{i:015}\",\"courier_code\":\"ups\",\"order_number\":\"#{i}\",\"customer_email\":\"buyer{i}@example.com\"}}"
            )?;
        }
        out.flush()?;
    }
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let output = Command::new(exe)
        .arg("--data-dir")
        .arg(dir)
        .arg("import")
        .arg(&file)
        .output()?;
    if !output.status.success() {
        bail!(
            "parceld import failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    report.import_seconds = Some(started.elapsed().as_secs_f64());
    report.import_trackings = options.trackings;
    std::fs::remove_file(&file).ok();

    {
        let idle = ServerProcess::start(dir, &[("PARCELD_SERVER__WORKER".into(), "false".into())])?;
        let client = reqwest::Client::new();
        // One list call, so the idle figure includes a warmed-up server.
        let _ = client.get(format!("{}/readyz", idle.base)).send().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        report.rss_idle_mb = idle.memory_mb().map(|(rss, _)| rss);
    }
    let (_sim, sim_url) = start_sim(options.carrier_latency_ms).await?;
    let busy = ServerProcess::start(dir, &carrier_env(&sim_url, REFRESH_CONCURRENCY))?;
    let started = Instant::now();
    let mut peak: f64 = 0.0;
    while started.elapsed() < Duration::from_secs(options.seconds.max(2)) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some((_, hwm)) = busy.memory_mb() {
            peak = peak.max(hwm);
        }
    }
    report.rss_peak_refreshing_mb = Some(peak);
    Ok(())
}

/// What the bench's webhook receiver got: (webhook-id, unix milliseconds of receipt).
type Received = Arc<Mutex<Vec<(String, i64)>>>;

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A receiver that answers 200 at once and notes what arrived when.
async fn start_receiver() -> anyhow::Result<(String, Received)> {
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

/// One webhook run: `count` due UPS trackings, one endpoint; every first refresh is a change
/// and sends one delivery. Returns (deliveries/s from first to last receipt, change-to-receipt
/// latencies in ms).
async fn webhook_run(
    dir: &Path,
    count: usize,
    carrier_rate: Option<f64>,
    sim_url: &str,
    receiver: &(String, Received),
) -> anyhow::Result<(f64, Vec<f64>)> {
    let (store, account, _key) = store_in(dir).await?;
    bulk_create(&store, account, "ups", count).await?;
    let endpoint = parceld_store::NewWebhook {
        url: receiver.0.clone(),
        description: "bench receiver".into(),
        statuses: Vec::new(),
        version: parceld_store::WebhookVersion::V4,
        enabled: true,
        secret: "whsec_cGFyY2VsZC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OQ==".into(),
    };
    store.create_webhook(account, &endpoint, 10).await?;
    drop(store);
    receiver.1.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let mut env = carrier_env(sim_url, REFRESH_CONCURRENCY);
    if let Some(rate) = carrier_rate {
        env.push((
            "PARCELD_CARRIERS__UPS__RATE_PER_SECOND".into(),
            rate.to_string(),
        ));
    }
    env.extend([
        (
            "PARCELD_WEBHOOKS__ALLOW_NETWORKS".to_string(),
            "[\"127.0.0.0/8\"]".to_string(),
        ),
        (
            "PARCELD_WEBHOOKS__PER_ENDPOINT_CONCURRENCY".into(),
            "64".into(),
        ),
        ("PARCELD_WEBHOOKS__IDLE_POLL_MS".into(), "20".into()),
    ]);
    let server = ServerProcess::start(dir, &env)?;
    let deadline = Instant::now() + Duration::from_secs(120 + count as u64 / 100);
    loop {
        let got = receiver.1.lock().unwrap_or_else(|p| p.into_inner()).len();
        if got >= count {
            break;
        }
        if Instant::now() > deadline {
            bail!("the receiver got {got} of {count} webhooks in time");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
    let received = receiver.1.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let first = received.iter().map(|r| r.1).min().unwrap_or(0);
    let last = received.iter().map(|r| r.1).max().unwrap_or(0);
    let per_second = received.len() as f64 / ((last - first).max(1) as f64 / 1000.0);
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.join("parceld.db").display()
    ))
    .await?;
    let created: std::collections::HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT event_id, created_ms FROM webhook_deliveries")
            .fetch_all(&db)
            .await?
            .into_iter()
            .collect();
    let latencies = received
        .iter()
        .filter_map(|(id, at)| created.get(id).map(|c| (at - c) as f64))
        .collect();
    Ok((per_second, latencies))
}

/// Webhooks: throughput with changes as fast as the engine makes them, and change-to-receipt
/// latency with changes at 500/s.
async fn webhooks(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (_sim, sim_url) = start_sim(0).await?;
    let receiver = start_receiver().await?;
    let (per_second, _) = webhook_run(
        &dir.join("throughput"),
        options.webhook_trackings,
        None,
        &sim_url,
        &receiver,
    )
    .await?;
    report.webhook_deliveries_per_second = Some(per_second);
    report.webhook_deliveries = options.webhook_trackings;
    let rate = 500.0;
    let count = (rate as u64 * options.seconds.max(2)) as usize;
    let (_, mut latencies) =
        webhook_run(&dir.join("latency"), count, Some(rate), &sim_url, &receiver).await?;
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pick = |p: f64| {
        (!latencies.is_empty())
            .then(|| latencies[((latencies.len() - 1) as f64 * p).round() as usize])
    };
    report.webhook_latency_p50_ms = pick(0.50);
    report.webhook_latency_p99_ms = pick(0.99);
    report.webhook_latency_rate = rate;
    Ok(())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory": memory,
        "os": std::env::consts::OS,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "date": Utc::now().to_rfc3339(),
    })
}

/// Runs every scenario and prints the table (and the JSON, when asked).
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let work = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("parceld-bench-{}", std::process::id())),
    };
    if work.exists() {
        std::fs::remove_dir_all(&work).ok();
    }
    std::fs::create_dir_all(&work)?;
    let mut report = Report {
        machine: machine(),
        ..Report::default()
    };
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    if wanted("detection") {
        eprintln!("bench: detection");
        detection(&options, &mut report);
    }
    if wanted("api") {
        eprintln!("bench: API and ingest");
        api(&options, &work.join("api"), &mut report).await?;
    }
    if wanted("refresh") {
        eprintln!("bench: refresh");
        refresh(&options, &work.join("refresh"), &mut report).await?;
    }
    if wanted("webhooks") {
        eprintln!("bench: webhooks");
        webhooks(&options, &work.join("webhooks"), &mut report).await?;
    }
    if wanted("memory") {
        eprintln!("bench: import and memory");
        memory(&options, &work.join("memory"), &mut report).await?;
    }
    if options.keep {
        eprintln!("bench: data kept in {}", work.display());
    } else {
        std::fs::remove_dir_all(&work).ok();
    }
    say!("{}", table(&report, &options).trim_end());
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("JSON written to {}", path.display());
    }
    Ok(report)
}

fn table(r: &Report, o: &Options) -> String {
    let f = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "-".into(),
    };
    let load = |l: &Option<Load>| match l {
        Some(l) => format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} connections, {} errors)",
            l.per_second, l.p50_ms, l.p99_ms, l.connections, l.errors
        ),
        None => "-".into(),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "parceld bench — {} ({} cores, {}), {} build, {} s per scenario\n\n",
        r.machine["cpu"].as_str().unwrap_or("?"),
        r.machine["cores"],
        r.machine["memory"].as_str().unwrap_or("?"),
        r.machine["profile"].as_str().unwrap_or("?"),
        o.seconds
    ));
    let rows: Vec<(&str, String, &str)> = vec![
        ("GET /healthz (baseline)", load(&r.api_hello), ""),
        ("GET one tracking", load(&r.api_get_one), "p99 < 10 ms"),
        ("  ratio to baseline", f(r.api_get_one_ratio, 2), "≥ 0.40"),
        (
            "GET 2000-tracking page",
            load(&r.api_page_2000),
            "p50 < 50 ms",
        ),
        (
            "batch create (40/call)",
            format!("{} trackings/s", f(r.ingest_per_second, 0)),
            "≥ 10,000/s",
        ),
        (
            "refresh, adapter direct (baseline)",
            format!(
                "{} trackings/s ({} ms carrier latency)",
                f(r.refresh_adapter_direct_per_second, 0),
                o.carrier_latency_ms
            ),
            "",
        ),
        (
            "refresh end to end",
            format!(
                "{} trackings/s ({} stored), ratio {}",
                f(r.refresh_per_second, 0),
                r.refresh_trackings_stored,
                f(r.refresh_ratio, 2)
            ),
            "≥ 2,000/s",
        ),
        (
            "detection, one core",
            format!("{} numbers/s", f(r.detection_per_second_one_core, 0)),
            "≥ 1,000,000/s",
        ),
        (
            "detection of random 10-22 char strings",
            format!(
                "A-Z0-9: {}% any, {}% check digit; digits: {}% any, {}% check digit",
                f(r.detection_false_positive_alnum.map(|v| v * 100.0), 2),
                f(r.detection_validated_alnum.map(|v| v * 100.0), 2),
                f(r.detection_false_positive_digits.map(|v| v * 100.0), 2),
                f(r.detection_validated_digits.map(|v| v * 100.0), 2)
            ),
            "",
        ),
        (
            "import (parceld import, JSON lines)",
            format!(
                "{} trackings in {} s",
                r.import_trackings,
                f(r.import_seconds, 1)
            ),
            "1M < 120 s",
        ),
        (
            "RSS idle",
            format!(
                "{} MiB with {} stored",
                f(r.rss_idle_mb, 0),
                r.import_trackings
            ),
            "< 200 MiB at 1M",
        ),
        (
            "RSS peak while refreshing",
            format!("{} MiB", f(r.rss_peak_refreshing_mb, 0)),
            "",
        ),
        (
            "webhooks, throughput",
            format!(
                "{} deliveries/s ({} deliveries)",
                f(r.webhook_deliveries_per_second, 0),
                r.webhook_deliveries
            ),
            "≥ 1,000/s",
        ),
        (
            "webhooks, change to receipt",
            format!(
                "p50 {} ms, p99 {} ms at {:.0} changes/s",
                f(r.webhook_latency_p50_ms, 1),
                f(r.webhook_latency_p99_ms, 1),
                r.webhook_latency_rate
            ),
            "p99 < 1 s at 500/s",
        ),
    ];
    for (name, value, target) in rows {
        out.push_str(&format!("{name:<38} {value:<80} {target}\n"));
    }
    out
}
