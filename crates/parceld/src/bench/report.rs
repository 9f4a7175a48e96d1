//! The bench's report: every figure in one serialisable struct, written as JSON when asked, and the
//! table printed at the end of a run, each figure beside the target it is held to.

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};

use super::harness::Load;
use super::Options;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub machine: Value,
    /// The backend these figures were measured on (`SQLite`, `PostgreSQL`).
    pub backend: String,
    pub api_hello: Option<Load>,
    pub api_get_one: Option<Load>,
    /// `api_get_one.per_second / api_hello.per_second`.
    pub api_get_one_ratio: Option<f64>,
    pub api_page_2000: Option<Load>,
    pub ingest_per_second: Option<f64>,
    pub refresh_per_second: Option<f64>,
    pub refresh_adapter_direct_per_second: Option<f64>,
    /// `refresh_per_second / refresh_adapter_direct_per_second`.
    pub refresh_ratio: Option<f64>,
    pub refresh_trackings_stored: usize,
    pub detection_per_second_one_core: Option<f64>,
    /// Share of random 10–22 character strings (A-Z0-9, and digits only) given any candidate.
    pub detection_false_positive_alnum: Option<f64>,
    pub detection_false_positive_digits: Option<f64>,
    /// The same, counting only candidates whose check digit validated.
    pub detection_validated_alnum: Option<f64>,
    pub detection_validated_digits: Option<f64>,
    /// Detection's scores on its corpus (`crates/detect/corpus`), all of it and the named
    /// couriers' files alone (without the national posts' S10 numbers).
    pub detection_corpus: Option<CorpusScore>,
    pub detection_corpus_named: Option<CorpusScore>,
    pub import_trackings: usize,
    pub import_seconds: Option<f64>,
    /// `import_trackings / import_seconds`.
    pub import_per_second: Option<f64>,
    /// The database file and its write-ahead log right after the import.
    pub import_database_bytes: Option<u64>,
    /// `import_database_bytes / import_trackings`.
    pub import_bytes_per_tracking: Option<f64>,
    pub rss_idle_mb: Option<f64>,
    pub rss_peak_refreshing_mb: Option<f64>,
    /// Deliveries/s while the engine produces changes as fast as it can.
    pub webhook_deliveries_per_second: Option<f64>,
    pub webhook_deliveries: usize,
    /// Change (written with the refresh) to receipt by the receiver, with changes at 500/s.
    pub webhook_latency_p50_ms: Option<f64>,
    pub webhook_latency_p99_ms: Option<f64>,
    pub webhook_latency_rate: f64,
    pub page_hello: Option<Load>,
    /// The public shipment page of one tracking, with `page_trackings_stored` stored.
    pub page_shipment: Option<Load>,
    /// `page_shipment.per_second / page_hello.per_second`.
    pub page_ratio: Option<f64>,
    /// The shipment page's body and headers, in bytes.
    pub page_bytes: Option<u64>,
    pub page_trackings_stored: usize,
    /// Notification emails per second from the dispatcher to a local SMTP server, and how many.
    pub notify_emails_per_second: Option<f64>,
    pub notify_emails: usize,
    /// Change (the notification written with it) to arrival at the SMTP server, with changes
    /// at `notify_latency_rate` a second.
    pub notify_latency_p50_ms: Option<f64>,
    pub notify_latency_p99_ms: Option<f64>,
    pub notify_latency_rate: f64,
    /// Carrier pushes applied per second (signature, merge, outbox), and how many.
    pub push_per_second: Option<f64>,
    pub push_count: usize,
    /// The dashboard's shipments table and its CSV export, on the imported trackings.
    pub dashboard: Option<super::dashboard::DashboardResult>,
    /// The soak run (`--soak DURATION`): samples over time and the verdict.
    pub soak: Option<super::soak::SoakResult>,
    /// With `--database`: the same scenarios on PostgreSQL, in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<Box<Report>>,
    /// With `--database`: one and two worker nodes on one PostgreSQL database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<super::nodes::NodesResult>,
    /// With `--database`: the PostgreSQL targets, each PASS, FAIL or not judged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<super::compare::Target>,
}

/// Detection's scores over a set of corpus lines.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CorpusScore {
    pub valid: usize,
    /// Share of valid numbers whose courier ranked first / among the first three.
    pub top1: f64,
    pub top3: f64,
    pub invalid: usize,
    /// Share of invalid numbers given a candidate (any courier) whose check digit validated.
    pub invalid_validated: f64,
}

impl From<parceld_detect::corpus::Score> for CorpusScore {
    fn from(s: parceld_detect::corpus::Score) -> Self {
        CorpusScore {
            valid: s.valid,
            top1: s.top1_rate(),
            top3: s.top3_rate(),
            invalid: s.invalid,
            invalid_validated: s.invalid_validated_rate(),
        }
    }
}

