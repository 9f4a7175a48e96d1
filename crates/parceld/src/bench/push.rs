//! The push scenario: how many carrier pushes per second parceld applies through the whole
//! push path — HTTP into `parceld serve`, the signature check (FedEx's HMAC-SHA256 over the
//! body), reading the body with the poll's parser, the claim, the refresh policy, the
//! checkpoint merge, the change record and the webhook outbox, each push answered once it is
//! durably stored (many pushes share a transaction: the hub's group commit). Target ≥ 5,000/s.
//!
//! The trackings and one webhook endpoint are stored first; the simulator writes each number's
//! push body (one new event each, so every push is a real change with a delivery queued), and
//! the bench signs them as FedEx does and posts them to `/hooks/fedex` over [`SENDERS`]
//! concurrent connections. Every answer must be a success that changed its tracking.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use parceld_engine::push::fedex;
use parceld_sim::{EventKind, SimEvent, Simulator};
use parceld_store::{NewWebhook, WebhookVersion};
use reqwest::header::HeaderMap;

use super::harness::ServerProcess;
use super::{data, Options, Report};

/// Concurrent HTTP connections pushing. The target itself needs this many: a push is answered
/// once its batch is durably stored, so each takes a batch's wait and write (10–20 ms), and by
/// Little's law 5,000 pushes/s at 10–20 ms each are 50–100 pushes in flight at any moment; 32
/// connections could offer 5,000/s only if every answer came within 6.4 ms. A receiver sees
/// that many: each carrier's and upstream's dispatcher keeps a few dozen connections open (UPS,
/// FedEx, 17TRACK and AfterShip at once on one server), so 128 is four such senders.
pub(super) const SENDERS: usize = 128;

/// Pushes per second the scenario is held to.
pub(super) const TARGET: f64 = 5_000.0;

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
    drop(store);
    let env = [
        ("PARCELD_SERVER__WORKER", "false"),
        ("PARCELD_PUSH__SOURCES__FEDEX__ENABLED", "true"),
        ("PARCELD_PUSH__SOURCES__FEDEX__SECRET", secret),
    ];
    let env: Vec<(String, String)> = env.map(|(k, v)| (k.to_string(), v.to_string())).into();
    let server = ServerProcess::start(&options.backend, dir, &env)?;
    let url = format!("{}/hooks/fedex", server.base);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SENDERS)
        .build()?;
    let queue = Arc::new(std::sync::Mutex::new(pushes));
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (client, url, queue) = (client.clone(), url.clone(), queue.clone());
        senders.spawn(async move {
            let mut changed = 0u64;
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some((headers, body)) = next else {
                    return Ok::<u64, anyhow::Error>(changed);
                };
                let answer = client.post(&url).headers(headers).body(body).send().await?;
                let status = answer.status();
                let text = answer.text().await?;
                anyhow::ensure!(status.is_success(), "a push was refused: {status} {text}");
                let answer: serde_json::Value = serde_json::from_str(&text)?;
                changed += answer["data"]["changed"].as_u64().unwrap_or(0);
            }
        });
    }
    let mut changed = 0;
    while let Some(done) = senders.join_next().await {
        changed += done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(server);
    anyhow::ensure!(
        changed == count as u64,
        "{changed} of {count} pushes changed their tracking"
    );
    report.push_per_second = Some(count as f64 / seconds);
    report.push_count = count;
    Ok(())
}
