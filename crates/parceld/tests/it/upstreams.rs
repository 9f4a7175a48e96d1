//! Aggregator upstreams end to end: the real `parceld` binary, configured with
//! `[upstreams.<name>]` pointing at the simulator's 17TRACK, AfterShip or TrackingMore protocol
//! over real HTTP, tracks couriers it has no adapter of its own for. For each upstream the same
//! story runs: a tracking of a long-tail courier is created (registered upstream and fetched at
//! once, keeping parceld's courier code), polled as its journey unfolds, and its webhooks are
//! delivered; a 5xx, a 429, a malformed body, a used-up quota and a refused key each leave a
//! `check_error` saying so while the stored status and checkpoints stay; an unknown number is
//! `notfound`; deleting and archiving stop the number upstream; `couriers/all` and `/metrics`
//! show the routing, the quota and the courier's health.

use std::time::Duration;

use chrono::Utc;
use parceld_sim::{EventKind, Faults, Simulator};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::adapters::{brisk_worker, checkpoints, each_fault_leaves_its_error, event, expected};
use crate::adapters::{failing_with, state, tracking};
use crate::engine::{start_sim, wait_for};
use crate::support::{env_refs, Server};
use crate::webhooks::start_receiver;

/// One upstream under test: its `[upstreams.<name>]`, what it routes, and a long-tail courier
/// with three numbers: the walked parcel, an unknown one, and one created while the quota is
/// used up.
struct Case {
    upstream: &'static str,
    couriers: &'static str,
    courier: &'static str,
    numbers: [&'static str; 3],
}

const CASES: [Case; 3] = [
    Case {
        upstream: "17track",
        couriers: r#"["*"]"#,
        courier: "yanwen",
        numbers: ["UG123456789YW", "UG000000001YW", "UG000000002YW"],
    },
    Case {
        upstream: "aftership",
        couriers: r#"["4px"]"#,
        courier: "4px",
        numbers: [
            "4PX3000123456789CN",
            "4PX3000000000001CN",
            "4PX3000000000002CN",
        ],
    },
    Case {
        upstream: "trackingmore",
        couriers: r#"["*"]"#,
        courier: "cainiao",
        numbers: ["LP00123456789012", "LP00000000000001", "LP00000000000002"],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seventeen_track() {
    run(&CASES[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aftership() {
    run(&CASES[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trackingmore() {
    run(&CASES[2]).await;
}

/// The server: `case`'s upstream pointed at the simulator with a quota of 10, the worker
/// checking every second and retrying failures after a second, webhooks to loopback allowed.
fn start_server(case: &Case, sim_url: &str) -> Server {
    upstream_server(
        case.upstream,
        case.couriers,
        sim_url,
        &[("QUOTA", "10".into())],
    )
}

/// A server with `upstream` at the simulator routing `couriers` (with the key `0123456789` and
/// `fields` more of its table), the worker checking every second and retrying failures after a
/// second, webhooks to loopback allowed.
pub(crate) fn upstream_server(
    upstream: &str,
    couriers: &str,
    sim_url: &str,
    fields: &[(&str, String)],
) -> Server {
    let var = upstream.to_ascii_uppercase();
    let field = |name: &str| format!("PARCELD_UPSTREAMS__{var}__{name}");
    let mut env = vec![
        (field("API_KEY"), "0123456789".to_string()),
        (field("BASE_URL"), format!("{sim_url}/{upstream}")),
        (field("COURIERS"), couriers.to_string()),
        (field("RATE_PER_SECOND"), "1000".into()),
    ];
    env.extend(
        fields
            .iter()
            .map(|(name, value)| (field(name), value.clone())),
    );
    env.extend(brisk_worker());
    env.push((
        "PARCELD_WEBHOOKS__ALLOW_NETWORKS".into(),
        "[\"127.0.0.0/8\"]".into(),
    ));
    env.push(("PARCELD_WEBHOOKS__IDLE_POLL_MS".into(), "50".into()));
    Server::start_with_env(&env_refs(&env))
}

/// The walked parcel: labelled half an hour ago, then picked up, out for delivery and
/// delivered an hour apart each, revealed by moving its clock.
pub(crate) fn script_walk(sim: &Simulator, number: &str) {
    let first = Utc::now() - chrono::Duration::minutes(30);
    let kinds = [
        EventKind::LabelCreated,
        EventKind::PickedUp,
        EventKind::OutForDelivery,
        EventKind::Delivered,
    ];
    let events = (0..)
        .zip(kinds)
        .map(|(i, kind)| event(kind, first + chrono::Duration::hours(i)))
        .collect();
    sim.script(number, events);
}

/// Waits for `number` to reach `sub` (a sub-status, or a bare status).
pub(crate) async fn reaches(server: &Server, number: &str, sub: &str) -> Value {
    let want = expected(sub);
    wait_for(20, &format!("{number} {sub}"), || async {
        let t = tracking(server, number).await;
        (state(&t) == want).then_some(t)
    })
    .await
}

/// The entry of `courier` in `GET /v4/couriers/all`, and how many couriers it lists.
pub(crate) async fn listed(server: &Server, courier: &str) -> (Value, usize) {
    let (status, body) = server.get("/v4/couriers/all", server.key()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all = body["data"].as_array().expect("a list").clone();
    let entry = all.iter().find(|c| c["courier_code"] == courier).cloned();
    (entry.expect("the courier is listed"), all.len())
}

async fn run(case: &Case) {
    let (sim, sim_url) = start_sim().await;
    let (receiver, receiver_url) = start_receiver().await;
    let server = start_server(case, &sim_url);
    let key = server.key();
    let name = case.upstream;
    let [walked, unknown, over_quota] = case.numbers;
    let hook = json!({"url": format!("{receiver_url}/hook")});
    let (status, body) = server.post("/v4/webhooks", key, hook).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    script_walk(&sim, walked);
    sim.script(unknown, vec![]);
    let labelled = Utc::now() - chrono::Duration::hours(1);
    sim.script(over_quota, vec![event(EventKind::LabelCreated, labelled)]);

    // Created: registered upstream and fetched at once; the courier code stays parceld's.
    let id = server.create(key, walked, case.courier).await;
    let created = reaches(&server, walked, "inforeceived001").await;
    assert_eq!(created["courier_code"], case.courier, "{created}");
    assert_eq!(sim.registered(name), [walked.to_string()]);
    server.create(key, unknown, case.courier).await;
    assert_eq!(
        tracking(&server, unknown).await["delivery_status"],
        "notfound"
    );

    // Polled as the journey unfolds; registration is not repeated.
    sim.advance_number(walked, Duration::from_secs(3600));
    let picked_up = reaches(&server, walked, "transit001").await;
    assert_eq!(sim.registered(name).len(), 2, "{:?}", sim.registered(name));
    wait_for(20, "a webhook for the walked parcel", || async {
        receiver
            .got("/hook")
            .iter()
            .any(|got| String::from_utf8_lossy(&got.body).contains(walked))
            .then_some(())
    })
    .await;

    // Upstream failures: each leaves a check_error naming the upstream and what failed.
    each_fault_leaves_its_error(&sim, &server, name, walked, &picked_up).await;

    // The quota used up: a new number waits with a clear error; the account's others go on.
    sim.set_faults(
        Some(name),
        Faults {
            quota_exhausted: true,
            ..Faults::default()
        },
    );
    server.create(key, over_quota, case.courier).await;
    let pending = tracking(&server, over_quota).await;
    failing_with(&server, over_quota, &[name, "quota"], &pending).await;
    let metrics = server.text("/metrics").await;
    for line in [
        format!("parceld_upstream_quota_exhausted{{upstream=\"{name}\"}} 1"),
        format!("parceld_upstream_registered_total{{upstream=\"{name}\"}} 2"),
        format!("parceld_upstream_quota_remaining{{upstream=\"{name}\"}} 8"),
    ] {
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    let (entry, count) = listed(&server, case.courier).await;
    assert!(count >= 500, "couriers/all lists {count}");
    let (status, v2) = server.get("/v2/carriers", key).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(
        v2["data"].as_array().map_or(0, Vec::len),
        count,
        "v2 lists them too"
    );
    assert_eq!(entry["reached_by"], "upstream", "{entry}");
    assert_eq!(entry["upstream"], name, "{entry}");
    assert_eq!(entry["configured"], true, "{entry}");
    assert_eq!(entry["updates"], "poll", "no push configured: {entry}");
    assert_eq!(entry["upstream_quota"]["quota_exhausted"], true, "{entry}");
    assert!(entry["health"]["calls"].as_u64().unwrap() > 0, "{entry}");
    let rate = entry["health"]["success_rate"].as_f64().unwrap();
    assert!(
        rate > 0.0 && rate < 1.0,
        "failures and successes both counted: {entry}"
    );
    sim.clear_faults();

    // Delivered; archived and deleted trackings are stopped upstream.
    sim.advance_number(walked, Duration::from_secs(2 * 3600));
    reaches(&server, walked, "delivered001").await;
    let (status, body) = server
        .update(key, &id, json!({"archived_status": "true"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unknown_id = tracking(&server, unknown).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = server
        .delete(&format!("/v4/trackings/delete/{unknown_id}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_for(20, "both stopped upstream", || async {
        let mut stopped = sim.stopped(name);
        stopped.sort();
        (stopped == [unknown.to_string(), walked.to_string()]).then_some(())
    })
    .await;

    // The quota renewed, the waiting number is registered and fetched.
    let before = reaches(&server, over_quota, "inforeceived001").await;
    assert_eq!(checkpoints(&before), 1, "{before}");

    // A refused key: the check_error names the table to fix; the data stays.
    sim.set_faults(Some(name), Faults::refusing_credentials());
    let table = format!("[upstreams.{name}]");
    failing_with(&server, over_quota, &["credentials", &table], &before).await;
}
