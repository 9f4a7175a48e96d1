//! The notification scenario: emails per second from the dispatcher of a `parceld serve` to an
//! SMTP server on the same machine, over reused connections (target ≥ 500/s), and the time from
//! a change (written with its refresh, the notification with it) to the message's arrival at the
//! SMTP server, with the engine making 100 changes a second (target p99 < 2 s).
//!
//! The SMTP server is the bench's own ([`super::smtp_sink`]), so the figure is parceld's: the
//! outbox claims, the rendering in the customer's language and the SMTP conversations. Every
//! account setting is the default but the channel (email) and the triggers (every status, so
//! that each first refresh queues exactly one email); the dispatcher runs with the server's
//! default pace (`[notifications]`: batch, concurrency, polling).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use parceld_model::DeliveryStatus;
use parceld_store::notifications::{Channel, NotificationSettings};
use parceld_store::{Page, Store, TrackingFilter};

use super::data::{bulk_create_for, open, store_in, with_checkpoints};
use super::harness::{carrier_env, start_sim, Received, ServerProcess, REFRESH_CONCURRENCY};
use super::report::percentile;
use super::{smtp_sink, Options, Report};

/// The sender's address: the `Message-ID`s end with its domain.
const SENDER: &str = "shop@bench.test";

/// Changes a second in the latency run.
const CHANGE_RATE: f64 = 100.0;

/// A fresh database of `dir` with `count` UPS trackings, each with its customer's address, and
/// email notifications on every status for their account.
async fn customers(
    options: &Options,
    dir: &Path,
    count: usize,
) -> anyhow::Result<(Arc<dyn Store>, i64)> {
    let (store, account, _key) = store_in(&options.backend, dir).await?;
    bulk_create_for(store.as_ref(), account, "ups", count, true).await?;
    let settings = NotificationSettings {
        channels: vec![Channel::Email],
        triggers: DeliveryStatus::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        sender_address: Some(SENDER.into()),
        ..NotificationSettings::default()
    };
    store.set_notification_settings(account, &settings).await?;
    Ok((store, account))
}

/// The server's notification settings: on, through the SMTP server at `port`.
fn notify_env(port: u16) -> Vec<(String, String)> {
    [
        ("PARCELD_NOTIFICATIONS__ENABLED", "true"),
        ("PARCELD_NOTIFICATIONS__SMTP__HOST", "127.0.0.1"),
        ("PARCELD_NOTIFICATIONS__SMTP__PORT", &port.to_string()),
        ("PARCELD_NOTIFICATIONS__SMTP__SECURITY", "none"),
        (
            "PARCELD_NOTIFICATIONS__PUBLIC_URL",
            "http://track.bench.test",
        ),
        (
            "PARCELD_NOTIFICATIONS__UNSUBSCRIBE_SECRET",
            "the bench's unsubscribe secret",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Waits until `received` holds `count` messages (at most `secs` seconds).
async fn until_received(received: &Received, count: usize, secs: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = received.lock().unwrap_or_else(|p| p.into_inner()).len();
        if got >= count {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the SMTP server got {got} of {count} emails in time");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Emails per second: `count` notifications queued first (one refresh of each tracking through
/// the store), then a server sends them all; from the first arrival to the last.
async fn throughput(options: &Options, dir: &Path, count: usize) -> anyhow::Result<f64> {
    let (store, _) = customers(options, dir, count).await?;
    // A thousand at a time: one refresh's statement takes a bounded number of values.
    let mut refreshed = 0;
    while refreshed < count {
        let group = with_checkpoints(store.as_ref(), "ups", (count - refreshed).min(1000), 1);
        match group.await?.len() {
            0 => bail!("{refreshed} of {count} trackings refreshed"),
            n => refreshed += n,
        }
    }
    drop(store);
    let (port, received) = smtp_sink::start().await?;
    let server = ServerProcess::start(&options.backend, dir, &notify_env(port))?;
    until_received(&received, count, 60 + count as u64 / 50).await?;
    drop(server);
    let received = received.lock().unwrap_or_else(|p| p.into_inner());
    let first = received.iter().map(|r| r.1).min().unwrap_or(0);
    let last = received.iter().map(|r| r.1).max().unwrap_or(0);
    Ok(received.len() as f64 / ((last - first).max(1) as f64 / 1000.0))
}

/// When each of the account's notifications was written (with its change), by its
/// `Message-ID`, in unix milliseconds.
async fn written_at(store: &dyn Store, account: i64) -> anyhow::Result<HashMap<String, i64>> {
    let mut written = HashMap::new();
    for number in 1.. {
        let page = Page { number, size: 1000 };
        let trackings = store
            .list_trackings(account, &TrackingFilter::default(), page)
            .await?;
        if trackings.is_empty() {
            break;
        }
        for tracking in trackings {
            let log = store.notifications_of(account, &tracking.id).await?;
            for notification in log.unwrap_or_default() {
                let domain = SENDER.rsplit_once('@').map_or("", |(_, d)| d);
                let message_id = format!("<{}@{domain}>", notification.id);
                written.insert(message_id, notification.created_at.timestamp_millis());
            }
        }
    }
    Ok(written)
}

/// Change-to-inbox latencies (ms): the engine refreshes `count` trackings from the simulator at
/// [`CHANGE_RATE`] a second, each first refresh a change with one email.
async fn latency(options: &Options, dir: &Path, count: usize) -> anyhow::Result<Vec<f64>> {
    let (store, account) = customers(options, dir, count).await?;
    drop(store);
    let (_sim, sim_url) = start_sim(0).await?;
    let (port, received) = smtp_sink::start().await?;
    let mut env = carrier_env(&sim_url, REFRESH_CONCURRENCY);
    env.push((
        "PARCELD_CARRIERS__UPS__RATE_PER_SECOND".into(),
        CHANGE_RATE.to_string(),
    ));
    env.extend(notify_env(port));
    let server = ServerProcess::start(&options.backend, dir, &env)?;
    let secs = 60 + (count as f64 / CHANGE_RATE) as u64 * 2;
    until_received(&received, count, secs).await?;
    drop(server);
    let written = written_at(open(&options.backend, dir).await?.as_ref(), account).await?;
    let received = received.lock().unwrap_or_else(|p| p.into_inner());
    Ok(received
        .iter()
        .filter_map(|(id, at)| written.get(id).map(|w| (at - w) as f64))
        .collect())
}

/// Notifications: throughput to a local SMTP server, and change-to-inbox latency at 100
/// changes a second.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let count = (options.webhook_trackings / 2).max(100);
    report.notify_emails_per_second =
        Some(throughput(options, &dir.join("throughput"), count).await?);
    report.notify_emails = count;
    let changes = (CHANGE_RATE as u64 * options.seconds.max(2)) as usize;
    let mut latencies = latency(options, &dir.join("latency"), changes).await?;
    latencies.sort_by(|a, b| a.total_cmp(b));
    report.notify_latency_p50_ms = percentile(&latencies, 0.50);
    report.notify_latency_p99_ms = percentile(&latencies, 0.99);
    report.notify_latency_rate = CHANGE_RATE;
    Ok(())
}
