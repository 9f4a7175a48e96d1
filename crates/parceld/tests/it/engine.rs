//! The refresh engine and real-time tracking, end to end: the real `parceld` binary refreshing
//! from the carrier simulator over real HTTP.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use parceld_sim::{EventKind, Faults, SimEvent, Simulator};
use parceld_store::test_support::{StoreTestSupport, TrackingRows};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{env_refs, DataDir, Server};

/// Starts the simulator in this test process on a free port; returns its handle and base URL.
pub async fn start_sim() -> (Simulator, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sim = Simulator::new();
    tokio::spawn(parceld_sim::serve(listener, sim.clone()));
    (sim, base)
}

/// Environment that points all six adapters at the simulator and runs the worker briskly.
pub fn engine_env(sim: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    for (code, var) in [
        ("ups", "UPS"),
        ("fedex", "FEDEX"),
        ("usps", "USPS"),
        ("dhl", "DHL"),
        ("postnl-3s", "POSTNL_3S"),
        ("canada-post", "CANADA_POST"),
    ] {
        set(
            &format!("PARCELD_CARRIERS__{var}__BASE_URL"),
            format!("{sim}/{code}"),
        );
        // The simulator answers far faster than a carrier's published limits.
        set(
            &format!("PARCELD_CARRIERS__{var}__RATE_PER_SECOND"),
            "5000".into(),
        );
        set(
            &format!("PARCELD_CARRIERS__{var}__CONCURRENCY"),
            "32".into(),
        );
    }
    for var in ["UPS", "FEDEX", "USPS"] {
        set(
            &format!("PARCELD_CARRIERS__{var}__CLIENT_ID"),
            "test-id".into(),
        );
        set(
            &format!("PARCELD_CARRIERS__{var}__CLIENT_SECRET"),
            "test-secret".into(),
        );
    }
    set("PARCELD_CARRIERS__DHL__API_KEY", "test-key".into());
    set("PARCELD_CARRIERS__POSTNL_3S__API_KEY", "test-key".into());
    set("PARCELD_CARRIERS__CANADA_POST__USERNAME", "user".into());
    set("PARCELD_CARRIERS__CANADA_POST__PASSWORD", "pass".into());
    set("PARCELD_SERVER__WORKER", "true".into());
    set("PARCELD_ENGINE__IDLE_POLL_MS", "50".into());
    set("PARCELD_ENGINE__JITTER", "0".into());
    for (k, v) in extra {
        set(k, v.to_string());
    }
    env
}

pub fn start_engine_server(sim: &str, extra: &[(&str, &str)]) -> Server {
    Server::start_with_env(&env_refs(&engine_env(sim, extra)))
}

/// The simulator, an engine server pointed at it with `extra` settings, and the server's key:
/// where most engine tests start.
pub async fn engine_setup(extra: &[(&str, &str)]) -> (Simulator, Server, String) {
    let (sim, sim_url) = start_sim().await;
    let server = start_engine_server(&sim_url, extra);
    let key = server.key().to_string();
    (sim, server, key)
}

/// [`start_engine_server`] on an existing data directory.
pub fn start_engine_server_in(dir: &Path, sim: &str, extra: &[(&str, &str)]) -> Server {
    Server::start_in(dir, &env_refs(&engine_env(sim, extra)))
}

/// Polls `check` until it returns Some, for at most `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn event(kind: EventKind, at: chrono::DateTime<chrono::Utc>) -> SimEvent {
    SimEvent {
        kind,
        at,
        place: None,
    }
}

/// Events of each kind at its hours from now (negative: past).
fn hours_from_now(events: &[(EventKind, i64)]) -> Vec<SimEvent> {
    let now = chrono::Utc::now();
    events
        .iter()
        .map(|&(kind, hours)| event(kind, now + chrono::Duration::hours(hours)))
        .collect()
}