/// A corpus score as a table cell.
fn corpus_cell(score: Option<CorpusScore>) -> String {
    score.map_or_else(
        || "-".into(),
        |s| {
            format!(
                "top-1 {:.1}%, top-3 {:.1}% of {}; {:.1}% of {} invalid given a valid check digit",
                s.top1 * 100.0,
                s.top3 * 100.0,
                s.valid,
                s.invalid_validated * 100.0,
                s.invalid
            )
        },
    )
}

/// The value at `p` (0 to 1) of `sorted` values, nearest rank; `None` when there are none.
pub(super) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    sorted.get((last as f64 * p).round() as usize).copied()
}

/// A figure judged against its target: ` PASS`, ` FAIL`, or nothing when it was not measured.
fn verdict(value: Option<f64>, pass: impl Fn(f64) -> bool) -> &'static str {
    match value {
        Some(v) if pass(v) => " PASS",
        Some(_) => " FAIL",
        None => "",
    }
}

/// The machine the figures were measured on.
pub(super) fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory": memory,
        "os": std::env::consts::OS,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "date": Utc::now().to_rfc3339(),
    })
}

/// The line above the table: the machine, the build and the time per scenario.
pub(super) fn heading(r: &Report, o: &Options) -> String {
    format!(
        "parceld bench — {} ({} cores, {}), {} build, {} s per scenario\n\n",
        r.machine["cpu"].as_str().unwrap_or("?"),
        r.machine["cores"],
        r.machine["memory"].as_str().unwrap_or("?"),
        r.machine["profile"].as_str().unwrap_or("?"),
        o.seconds
    )
}

/// The figures as a table, one row per figure with its target.
pub(super) fn table(r: &Report, o: &Options) -> String {
    let mut out = heading(r, o);
    for (name, value, target) in rows(r, o) {
        out.push_str(&format!("{name:<38} {value:<80} {target}\n"));
    }
    out.push_str(&soak_rows(r));
    out
}

