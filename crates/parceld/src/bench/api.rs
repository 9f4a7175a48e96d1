//! The API scenario: the authenticated lookup of one tracking against the bare `/healthz` route of
//! the same server (the ratio is the figure), a 2,000-tracking page, then batch ingest on the same
//! server.

use std::path::Path;

use anyhow::bail;

use super::data::{bulk_create, store_in, with_checkpoints};
use super::harness::{against_baseline, load, Caller, ServerProcess};
use super::{ingest, Options, Report};

/// API scenarios: hello-world, one tracking, a 2000-tracking page, batch ingest.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (store, account, key) = store_in(&options.backend, dir).await?;
    bulk_create(store.as_ref(), account, "sandbox", 2000).await?;
    // Every tracking with 10 checkpoints, through the refresh path.
    with_checkpoints(store.as_ref(), "sandbox", 2000, 10).await?;
    drop(store);

    let server = ServerProcess::start(
        &options.backend,
        dir,
        &[("PARCELD_SERVER__WORKER".into(), "false".into())],
    )?;
    let seconds = options.seconds as f64;
    let n = options.connections;
    let one_number = "SANDBOX-DELIVERED-0000001000";
    let one_url = format!(
        "{}/v4/trackings/get?tracking_numbers={one_number}",
        server.base
    );
    let (hello, one) =
        against_baseline(&server.base, &one_url, Caller::Key(&key), n, seconds).await;
    if one.errors > 0 && one.requests == 0 {
        bail!("GET one tracking failed every time");
    }
    let page = load(
        &format!(
            "{}/v4/trackings/get?items_amount=2000&pages_amount=1",
            server.base
        ),
        Caller::Key(&key),
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
