//! Several `parceld serve` nodes on one PostgreSQL database, with the carrier simulator as the
//! carrier: the work is shared without being done twice, a node that dies loses its claims
//! after the lease, webhooks are all delivered, and a deleted key stops on every node at once.
//!
//! Only PostgreSQL is shared by several machines, so these tests run when the suite runs on it
//! (`PARCELD_TEST_DATABASE=postgres`, as `.ci/run`'s second pass does) and return early on SQLite.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use parceld_sim::{Faults, Simulator};
use parceld_store::test_support::{DeliveryRows, StoreTestSupport, TrackingRows};
use reqwest::StatusCode;
use serde_json::json;

use crate::engine::{
    carrier_says, checkpoints_of, engine_env, numbers_for, script_finished, start_sim, wait_for,
};
use crate::support::{env_refs, on_postgres, DataDir, Server};
use crate::webhooks::start_receiver;

/// The simulator's route for one UPS shipment: one request per tracking refreshed.
const UPS_DETAILS: &str = "/api/track/v1/details/{inquiryNumber}";

/// `true`, after saying why on stderr, when the suite runs on SQLite; the test then returns.
fn postgres_only() -> bool {
    if !on_postgres() {
        eprintln!("skipped on SQLite: several nodes share only a PostgreSQL database");
    }
    !on_postgres()
}

/// Small refresh batches (so that every node claims some), and webhooks to this machine, soon.
const BRISK_WEBHOOKS_TO_LOOPBACK: [(&str, &str); 3] = [
    ("PARCELD_ENGINE__BATCH_SIZE", "10"),
    ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
    ("PARCELD_WEBHOOKS__IDLE_POLL_MS", "50"),
];

/// The carrier simulator, its UPS answering after `min_ms` to `max_ms`, and a fresh database.
async fn simulator_and_database(min_ms: u64, max_ms: u64) -> (Simulator, String, DataDir) {
    let (sim, sim_url) = start_sim().await;
    sim.set_faults(Some("ups"), Faults::latency(min_ms, max_ms));
    (sim, sim_url, DataDir::new())
}

/// Starts `count` nodes on `dir`'s database with the same settings; the first prints the key.
fn start_nodes(dir: &DataDir, count: usize, env: &[(String, String)]) -> Vec<Server> {
    (0..count)
        .map(|_| Server::start_in(dir.path(), &env_refs(env)))
        .collect()
}

/// Creates `numbers` as UPS trackings through the nodes in turn, 40 to a call.
async fn create_across(nodes: &[Server], key: &str, numbers: &[String]) {
    for (i, chunk) in numbers.chunks(40).enumerate() {
        nodes[i % nodes.len()]
            .create_numbers(key, chunk, "ups")
            .await;
    }
}

