//! SQLite and PostgreSQL side by side, from one run: the table with a column per backend, the
//! nodes scenario, and the targets PostgreSQL is held to, each judged PASS or FAIL from the
//! figures of the same run (a target whose figure was not measured at its scale is not judged,
//! and says why, rather than passing).

use serde::Serialize;

use super::nodes::NodesResult;
use super::report::{heading, rows, soak_rows, Report};
use super::Options;

/// One target and how the run did against it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub target: &'static str,
    pub measured: String,
    /// `PASS`, `FAIL`, or `NOT JUDGED (why)`.
    pub verdict: String,
}

/// Trackings the import target speaks of.
const IMPORT_SCALE: usize = 1_000_000;

fn judged(
    name: &'static str,
    target: &'static str,
    measured: Option<(f64, String)>,
    pass: impl Fn(f64) -> bool,
) -> Target {
    let (measured, verdict) = match measured {
        Some((value, shown)) => (shown, if pass(value) { "PASS" } else { "FAIL" }.to_string()),
        None => ("-".into(), "NOT JUDGED (not measured)".into()),
    };
    Target {
        name,
        target,
        measured,
        verdict,
    }
}

/// The PostgreSQL targets of `pg` (the scenarios on PostgreSQL) and `nodes`.
pub(super) fn postgres_targets(pg: &Report, nodes: Option<&NodesResult>) -> Vec<Target> {
    let per_second = |v: f64| (v, format!("{v:.0}/s"));
    let mut targets = vec![
        judged(
            "batch create",
            "≥ 10,000 trackings/s",
            pg.ingest_per_second.map(per_second),
            |v| v >= 10_000.0,
        ),
        judged(
            "GET one tracking, p99",
            "< 10 ms",
            pg.api_get_one
                .as_ref()
                .map(|l| (l.p99_ms, format!("{:.2} ms", l.p99_ms))),
            |v| v < 10.0,
        ),
        judged(
            "refresh, one node",
            "≥ 2,000 trackings/s per node",
            nodes.map(|n| per_second(n.one_node_per_second)),
            |v| v >= 2_000.0,
        ),
        judged(
            "refresh, two nodes, per node",
            "≥ 2,000 trackings/s per node",
            nodes.map(|n| per_second(n.two_nodes_per_node)),
            |v| v >= 2_000.0,
        ),
        judged(
            "two worker nodes / one",
            "≥ 1.7×",
            nodes.map(|n| (n.two_to_one_ratio, format!("{:.2}×", n.two_to_one_ratio))),
            |v| v >= 1.7,
        ),
    ];
    let mut import = judged(
        "import of 1,000,000",
        "< 60 s",
        pg.import_seconds
            .map(|s| (s, format!("{} trackings in {s:.1} s", pg.import_trackings))),
        |v| v < 60.0,
    );
    if pg.import_seconds.is_some() && pg.import_trackings < IMPORT_SCALE {
        import.verdict = format!(
            "NOT JUDGED (run with --trackings {IMPORT_SCALE}; {} imported)",
            pg.import_trackings
        );
    }
    targets.push(import);
    targets
}

/// The table with a SQLite and a PostgreSQL column, the nodes scenario and the targets.
pub(super) fn table(r: &Report, o: &Options) -> String {
    let mut out = heading(r, o);
    let pg = r
        .postgres
        .as_deref()
        .map(|pg| rows(pg, o))
        .unwrap_or_default();
    out.push_str(&format!(
        "{:<38} {:<72} {:<72} {}\n",
        "", "SQLite", "PostgreSQL", "target"
    ));
    for (i, (name, value, target)) in rows(r, o).into_iter().enumerate() {
        let on_pg = pg.get(i).map_or("-", |row| row.1.as_str());
        out.push_str(&format!("{name:<38} {value:<72} {on_pg:<72} {target}\n"));
    }
    out.push_str(&soak_rows(r));
    if let Some(n) = &r.nodes {
        out.push_str(&format!(
            "\nPostgreSQL, refresh by worker nodes on one database ({} trackings due; Aramex, {} \
             numbers a call, {} ms a call, {} calls in flight per node: at most {:.0}/s per node)\n",
            n.trackings_stored,
            n.numbers_per_call,
            n.carrier_latency_ms,
            n.calls_in_flight_per_node,
            n.carrier_bound_per_node
        ));
        out.push_str(&format!(
            "  one node:  {:.0} trackings/s\n  two nodes: {:.0} trackings/s, {:.0}/s per node, \
             {:.2}× one node\n",
            n.one_node_per_second, n.two_nodes_per_second, n.two_nodes_per_node, n.two_to_one_ratio
        ));
    }
    if !r.targets.is_empty() {
        out.push_str("\nPostgreSQL targets\n");
        for t in &r.targets {
            out.push_str(&format!(
                "  {:<30} {:<30} {:<32} {}\n",
                t.name, t.target, t.measured, t.verdict
            ));
        }
    }
    out
}
