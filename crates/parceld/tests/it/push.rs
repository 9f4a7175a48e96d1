//! Carrier push and air waybills, end to end: the simulator subscribes UPS trackings, posts
//! signed UPS and FedEx pushes to the real `parceld` binary, and answers `/v4/awb` as the
//! air-cargo upstream. Pushed events land through the refresh path (same checkpoints, same
//! webhooks) with no poll in between; forged, replayed and stale pushes change nothing; pushed
//! trackings are polled only as a safety net.

use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_sim::Simulator;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engine::{engine_env, start_sim, wait_for};
use crate::support::{assert_error, env_refs, Server};
use crate::webhooks::{create_webhook, script_journey, start_receiver};

const UPS: &str = "1Z999AA10123456784";
const FEDEX: &str = "449044304137821";
const UPS_TRACK: &str = "/api/track/v1/details/{inquiryNumber}";
const FEDEX_TRACK: &str = "/track/v1/trackingnumbers";

pub(crate) async fn stored(server: &Server, number: &str) -> (u64, u64, Option<DateTime<Utc>>) {
    let store = server.store().await;
    let checkpoints = store.count_checkpoints(number).await.unwrap();
    let changes = store.count_changes(Some(number)).await.unwrap();
    let tracking = server.stored_trackings(server.key()).await;
    let checked = tracking
        .iter()
        .find(|t| t.tracking_number == number)
        .and_then(|t| t.last_checked_at);
    (checkpoints, changes, checked)
}

