//! Webhooks end to end: the carrier simulator → the real `parceld` binary refreshing →
//! signed HTTP deliveries → a receiver server in this test, over real HTTP. Signatures are
//! checked with the `standardwebhooks` crate, an implementation independent of parceld's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use parceld_sim::{EventKind, SimEvent, Simulator};
use parceld_store::test_support::DeliveryRows;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engine::{engine_env, start_sim, wait_for};
use crate::support::{assert_error, env_refs, open_store, DataDir, Server};

/// How the receiver answers requests to one path.
#[derive(Clone, Debug)]
enum Mode {
    Ok,
    /// This status, with this `Retry-After`.
    Status(u16, Option<&'static str>),
    /// Never answer (the sender times out or dies waiting).
    Hang,
    /// Answer 200 after this long, like a slow receiver.
    Slow(Duration),
    /// A 302 to this path.
    Redirect(&'static str),
}

#[derive(Clone, Debug)]
pub(crate) struct Got {
    path: String,
    headers: HeaderMap,
    pub(crate) body: Bytes,
    at: Instant,
}

impl Got {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub(crate) fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    modes: Arc<Mutex<HashMap<String, Mode>>>,
}

impl Receiver {
    fn set(&self, path: &str, mode: Mode) {
        self.modes.lock().unwrap().insert(path.to_string(), mode);
    }

    pub(crate) fn got(&self, path: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path == path)
            .cloned()
            .collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    receiver.got.lock().unwrap().push(Got {
        path: path.clone(),
        headers,
        body,
        at: Instant::now(),
    });
    let mode = receiver
        .modes
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or(Mode::Ok);
    match mode {
        Mode::Ok => (AxumStatus::OK, "thanks").into_response(),
        Mode::Status(status, retry_after) => {
            let mut response = (AxumStatus::from_u16(status).unwrap(), "not now").into_response();
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", after.parse().unwrap());
            }
            response
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (AxumStatus::OK, "late").into_response()
        }
        Mode::Slow(after) => {
            tokio::time::sleep(after).await;
            (AxumStatus::OK, "thanks, slowly").into_response()
        }
        Mode::Redirect(to) => (AxumStatus::FOUND, [("location", to)], "moved").into_response(),
    }
}

/// Starts a receiver on `listener`; returns it and its base URL.
fn serve_receiver(listener: tokio::net::TcpListener, receiver: Receiver) -> String {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(receive).with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

pub(crate) async fn start_receiver() -> (Receiver, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = Receiver::default();
    let base = serve_receiver(listener, receiver.clone());
    (receiver, base)
}

/// A server in `dir` with brisk engine settings, loopback allowed for the receiver, and `extra`.
fn start(dir: &std::path::Path, sim: &str, extra: &[(&str, &str)]) -> Server {
    let mut all: Vec<(&str, &str)> = vec![
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
        ("PARCELD_WEBHOOKS__IDLE_POLL_MS", "50"),
        ("PARCELD_WEBHOOKS__RETRY_JITTER", "0"),
    ];
    all.extend_from_slice(extra);
    Server::start_in(dir, &env_refs(&engine_env(sim, &all)))
}

fn event(kind: EventKind, at: chrono::DateTime<chrono::Utc>) -> SimEvent {
    SimEvent {
        kind,
        at,
        place: None,
    }
}

/// A UPS journey whose later events are `hours` apart in the future, so `sim.advance` reveals
/// them one by one.
pub(crate) fn script_journey(sim: &Simulator, number: &str) {
    script_journey_at(sim, number, 0)
}

/// The same, for a simulator whose clock was moved `hours` ahead.
fn script_journey_at(sim: &Simulator, number: &str, hours: i64) {
    let now = chrono::Utc::now() + chrono::Duration::hours(hours);
    let h = chrono::Duration::hours;
    sim.script(
        number,
        vec![
            event(EventKind::LabelCreated, now - h(2)),
            event(EventKind::PickedUp, now + h(1)),
            event(EventKind::OutForDelivery, now + h(3)),
            event(EventKind::Delivered, now + h(5)),
        ],
    );
}

pub(crate) async fn create_webhook(server: &Server, key: &str, body: Value) -> Value {
    let (status, created) = server.post("/v4/webhooks", key, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created["data"].clone()
}

/// Creates an endpoint for `url` and sends it the test event now: the endpoint, and the test
/// reply's status and body.
async fn test_new_webhook(server: &Server, key: &str, url: String) -> (Value, StatusCode, Value) {
    let hook = create_webhook(server, key, json!({ "url": url })).await;
    let id = hook["id"].as_str().unwrap();
    let (status, test) = server
        .post(&format!("/v4/webhooks/{id}/test"), key, json!({}))
        .await;
    (hook, status, test)
}

/// `parceld webhook create --account other` with these further arguments: whether it
/// succeeded, and what it printed.
fn cli_create(server: &Server, args: &[&str]) -> (bool, String) {
    let mut all = vec!["webhook", "create", "--account", "other"];
    all.extend_from_slice(args);
    server.admin(&all)
}

async fn create_tracking(server: &Server, key: &str, number: &str) -> String {
    server.create(key, number, "ups").await
}

async fn deliveries(server: &Server, which: DeliveryRows) -> u64 {
    let store = server.store().await;
    store.count_deliveries(which).await.unwrap()
}

async fn changes_recorded(server: &Server) -> u64 {
    let store = server.store().await;
    store.count_changes(None).await.unwrap()
}

/// When the tracking with this number was last checked, as stored.
async fn last_checked(server: &Server, key: &str, number: &str) -> DateTime<Utc> {
    let stored = server.stored_trackings(key).await;
    let tracking = stored
        .iter()
        .find(|t| t.tracking_number == number)
        .expect("stored");
    tracking.last_checked_at.expect("checked")
}

/// The event ids of a tracking's changes, oldest first, with their statuses.
async fn changes_of(server: &Server, number: &str) -> Vec<(String, String)> {
    let store = server.store().await;
    let pk = store.tracking_pk(number).await.unwrap().expect("stored");
    store
        .changes_of(pk)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.event_id, c.delivery_status.as_str().to_string()))
        .collect()
}

fn verify(secret: &str, got: &Got) {
    let verifier = standardwebhooks::Webhook::new(secret).expect("a Standard Webhooks secret");
    verifier
        .verify(&got.body, &got.headers)
        .unwrap_or_else(|e| panic!("signature of {} does not verify: {e:?}", got.id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_send_signed_webhooks_for_subscribed_statuses_only_and_nothing_without_change() {
    let (sim, sim_url) = start_sim().await;
    let (receiver, hook_base) = start_receiver().await;
    let dir = DataDir::new();
    let server = start(dir.path(), &sim_url, &[]);
    let key = server.key().to_string();
    let all = create_webhook(
        &server,
        &key,
        json!({"url": format!("{hook_base}/all"), "description": "everything"}),
    )
    .await;
    assert_eq!(all["statuses"], json!(["all"]));
    assert_eq!(all["state"], "enabled");
    let delivered_only = create_webhook(
        &server,
        &key,
        json!({"url": format!("{hook_base}/delivered"), "statuses": ["delivered"]}),
    )
    .await;
    let legacy = create_webhook(
        &server,
        &key,
        json!({"url": format!("{hook_base}/v2"), "version": "v2", "statuses": ["transit", "delivered"]}),
    )
    .await;

    let number = "1ZWEBHOOK000000001";
    script_journey(&sim, number);
    create_tracking(&server, &key, number).await;
    for (hours, expected) in [(2, "transit"), (2, "pickup"), (2, "delivered")] {
        sim.advance(Duration::from_secs(hours * 3600));
        wait_for(20, expected, || async {
            receiver
                .got("/all")
                .iter()
                .any(|g| g.json()["data"]["delivery_status"] == expected)
                .then_some(())
        })
        .await;
    }
    wait_for(20, "the delivered-only and v2 endpoints", || async {
        (receiver.got("/delivered").len() == 1 && receiver.got("/v2").len() == 2).then_some(())
    })
    .await;

    // Every change reached the "all" endpoint once, in order, signed, with its event id.
    let changes = changes_of(&server, number).await;
    let statuses: Vec<&str> = changes.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["inforeceived", "transit", "pickup", "delivered"]);
    let got = receiver.got("/all");
    assert_eq!(got.len(), 4, "one delivery per change");
    let secret = all["secret"].as_str().unwrap();
    for (g, (event_id, status)) in got.iter().zip(&changes) {
        verify(secret, g);
        let body = g.json();
        assert_eq!(body["event"], "TRACKING_UPDATED");
        assert_eq!(&body["event_id"], event_id);
        assert_eq!(&g.id(), event_id, "webhook-id is the event id");
        assert_eq!(body["data"]["tracking_number"], number);
        assert_eq!(body["data"]["delivery_status"], status.as_str());
        assert_eq!(body["meta"]["webhook_id"], all["id"]);
        assert!(g.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,"));
    }
    // A signature made with another endpoint's secret does not verify.
    let other = standardwebhooks::Webhook::new(delivered_only["secret"].as_str().unwrap()).unwrap();
    assert!(other.verify(&got[0].body, &got[0].headers).is_err());

    // Only the subscribed statuses went to the filtered endpoints.
    let delivered = receiver.got("/delivered");
    verify(delivered_only["secret"].as_str().unwrap(), &delivered[0]);
    assert_eq!(delivered[0].json()["data"]["delivery_status"], "delivered");
    let v2 = receiver.got("/v2");
    let v2_statuses: Vec<Value> = v2
        .iter()
        .map(|g| g.json()["data"]["status"].clone())
        .collect();
    assert_eq!(v2_statuses, [json!("transit"), json!("delivered")]);
    let v2_body = v2[1].json();
    verify(legacy["secret"].as_str().unwrap(), &v2[1]);
    assert_eq!(v2_body["data"]["carrier_code"], "ups");
    assert!(v2_body["data"]["origin_info"]["trackinfo"][0]["StatusDescription"].is_string());
    assert!(v2_body["verifyInfo"]["timeStr"].is_string());
    assert_eq!(
        v2_body["verifyInfo"]["signature"].as_str().unwrap().len(),
        64
    );

    // Refreshes that change nothing send nothing: the tracking in transit is re-checked every
    // second, but the carrier says nothing new.
    let other_number = "1ZWEBHOOK000000002";
    script_journey_at(&sim, other_number, 6);
    create_tracking(&server, &key, other_number).await;
    wait_for(10, "the first event of the second tracking", || async {
        (receiver.got("/all").len() == 5).then_some(())
    })
    .await;
    let checked_before = last_checked(&server, &key, other_number).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let checked_after = last_checked(&server, &key, other_number).await;
    assert!(checked_after > checked_before, "it was refreshed meanwhile");
    assert_eq!(receiver.got("/all").len(), 5, "no change, no webhook");
    assert_eq!(
        deliveries(&server, DeliveryRows::All).await,
        5 + 1 + 2,
        "nothing queued either"
    );

    // The delivery log shows each attempt; a redelivery repeats the same event.
    let (status, log) = server
        .get(
            &format!("/v4/webhooks/{}/deliveries", all["id"].as_str().unwrap()),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let log = log["data"].as_array().unwrap().clone();
    assert_eq!(log.len(), 5);
    let oldest = &log[4];
    assert_eq!(oldest["state"], "delivered");
    assert_eq!(oldest["event_id"], changes[0].0.as_str());
    assert_eq!(oldest["attempt_log"][0]["http_status"], 200);
    assert_eq!(oldest["attempt_log"][0]["response_snippet"], "thanks");
    assert!(oldest["attempt_log"][0]["latency_ms"].is_i64());
    assert_eq!(oldest["payload"]["event_id"], changes[0].0.as_str());
    let (status, again) = server
        .post(
            &format!(
                "/v4/webhooks/{}/deliveries/{}/redeliver",
                all["id"].as_str().unwrap(),
                oldest["id"].as_str().unwrap()
            ),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let repeat = wait_for(10, "the redelivery", || async {
        let got = receiver.got("/all");
        (got.len() == 6).then(|| got[5].clone())
    })
    .await;
    assert_eq!(repeat.id(), changes[0].0);
    assert_eq!(repeat.body, got[0].body, "a repeat is the same body");
    verify(secret, &repeat);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_was_down_gets_every_event_in_order_per_tracking() {
    let (sim, sim_url) = start_sim().await;
    // Reserve a port for the receiver, and keep it closed for now.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let dir = DataDir::new();
    let server = start(
        dir.path(),
        &sim_url,
        &[("PARCELD_WEBHOOKS__RETRY_BASE_MS", "100")],
    );
    let key = server.key().to_string();
    let hook = create_webhook(
        &server,
        &key,
        json!({"url": format!("http://{address}/hook")}),
    )
    .await;
    let numbers = ["1ZWEBHOOKDOWN00001", "1ZWEBHOOKDOWN00002"];
    for number in numbers {
        script_journey(&sim, number);
        create_tracking(&server, &key, number).await;
    }
    for _ in 0..3 {
        sim.advance(Duration::from_secs(2 * 3600));
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    wait_for(20, "every change recorded", || async {
        (changes_recorded(&server).await == 8).then_some(())
    })
    .await;
    let store = server.store().await;
    let failed_attempts = store.count_delivery_attempts().await.unwrap();
    assert!(
        failed_attempts > 0,
        "deliveries were tried while it was down"
    );
    assert_eq!(deliveries(&server, DeliveryRows::Pending).await, 8);

    // The receiver comes back.
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    serve_receiver(listener, receiver.clone());
    wait_for(30, "every event delivered", || async {
        (deliveries(&server, DeliveryRows::Delivered).await == 8).then_some(())
    })
    .await;
    let got = receiver.got("/hook");
    for number in numbers {
        let expected: Vec<String> = changes_of(&server, number)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut arrived: Vec<String> = Vec::new();
        for g in got
            .iter()
            .filter(|g| g.json()["data"]["tracking_number"] == number)
        {
            verify(hook["secret"].as_str().unwrap(), g);
            if !arrived.contains(&g.id()) {
                arrived.push(g.id());
            }
        }
        assert_eq!(arrived, expected, "{number}: every event, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_parceld_mid_dispatch_loses_nothing_and_repeats_carry_the_same_event_id() {
    let (sim, sim_url) = start_sim().await;
    let (receiver, hook_base) = start_receiver().await;
    receiver.set("/hook", Mode::Hang);
    let dir = DataDir::new();
    let settings = [
        ("PARCELD_WEBHOOKS__TIMEOUT_MS", "5000"),
        ("PARCELD_WEBHOOKS__LEASE_MS", "6000"),
        ("PARCELD_WEBHOOKS__PER_ENDPOINT_CONCURRENCY", "10"),
        ("PARCELD_WEBHOOKS__RETRY_BASE_MS", "60000"),
    ];
    let first = start(dir.path(), &sim_url, &settings);
    let key = first.key().to_string();
    let numbers: Vec<String> = (0..5).map(|i| format!("1ZWEBHOOKKILL0000{i}")).collect();
    create_webhook(&first, &key, json!({"url": format!("{hook_base}/hook")})).await;
    for number in &numbers {
        script_journey(&sim, number);
        create_tracking(&first, &key, number).await;
    }
    wait_for(10, "all five in flight at the receiver", || async {
        (receiver.got("/hook").len() >= 5).then_some(())
    })
    .await;
    first.kill();
    let in_flight: Vec<String> = receiver.got("/hook").iter().map(Got::id).collect();
    let store = open_store(dir.path()).await;
    let leased = store
        .count_deliveries(DeliveryRows::PendingLeased)
        .await
        .unwrap();
    assert_eq!(leased, 5, "the kill happened mid-dispatch");

    receiver.set("/hook", Mode::Ok);
    let second = start(dir.path(), &sim_url, &settings);
    wait_for(30, "every delivery delivered after the restart", || async {
        let done = store
            .count_deliveries(DeliveryRows::Delivered)
            .await
            .unwrap();
        (done == 5).then_some(())
    })
    .await;
    let all = receiver.got("/hook");
    let repeats: Vec<String> = all[in_flight.len()..].iter().map(Got::id).collect();
    let mut sorted_first = in_flight.clone();
    sorted_first.sort();
    let mut sorted_repeats = repeats.clone();
    sorted_repeats.sort();
    assert_eq!(
        sorted_repeats, sorted_first,
        "each event was sent again with the same id"
    );
    let changes = store.count_changes(None).await.unwrap();
    assert_eq!(changes, 5);
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_follow_the_schedule_and_retry_after_then_give_up_and_disable_the_endpoint() {
    let (sim, sim_url) = start_sim().await;
    let (receiver, hook_base) = start_receiver().await;
    receiver.set("/fail", Mode::Status(500, None));
    receiver.set("/busy", Mode::Status(429, Some("1")));
    let dir = DataDir::new();
    let server = start(
        dir.path(),
        &sim_url,
        &[
            ("PARCELD_WEBHOOKS__RETRY_BASE_MS", "300"),
            ("PARCELD_WEBHOOKS__MAX_ATTEMPTS", "4"),
            ("PARCELD_WEBHOOKS__DISABLE_AFTER_SECS", "2"),
        ],
    );
    let key = server.key().to_string();
    let fail = create_webhook(&server, &key, json!({"url": format!("{hook_base}/fail")})).await;
    let busy = create_webhook(&server, &key, json!({"url": format!("{hook_base}/busy")})).await;
    let number = "1ZWEBHOOKRETRY0001";
    script_journey(&sim, number);
    create_tracking(&server, &key, number).await;

    let fail_id = fail["id"].as_str().unwrap();
    let log = wait_for(20, "the failing delivery to give up", || async {
        let (_, log) = server
            .get(&format!("/v4/webhooks/{fail_id}/deliveries"), &key)
            .await;
        (log["data"][0]["state"] == "failed").then_some(log)
    })
    .await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["attempts"], 4, "max_attempts");
    let attempts = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|a| a["http_status"] == 500));
    // Waits of 300 ms × 2ⁿ: about 0.3, 0.6 and 1.2 s (the times in the log are milliseconds).
    let gaps = receiver
        .got("/fail")
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_millis())
        .collect::<Vec<_>>();
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    for (gap, expected) in gaps.iter().zip([300u128, 600, 1200]) {
        assert!(
            *gap >= expected - 50 && *gap < expected + 700,
            "gap {gap} ms, expected about {expected} ms: {gaps:?}"
        );
    }
    // Failing for 2 s disabled the endpoint, visibly.
    let (_, shown) = server.get(&format!("/v4/webhooks/{fail_id}"), &key).await;
    assert_eq!(shown["data"]["enabled"], false, "{shown}");
    assert_eq!(shown["data"]["state"], "disabled_failing");
    assert!(shown["data"]["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("Disabled by parceld"));

    // The 429 endpoint's receiver asked for 1 s: its retries wait that, not 300/600 ms.
    let busy_id = busy["id"].as_str().unwrap();
    wait_for(20, "the busy endpoint disabled", || async {
        let (_, shown) = server.get(&format!("/v4/webhooks/{busy_id}"), &key).await;
        (shown["data"]["state"] == "disabled_failing").then_some(())
    })
    .await;
    let busy_got = receiver.got("/busy");
    assert!(busy_got.len() >= 2);
    for w in busy_got.windows(2) {
        let gap = (w[1].at - w[0].at).as_millis();
        assert!((950..1800).contains(&gap), "Retry-After honoured: {gap} ms");
    }
    let metrics = server.text("/metrics").await;
    assert!(
        metrics.contains("parceld_webhook_endpoints{state=\"disabled_failing\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("parceld_webhook_deliveries_pending 1"),
        "{metrics}"
    );
    // A disabled endpoint is not sent to; its pending delivery waits and goes out once it is
    // enabled again.
    let (_, log) = server
        .get(&format!("/v4/webhooks/{busy_id}/deliveries"), &key)
        .await;
    assert_eq!(log["data"][0]["state"], "pending");
    let count = receiver.got("/busy").len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.got("/busy").len(), count);
    receiver.set("/busy", Mode::Ok);
    let (status, enabled) = server
        .put(
            &format!("/v4/webhooks/{busy_id}"),
            &key,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["data"]["state"], "enabled");
    assert!(enabled["data"]["disabled_reason"].is_null());
    wait_for(10, "the held delivery sent", || async {
        let (_, log) = server
            .get(&format!("/v4/webhooks/{busy_id}/deliveries"), &key)
            .await;
        (log["data"][0]["state"] == "delivered").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_and_metadata_addresses_are_refused_unless_allowed() {
    let (receiver, hook_base) = start_receiver().await;
    let port = hook_base.rsplit(':').next().unwrap().to_string();
    let strict = Server::start();
    let key = strict.key().to_string();
    for url in [
        format!("{hook_base}/x"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.8/hook".to_string(),
        "http://[::1]/hook".to_string(),
    ] {
        let (status, body) = strict.post("/v4/webhooks", &key, json!({"url": url})).await;
        assert_error(status, &body, 400, 4170, "allow_networks");
    }
    // A name is resolved when delivering: `localhost` is refused then, and nothing is sent.
    let (_, status, test) =
        test_new_webhook(&strict, &key, format!("http://localhost:{port}/x")).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["data"]["state"], "failed");
    let error = test["data"]["attempt_log"][0]["error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
    assert!(test["data"]["attempt_log"][0]["http_status"].is_null());
    assert!(receiver.got("/x").is_empty());

    // Allowed networks are delivered to; old finished deliveries are pruned.
    let allowing = Server::start_with_env(&[
        (
            "PARCELD_WEBHOOKS__ALLOW_NETWORKS",
            "[\"127.0.0.0/8\", \"::1\"]",
        ),
        ("PARCELD_SERVER__WORKER", "true"),
        ("PARCELD_WEBHOOKS__RETENTION_SECS", "1"),
        ("PARCELD_WEBHOOKS__PRUNE_EVERY_SECS", "1"),
    ]);
    let key = allowing.key().to_string();
    let (hook, status, test) = test_new_webhook(&allowing, &key, format!("{hook_base}/ok")).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["data"]["state"], "delivered", "{test}");
    assert_eq!(test["data"]["event"], "TEST");
    let got = receiver.got("/ok");
    assert_eq!(got.len(), 1);
    verify(hook["secret"].as_str().unwrap(), &got[0]);
    assert_eq!(got[0].json()["event"], "TEST");
    assert_eq!(
        got[0].json()["data"]["tracking_number"],
        "PARCELD-TEST-0001"
    );
    // Redirects are not followed (the target could be anywhere).
    receiver.set("/moved", Mode::Redirect("/ok"));
    let (_, _, test) = test_new_webhook(&allowing, &key, format!("{hook_base}/moved")).await;
    assert_eq!(test["data"]["state"], "failed", "{test}");
    assert_eq!(test["data"]["attempt_log"][0]["http_status"], 302);
    assert!(test["data"]["attempt_log"][0]["error"]
        .as_str()
        .unwrap()
        .contains("redirects are not followed"));
    assert_eq!(receiver.got("/moved").len(), 1);
    assert_eq!(
        receiver.got("/ok").len(),
        1,
        "the redirect was not followed"
    );
    let id = hook["id"].as_str().unwrap();
    wait_for(10, "the finished test delivery pruned", || async {
        let (_, log) = allowing
            .get(&format!("/v4/webhooks/{id}/deliveries"), &key)
            .await;
        log["data"].as_array().unwrap().is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_documented_codes_and_changes_nothing() {
    let server = Server::start_with_env(&[
        ("PARCELD_WEBHOOKS__MAX_PER_ACCOUNT", "2"),
        ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
    ]);
    let key = server.key().to_string();
    let other_key = server.new_account("other");
    let url = "https://hooks.example.com/parceld";
    for (body, http, code, needle) in [
        (
            json!({"url": "not a url"}),
            400,
            4170,
            "not an absolute URL",
        ),
        (json!({"url": "ftp://example.com/x"}), 400, 4170, "http://"),
        (
            json!({"description": "no url"}),
            400,
            4170,
            "`url` is required",
        ),
        (
            json!({"url": url, "statuses": ["delivred"]}),
            400,
            4171,
            "`delivred` is not a status",
        ),
        (json!({"url": url, "statuses": []}), 400, 4171, "empty"),
        (json!({"url": url, "version": "v3"}), 400, 4130, "v4"),
        (
            json!({"url": url, "secret": "mine"}),
            400,
            4130,
            "Unknown field `secret`",
        ),
        (json!({"url": url, "enabled": "yes"}), 400, 400, "enabled"),
    ] {
        let (status, response) = server.post("/v4/webhooks", &key, body.clone()).await;
        assert_error(status, &response, http, code, needle);
    }
    let (_, listed) = server.get("/v4/webhooks", &key).await;
    assert_eq!(listed["data"], json!([]), "nothing was created");

    let first = create_webhook(
        &server,
        &key,
        json!({"url": url, "statuses": ["delivered"]}),
    )
    .await;
    create_webhook(&server, &key, json!({"url": url})).await;
    let (status, response) = server.post("/v4/webhooks", &key, json!({"url": url})).await;
    assert_error(status, &response, 400, 4172, "2 webhooks");
    let id = first["id"].as_str().unwrap();
    let first_secret = first["secret"].as_str().unwrap().to_string();
    assert!(
        first_secret.starts_with("whsec_"),
        "create answers with the secret"
    );

    // The secret is read from its own route only: never in a GET or a list.
    let first = {
        let mut shown = first.clone();
        shown.as_object_mut().unwrap().remove("secret");
        shown
    };
    let (_, shown) = server.get(&format!("/v4/webhooks/{id}"), &key).await;
    assert_eq!(shown["data"], first, "GET leaves the secret out");
    let (_, listed) = server.get("/v4/webhooks", &key).await;
    for hook in listed["data"].as_array().unwrap() {
        assert!(hook.get("secret").is_none(), "a list leaves it out: {hook}");
    }
    let (status, read) = server.get(&format!("/v4/webhooks/{id}/secret"), &key).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["data"], json!({"id": id, "secret": first_secret}));

    // Another account's webhook is "no such webhook" for every route, and stays as it was.
    for (method, path) in [
        (reqwest::Method::GET, format!("/v4/webhooks/{id}")),
        (reqwest::Method::PUT, format!("/v4/webhooks/{id}")),
        (reqwest::Method::DELETE, format!("/v4/webhooks/{id}")),
        (
            reqwest::Method::POST,
            format!("/v4/webhooks/{id}/rotate_secret"),
        ),
        (reqwest::Method::POST, format!("/v4/webhooks/{id}/test")),
        (
            reqwest::Method::GET,
            format!("/v4/webhooks/{id}/deliveries"),
        ),
        (
            reqwest::Method::POST,
            format!("/v4/webhooks/{id}/deliveries/dlv_000/redeliver"),
        ),
        (reqwest::Method::GET, format!("/v4/webhooks/{id}/secret")),
    ] {
        let (status, response) = server
            .call(
                method.clone(),
                &path,
                &other_key,
                Some(json!({"enabled": false})),
            )
            .await;
        assert_error(status, &response, 400, 4173, "No webhook");
    }
    let (_, shown) = server.get(&format!("/v4/webhooks/{id}"), &key).await;
    assert_eq!(shown["data"], first, "unchanged");
    // The owner's own requests that are refused, each with its code and what it names.
    for (method, path, body, code, needle) in [
        (
            reqwest::Method::POST,
            format!("/v4/webhooks/{id}/deliveries/dlv_000/redeliver"),
            Some(json!({})),
            4174,
            "no delivery",
        ),
        (
            reqwest::Method::PUT,
            format!("/v4/webhooks/{id}"),
            Some(json!({"url": "http://10.1.1.1/"})),
            4170,
            "private",
        ),
        (
            reqwest::Method::GET,
            format!("/v4/webhooks/{id}/deliveries?limit=9999"),
            None,
            4130,
            "limit",
        ),
    ] {
        let (status, response) = server.call(method, &path, &key, body).await;
        assert_error(status, &response, 400, code, needle);
    }
    let (_, shown) = server.get(&format!("/v4/webhooks/{id}"), &key).await;
    assert_eq!(shown["data"], first, "still unchanged");

    // Changes that are valid apply; a rotated secret is new.
    let (status, changed) = server
        .put(
            &format!("/v4/webhooks/{id}"),
            &key,
            json!({"description": "orders", "statuses": "all", "version": "v2", "enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["data"]["description"], "orders");
    assert_eq!(changed["data"]["statuses"], json!(["all"]));
    assert_eq!(changed["data"]["version"], "v2");
    assert_eq!(changed["data"]["state"], "disabled");
    let (_, rotated) = server
        .post(&format!("/v4/webhooks/{id}/rotate_secret"), &key, json!({}))
        .await;
    let secret = rotated["data"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_ne!(secret, first_secret);
    let (_, read) = server.get(&format!("/v4/webhooks/{id}/secret"), &key).await;
    assert_eq!(
        read["data"]["secret"], secret,
        "the secret route reads the new one"
    );
    let (_, changed) = server
        .put(
            &format!("/v4/webhooks/{id}"),
            &key,
            json!({"description": "x"}),
        )
        .await;
    assert!(changed["data"].get("secret").is_none(), "{changed}");
    let (status, deleted) = server.delete(&format!("/v4/webhooks/{id}"), &key).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    let (status, response) = server.get(&format!("/v4/webhooks/{id}"), &key).await;
    assert_error(status, &response, 400, 4173, "No webhook");

    // The CLI manages the same endpoints, with the same rules.
    let (ok, out) = cli_create(
        &server,
        &["--url", url, "--statuses", "delivered,exception"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("whsec_"), "{out}");
    let cli_id = out
        .split_whitespace()
        .find(|w| w.starts_with("wh_"))
        .unwrap()
        .to_string();
    let (ok, out) = cli_create(&server, &["--url", url, "--statuses", "lost"]);
    assert!(!ok && out.contains("`lost` is not a status"), "{out}");
    let (ok, out) = cli_create(&server, &["--url", "http://169.254.169.254/"]);
    assert!(!ok && out.contains("link-local"), "{out}");
    let (ok, out) = server.admin(&["webhook", "list"]);
    assert!(
        ok && out.contains(&cli_id) && out.contains("delivered,exception"),
        "{out}"
    );
    let (_, listed) = server.get("/v4/webhooks", &other_key).await;
    assert_eq!(listed["data"][0]["id"], cli_id.as_str());
    let (ok, out) = server.admin(&["webhook", "rotate-secret", &cli_id]);
    assert!(ok && out.contains("whsec_"), "{out}");
    let (ok, out) = server.admin(&["webhook", "delete", &cli_id]);
    assert!(ok, "{out}");
    let (ok, out) = server.admin(&["webhook", "delete", &cli_id]);
    assert!(!ok && out.contains("no webhook"), "{out}");
}

/// A receiver that deletes the webhook through the API before it answers, so the webhook is
/// gone while its test event is being sent.
async fn start_deleting_receiver(
    server: &Server,
    key: &str,
) -> (Arc<Mutex<Option<String>>>, String) {
    let target: Arc<Mutex<Option<String>>> = Arc::default();
    let (base, key) = (server.base.clone(), key.to_string());
    let app = axum::Router::new().fallback({
        let target = target.clone();
        move || {
            let (target, base, key) = (target.clone(), base.clone(), key.clone());
            async move {
                let id = target.lock().unwrap().clone();
                if let Some(id) = id {
                    let response = reqwest::Client::new()
                        .delete(format!("{base}/v4/webhooks/{id}"))
                        .header("Tracking-Api-Key", key)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "the delete went through");
                }
                (AxumStatus::OK, "thanks, and goodbye")
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bye", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (target, url)
}

/// A server that may call loopback addresses, its first key, and a deleting receiver for it.
async fn server_with_deleting_receiver() -> (Server, String, Arc<Mutex<Option<String>>>, String) {
    let server =
        Server::start_with_env(&[("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]")]);
    let key = server.key().to_string();
    let (target, url) = start_deleting_receiver(&server, &key).await;
    (server, key, target, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_deleted_while_its_test_is_sent_is_no_such_webhook() {
    let (server, key, target, url) = server_with_deleting_receiver().await;
    let hook = create_webhook(&server, &key, json!({"url": url})).await;
    let id = hook["id"].as_str().unwrap();
    *target.lock().unwrap() = Some(id.to_string());
    let (status, response) = server
        .post(&format!("/v4/webhooks/{id}/test"), &key, json!({}))
        .await;
    assert_error(status, &response, 400, 4173, "No webhook");
    let (status, response) = server.get(&format!("/v4/webhooks/{id}"), &key).await;
    assert_error(status, &response, 400, 4173, "No webhook");
}

/// A redelivery makes three store calls: find the endpoint, queue the delivery again, read it
/// back. A delete that lands between them must give "no such webhook" (4173), as if it had come
/// first, never "no such delivery" or a 500. The store's test back door puts the delete right
/// after the queuing statement every time, so the test does not rely on timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_deleted_while_a_delivery_is_requeued_is_no_such_webhook() {
    // With no target set the receiver only answers 200.
    let (server, key, _, url) = server_with_deleting_receiver().await;
    let (hook, status, test) = test_new_webhook(&server, &key, url).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    let id = hook["id"].as_str().unwrap();
    let delivery = test["data"]["id"].as_str().unwrap();
    assert_eq!(test["data"]["state"], "delivered", "{test}");

    server
        .store()
        .await
        .delete_webhook_after_redelivery()
        .await
        .unwrap();
    let (status, response) = server
        .post(
            &format!("/v4/webhooks/{id}/deliveries/{delivery}/redeliver"),
            &key,
            json!({}),
        )
        .await;
    assert_error(status, &response, 400, 4173, "No webhook");
    // Update, rotate and test are one statement each after the look-up (or none before it),
    // so for them the race is the same as a webhook already gone.
    for (method, path) in [
        (reqwest::Method::GET, format!("/v4/webhooks/{id}")),
        (reqwest::Method::PUT, format!("/v4/webhooks/{id}")),
        (
            reqwest::Method::POST,
            format!("/v4/webhooks/{id}/rotate_secret"),
        ),
        (reqwest::Method::POST, format!("/v4/webhooks/{id}/test")),
    ] {
        let (status, response) = server
            .call(method, &path, &key, Some(json!({"enabled": false})))
            .await;
        assert_error(status, &response, 400, 4173, "No webhook");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_gets_its_four_slots_kept_busy() {
    let (sim, sim_url) = start_sim().await;
    // The receiver's port is taken now; it answers only once every delivery is queued, so the
    // rate measured is the dispatcher's, not the refresh's.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = DataDir::new();
    let settings = [
        // The default idle poll: a dispatcher that sleeps it out whenever the endpoint's slots
        // are all held sends 4 per poll, 8 a second.
        ("PARCELD_WEBHOOKS__IDLE_POLL_MS", "500"),
        ("PARCELD_WEBHOOKS__PER_ENDPOINT_CONCURRENCY", "4"),
        ("PARCELD_RATE_LIMITS__V4_OTHER", "100000"),
    ];
    let server = start(dir.path(), &sim_url, &settings);
    let key = server.key().to_string();
    create_webhook(&server, &key, json!({ "url": format!("{base}/slow") })).await;
    let numbers: Vec<String> = (0..120).map(|i| format!("1ZSLOWRCV{i:09}")).collect();
    for number in &numbers {
        script_journey(&sim, number);
    }
    server.create_numbers(&key, &numbers, "ups").await;
    wait_for(60, "a delivery for every tracking", || async {
        (deliveries(&server, DeliveryRows::All).await >= 120).then_some(())
    })
    .await;

    let receiver = Receiver::default();
    receiver.set("/slow", Mode::Slow(Duration::from_millis(200)));
    serve_receiver(listener, receiver.clone());
    wait_for(30, "the first deliveries", || async {
        (receiver.got("/slow").len() >= 8).then_some(())
    })
    .await;
    let counted_from = receiver.got("/slow").len();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sent = receiver.got("/slow").len() - counted_from;
    let per_second = sent as f64 / started.elapsed().as_secs_f64();
    // 4 slots of 200 ms each make 20 a second; a dispatcher that waits out its idle poll, 8.
    assert!(
        per_second >= 14.0,
        "{sent} deliveries in 4 s: {per_second:.1} a second to a receiver answering in 200 ms \
         with 4 slots"
    );
    assert!(server.stop());
}
