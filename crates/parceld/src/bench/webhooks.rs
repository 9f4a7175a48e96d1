//! The webhook scenario: deliveries per second while the engine produces changes as fast as it
//! can, and the time from a change (written with its refresh) to its receipt with changes at
//! 500/s. Each run stores due UPS trackings and one endpoint pointing at the bench's receiver;
//! every first refresh is a change and sends one delivery.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use parceld_store::CreateWebhook;

use super::backend::Backend;
use super::data::{bulk_create, open, store_in};
use super::harness::{
    carrier_env, start_receiver, start_sim, Received, ServerProcess, REFRESH_CONCURRENCY,
};
use super::report::percentile;
use super::{Options, Report};

/// One webhook run: `count` due UPS trackings, one endpoint; every first refresh is a change
/// and sends one delivery. Returns (deliveries/s from first to last receipt, change-to-receipt
/// latencies in ms).
async fn webhook_run(
    backend: &Backend,
    dir: &Path,
    count: usize,
    carrier_rate: Option<f64>,
    sim_url: &str,
    receiver: &(String, Received),
) -> anyhow::Result<(f64, Vec<f64>)> {
    let (store, account, _key) = store_in(backend, dir).await?;
    bulk_create(store.as_ref(), account, "ups", count).await?;
    let endpoint = parceld_store::NewWebhook {
        url: receiver.0.clone(),
        description: "bench receiver".into(),
        statuses: Vec::new(),
        version: parceld_store::WebhookVersion::V4,
        enabled: true,
        secret: "whsec_cGFyY2VsZC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OQ==".into(),
    };
    let CreateWebhook::Created(endpoint) = store.create_webhook(account, &endpoint, 10).await?
    else {
        bail!("a fresh account could not get a webhook endpoint");
    };
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
    let server = ServerProcess::start(backend, dir, &env)?;
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
    // When each delivery was created, from the store (the server has stopped).
    let limit = u32::try_from(count).unwrap_or(u32::MAX);
    let created: HashMap<String, i64> = open(backend, dir)
        .await?
        .deliveries(endpoint.pk, limit, None)
        .await?
        .into_iter()
        .map(|delivery| (delivery.event_id, delivery.created_at.timestamp_millis()))
        .collect();
    let latencies = received
        .iter()
        .filter_map(|(id, at)| created.get(id).map(|c| (at - c) as f64))
        .collect();
    Ok((per_second, latencies))
}

/// Webhooks: throughput with changes as fast as the engine makes them, and change-to-receipt
/// latency with changes at 500/s.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (_sim, sim_url) = start_sim(0).await?;
    let receiver = start_receiver().await?;
    let (per_second, _) = webhook_run(
        &options.backend,
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
    let (_, mut latencies) = webhook_run(
        &options.backend,
        &dir.join("latency"),
        count,
        Some(rate),
        &sim_url,
        &receiver,
    )
    .await?;
    latencies.sort_by(|a, b| a.total_cmp(b));
    report.webhook_latency_p50_ms = percentile(&latencies, 0.50);
    report.webhook_latency_p99_ms = percentile(&latencies, 0.99);
    report.webhook_latency_rate = rate;
    Ok(())
}