/// Stored checkpoints of a tracking (the record, so a duplicate would show).
async fn checkpoint_count(server: &Server, number: &str) -> u64 {
    let store = server.store().await;
    store.count_checkpoints(number).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_advances_through_its_journey_by_refreshes_alone_and_stops_when_delivered() {
    let (sim, sim_url) = start_sim().await;
    let number = "1ZJOURNEY000000001";
    sim.script(
        number,
        hours_from_now(&[
            (EventKind::LabelCreated, -2),
            (EventKind::PickedUp, 1),
            (EventKind::ArrivedFacility, 3),
            (EventKind::OutForDelivery, 5),
            (EventKind::Delivered, 6),
        ]),
    );
    let server = start_engine_server(
        &sim_url,
        &[
            ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
            ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ],
    );
    let key = server.key().to_string();
    // Create is real-time: the label is already there.
    let (status, created) = server
        .post_number("/v4/trackings/create", &key, number, "ups")
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(
        created["data"]["delivery_status"], "inforeceived",
        "{created}"
    );
    assert!(created["data"]["last_checked_at"].is_string());

    let mut seen = vec!["inforeceived".to_string()];
    for (hours, expected) in [(2, "transit"), (3, "pickup"), (2, "delivered")] {
        sim.advance(Duration::from_secs(hours * 3600));
        let t = wait_for(20, expected, || async {
            let t = server.tracking(&key, number).await;
            (t["delivery_status"] == expected).then_some(t)
        })
        .await;
        seen.push(expected.to_string());
        assert!(t["latest_event"].is_string());
    }
    assert_eq!(seen, ["inforeceived", "transit", "pickup", "delivered"]);
    let t = server.tracking(&key, number).await;
    assert_eq!(t["substatus"], "delivered001");
    assert!(
        t["next_check_at"].is_null(),
        "refresh stops when delivered: {t}"
    );
    assert_eq!(t["origin_info"]["trackinfo"].as_array().unwrap().len(), 5);
    assert!(t["origin_info"]["milestone_date"]["delivery_date"].is_string());

    // Nothing more is asked of the carrier, and nothing was stored twice.
    let calls = sim.path_requests("ups", "/api/track/v1/details/{inquiryNumber}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sim.path_requests("ups", "/api/track/v1/details/{inquiryNumber}"),
        calls
    );
    assert_eq!(checkpoint_count(&server, number).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_refreshes_of_the_same_data_store_each_checkpoint_once() {
    let number = "123456789012";
    let journey = hours_from_now(&[
        (EventKind::LabelCreated, -5),
        (EventKind::PickedUp, -4),
        (EventKind::ArrivedFacility, -1),
    ]);
    let (sim, server, key) = engine_setup(&[
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__POSTAL_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
    ])
    .await;
    sim.script(number, journey);
    server.create(&key, number, "fedex").await;
    let path = "/track/v1/trackingnumbers";
    let start = sim.path_requests("fedex", path);
    wait_for(20, "five more refreshes", || async {
        (sim.path_requests("fedex", path) >= start + 5).then_some(())
    })
    .await;
    assert_eq!(checkpoint_count(&server, number).await, 3);
    let store = server.store().await;
    let changes = store.count_changes(Some(number)).await.unwrap();
    assert_eq!(changes, 1, "only the first refresh changed anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cadence_follows_the_courier_type() {
    let (_sim, server, key) = engine_setup(&[("PARCELD_SERVER__WORKER", "false")]).await;
    for (number, courier, hours) in [
        ("1ZCADENCE000000001", "ups", 3),
        ("9400111899223100000001", "usps", 6),
    ] {
        let (status, body) = server
            .post_number("/v4/trackings/create", &key, number, courier)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let t = &body["data"];
        assert_ne!(t["delivery_status"], "pending", "{t}");
        let checked =
            chrono::DateTime::parse_from_rfc3339(t["last_checked_at"].as_str().unwrap()).unwrap();
        let next =
            chrono::DateTime::parse_from_rfc3339(t["next_check_at"].as_str().unwrap()).unwrap();
        assert_eq!((next - checked).num_hours(), hours, "{courier}: {t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_faults_back_off_keep_the_data_and_recover() {
    let number = "1ZFAULTS0000000001";
    let (sim, server, key) = engine_setup(&[
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__BACKOFF_BASE_SECS", "1"),
    ])
    .await;
    let (_, created) = server
        .post_number("/v4/trackings/create", &key, number, "ups")
        .await;
    let status_before = created["data"]["delivery_status"].clone();
    let events_before = created["data"]["origin_info"]["trackinfo"]
        .as_array()
        .unwrap()
        .len();
    assert!(events_before > 0);

    sim.set_faults(
        Some("ups"),
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    );
    let failing = wait_for(20, "a recorded carrier error", || async {
        let t = server.tracking(&key, number).await;
        t["check_error"]
            .as_str()
            .is_some_and(|e| e.contains("503") || e.contains("50"))
            .then_some(t)
    })
    .await;
    assert_eq!(failing["delivery_status"], status_before, "status kept");
    assert_eq!(
        failing["origin_info"]["trackinfo"]
            .as_array()
            .unwrap()
            .len(),
        events_before,
        "data kept"
    );
    assert!(failing["status_info"].as_str().unwrap().contains("failed"));

    sim.clear_faults();
    wait_for(20, "recovery", || async {
        let t = server.tracking(&key, number).await;
        t["check_error"].is_null().then_some(())
    })
    .await;

    // A real-time request during an outage answers with the stored data and the error.
    sim.set_faults(
        Some("ups"),
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        },
    );
    let id = created["data"]["id"].as_str().unwrap();
    let (status, body) = server
        .post("/v4/trackings/realtime", &key, json!({"id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = &body["data"];
    if answer["fetched_from"] == "carrier" {
        assert!(answer["carrier_error"].is_string(), "{answer}");
    }
    assert_eq!(
        answer["origin_info"]["trackinfo"].as_array().unwrap().len(),
        events_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_keeps_the_two_hour_rule_shares_one_call_and_is_limited_to_3_per_second() {
    let (sim, server, key) = engine_setup(&[
        ("PARCELD_SERVER__WORKER", "false"),
        ("PARCELD_RATE_LIMITS__V4_REALTIME", "3"),
    ])
    .await;
    let path = "/api/track/v1/details/{inquiryNumber}";

    // Batch create does not call the carrier; the first real-time request does.
    let (status, _) = server
        .post(
            "/v4/trackings/batch",
            &key,
            json!([{"tracking_number": "1ZREALTIME00000001", "courier_code": "ups"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.path_requests("ups", path), 0);

    // Single flight: concurrent requests for one shipment make one carrier call.
    sim.set_faults(Some("ups"), Faults::latency(600, 600));
    let body = serde_json::to_vec(
        &json!({"tracking_number": "1ZREALTIME00000001", "courier_code": "ups"}),
    )
    .unwrap();
    let requests: Vec<_> = (0..3)
        .map(|_| {
            let base = server.base.clone();
            let key = key.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(format!("{base}/v4/trackings/realtime"))
                    .header("Tracking-Api-Key", key)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for r in requests {
        answers.push(r.await.unwrap());
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["fetched_from"], "carrier");
        assert_ne!(body["data"]["delivery_status"], "pending");
    }
    assert_eq!(
        sim.path_requests("ups", path),
        1,
        "one carrier call for three requests"
    );
    sim.clear_faults();

    // Inside the two-hour window the stored result comes back, marked as such.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, again) = server
        .post_number("/v4/trackings/realtime", &key, "1ZREALTIME00000001", "ups")
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["fetched_from"], "store");
    assert_eq!(
        again["data"]["fetched_at"],
        answers[0].1["data"]["fetched_at"]
    );
    assert_eq!(sim.path_requests("ups", path), 1);

    // One shipment per request.
    let (status, body) = server
        .post(
            "/v4/trackings/realtime",
            &key,
            json!([{"tracking_number": "1ZREALTIME00000001"}]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["meta"]["message"]
        .as_str()
        .unwrap()
        .contains("one shipment per request"));

    // 3 requests per second per account.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = server
            .post_number("/v4/trackings/realtime", &key, "1ZREALTIME00000001", "ups")
            .await;
        statuses.push(status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!((3..=4).contains(&ok) && ok + limited == 6, "{statuses:?}");
}

/// Well-formed numbers for each simulated carrier.
pub fn numbers_for(courier: &str, count: usize, salt: u32) -> Vec<String> {
    (0..count)
        .map(|i| {
            let n = u64::from(salt) * 1_000_000 + i as u64;
            match courier {
                "ups" => format!("1Z{n:016}"),
                "fedex" => format!("{n:012}"),
                "usps" => format!("9400{n:018}"),
                "dhl" => format!("{n:010}"),
                "postnl-3s" => format!("3S{n:011}"),
                "canada-post" => format!("{n:016}"),
                other => panic!("{other}"),
            }
        })
        .collect()
}

/// What the carrier says now for each number, asked through `courier`'s adapter directly.
/// `view` picks what a test compares from each answer.
pub(crate) async fn carrier_says<T>(
    sim_url: &str,
    courier: &str,
    numbers: &[String],
    view: impl Fn(parceld_carriers::TrackOutcome) -> T,
) -> HashMap<String, T> {
    let settings = parceld_carriers::CarrierSettings {
        concurrency: Some(16),
        rate_per_second: Some(10_000.0),
        ..parceld_carriers::CarrierSettings::simulated(format!("{sim_url}/{courier}"))
    };
    let carriers = parceld_carriers::Carriers::from_settings(&HashMap::from([(
        courier.to_string(),
        settings,
    )]))
    .unwrap();
    let requests: Vec<parceld_carriers::TrackRequest> = numbers
        .iter()
        .map(|n| parceld_carriers::TrackRequest::new(n.clone()))
        .collect();
    let answers = carriers.get(courier).unwrap().track(&requests).await;
    answers.into_iter().map(|(n, o)| (n, view(o))).collect()
}

/// The status a carrier answer gives.
fn status_of(outcome: parceld_carriers::TrackOutcome) -> String {
    match outcome {
        Ok(parceld_carriers::TrackResult::Found(s)) => s.status.as_str().to_string(),
        Ok(parceld_carriers::TrackResult::NotFound) => "notfound".to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// How many checkpoints a carrier answer holds.
pub(crate) fn checkpoints_of(outcome: parceld_carriers::TrackOutcome) -> usize {
    match outcome {
        Ok(parceld_carriers::TrackResult::Found(s)) => s.checkpoints.len(),
        _ => 0,
    }
}

/// Scripts finished journeys (every event already in the past) for `numbers`, cycling through
/// several endings, so what the carrier says no longer changes while a test runs.
pub fn script_finished(sim: &Simulator, numbers: &[String]) {
    use EventKind::*;
    let endings: [&[EventKind]; 6] = [
        &[
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            OutForDelivery,
            Delivered,
        ],
        &[LabelCreated, PickedUp, ArrivedFacility],
        &[LabelCreated, PickedUp, ArrivedFacility, OutForDelivery],
        &[LabelCreated, PickedUp, OutForDelivery, DeliveryAttempted],
        &[
            LabelCreated,
            PickedUp,
            OutForDelivery,
            Refused,
            ReturnToSender,
        ],
        &[LabelCreated],
    ];
    let now = chrono::Utc::now();
    for (i, number) in numbers.iter().enumerate() {
        let kinds = endings[i % endings.len()];
        let events = kinds
            .iter()
            .enumerate()
            .map(|(j, kind)| {
                event(
                    *kind,
                    now - chrono::Duration::hours(12) + chrono::Duration::hours(2 * j as i64),
                )
            })
            .collect();
        sim.script(number, events);
    }
}

async fn create_all(server: &Server, key: &str, items: &[(String, &str)]) {
    let items = items
        .iter()
        .map(|(n, c)| {
            // PostNL needs the destination postal code.
            json!({"tracking_number": n, "courier_code": c, "tracking_postal_code": "2511AA"})
        })
        .collect();
    server.create_items(key, items).await;
}

/// Trackings never checked yet (a cheap poll of the database, through the test back door).
async fn unchecked(store: &dyn StoreTestSupport) -> u64 {
    store
        .count_trackings(TrackingRows::NeverChecked)
        .await
        .unwrap()
}

async fn all_trackings(server: &Server, key: &str, total: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1..=total.div_ceil(2000) {
        let path = format!("/v4/trackings/get?items_amount=2000&pages_amount={page}");
        let (status, body) = server.get(&path, key).await;
        assert_eq!(status, StatusCode::OK);
        out.extend(body["data"].as_array().unwrap().iter().cloned());
    }
    out
}

const COURIERS: [&str; 6] = ["ups", "fedex", "usps", "dhl", "postnl-3s", "canada-post"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_trackings_across_all_carriers_complete_a_refresh_cycle() {
    let (sim, sim_url) = start_sim().await;
    let server = start_engine_server(
        &sim_url,
        &[
            ("PARCELD_ENGINE__BATCH_SIZE", "1000"),
            ("PARCELD_RATE_LIMITS__V4_OTHER", "100000"),
        ],
    );
    let key = server.key().to_string();
    let per = 10_000 / COURIERS.len() + 1;
    let mut items = Vec::new();
    for (i, courier) in COURIERS.iter().enumerate() {
        for n in numbers_for(courier, per, i as u32 + 1) {
            items.push((n, *courier));
        }
    }
    items.truncate(10_000);
    let numbers: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
    script_finished(&sim, &numbers);
    create_all(&server, &key, &items).await;
    let store = server.store().await;
    let started = std::time::Instant::now();
    let checked = tokio::time::timeout(Duration::from_secs(240), async {
        while unchecked(&*store).await > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if checked.is_err() {
        let mut left: Vec<(&str, u64)> = Vec::new();
        for courier in COURIERS {
            let which = TrackingRows::NeverCheckedOfCourier(courier);
            let n = store.count_trackings(which).await.unwrap();
            if n > 0 {
                left.push((courier, n));
            }
        }
        let log = server.stderr();
        let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
        panic!(
            "after {:?} still unchecked: {left:?}; server log tail:\n{tail}",
            started.elapsed()
        );
    }
    let done = all_trackings(&server, &key, 10_000).await;
    assert_eq!(done.len(), 10_000);
    let mut by_courier: HashMap<String, Vec<String>> = HashMap::new();
    for (n, c) in &items {
        by_courier.entry(c.to_string()).or_default().push(n.clone());
    }
    let mut expected = HashMap::new();
    for (courier, numbers) in &by_courier {
        expected.extend(carrier_says(&sim_url, courier, numbers, status_of).await);
    }
    let mut wrong = Vec::new();
    for t in &done {
        let number = t["tracking_number"].as_str().unwrap();
        assert!(t["check_error"].is_null(), "{t}");
        if t["delivery_status"] != expected[number].as_str() {
            wrong.push((
                number.to_string(),
                t["delivery_status"].clone(),
                expected[number].clone(),
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    let statuses: std::collections::BTreeSet<String> = done
        .iter()
        .map(|t| t["delivery_status"].as_str().unwrap().to_string())
        .collect();
    assert!(
        statuses.len() >= 3,
        "journeys end in several states: {statuses:?}"
    );
    assert!(sim.requests("ups") > 0 && sim.requests("canada-post") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_worker_mid_refresh_loses_nothing_and_duplicates_nothing() {
    let (sim, sim_url) = start_sim().await;
    sim.set_faults(None, Faults::latency(100, 300));
    let dir = DataDir::new();
    let small_batches_short_leases = [
        ("PARCELD_ENGINE__BATCH_SIZE", "50"),
        ("PARCELD_ENGINE__LEASE_SECS", "2"),
    ];
    let first = start_engine_server_in(dir.path(), &sim_url, &small_batches_short_leases);
    let key = first.key().to_string();
    let mut items = Vec::new();
    for (i, courier) in ["ups", "fedex", "dhl"].iter().enumerate() {
        for n in numbers_for(courier, 100, 50 + i as u32) {
            items.push((n, *courier));
        }
    }
    let numbers: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
    script_finished(&sim, &numbers);
    create_all(&first, &key, &items).await;
    // Let it get going, then kill it mid-round.
    let store = first.store().await;
    wait_for(30, "some refreshes", || async {
        (unchecked(&*store).await < items.len() as u64 - 20).then_some(())
    })
    .await;
    first.kill();
    let leased = store.count_trackings(TrackingRows::Leased).await.unwrap();
    assert!(
        leased > 0,
        "the kill happened mid-refresh (claims were held)"
    );

    let second = start_engine_server_in(dir.path(), &sim_url, &small_batches_short_leases);
    wait_for(120, "every tracking checked after the restart", || async {
        (unchecked(&*store).await == 0).then_some(())
    })
    .await;
    let done = all_trackings(&second, &key, items.len()).await;
    sim.clear_faults();
    let mut expected = HashMap::new();
    let mut counts = HashMap::new();
    for courier in ["ups", "fedex", "dhl"] {
        let numbers: Vec<String> = items
            .iter()
            .filter(|(_, c)| *c == courier)
            .map(|(n, _)| n.clone())
            .collect();
        expected.extend(carrier_says(&sim_url, courier, &numbers, status_of).await);
        counts.extend(carrier_says(&sim_url, courier, &numbers, checkpoints_of).await);
    }
    for t in &done {
        let number = t["tracking_number"].as_str().unwrap();
        assert_eq!(t["delivery_status"], expected[number].as_str(), "{number}");
        let stored = t["origin_info"]["trackinfo"].as_array().unwrap().len()
            + t["destination_info"]["trackinfo"].as_array().unwrap().len();
        assert_eq!(
            stored, counts[number],
            "{number}: no checkpoint duplicated or lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_carrier_holds_up_only_its_own_trackings() {
    let (sim, sim_url) = start_sim().await;
    sim.set_faults(Some("dhl"), Faults::latency(4000, 4000));
    let server = start_engine_server(&sim_url, &[]);
    let key = server.key().to_string();
    let mut items = Vec::new();
    for n in numbers_for("dhl", 20, 7) {
        items.push((n, "dhl"));
    }
    for n in numbers_for("ups", 20, 8) {
        items.push((n, "ups"));
    }
    let numbers: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
    script_finished(&sim, &numbers);
    create_all(&server, &key, &items).await;
    let store = server.store().await;
    let unchecked_of = |courier: &'static str| {
        let store = &store;
        async move {
            store
                .count_trackings(TrackingRows::NeverCheckedOfCourier(courier))
                .await
                .unwrap()
        }
    };
    wait_for(30, "every UPS tracking checked", || async {
        (unchecked_of("ups").await == 0).then_some(())
    })
    .await;
    assert_eq!(
        unchecked_of("dhl").await,
        20,
        "DHL answers after 4 s, so none of its trackings is checked yet, while UPS is done"
    );
    wait_for(30, "every DHL tracking checked", || async {
        (unchecked_of("dhl").await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn couriers_all_says_which_carriers_this_server_is_configured_for() {
    let configured_only = |body: &Value, code: &str| {
        let courier = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["courier_code"] == code)
            .unwrap_or_else(|| panic!("{code} is listed"))
            .clone();
        (
            courier["supported"].as_bool().unwrap(),
            courier["configured"].as_bool().unwrap(),
        )
    };
    let plain = Server::start();
    let (_, body) = plain.get("/v4/couriers/all", plain.key()).await;
    assert_eq!(configured_only(&body, "sandbox"), (true, true));
    assert_eq!(
        configured_only(&body, "ups"),
        (true, false),
        "an adapter, no credentials"
    );
    assert_eq!(configured_only(&body, "canada-post"), (true, false));

    let (_sim, sim_url) = start_sim().await;
    let with_carriers = start_engine_server(&sim_url, &[]);
    let (_, body) = with_carriers
        .get("/v4/couriers/all", with_carriers.key())
        .await;
    for code in ["ups", "fedex", "usps", "dhl", "postnl-3s", "canada-post"] {
        assert_eq!(configured_only(&body, code), (true, true), "{code}");
    }
}
