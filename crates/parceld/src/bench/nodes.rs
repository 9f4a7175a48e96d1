//! The nodes scenario (PostgreSQL only): trackings refreshed per second by one `parceld serve`
//! worker node, then by two, on one database, against the carrier simulator.
//!
//! The question is whether a second node adds what the first does, so the carrier must be the
//! limit and not this machine: every node may have [`CALLS_IN_FLIGHT`] carrier calls in flight
//! (`carriers.aramex.concurrency`), each call answers after a carrier's realistic latency
//! (`Options::node_latency_ms`), and the carrier is Aramex, which takes up to 25 waybills a call
//! as the large carriers' tracking APIs do. One node can then refresh at most
//! 64 × 25 / latency trackings a second, whatever the machine. Each run starts on a fresh
//! database with the same due trackings.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::data::{bulk_create, store_in};
use super::harness::{start_sim, ServerProcess};
use super::refresh::refreshed_per_second;
use super::Options;

/// Carrier calls each node may have in flight.
pub(super) const CALLS_IN_FLIGHT: usize = 64;
/// Waybills in one Aramex call (the adapter's own limit).
const PER_CALL: usize = 25;

/// What the nodes scenario measured.
#[derive(Debug, Clone, Serialize)]
pub struct NodesResult {
    pub carrier_latency_ms: u64,
    pub calls_in_flight_per_node: usize,
    pub numbers_per_call: usize,
    /// The most one node can refresh with that latency and those calls.
    pub carrier_bound_per_node: f64,
    pub trackings_stored: usize,
    /// Trackings refreshed per second, in all, with one node and with two.
    pub one_node_per_second: f64,
    pub two_nodes_per_second: f64,
    /// `two_nodes_per_second / 2`.
    pub two_nodes_per_node: f64,
    /// `two_nodes_per_second / one_node_per_second`.
    pub two_to_one_ratio: f64,
}

/// A node's settings: Aramex at the simulator, [`CALLS_IN_FLIGHT`] calls at most.
fn node_env(sim: &str) -> Vec<(String, String)> {
    let aramex = |field: &str, value: &str| {
        (
            format!("PARCELD_CARRIERS__ARAMEX__{field}"),
            value.to_string(),
        )
    };
    vec![
        aramex("BASE_URL", &format!("{sim}/aramex")),
        aramex("USERNAME", "bench"),
        aramex("PASSWORD", "bench"),
        aramex("ACCOUNT_NUMBER", "20016"),
        aramex("ACCOUNT_PIN", "331421"),
        aramex("ACCOUNT_ENTITY", "DXB"),
        aramex("ACCOUNT_COUNTRY_CODE", "AE"),
        aramex("RATE_PER_SECOND", "1000000"),
        aramex("CONCURRENCY", &CALLS_IN_FLIGHT.to_string()),
        ("PARCELD_ENGINE__IDLE_POLL_MS".into(), "100".into()),
    ]
}

/// Refreshes per second of `nodes` nodes on a fresh database of `dir`.
async fn with_nodes(options: &Options, dir: &Path, sim: &str, nodes: usize) -> anyhow::Result<f64> {
    let backend = &options.backend;
    let (store, account, _key) = store_in(backend, dir).await?;
    bulk_create(store.as_ref(), account, "aramex", options.refresh_trackings).await?;
    drop(store);
    let env = node_env(sim);
    let mut servers = vec![ServerProcess::start(backend, dir, &env)?];
    // The clock starts with the first node: a later node's start-up counts against the run.
    let since = Instant::now();
    for _ in 1..nodes {
        servers.push(ServerProcess::start(backend, dir, &env)?);
    }
    let stored = options.refresh_trackings as i64;
    refreshed_per_second(backend, dir, stored, options.seconds as f64, since).await
}

/// One node, then two, each on a fresh database with `options.refresh_trackings` due.
pub(super) async fn run(options: &Options, dir: &Path) -> anyhow::Result<NodesResult> {
    let (_sim, sim_url) = start_sim(options.node_latency_ms).await?;
    let one = with_nodes(options, &dir.join("one"), &sim_url, 1).await?;
    let two = with_nodes(options, &dir.join("two"), &sim_url, 2).await?;
    Ok(NodesResult {
        carrier_latency_ms: options.node_latency_ms,
        calls_in_flight_per_node: CALLS_IN_FLIGHT,
        numbers_per_call: PER_CALL,
        carrier_bound_per_node: (CALLS_IN_FLIGHT * PER_CALL) as f64 * 1000.0
            / options.node_latency_ms.max(1) as f64,
        trackings_stored: options.refresh_trackings,
        one_node_per_second: one,
        two_nodes_per_second: two,
        two_nodes_per_node: two / 2.0,
        two_to_one_ratio: two / one.max(1e-9),
    })
}