/// One row per figure: (name, value, target).
pub(super) fn rows(r: &Report, o: &Options) -> Vec<(&'static str, String, &'static str)> {
    let f = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "-".into(),
    };
    let latencies = |p50: Option<f64>, p99: Option<f64>, rate: f64| {
        format!(
            "p50 {} ms, p99 {} ms at {rate:.0} changes/s",
            f(p50, 1),
            f(p99, 1)
        )
    };
    let load = |l: &Option<Load>| match l {
        Some(l) => format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} connections, {} errors)",
            l.per_second, l.p50_ms, l.p99_ms, l.connections, l.errors
        ),
        None => "-".into(),
    };
    let dash = |pick: fn(&super::dashboard::DashboardResult) -> &Load| {
        r.dashboard.as_ref().map_or_else(
            || "-".into(),
            |d| load(&Some(pick(d).clone())) + verdict(Some(pick(d).p99_ms), |v| v < 50.0),
        )
    };
    let charts = super::dashboard::CHARTS
        .iter()
        .enumerate()
        .map(|(i, chart)| {
            let measured = r.dashboard.as_ref().and_then(|d| d.charts.get(i));
            let value = measured.map_or_else(
                || "-".into(),
                |l| load(&Some(l.clone())) + verdict(Some(l.p99_ms), |v| v < 200.0),
            );
            (chart.0, value, "p99 < 200 ms at 1M")
        });
    let mut rows = vec![
        ("GET /healthz (baseline)", load(&r.api_hello), ""),
        ("GET one tracking", load(&r.api_get_one), "p99 < 10 ms"),
        ("  ratio to baseline", f(r.api_get_one_ratio, 2), "≥ 0.40"),
        (
            "GET 2000-tracking page",
            load(&r.api_page_2000),
            "p50 < 50 ms",
        ),
        (
            "batch create (40/call)",
            format!("{} trackings/s", f(r.ingest_per_second, 0)),
            "≥ 10,000/s",
        ),
        (
            "refresh, adapter direct (baseline)",
            format!(
                "{} trackings/s ({} ms carrier latency)",
                f(r.refresh_adapter_direct_per_second, 0),
                o.carrier_latency_ms
            ),
            "",
        ),
        (
            "refresh end to end",
            format!(
                "{} trackings/s ({} stored), ratio {}",
                f(r.refresh_per_second, 0),
                r.refresh_trackings_stored,
                f(r.refresh_ratio, 2)
            ),
            "≥ 2,000/s",
        ),
        (
            "detection, one core",
            format!("{} numbers/s", f(r.detection_per_second_one_core, 0)),
            "≥ 1,000,000/s",
        ),
        (
            "detection corpus, all",
            corpus_cell(r.detection_corpus),
            "≥ 90% / ≥ 97%; ≤ 5%",
        ),
        (
            "  named couriers' files alone",
            corpus_cell(r.detection_corpus_named),
            "",
        ),
        (
            "detection of random 10-22 char strings",
            format!(
                "A-Z0-9: {}% any, {}% check digit; digits: {}% any, {}% check digit",
                f(r.detection_false_positive_alnum.map(|v| v * 100.0), 2),
                f(r.detection_validated_alnum.map(|v| v * 100.0), 2),
                f(r.detection_false_positive_digits.map(|v| v * 100.0), 2),
                f(r.detection_validated_digits.map(|v| v * 100.0), 2)
            ),
            "",
        ),
        (
            "import (parceld import, JSON lines)",
            format!(
                "{} trackings in {} s, {} trackings/s",
                r.import_trackings,
                f(r.import_seconds, 1),
                f(r.import_per_second, 0)
            ),
            "1M < 120 s; 10M ≥ 25,000/s",
        ),
        (
            "  database on disk after import",
            format!(
                "{} bytes, {} bytes per tracking",
                r.import_database_bytes
                    .map_or_else(|| "-".into(), |b| b.to_string()),
                f(r.import_bytes_per_tracking, 0)
            ),
            "10M ≤ 4 GB",
        ),
        (
            "RSS idle",
            format!(
                "{} MiB with {} stored",
                f(r.rss_idle_mb, 0),
                r.import_trackings
            ),
            "< 200 MiB at 1M",
        ),
        (
            "RSS peak while refreshing",
            format!("{} MiB", f(r.rss_peak_refreshing_mb, 0)),
            "",
        ),
        ("GET /healthz (page baseline)", load(&r.page_hello), ""),
        (
            "GET shipment page (public, 10 events)",
            load(&r.page_shipment),
            "p99 < 10 ms",
        ),
        (
            "  ratio to baseline, size",
            format!(
                "{}, {} bytes with headers, {} trackings stored",
                f(r.page_ratio, 2),
                r.page_bytes.map_or_else(|| "-".into(), |b| b.to_string()),
                r.page_trackings_stored
            ),
            "≥ 0.40 at 1M; < 50 KB",
        ),
        (
            "dashboard, shipments first page",
            dash(|d| &d.first_page),
            "p99 < 50 ms at 1M",
        ),
        (
            "dashboard, filtered page",
            dash(|d| &d.filtered_page),
            "p99 < 50 ms at 1M",
        ),
        (
            "dashboard, by last update, 100 pages in",
            dash(|d| &d.deep_sorted_page),
            "p99 < 50 ms at 1M",
        ),
        (
            "dashboard, CSV export",
            r.dashboard.as_ref().map_or_else(
                || "-".into(),
                |d| {
                    format!(
                        "{:.0} rows/s over {} rows, {} trackings stored{}",
                        d.export_rows_per_second,
                        d.export_rows,
                        d.trackings_stored,
                        verdict(Some(d.export_rows_per_second), |v| v >= 50_000.0)
                    )
                },
            ),
            "≥ 50,000 rows/s",
        ),
        (
            "webhooks, throughput",
            format!(
                "{} deliveries/s ({} deliveries)",
                f(r.webhook_deliveries_per_second, 0),
                r.webhook_deliveries
            ),
            "≥ 1,000/s",
        ),
        (
            "webhooks, change to receipt",
            latencies(
                r.webhook_latency_p50_ms,
                r.webhook_latency_p99_ms,
                r.webhook_latency_rate,
            ),
            "p99 < 1 s at 500/s",
        ),
        (
            "notifications, throughput",
            format!(
                "{} emails/s ({} emails, one SMTP server){}",
                f(r.notify_emails_per_second, 0),
                r.notify_emails,
                verdict(r.notify_emails_per_second, |v| v >= 500.0)
            ),
            "≥ 500/s",
        ),
        (
            "notifications, change to inbox",
            latencies(
                r.notify_latency_p50_ms,
                r.notify_latency_p99_ms,
                r.notify_latency_rate,
            ) + verdict(r.notify_latency_p99_ms, |v| v < 2000.0),
            "p99 < 2 s at 100/s",
        ),
        (
            "push, applied",
            format!(
                "{} pushes/s ({} pushes over HTTP, {} connections) {}",
                f(r.push_per_second, 0),
                r.push_count,
                super::push::SENDERS,
                match r.push_per_second {
                    Some(rate) if rate >= super::push::TARGET => "PASS",
                    Some(_) => "FAIL",
                    None => "",
                }
            ),
            "≥ 5,000/s",
        ),
    ];
    let at = rows
        .iter()
        .position(|row| row.0 == "dashboard, CSV export")
        .map_or(rows.len(), |i| i + 1);
    rows.splice(at..at, charts);
    rows
}

/// The soak's rows, when it ran.
pub(super) fn soak_rows(r: &Report) -> String {
    let mut out = String::new();
    if let Some(soak) = &r.soak {
        out.push_str(&format!(
            "{:<38} {:<80} {}\n",
            "soak",
            format!(
                "{:.0} s, {} samples, {} API requests, {} imports, {} webhooks, {} errors",
                soak.seconds,
                soak.samples.len(),
                soak.api_requests,
                soak.imports,
                soak.webhooks_received,
                soak.errors
            ),
            "0 errors, no growth"
        ));
        out.push_str(&format!("  {}\n", soak.verdict));
    }
    out
}
