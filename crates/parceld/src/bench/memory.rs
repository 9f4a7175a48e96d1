//! The memory scenario: the server's resident memory idle, and its peak while refreshing, with
//! the import scenario's trackings stored.

use std::path::Path;
use std::time::Duration;

use super::harness::{start_sim, ServerProcess};
use super::{Options, Report};

/// Serves the database in `dir`, which the import scenario has filled.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    {
        let idle = ServerProcess::start(
            &options.backend,
            dir,
            &[("PARCELD_SERVER__WORKER".into(), "false".into())],
        )?;
        let client = reqwest::Client::new();
        // One list call, so the idle figure includes a warmed-up server.
        let _ = client.get(format!("{}/readyz", idle.base)).send().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        report.rss_idle_mb = idle.memory_mb().map(|(rss, _)| rss);
    }
    let (_sim, sim_url) = start_sim(options.carrier_latency_ms).await?;
    let (busy, started) = ServerProcess::refreshing(&options.backend, dir, &sim_url)?;
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
