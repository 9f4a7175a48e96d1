//! The API scenario: the authenticated lookup of one tracking against the bare `/healthz` route of
//! the same server (the ratio is the figure), a 2,000-tracking page, then batch ingest on the same
//! server.

use std::path::Path;

use anyhow::bail;
use chrono::Utc;
use parceld_model::DeliveryStatus;
use parceld_store::RefreshUpdate;

use super::data::{bulk_create, checkpoints, store_in};
use super::harness::{load, load_client, samples, Samples, ServerProcess};
use super::{ingest, Options, Report};

/// API scenarios: hello-world, one tracking, a 2000-tracking page, batch ingest.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (store, account, key) = store_in(dir).await?;
    bulk_create(store.as_ref(), account, "sandbox", 2000).await?;
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
    report.ingest_per_second = Some(ingest::run(&server.base, &key, options).await?);
    Ok(())
}
