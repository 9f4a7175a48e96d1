//! The soak scenario: everything a running server does, at once, for a long time, watching for
//! what only time shows — errors that come rarely, memory or descriptors that leak a little per
//! request, per refresh, per delivery or per import.
//!
//! One server (with its worker) runs on a fresh database beside the carrier simulator and a
//! webhook receiver with an endpoint pointing at it. For the whole duration, at once: API load at
//! a bounded rate (GET one, list pages, creates, updates), refreshes of UPS trackings due every
//! few seconds while the simulator's clock moves their journeys on, the webhooks those changes
//! send, and `parceld import` of a small file at intervals. Samples of the server's resident
//! memory and open descriptors are taken at regular intervals; the verdict compares the last
//! third of the run with the second (the first third is warm-up: caches and pools fill).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use parceld_store::CreateWebhook;
use serde::Serialize;
use serde_json::json;

use super::backend::Backend;
use super::data::{bulk_create, read_only, store_in};
use super::harness::{carrier_env, load_client, start_receiver, start_sim, ServerProcess};
use super::{Options, Report};

/// Trackings stored before the server starts.
const STORED: usize = 1000;
/// API requests per second, across all loops.
const API_RATE: u64 = 40;
/// Concurrent API loops.
const API_LOOPS: u64 = 4;
/// Trackings per imported file.
const IMPORT_LINES: usize = 50;
/// The most a run samples every: short runs sample more often, so they still have thirds.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Allowed growth of the last third's peak over the second third's.
const RSS_GROWTH_FRACTION: f64 = 0.10;
const RSS_GROWTH_MIB: f64 = 8.0;
const FD_GROWTH: i64 = 5;

/// One sample of the server, taken during the run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakSample {
    pub seconds: f64,
    pub rss_mb: f64,
    pub fds: i64,
    pub api_requests: u64,
    pub errors: u64,
    pub imports: u64,
    pub webhooks_received: usize,
    pub webhooks_failed: i64,
}

/// What the soak found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SoakResult {
    pub seconds: f64,
    pub samples: Vec<SoakSample>,
    pub api_requests: u64,
    pub api_errors: u64,
    pub imports: u64,
    pub import_errors: u64,
    pub webhooks_received: usize,
    /// Deliveries that gave up and attempts that did not get a 2xx.
    pub webhook_failures: i64,
    pub errors: u64,
    pub rss_second_third_max_mb: f64,
    pub rss_last_third_max_mb: f64,
    pub fds_second_third_max: i64,
    pub fds_last_third_max: i64,
    pub passed: bool,
    pub verdict: String,
}

