//! The push scenario: how many carrier pushes per second parceld applies through the whole
//! push path — the signature check (FedEx's HMAC-SHA256 over the body), reading the body with
//! the poll's parser, the claim, the refresh policy, the checkpoint merge, the change record
//! and the webhook outbox, each push its own durable transaction (SQLite). Target ≥ 5,000/s.
//!
//! The trackings and one webhook endpoint are stored first; the simulator writes each number's
//! push body (one new event each, so every push is a real change with a delivery queued), and
//! the bench signs them as FedEx does and hands them to the push hub from several tasks at
//! once, as concurrent HTTP requests would.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use parceld_engine::push::{fedex, PushHub, PushSettings, PushSource};
use parceld_engine::EngineSettings;
use parceld_sim::{EventKind, SimEvent, Simulator};
use parceld_store::{NewWebhook, WebhookVersion};
use reqwest::header::HeaderMap;

use super::{data, Options, Report};

/// Concurrent senders.
const SENDERS: usize = 16;

/// Stores `count` FedEx trackings, pushes one event to each, and records pushes per second.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let count = (options.refresh_trackings / 5).clamp(1_000, 20_000);
    let (store, account, _) = data::store_in(&options.backend, dir).await?;
    data::bulk_create(&*store, account, "fedex", count).await?;
    let numbers: Vec<String> = (0..count).map(|i| format!("70{i:011}")).collect();
    store
        .create_webhook(
            account,
            &NewWebhook {
                url: "http://127.0.0.1:9/push-bench".into(),
                description: String::new(),
                statuses: Vec::new(),
                version: WebhookVersion::V4,
                enabled: true,
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            },
            10,
        )
        .await?;
    let sim = Simulator::new();
    let secret = "bench-token";
    let mut pushes = Vec::with_capacity(count);
    for number in &numbers {
        sim.script(
            number,
            vec![SimEvent {
                kind: EventKind::PickedUp,
                at: Utc::now() - chrono::Duration::minutes(30),
                place: None,
            }],
        );
        let body = sim.push_body("fedex", number).context("a scripted push")?;
        let mut headers = HeaderMap::new();
        headers.insert("fdx-signature", fedex::signature(secret, &body).parse()?);
        pushes.push((headers, body));
    }
    let source: Arc<dyn PushSource> = Arc::new(fedex::FedexPush::new(secret));
    let hub = Arc::new(PushHub::new(
        store,
        PushSettings::default(),
        EngineSettings::default(),
        vec![source],
    ));
    let queue = Arc::new(std::sync::Mutex::new(pushes));
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (hub, queue) = (hub.clone(), queue.clone());
        senders.spawn(async move {
            let mut applied = 0usize;
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some((headers, body)) = next else {
                    return Ok::<usize, String>(applied);
                };
                let done = hub.receive("fedex", &headers, &body).await;
                applied += done.map_err(|e| e.to_string())?.changed;
            }
        });
    }
    let mut changed = 0;
    while let Some(done) = senders.join_next().await {
        changed += done?.map_err(|e| anyhow::anyhow!("a push failed: {e}"))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        changed == count,
        "{changed} of {count} pushes changed their tracking"
    );
    report.push_per_second = Some(count as f64 / seconds);
    report.push_count = count;
    Ok(())
}