/// Polls of each courier over `secs` seconds.
pub(crate) async fn polls_during(sim: &Simulator, secs: u64) -> (u64, u64) {
    let before = (
        sim.path_requests("ups", UPS_TRACK),
        sim.path_requests("fedex", FEDEX_TRACK),
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    (
        sim.path_requests("ups", UPS_TRACK) - before.0,
        sim.path_requests("fedex", FEDEX_TRACK) - before.1,
    )
}

/// A server beside the simulator, polling every second, with `push` (its `[push]` variables).
fn push_server(sim_url: &str, push: &[(&str, &str)]) -> Server {
    let mut extra = vec![
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
    ];
    extra.extend_from_slice(push);
    Server::start_with_env(&env_refs(&engine_env(sim_url, &extra)))
}

/// Scripts a journey for the UPS and the FedEx number and creates both trackings.
async fn create_both(sim: &Simulator, server: &Server) {
    script_journey(sim, UPS);
    script_journey(sim, FEDEX);
    server.create(server.key(), UPS, "ups").await;
    server.create(server.key(), FEDEX, "fedex").await;
}

/// Waits until the UPS and the FedEx tracking were polled once.
async fn first_polls(server: &Server) {
    for number in [UPS, FEDEX] {
        wait_for(20, "a first poll", || async {
            stored(server, number).await.2.map(|_| ())
        })
        .await;
    }
}

pub(crate) fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_apply_like_refreshes_refuse_forgeries_and_replays_and_slow_the_polls() {
    let (sim, sim_url) = start_sim().await;
    let (receiver, receiver_url) = start_receiver().await;
    let server = push_server(
        &sim_url,
        &[
            ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
            ("PARCELD_WEBHOOKS__IDLE_POLL_MS", "50"),
            ("PARCELD_PUSH__SUBSCRIBE_EVERY_MS", "100"),
            ("PARCELD_PUSH__SOURCES__UPS__ENABLED", "true"),
            ("PARCELD_PUSH__SOURCES__UPS__SECRET", "ups-portal-key"),
            ("PARCELD_PUSH__SOURCES__UPS__SUBSCRIBE", "true"),
            ("PARCELD_PUSH__SOURCES__FEDEX__ENABLED", "true"),
            ("PARCELD_PUSH__SOURCES__FEDEX__SECRET", "fedex-token"),
        ],
    );
    let key = server.key().to_string();
    let (status, _) = server
        .post(
            "/v4/webhooks",
            &key,
            json!({"url": format!("{receiver_url}/all")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    create_both(&sim, &server).await;

    // The UPS tracking is subscribed with Track Alert; both are polled once.
    wait_for(20, "the Track Alert subscription", || async {
        (sim.subscribed("ups") == vec![UPS.to_string()]).then_some(())
    })
    .await;
    first_polls(&server).await;
    // Polling is every second, but the subscribed tracking is left to the safety net (once a
    // refresh that was in flight when it was subscribed has landed).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ups_polls, fedex_polls) = polls_during(&sim, 3).await;
    assert_eq!(ups_polls, 0, "a subscribed tracking is not polled");
    assert!(fedex_polls >= 2, "an unpushed one is: {fedex_polls}");

    // UPS scans the pickup and pushes it: applied, announced, with no poll in between.
    let older_ups = sim.push_body("ups", UPS).unwrap();
    sim.advance_number(UPS, Duration::from_secs(2 * 3600));
    let hook = format!("{}/hooks/ups", server.base);
    let polls_before = sim.path_requests("ups", UPS_TRACK);
    let (before_checkpoints, before_changes, _) = stored(&server, UPS).await;
    let (status, body) = sim.push("ups", &hook, "ups-portal-key", UPS).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let answer = json_of(&body);
    assert_eq!(answer["data"]["applied"], 1, "{body}");
    assert_eq!(answer["data"]["changed"], 1, "{body}");
    let (checkpoints, changes, _) = stored(&server, UPS).await;
    assert_eq!(
        (checkpoints, changes),
        (before_checkpoints + 1, before_changes + 1)
    );
    let tracking = server.tracking(&key, UPS).await;
    assert_eq!(tracking["delivery_status"], "transit", "{tracking}");
    wait_for(20, "the pushed event's webhook", || async {
        receiver.got("/all").iter().map(|g| g.json()).find(|p| {
            p["data"]["tracking_number"] == UPS && p["data"]["delivery_status"] == "transit"
        })
    })
    .await;
    assert_eq!(
        sim.path_requests("ups", UPS_TRACK),
        polls_before,
        "no poll between the push and its webhook"
    );

    // Forged, replayed and stale pushes are refused and change nothing.
    let newer_ups = sim.push_body("ups", UPS).unwrap();
    let refusals: [(&str, &str, Vec<u8>, u16, u64); 4] = [
        ("ups", "not-the-key", newer_ups.clone(), 400, 4195),
        ("ups", "ups-portal-key", newer_ups, 400, 4198),
        ("ups", "ups-portal-key", older_ups, 400, 4197),
        (
            "fedex",
            "not-the-token",
            sim.push_body("fedex", FEDEX).unwrap(),
            400,
            4195,
        ),
    ];
    for (source, secret, body, http, code) in refusals {
        let url = format!("{}/hooks/{source}", server.base);
        let (status, text) = sim.send_push(source, &url, secret, body).await.unwrap();
        assert_eq!(
            (status, json_of(&text)["meta"]["code"].as_u64()),
            (http, Some(code)),
            "{text}"
        );
    }
    let (status, _) = sim
        .send_push("ups", &hook, "ups-portal-key", vec![b' '; 70_000])
        .await
        .unwrap();
    assert_eq!(status, 413, "a push body is bounded");
    assert_eq!(stored(&server, UPS).await.0, checkpoints);
    assert_eq!(stored(&server, UPS).await.1, changes);
    assert_eq!(
        stored(&server, FEDEX).await.1,
        1,
        "only the first poll's change"
    );

    // FedEx pushes (no subscription: the push itself covers the tracking), then its polls stop.
    sim.advance_number(FEDEX, Duration::from_secs(2 * 3600));
    let (status, body) = sim
        .push(
            "fedex",
            &format!("{}/hooks/fedex", server.base),
            "fedex-token",
            FEDEX,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["data"]["changed"], 1, "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, fedex_polls) = polls_during(&sim, 3).await;
    assert_eq!(
        fedex_polls, 0,
        "a pushed tracking is left to the safety net"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn air_waybills_are_checked_then_tracked_through_the_upstream() {
    let (_sim, sim_url) = start_sim().await;
    let upstream = format!("{sim_url}/trackingmore");
    let server = Server::start_with_env(&[
        ("PARCELD_AIR_CARGO__BASE_URL", upstream.as_str()),
        ("PARCELD_AIR_CARGO__API_KEY", "tm-key"),
    ]);
    let key = server.key().to_string();
    let (status, body) = server
        .post("/v4/awb", &key, json!({"awb_number": "235-69030430"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["awb_number"], "235-69030430");
    assert_eq!(body["data"]["airline_info"]["name"], "Turkish Cargo");
    let (status, body) = server
        .post(
            "/v4/awb",
            &key,
            json!([{"awb_number": "235 69030430"}, {"awb_number": "176-12345675"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));

    let too_many: Vec<Value> = (0..21)
        .map(|_| json!({"awb_number": "235-69030430"}))
        .collect();
    let refused: [(Value, u16, u64, &str); 5] = [
        (
            json!({"awb_number": "235-69030431"}),
            400,
            4160,
            "check digit",
        ),
        (
            json!({"awb_number": "23-569030430"}),
            400,
            4160,
            "three digits",
        ),
        (json!({}), 400, 4160, "three digits"),
        (
            json!({"awb_number": "998-12345675"}),
            400,
            4161,
            "prefix 998",
        ),
        (Value::Array(too_many), 400, 4162, "at most 20"),
    ];
    for (request, http, code, needle) in refused {
        let (status, body) = server.post("/v4/awb", &key, request).await;
        assert_error(status, &body, http, code, needle);
    }

    let unconfigured = Server::start();
    let (status, body) = unconfigured
        .post(
            "/v4/awb",
            unconfigured.key(),
            json!({"awb_number": "235-69030430"}),
        )
        .await;
    assert_error(status, &body, 400, 4169, "[air_cargo]");
}

/// FedEx subscribes by shipper account in its webhook project (carrier-apis-2.md §C2: the
/// per-tracking Tracking Number Subscription API's paths are only in the FedEx portal, so parceld
/// makes no per-tracking call): with `account = true`, a new FedEx tracking is covered from its
/// first fetch on, polled only as the safety net, without any subscription call; UPS beside it
/// (no push configured) keeps being polled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fedex_account_subscription_covers_new_trackings_without_a_call() {
    let (sim, sim_url) = start_sim().await;
    let account = [
        ("ENABLED", "true"),
        ("SECRET", "fedex-token"),
        ("ACCOUNT", "true"),
    ]
    .map(|(field, value)| {
        (
            format!("PARCELD_PUSH__SOURCES__FEDEX__{field}"),
            value.into(),
        )
    });
    let server = push_server(&sim_url, &env_refs(&account));
    create_both(&sim, &server).await;
    first_polls(&server).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ups_polls, fedex_polls) = polls_during(&sim, 3).await;
    assert_eq!(
        fedex_polls, 0,
        "a FedEx tracking of a pushed account is not polled"
    );
    assert!(ups_polls >= 2, "an unpushed one is: {ups_polls}");
    let fedex_paths: Vec<String> = sim
        .counters()
        .paths
        .into_keys()
        .filter(|p| p.starts_with("fedex "))
        .collect();
    assert!(
        fedex_paths
            .iter()
            .all(|p| p == &format!("fedex {FEDEX_TRACK}") || p == "fedex /oauth/token"),
        "no subscription call: {fedex_paths:?}"
    );
    assert!(sim.subscribed("fedex").is_empty());
    // Both faces' courier lists say which couriers are pushed.
    for (path, code_field) in [
        ("/v4/couriers/all", "courier_code"),
        ("/v2/carriers", "code"),
    ] {
        let (status, body) = server.get(path, server.key()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let updates = |code: &str| {
            body["data"]
                .as_array()
                .and_then(|all| all.iter().find(|c| c[code_field] == code))
                .map(|c| c["updates"].clone())
        };
        assert_eq!(updates("fedex"), Some(json!("push")), "{path}");
        assert_eq!(updates("ups"), Some(json!("poll")), "{path}");
    }
}

/// Pushes sent at once are applied in shared transactions (group commit); each must still get
/// its own answer, and exactly the right changes must land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_each_get_their_own_answer_and_exactly_their_changes_land() {
    let (receiver, receiver_url) = start_receiver().await;
    let server = Server::start_with_env(&[
        ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
        ("PARCELD_PUSH__SOURCES__FEDEX__ENABLED", "true"),
        ("PARCELD_PUSH__SOURCES__FEDEX__SECRET", "fedex-token"),
    ]);
    let key = server.key().to_string();
    let endpoint = json!({"url": format!("{receiver_url}/all")});
    create_webhook(&server, &key, endpoint).await;
    // 0..10 pushed twice (a replay), 10..20 also forged, 20..30 once, 30..36 only forged.
    let numbers: Vec<String> = (0..36).map(|i| format!("4490443{i:08}")).collect();
    server.create_numbers(&key, &numbers, "fedex").await;
    let sim = Simulator::new();
    let at = Utc::now() - chrono::Duration::minutes(30);
    for number in &numbers {
        let picked_up = parceld_sim::SimEvent {
            kind: parceld_sim::EventKind::PickedUp,
            at,
            place: None,
        };
        sim.script(number, vec![picked_up]);
    }
    let body = |number: &str| sim.push_body("fedex", number).unwrap();
    let mut sends: Vec<(usize, &'static str, Vec<u8>)> = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        if i < 30 {
            sends.push((i, "fedex-token", body(number)));
        }
        if i < 10 {
            sends.push((i, "fedex-token", body(number)));
        }
        if (10..20).contains(&i) || i >= 30 {
            sends.push((i, "not-the-token", body(number)));
        }
    }
    // A number nobody tracks: verified and recorded, nothing to apply.
    sends.push((usize::MAX, "fedex-token", body("449044399999999")));
    let before = stored(&server, &numbers[0]).await;
    assert_eq!(
        (before.0, before.1),
        (0, 0),
        "nothing stored before the pushes"
    );

    let url = format!("{}/hooks/fedex", server.base);
    let mut sending = tokio::task::JoinSet::new();
    for (i, secret, body) in sends {
        let (sim, url) = (sim.clone(), url.clone());
        sending.spawn(async move {
            let (status, text) = sim.send_push("fedex", &url, secret, body).await.unwrap();
            (i, status, json_of(&text))
        });
    }
    let answers = sending.join_all().await;

    // Per number: (HTTP status, meta code, changed, webhooks) of each answer.
    type Seen = (u16, Option<u64>, u64, u64);
    let mut by_number: Vec<Vec<Seen>> = vec![Vec::new(); numbers.len()];
    for (i, status, answer) in answers {
        let data = &answer["data"];
        if i == usize::MAX {
            assert_eq!(
                (status, data["applied"].as_u64()),
                (200, Some(0)),
                "{answer}"
            );
            continue;
        }
        let seen = (
            status,
            answer["meta"]["code"].as_u64(),
            data["changed"].as_u64().unwrap_or(0),
            data["webhooks"].as_u64().unwrap_or(0),
        );
        by_number[i].push(seen);
    }
    for (i, seen) in by_number.iter_mut().enumerate() {
        seen.sort();
        let applied = (200, Some(200), 1, 1);
        let expected = match i {
            0..10 => vec![applied, (400, Some(4198), 0, 0)],
            10..30 if i < 20 => vec![applied, (400, Some(4195), 0, 0)],
            10..30 => vec![applied],
            _ => vec![(400, Some(4195), 0, 0)],
        };
        assert_eq!(*seen, expected, "the answers for {}", numbers[i]);
        let (checkpoints, changes, _) = stored(&server, &numbers[i]).await;
        let landed = u64::from(i < 30);
        assert_eq!((checkpoints, changes), (landed, landed), "{}", numbers[i]);
    }
    assert_eq!(server.store().await.push_receipts().await.unwrap(), 31);
    drop(receiver);
}