/// Parses a duration such as `90s`, `10m`, `1h30m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "`{text}`: use a number with h, m or s, e.g. 10m or 90s"
                ))
            }
        };
        let value: u64 = number
            .parse()
            .map_err(|_| format!("`{text}`: a unit without a number"))?;
        total += value * unit;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(format!(
            "`{text}`: use a number with h, m or s, e.g. 10m or 90s"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// Counters the load loops share with the sampler.
#[derive(Default)]
struct Counters {
    api_requests: AtomicU64,
    api_errors: AtomicU64,
    imports: AtomicU64,
    import_errors: AtomicU64,
}

/// Numbers and ids the API loops read and update.
#[derive(Default)]
struct Known {
    numbers: Vec<String>,
    ids: Vec<String>,
}

/// Resident memory (MiB) and open descriptors of process `pid`.
fn rss_and_fds(pid: u32) -> Option<(f64, i64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as i64;
    Some((kb / 1024.0, fds))
}

/// One API request of the mix; `Ok(true)` when it answered 2xx with a body read in full.
async fn api_request(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    known: &Mutex<Known>,
    worker: u64,
    i: u64,
) -> bool {
    let pick = |list: &Vec<String>| -> Option<String> {
        (!list.is_empty())
            .then(|| list[((i * 7919 + worker * 104_729) as usize) % list.len()].clone())
    };
    let request = match i % 10 {
        // Creates: 10 %; each asks the carrier (v4 create is real-time).
        0 => {
            let number = format!("1ZS{worker}{i:014}");
            client
                .post(format!("{base}/v4/trackings/create"))
                .json(&json!({"tracking_number": number, "courier_code": "ups"}))
        }
        // Updates: 10 %.
        1 => {
            let id = pick(&known.lock().unwrap_or_else(|p| p.into_inner()).ids);
            let Some(id) = id else { return true };
            client
                .put(format!("{base}/v4/trackings/update/{id}"))
                .json(&json!({"order_number": format!("#soak-{worker}-{i}")}))
        }
        // List pages: 20 %.
        2 | 3 => client.get(format!(
            "{base}/v4/trackings/get?items_amount=100&pages_amount={}",
            i % 5 + 1
        )),
        // GET one: 60 %.
        _ => {
            let number = pick(&known.lock().unwrap_or_else(|p| p.into_inner()).numbers);
            let Some(number) = number else { return true };
            client.get(format!("{base}/v4/trackings/get?tracking_numbers={number}"))
        }
    };
    let response = match request.header("Tracking-Api-Key", key).send().await {
        Ok(response) if response.status().is_success() => response,
        _ => return false,
    };
    let Ok(body) = response.bytes().await else {
        return false;
    };
    if i.is_multiple_of(10) {
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let (Some(id), Some(number)) = (
            value.pointer("/data/id").and_then(|v| v.as_str()),
            value
                .pointer("/data/tracking_number")
                .and_then(|v| v.as_str()),
        ) else {
            return false;
        };
        let mut known = known.lock().unwrap_or_else(|p| p.into_inner());
        known.ids.push(id.to_string());
        known.numbers.push(number.to_string());
    }
    true
}

/// Runs `parceld import` of a fresh small file into the database in `dir`.
fn import_once(dir: &Path, round: u64) -> anyhow::Result<()> {
    let file = dir.join(format!("soak-import-{round}.jsonl"));
    let lines: String = (0..IMPORT_LINES)
        .map(|i| {
            format!(
                "{{\"tracking_number\":\"1ZI{round:04}{i:011}\",\"courier_code\":\"ups\",\"order_number\":\"#import-{round}-{i}\"}}\n"
            )
        })
        .collect();
    std::fs::write(&file, lines)?;
    let output = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(dir)
        .arg("import")
        .arg(&file)
        .output()?;
    std::fs::remove_file(&file).ok();
    if !output.status.success() {
        bail!(
            "parceld import failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Webhook deliveries that gave up plus attempts that got no 2xx, read from the database file.
async fn webhook_failures(db: &sqlx::SqlitePool) -> anyhow::Result<i64> {
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'failed'")
            .fetch_one(db)
            .await?;
    let bad_attempts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_attempts WHERE http_status IS NULL OR http_status NOT BETWEEN 200 AND 299",
    )
    .fetch_one(db)
    .await?;
    Ok(failed + bad_attempts)
}

/// The largest value of `f` over `samples`.
fn peak<T: PartialOrd + Copy>(samples: &[SoakSample], f: impl Fn(&SoakSample) -> T) -> Option<T> {
    samples
        .iter()
        .map(f)
        .reduce(|a, b| if b > a { b } else { a })
}

/// Errors = 0, and the last third's peaks within the allowed growth of the second third's.
fn verdict(result: &mut SoakResult) {
    let n = result.samples.len();
    let (second, last) = (
        &result.samples[n / 3..(2 * n / 3).max(n / 3 + 1).min(n)],
        &result.samples[(2 * n / 3).min(n.saturating_sub(1))..],
    );
    result.rss_second_third_max_mb = peak(second, |s| s.rss_mb).unwrap_or(0.0);
    result.rss_last_third_max_mb = peak(last, |s| s.rss_mb).unwrap_or(0.0);
    result.fds_second_third_max = peak(second, |s| s.fds).unwrap_or(0);
    result.fds_last_third_max = peak(last, |s| s.fds).unwrap_or(0);
    let rss_limit = result.rss_second_third_max_mb
        + (result.rss_second_third_max_mb * RSS_GROWTH_FRACTION).max(RSS_GROWTH_MIB);
    let fd_limit = result.fds_second_third_max + FD_GROWTH;
    let mut problems = Vec::new();
    if n < 3 {
        problems.push(format!("only {n} samples"));
    }
    if result.errors > 0 {
        problems.push(format!("{} errors", result.errors));
    }
    if result.rss_last_third_max_mb > rss_limit {
        problems.push(format!(
            "RSS grew to {:.1} MiB (limit {rss_limit:.1})",
            result.rss_last_third_max_mb
        ));
    }
    if result.fds_last_third_max > fd_limit {
        problems.push(format!(
            "descriptors grew to {} (limit {fd_limit})",
            result.fds_last_third_max
        ));
    }
    result.passed = problems.is_empty();
    result.verdict = if result.passed {
        format!(
            "PASS: 0 errors; RSS peak {:.1} → {:.1} MiB (limit {rss_limit:.1}), descriptors {} → {} (limit {fd_limit})",
            result.rss_second_third_max_mb,
            result.rss_last_third_max_mb,
            result.fds_second_third_max,
            result.fds_last_third_max
        )
    } else {
        format!("FAIL: {}", problems.join("; "))
    };
}

/// The soak: `duration` of everything at once, sampled; the result goes into `report.soak`.
pub(super) async fn run(
    duration: Duration,
    options: &Options,
    dir: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (store, account, key) = store_in(&Backend::Sqlite, dir).await?;
    bulk_create(store.as_ref(), account, "ups", STORED).await?;
    let (receiver_url, received) = start_receiver().await?;
    let endpoint = parceld_store::NewWebhook {
        url: receiver_url,
        description: "soak receiver".into(),
        statuses: Vec::new(),
        version: parceld_store::WebhookVersion::V4,
        enabled: true,
        secret: "whsec_cGFyY2VsZC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OQ==".into(),
    };
    let CreateWebhook::Created(_) = store.create_webhook(account, &endpoint, 10).await? else {
        bail!("a fresh account could not get a webhook endpoint");
    };
    drop(store);
    let (sim, sim_url) = start_sim(options.carrier_latency_ms.min(20)).await?;
    let mut env = carrier_env(&sim_url, 64);
    env.extend(
        [
            ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "5"),
            ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[5]"),
            ("PARCELD_ENGINE__BACKOFF_BASE_SECS", "5"),
            ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let server = ServerProcess::start(&Backend::Sqlite, dir, &env)?;
    let pid = server.pid();
    let base = server.base.clone();
    let db = read_only(dir).await?;

    let known = Arc::new(Mutex::new(Known {
        numbers: (0..STORED).map(|i| format!("1Z0{i:015}")).collect(),
        ids: Vec::new(),
    }));
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let deadline = started + duration;
    let client = load_client(API_LOOPS as usize);
    let mut tasks = Vec::new();
    for worker in 0..API_LOOPS {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let (known, counters) = (known.clone(), counters.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_micros(1_000_000 * API_LOOPS / API_RATE));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 0u64;
            while Instant::now() < deadline {
                tick.tick().await;
                let ok = tokio::time::timeout(
                    Duration::from_secs(30),
                    api_request(&client, &base, &key, &known, worker, i),
                )
                .await
                .unwrap_or(false);
                counters.api_requests.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    counters.api_errors.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    // The carrier side: every few seconds the simulated journeys move on by one event, so each
    // refresh finds something new and sends a webhook.
    tasks.push(tokio::spawn(async move {
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(5)).await;
            sim.advance(Duration::from_secs(
                parceld_sim::journey::STEP_HOURS as u64 * 3600,
            ));
        }
    }));
    let import_every = (duration / 8).clamp(Duration::from_secs(5), Duration::from_secs(30));
    {
        let (dir, counters) = (dir.to_path_buf(), counters.clone());
        tasks.push(tokio::spawn(async move {
            let mut round = 0u64;
            while Instant::now() + import_every < deadline {
                tokio::time::sleep(import_every).await;
                let dir = dir.clone();
                let outcome = tokio::task::spawn_blocking(move || import_once(&dir, round)).await;
                counters.imports.fetch_add(1, Ordering::Relaxed);
                if !matches!(outcome, Ok(Ok(()))) {
                    if let Ok(Err(e)) = outcome {
                        eprintln!("soak: {e:#}");
                    }
                    counters.import_errors.fetch_add(1, Ordering::Relaxed);
                }
                round += 1;
            }
        }));
    }

    let sample_every = (duration / 6).min(SAMPLE_EVERY).max(Duration::from_secs(1));
    let mut result = SoakResult::default();
    eprintln!(
        "soak: {} s, a sample every {} s (server pid {pid})",
        duration.as_secs(),
        sample_every.as_secs()
    );
    let mut next = started + sample_every;
    while next <= deadline {
        tokio::time::sleep_until(next.into()).await;
        next += sample_every;
        let (rss_mb, fds) = rss_and_fds(pid).context("the server has stopped")?;
        let failed = webhook_failures(&db).await?;
        let errors = counters.api_errors.load(Ordering::Relaxed)
            + counters.import_errors.load(Ordering::Relaxed)
            + failed as u64;
        let sample = SoakSample {
            seconds: started.elapsed().as_secs_f64(),
            rss_mb,
            fds,
            api_requests: counters.api_requests.load(Ordering::Relaxed),
            errors,
            imports: counters.imports.load(Ordering::Relaxed),
            webhooks_received: received.lock().unwrap_or_else(|p| p.into_inner()).len(),
            webhooks_failed: failed,
        };
        eprintln!(
            "soak: {:>6.0} s  RSS {:>7.1} MiB  fds {:>4}  API {:>6}  imports {:>3}  webhooks {:>6}  errors {}",
            sample.seconds,
            sample.rss_mb,
            sample.fds,
            sample.api_requests,
            sample.imports,
            sample.webhooks_received,
            sample.errors
        );
        result.samples.push(sample);
    }
    for task in tasks {
        task.await.ok();
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.api_requests = counters.api_requests.load(Ordering::Relaxed);
    result.api_errors = counters.api_errors.load(Ordering::Relaxed);
    result.imports = counters.imports.load(Ordering::Relaxed);
    result.import_errors = counters.import_errors.load(Ordering::Relaxed);
    result.webhooks_received = received.lock().unwrap_or_else(|p| p.into_inner()).len();
    result.webhook_failures = webhook_failures(&db).await?;
    result.errors =
        result.api_errors + result.import_errors + result.webhook_failures.max(0) as u64;
    drop(server);
    verdict(&mut result);
    eprintln!("soak: {}", result.verdict);
    report.soak = Some(result);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_humantime() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("0s").is_err());
    }

    fn sample(rss_mb: f64, fds: i64) -> SoakSample {
        SoakSample {
            seconds: 0.0,
            rss_mb,
            fds,
            api_requests: 0,
            errors: 0,
            imports: 0,
            webhooks_received: 0,
            webhooks_failed: 0,
        }
    }

    #[test]
    fn the_verdict_ignores_warm_up_and_fails_on_growth_or_errors() {
        let steady = |tail_rss: f64, tail_fds: i64, errors: u64| {
            let mut result = SoakResult {
                samples: vec![
                    sample(10.0, 10),
                    sample(50.0, 20),
                    sample(50.0, 20),
                    sample(51.0, 21),
                    sample(tail_rss, tail_fds),
                    sample(50.0, 20),
                ],
                errors,
                ..SoakResult::default()
            };
            verdict(&mut result);
            result
        };
        assert!(steady(55.0, 24, 0).passed);
        assert!(!steady(70.0, 20, 0).passed);
        assert!(!steady(50.0, 30, 0).passed);
        assert!(!steady(50.0, 20, 1).passed);
    }
}