/// Waits until no tracking is left unchecked.
async fn wait_all_checked(store: &dyn StoreTestSupport, secs: u64) {
    wait_for(secs, "every tracking checked", || async {
        let left = store.count_trackings(TrackingRows::NeverChecked).await;
        (left.unwrap() == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_refresh_each_due_tracking_once_and_deliver_every_webhook() {
    if postgres_only() {
        return;
    }
    let (sim, sim_url, dir) = simulator_and_database(20, 60).await;
    let (receiver, hook_base) = start_receiver().await;
    let env = engine_env(&sim_url, &BRISK_WEBHOOKS_TO_LOOPBACK);
    let nodes = start_nodes(&dir, 3, &env);
    let key = nodes[0].key().to_string();
    let (status, hook) = nodes[1]
        .post(
            "/v4/webhooks",
            &key,
            json!({"url": format!("{hook_base}/all")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hook}");

    let numbers = numbers_for("ups", 240, 61);
    script_finished(&sim, &numbers);
    create_across(&nodes, &key, &numbers).await;
    let store = nodes[0].store().await;
    wait_all_checked(&*store, 120).await;

    // One cycle: each tracking was asked of the carrier once, by whichever node claimed it,
    // and none is due again (the next check of an express tracking is minutes away).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), numbers.len() as u64);

    // Every change reached the receiver, whichever node sent it; a repeat carries its event id.
    let changes = store.count_changes(None).await.unwrap();
    assert!(
        changes >= numbers.len() as u64,
        "each first check is a change"
    );
    let received = wait_for(60, "every webhook delivered", || async {
        let ids: HashSet<String> = receiver.got("/all").iter().map(|g| g.id()).collect();
        (ids.len() as u64 == changes).then_some(ids)
    })
    .await;
    assert_eq!(received.len() as u64, changes);
    // A node marks a delivery done after the receiver has answered it, so the last marks may
    // come a moment after the last webhook arrived.
    wait_for(10, "nothing left to deliver", || async {
        let pending = store.count_deliveries(DeliveryRows::Pending).await.unwrap();
        (pending == 0).then_some(())
    })
    .await;
    for node in nodes {
        assert!(node.stop(), "each node stops cleanly");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_claims_are_taken_over_by_the_other_nodes_after_the_lease() {
    if postgres_only() {
        return;
    }
    let (sim, sim_url, dir) = simulator_and_database(200, 400).await;
    let env = engine_env(
        &sim_url,
        &[
            ("PARCELD_ENGINE__BATCH_SIZE", "20"),
            ("PARCELD_ENGINE__LEASE_SECS", "2"),
        ],
    );
    // The victim works alone at first, so that every claim held when it dies is its own.
    let victim = Server::start_in(dir.path(), &env_refs(&env));
    let key = victim.key().to_string();
    let numbers = numbers_for("ups", 300, 62);
    script_finished(&sim, &numbers);
    let store = victim.store().await;
    victim.create_numbers(&key, &numbers, "ups").await;
    wait_for(60, "the victim holding claims", || async {
        let leased = store.count_trackings(TrackingRows::Leased).await.unwrap();
        (leased > 0).then_some(())
    })
    .await;
    victim.kill();
    let held_by_victim = store.count_trackings(TrackingRows::Leased).await.unwrap();
    assert!(held_by_victim > 0, "killed while holding claims");

    // Two other nodes take its claims over once their lease runs out, and do the rest.
    let _others = start_nodes(&dir, 2, &env);
    wait_all_checked(&*store, 120).await;
    let leased = store.count_trackings(TrackingRows::Leased).await.unwrap();
    assert_eq!(leased, 0, "no claim left behind");
    let asked = sim.path_requests("ups", UPS_DETAILS);
    assert!(asked >= numbers.len() as u64, "{asked}");
    assert!(asked < 2 * numbers.len() as u64, "{asked}");
    sim.clear_faults();
    let expected = carrier_says(&sim_url, "ups", &numbers, checkpoints_of).await;
    for number in &numbers {
        let recorded = store.count_checkpoints(number).await.unwrap();
        assert_eq!(
            recorded as usize, expected[number],
            "{number}: none lost or doubled"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_key_is_refused_by_every_node_within_a_second() {
    if postgres_only() {
        return;
    }
    let dir = DataDir::new();
    let nodes = start_nodes(&dir, 3, &[]);
    let (ok, out) = nodes[0].admin(&["key", "create", "--account", "default"]);
    assert!(ok, "{out}");
    let doomed = crate::support::extract_key(&out);
    for node in &nodes {
        let (status, body) = node.get("/v4/trackings/get", &doomed).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (ok, out) = nodes[0].admin(&["key", "delete", &crate::support::extract_key_id(&out)]);
    assert!(ok, "{out}");
    let deleted_at = Instant::now();
    for node in &nodes {
        let (status, body) = node.get("/v4/trackings/get", &doomed).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    assert!(deleted_at.elapsed() < Duration::from_secs(1));
    let first = nodes[0].key().to_string();
    for node in &nodes {
        let (status, _) = node.get("/v4/trackings/get", &first).await;
        assert_eq!(status, StatusCode::OK, "the other key still works");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_asks_the_carrier_once_whichever_node_gets_the_requests() {
    if postgres_only() {
        return;
    }
    let (sim, sim_url) = start_sim().await;
    let dir = DataDir::new();
    let env = engine_env(&sim_url, &[("PARCELD_SERVER__WORKER", "false")]);
    let nodes = start_nodes(&dir, 3, &env);
    let key = nodes[0].key().to_string();
    let numbers = numbers_for("ups", 4, 63);
    script_finished(&sim, &numbers);
    nodes[0].create_numbers(&key, &numbers, "ups").await;
    assert_eq!(
        sim.path_requests("ups", UPS_DETAILS),
        0,
        "batch create asks nothing"
    );

    // The same shipment asked of three nodes at once, with a slow carrier: one carrier call,
    // and each node answers with what it brought.
    sim.set_faults(Some("ups"), Faults::latency(600, 600));
    for (round, number) in numbers.iter().enumerate() {
        let body = json!({"tracking_number": number, "courier_code": "ups"});
        let path = "/v4/trackings/realtime";
        let (a, b, c) = tokio::join!(
            nodes[0].post(path, &key, body.clone()),
            nodes[1].post(path, &key, body.clone()),
            nodes[2].post(path, &key, body.clone()),
        );
        let answers = [a, b, c];
        let mut fetched_at = HashSet::new();
        for (status, answer) in &answers {
            assert_eq!(*status, StatusCode::OK, "{answer}");
            assert_eq!(answer["data"]["fetched_from"], "carrier", "{answer}");
            fetched_at.insert(answer["data"]["fetched_at"].to_string());
        }
        assert_eq!(fetched_at.len(), 1, "one fetch shared: {answers:?}");
        let asked = sim.path_requests("ups", UPS_DETAILS);
        assert_eq!(asked, round as u64 + 1, "one carrier call for three nodes");
    }
    sim.clear_faults();

    // Inside the window every node answers from the store, one after the other.
    for node in &nodes {
        let (status, again) = node
            .post_number("/v4/trackings/realtime", &key, &numbers[0], "ups")
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["data"]["fetched_from"], "store", "{again}");
    }
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), numbers.len() as u64);
}

/// Three GETs of `path` sent to `node` at once; their statuses.
async fn three_requests(node: &Server, path: &str, key: &str) -> [StatusCode; 3] {
    let (a, b, c) = tokio::join!(
        node.get(path, key),
        node.get(path, key),
        node.get(path, key)
    );
    [a.0, b.0, c.0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_rate_limit_is_one_total_across_three_nodes() {
    if postgres_only() {
        return;
    }
    let dir = DataDir::new();
    let limit = [("PARCELD_RATE_LIMITS__V4_OTHER".to_string(), "3".to_string())];
    let nodes = start_nodes(&dir, 3, &limit);
    let key = nodes[0].key().to_string();
    let path = "/v4/trackings/get";
    // Nine requests at once, three to each node: three tokens in all. A burst slower than a
    // third of a second (when a token comes back) proves nothing, and is sent again.
    for _ in 0..5 {
        let started = Instant::now();
        let (a, b, c) = tokio::join!(
            three_requests(&nodes[0], path, &key),
            three_requests(&nodes[1], path, &key),
            three_requests(&nodes[2], path, &key)
        );
        if started.elapsed() >= Duration::from_millis(300) {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            continue;
        }
        let statuses: Vec<StatusCode> = [a, b, c].concat();
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let limited = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(
            (ok, limited),
            (3, 6),
            "three in all, not three a node: {statuses:?}"
        );
        return;
    }
    panic!("no burst of nine requests took less than 300 ms");
}
