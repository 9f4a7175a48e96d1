//! The tracking-page scenario: the shipment page of one tracking (ten events) served to
//! anonymous visitors, against the bare `/healthz` of the same server (the ratio is the
//! figure), with the import scenario's trackings stored (1,000,000 in the full run), and the
//! page's size on the wire.

use std::path::Path;

use anyhow::{bail, Context};

use super::data::{open, with_checkpoints};
use super::harness::{against_baseline, Caller, ServerProcess};
use super::{Options, Report};

/// Serves the database in `dir`, which the import scenario has filled.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let number = {
        let store = open(&options.backend, dir).await?;
        with_checkpoints(store.as_ref(), "ups", 1, 10)
            .await?
            .pop()
            .context("the imported database has a tracking to show")?
    };
    let server = ServerProcess::start(
        &options.backend,
        dir,
        &[
            ("PARCELD_SERVER__WORKER".into(), "false".into()),
            // One load generator is one client address: the page's limit per client is off.
            (
                "PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE".into(),
                "0".into(),
            ),
        ],
    )?;
    let url = format!("{}/track/default/{number}", server.base);
    let first = reqwest::get(&url).await?;
    if !first.status().is_success() {
        bail!("the shipment page answered {}", first.status());
    }
    let headers: usize = first
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let body = first.bytes().await?;
    let (hello, page) = against_baseline(
        &server.base,
        &url,
        Caller::Anonymous,
        options.connections,
        options.seconds as f64,
    )
    .await;
    if page.requests == 0 {
        bail!("the shipment page failed every time");
    }
    report.page_ratio = Some(page.per_second / hello.per_second.max(1e-9));
    report.page_hello = Some(hello);
    report.page_shipment = Some(page);
    report.page_bytes = Some((body.len() + headers) as u64);
    report.page_trackings_stored = options.trackings;
    Ok(())
}
