//! The refresh scenario: trackings refreshed per second end to end (claim, carrier call through
//! the simulator, apply), against the UPS adapter alone calling the same simulator with as many
//! calls in flight as the engine may have.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::backend::Backend;
use super::data::{bulk_create, store_in};
use super::harness::{start_sim, ServerProcess, REFRESH_CONCURRENCY};
use super::{Options, Report};

/// Refresh: trackings/s end to end against the adapter calling the simulator directly.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
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

    let (store, account, _key) = store_in(&options.backend, dir).await?;
    bulk_create(store.as_ref(), account, "ups", options.refresh_trackings).await?;
    drop(store);
    report.refresh_trackings_stored = options.refresh_trackings;
    let (_server, since) = ServerProcess::refreshing(&options.backend, dir, &sim_url)?;
    let target = options.refresh_trackings as i64;
    report.refresh_per_second =
        Some(refreshed_per_second(&options.backend, dir, target, seconds, since).await?);
    report.refresh_ratio = Some(
        report.refresh_per_second.unwrap_or(0.0)
            / report
                .refresh_adapter_direct_per_second
                .unwrap_or(1.0)
                .max(1e-9),
    );
    Ok(())
}

/// How often [`refreshed_per_second`] counts the refreshed trackings.
const COUNT_EVERY: Duration = Duration::from_millis(250);

/// Trackings refreshed per second in `dir`'s database by the servers working on it, counted
/// from `since` (when the first server was ready) for `seconds` or until `stored` are done.
///
/// The clock starts with the servers, not with the first refresh seen: a run whose work fits in
/// one wave of carrier calls (the quick bench's) lands it all at once, and a window opened at the
/// first refresh would then see nothing after it. Counting from the start charges the first
/// wave's carrier latency like every later wave's, so a long run measures the steady rate.
///
/// The count is a scan of every stored tracking, made on the database under test, so it is
/// made every [`COUNT_EVERY`] only: counted every 50 ms it took a good part of PostgreSQL's CPU
/// on a 2-core machine (twenty scans of 100,000 rows a second) away from the servers measured.
pub(super) async fn refreshed_per_second(
    backend: &Backend,
    dir: &Path,
    stored: i64,
    seconds: f64,
    since: Instant,
) -> anyhow::Result<f64> {
    let db = backend.reader(dir).await?;
    let mut done = db.checked().await?;
    // A window shorter than one wave of carrier calls is stretched until the first lands.
    while done < stored && (since.elapsed().as_secs_f64() < seconds || done == 0) {
        if done == 0 && since.elapsed() > Duration::from_secs(60) {
            bail!("no tracking was refreshed within 60 s");
        }
        tokio::time::sleep(COUNT_EVERY).await;
        done = db.checked().await?;
    }
    Ok(done as f64 / since.elapsed().as_secs_f64())
}
