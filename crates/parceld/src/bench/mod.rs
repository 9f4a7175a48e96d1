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
//! With `--database postgres://…` every scenario runs twice in the same run, on SQLite and then
//! on PostgreSQL (in databases of the run's own, dropped at the end), and the nodes scenario
//! measures the refresh of one and of two worker nodes sharing the PostgreSQL database; the
//! table has a column per backend, and the PostgreSQL targets are judged PASS or FAIL.
//!
//! One module per scenario (`api`, `ingest`, `refresh`, `detection`, `import`, `memory`,
//! `page`, `webhooks`, `notify`, `soak`, `nodes`); `harness` holds what they share (the server
//! process, the load generator, the simulator, the webhook receiver), `smtp_sink` the
//! notification scenario's SMTP server, `backend` where the databases are,
//! `data` what they store and the bench's only ways into a database, `report` the figures,
//! their table and JSON, `compare` the two backends side by side and the targets.

mod api;
mod backend;
mod compare;
mod dashboard;
mod data;
mod detection;
mod harness;
mod import;
mod ingest;
mod memory;
mod nodes;
mod notify;
mod page;
mod push;
mod refresh;
mod report;
mod smtp_sink;
mod soak;
mod spread;
mod webhooks;

use std::path::{Path, PathBuf};

use anyhow::Context;

use backend::Backend;

pub use report::Report;
pub use soak::parse_duration;

#[derive(Clone)]
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
    /// Only these scenarios (detection, api, refresh, push, webhooks, notify, import, memory,
    /// page, dashboard, soak, nodes); all when empty.
    pub only: Vec<String>,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// Where temporary data goes.
    pub work_dir: Option<PathBuf>,
    /// Keep `work_dir` afterwards instead of removing it.
    pub keep: bool,
    /// How long the soak scenario runs; it runs only when given (or named in `only`).
    pub soak: Option<std::time::Duration>,
    /// A PostgreSQL server (`postgres://USER@HOST:PORT/DATABASE`, any database of it) to run
    /// every scenario on as well, in databases of the run's own, and the nodes scenario.
    pub database: Option<String>,
    /// Simulated carrier latency of the nodes scenario, per call of up to 25 numbers
    /// (milliseconds).
    pub node_latency_ms: u64,
    /// Where the scenarios' databases are: SQLite, then PostgreSQL in the second pass.
    backend: Backend,
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
            database: None,
            node_latency_ms: 600,
            backend: Backend::Sqlite,
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

/// Runs every scenario (on SQLite, and on PostgreSQL too when `options.database` names a
/// server), prints the table (and writes the JSON, when asked).
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let work = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("parceld-bench-{}", std::process::id())),
    };
    if work.exists() {
        std::fs::remove_dir_all(&work).ok();
    }
    std::fs::create_dir_all(&work)?;
    let report = match &options.database {
        None => {
            let report = on_backend(&options, &work).await?;
            say!("{}", report::table(&report, &options).trim_end());
            report
        }
        Some(url) => {
            let mut report = on_backend(&options, &work.join("sqlite")).await?;
            let backend = Backend::postgres(url).await?;
            let postgres = Options {
                backend: backend.clone(),
                ..options.clone()
            };
            let measured = on_postgres(&postgres, &work.join("postgres")).await;
            // The databases go whether the scenarios worked or not.
            let dropped = backend.drop_databases().await;
            let (on_pg, nodes) = measured?;
            eprintln!("bench: dropped {} PostgreSQL databases", dropped?);
            report.targets = compare::postgres_targets(&on_pg, nodes.as_ref());
            report.postgres = Some(Box::new(on_pg));
            report.nodes = nodes;
            say!("{}", compare::table(&report, &options).trim_end());
            report
        }
    };
    if options.keep {
        eprintln!("bench: data kept in {}", work.display());
    } else {
        std::fs::remove_dir_all(&work).ok();
    }
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("JSON written to {}", path.display());
    }
    Ok(report)
}

/// Whether `options` asks for the scenario `name`.
fn wanted(options: &Options, name: &str) -> bool {
    options.only.is_empty() || options.only.iter().any(|o| o == name)
}

/// The scenarios on PostgreSQL, then the nodes scenario.
async fn on_postgres(
    options: &Options,
    work: &Path,
) -> anyhow::Result<(Report, Option<nodes::NodesResult>)> {
    let report = on_backend(options, work).await?;
    let nodes = if wanted(options, "nodes") {
        eprintln!("bench: PostgreSQL, refresh with one and two worker nodes");
        Some(nodes::run(options, &work.join("nodes")).await?)
    } else {
        None
    };
    Ok((report, nodes))
}

/// Every scenario asked for, on `options.backend`, in `work`.
async fn on_backend(options: &Options, work: &Path) -> anyhow::Result<Report> {
    let mut report = Report {
        machine: report::machine(),
        backend: options.backend.name().to_string(),
        ..Report::default()
    };
    let on = options.backend.name();
    let wanted = |name: &str| wanted(options, name);
    if wanted("detection") {
        eprintln!("bench: {on}, detection");
        detection::run(options, &mut report);
    }
    if wanted("api") {
        eprintln!("bench: {on}, API and ingest");
        api::run(options, &work.join("api"), &mut report).await?;
    }
    if wanted("refresh") {
        eprintln!("bench: {on}, refresh");
        refresh::run(options, &work.join("refresh"), &mut report).await?;
    }
    if wanted("push") {
        eprintln!("bench: {on}, push");
        push::run(options, &work.join("push"), &mut report).await?;
    }
    if wanted("webhooks") {
        eprintln!("bench: {on}, webhooks");
        webhooks::run(options, &work.join("webhooks"), &mut report).await?;
    }
    if wanted("notify") {
        eprintln!("bench: {on}, notifications");
        notify::run(options, &work.join("notify"), &mut report).await?;
    }
    // The memory and page scenarios serve the imported trackings, so they import them when the
    // import scenario was not asked for.
    let imported = work.join("import");
    if wanted("import") || wanted("memory") || wanted("page") || wanted("dashboard") {
        eprintln!("bench: {on}, import of {} trackings", options.trackings);
        import::run(options, &imported, &mut report).await?;
    }
    if wanted("memory") {
        eprintln!("bench: {on}, memory");
        memory::run(options, &imported, &mut report).await?;
    }
    if wanted("page") {
        eprintln!("bench: {on}, tracking page");
        page::run(options, &imported, &mut report).await?;
    }
    if wanted("dashboard") {
        eprintln!("bench: {on}, dashboard");
        report.dashboard = Some(dashboard::run(options, &imported).await?);
    }
    // The soak is a SQLite run: it reads the webhook tables of the file directly.
    let soak_asked =
        (options.soak.is_some() && wanted("soak")) || options.only.iter().any(|o| o == "soak");
    if soak_asked && matches!(options.backend, Backend::Sqlite) {
        let duration = options.soak.unwrap_or(std::time::Duration::from_secs(600));
        eprintln!("bench: soak for {} s", duration.as_secs());
        soak::run(duration, options, &work.join("soak"), &mut report).await?;
    }
    Ok(report)
}
