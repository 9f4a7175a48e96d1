//! The import scenario: `options.trackings` trackings (no checkpoints) through `parceld import`
//! from a JSON-lines file, as the server's operator would load them, in trackings per second, and
//! what the database takes on disk afterwards, so the storage cost of a tracking is measured at
//! the scale asked for (`parceld bench --only import --trackings 10000000`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::bail;

use super::data::store_in;
use super::{Options, Report};

/// Imports into a fresh database in `dir`, which the memory scenario then serves.
pub(super) async fn run(options: &Options, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let (store, _account, _key) = store_in(&options.backend, dir).await?;
    drop(store);
    let file = dir.join("import.jsonl");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..options.trackings {
            writeln!(
                out,
                "{{\"tracking_number\":\"1Z8{i:015}\",\"courier_code\":\"ups\",\"order_number\":\"#{i}\",\"customer_email\":\"buyer{i}@example.com\"}}"
            )?;
        }
        out.flush()?;
    }
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let output = Command::new(exe)
        .arg("--data-dir")
        .arg(dir)
        .arg("import")
        .arg(&file)
        .envs(options.backend.env(dir))
        .output()?;
    if !output.status.success() {
        bail!(
            "parceld import failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    std::fs::remove_file(&file).ok();
    report.import_seconds = Some(seconds);
    report.import_trackings = options.trackings;
    report.import_per_second = Some(options.trackings as f64 / seconds.max(1e-9));
    let bytes = options.backend.size(dir).await?;
    report.import_database_bytes = Some(bytes);
    report.import_bytes_per_tracking = Some(bytes as f64 / options.trackings.max(1) as f64);
    Ok(())
}
