//! `parceld bench`: the performance figures, measured in one self-contained run.
//!
//! Machines are noisy, so every figure that can be is paired with a baseline measured in the same
//! run on the same machine, and the ratio is what the targets speak of: an authenticated lookup
//! against the bare `/healthz` route of the same server, the refresh pipeline against the carrier
//! adapter calling the simulator directly. The bench starts everything itself — `parceld serve`
//! as a child process (so its memory can be read from `/proc`), the carrier simulator in this
//! process — loads data through the real paths (the store's batch insert, `parceld import`,
//! `POST /v4/trackings/batch`), prints a table and writes the same figures as JSON.
//!
//! One module per scenario (`api`, `ingest`, `refresh`, `detection`, `import`, `memory`,
//! `page`, `webhooks`, `soak`); `harness` holds what they share (the server process, the load generator, the
//! simulator, the webhook receiver), `data` what they store and the bench's only ways into a
//! database, `report` the figures, their table and JSON.

mod api;
mod data;
mod detection;
mod harness;
mod import;
mod ingest;
mod memory;
mod page;
mod refresh;
mod report;
mod soak;
mod webhooks;

use std::path::PathBuf;

use anyhow::Context;

pub use report::Report;
pub use soak::parse_duration;

pub struct Options {
    /// Seconds each timed scenario runs.
    pub seconds: u64,
    /// Trackings imported by the import scenario (and served by the memory scenario).
    pub trackings: usize,
    /// Trackings stored for the refresh scenario.
    pub refresh_trackings: usize,
    /// Concurrent connections of the API scenarios.
    pub connections: usize,
    /// Simulated carrier latency in the refresh scenario (milliseconds).
    pub carrier_latency_ms: u64,
    /// Trackings whose first refresh each sends one webhook, in the throughput run.
    pub webhook_trackings: usize,
    /// Only these scenarios (detection, api, refresh, webhooks, import, memory, page); all when
    /// empty.
    pub only: Vec<String>,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// Where temporary data goes.
    pub work_dir: Option<PathBuf>,
    /// Keep `work_dir` afterwards instead of removing it.
    pub keep: bool,
    /// How long the soak scenario runs; it runs only when given (or named in `only`).
    pub soak: Option<std::time::Duration>,
}

impl Options {
    /// The full run, with the scales the performance targets name.
    pub fn full() -> Options {
        Options {
            seconds: 10,
            trackings: 1_000_000,
            refresh_trackings: 100_000,
            connections: 64,
            carrier_latency_ms: 50,
            webhook_trackings: 20_000,
            only: Vec::new(),
            json: None,
            work_dir: None,
            keep: false,
            soak: None,
        }
    }

    /// A small run that exercises every scenario in seconds (for checking that the bench works,
    /// not for figures).
    pub fn quick() -> Options {
        Options {
            seconds: 1,
            trackings: 20_000,
            refresh_trackings: 3_000,
            connections: 16,
            webhook_trackings: 1_000,
            ..Options::full()
        }
    }
}

/// Runs every scenario and prints the table (and the JSON, when asked).
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let work = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("parceld-bench-{}", std::process::id())),
    };
    if work.exists() {
        std::fs::remove_dir_all(&work).ok();
    }
    std::fs::create_dir_all(&work)?;
    let mut report = Report {
        machine: report::machine(),
        ..Report::default()
    };
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    if wanted("detection") {
        eprintln!("bench: detection");
        detection::run(&options, &mut report);
    }
    if wanted("api") {
        eprintln!("bench: API and ingest");
        api::run(&options, &work.join("api"), &mut report).await?;
    }
    if wanted("refresh") {
        eprintln!("bench: refresh");
        refresh::run(&options, &work.join("refresh"), &mut report).await?;
    }
    if wanted("webhooks") {
        eprintln!("bench: webhooks");
        webhooks::run(&options, &work.join("webhooks"), &mut report).await?;
    }
    // The memory and page scenarios serve the imported trackings, so they import them when the
    // import scenario was not asked for.
    let imported = work.join("import");
    if wanted("import") || wanted("memory") || wanted("page") {
        eprintln!("bench: import of {} trackings", options.trackings);
        import::run(&options, &imported, &mut report).await?;
    }
    if wanted("memory") {
        eprintln!("bench: memory");
        memory::run(&options, &imported, &mut report).await?;
    }
    if wanted("page") {
        eprintln!("bench: tracking page");
        page::run(&options, &imported, &mut report).await?;
    }
    if (options.soak.is_some() && wanted("soak")) || options.only.iter().any(|o| o == "soak") {
        let duration = options.soak.unwrap_or(std::time::Duration::from_secs(600));
        eprintln!("bench: soak for {} s", duration.as_secs());
        soak::run(duration, &options, &work.join("soak"), &mut report).await?;
    }
    if options.keep {
        eprintln!("bench: data kept in {}", work.display());
    } else {
        std::fs::remove_dir_all(&work).ok();
    }
    say!("{}", report::table(&report, &options).trim_end());
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("JSON written to {}", path.display());
    }
    Ok(report)
}
