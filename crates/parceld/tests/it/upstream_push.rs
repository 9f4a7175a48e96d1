//! Push from the aggregator upstreams, end to end: the real `parceld` binary routes a courier
//! without an adapter through the simulated 17TRACK or AfterShip with `push = true`; the
//! simulated upstream, told parceld's `/hooks/<upstream>` URL, pushes a signed webhook on its own
//! when the parcel moves. The tracking is updated and its webhook delivered with no poll in
//! between (the simulator's poll counter proves it), and after its first fetch it is polled only
//! as a safety net; a forged, a replayed and a stale push are refused with their codes and change
//! nothing. With push off, the same move arrives by polling. A long history, whose push is larger
//! than a carrier may push, is taken whole.

use std::time::Duration;

use chrono::Utc;
use parceld_sim::{EventKind, Simulator};
use reqwest::StatusCode;
use serde_json::json;

use crate::adapters::{event, tracking};
use crate::engine::{start_sim, wait_for};
use crate::push::{json_of, stored};
use crate::support::Server;
use crate::upstreams::{listed, reaches, script_walk, upstream_server};
use crate::webhooks::{start_receiver, Receiver};

/// One upstream that pushes: its table, a courier it routes, a number, the secret its pushes
/// are signed with (17TRACK: the security key, which is the API key), and its poll path.
struct Case {
    upstream: &'static str,
    courier: &'static str,
    number: &'static str,
    secret: &'static str,
    poll: &'static str,
    /// A notice the upstream documents that carries no tracking update.
    notice: &'static str,
}

const API_KEY: &str = "0123456789";

const SEVENTEEN_TRACK: Case = Case {
    upstream: "17track",
    courier: "yanwen",
    number: "UG123456789YW",
    secret: API_KEY,
    poll: "/gettrackinfo",
    notice: r#"{"event":"TRACKING_STOPPED","data":{"number":"UG123456789YW","carrier":190012}}"#,
};

const AFTERSHIP: Case = Case {
    upstream: "aftership",
    courier: "4px",
    number: "4PX3000123456789CN",
    secret: "aftership-webhook-secret",
    poll: "/trackings",
    notice: r#"{"ts":1,"event":"edd_revise","event_id":"e1","msg":{"tracking_number":"4PX3000123456789CN","slug":"4px"}}"#,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seventeen_track_pushes_signed_updates() {
    pushed(&SEVENTEEN_TRACK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aftership_pushes_signed_updates() {
    pushed(&AFTERSHIP).await;
}

/// The server: `case`'s upstream at the simulator routing its courier, its pushes taken or not.
fn start_server(case: &Case, sim_url: &str, push: bool) -> Server {
    let mut fields = vec![("PUSH", push.to_string())];
    if case.secret != API_KEY {
        fields.push(("WEBHOOK_SECRET", case.secret.to_string()));
    }
    let couriers = format!("[\"{}\"]", case.courier);
    upstream_server(case.upstream, &couriers, sim_url, &fields)
}

/// The simulator, a webhook receiver, and the server with a webhook endpoint to it, the
/// simulator pushing to its hook, and `case`'s parcel created and fetched once (labelled).
async fn created(case: &Case, push: bool) -> (Simulator, Receiver, Server) {
    let (sim, sim_url) = start_sim().await;
    let (receiver, receiver_url) = start_receiver().await;
    let server = start_server(case, &sim_url, push);
    let key = server.key().to_string();
    let hook = json!({"url": format!("{receiver_url}/hook")});
    let (status, body) = server.post("/v4/webhooks", &key, hook).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.push_to(
        case.upstream,
        &format!("{}/hooks/{}", server.base, case.upstream),
        case.secret,
    );
    script_walk(&sim, case.number);
    server.create(&key, case.number, case.courier).await;
    reaches(&server, case.number, "inforeceived001").await;
    assert_eq!(sim.registered(case.upstream), [case.number.to_string()]);
    (sim, receiver, server)
}

async fn pushed(case: &Case) {
    let (sim, receiver, server) = created(case, true).await;
    let (name, number) = (case.upstream, case.number);

    // couriers/all says the courier's changes come by push.
    let (entry, _) = listed(&server, case.courier).await;
    assert_eq!(entry["updates"], "push", "{entry}");
    assert_eq!(listed(&server, "dhl").await.0["updates"], "poll");

    // Fetched once at creation, then left to the upstream's pushes: the worker polls every
    // second, but not this tracking.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polls = sim.path_requests(name, case.poll);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sim.path_requests(name, case.poll),
        polls,
        "a pushed courier is not polled"
    );

    // The parcel is picked up: the upstream pushes it, signed, on its own.
    let older = sim.push_body(name, number).unwrap();
    sim.advance_number(number, Duration::from_secs(3600));
    let picked_up = reaches(&server, number, "transit001").await;
    wait_for(20, "the pushed event's webhook", || async {
        receiver.got("/hook").iter().map(|g| g.json()).find(|p| {
            p["data"]["tracking_number"] == number && p["data"]["delivery_status"] == "transit"
        })
    })
    .await;
    assert_eq!(
        sim.path_requests(name, case.poll),
        polls,
        "no poll between the push and its webhook"
    );
    let sent = sim.sent_pushes(name);
    assert_eq!(sent.len(), 1, "one move, one push");
    let (status, answer) = sent[0].answer.clone().expect("answered");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(json_of(&answer)["data"]["changed"], 1, "{answer}");

    // Forged, replayed and stale pushes are refused with their codes and change nothing.
    let before = stored(&server, number).await;
    let hook = format!("{}/hooks/{name}", server.base);
    let pushed_body = sent[0].body.clone();
    let refusals = [
        ("not-the-secret", pushed_body.clone(), 4195),
        (case.secret, pushed_body, 4198),
        (case.secret, older, 4197),
    ];
    for (secret, body, code) in refusals {
        let (status, text) = sim.send_push(name, &hook, secret, body).await.unwrap();
        assert_eq!(
            (status, json_of(&text)["meta"]["code"].as_u64()),
            (400, Some(code)),
            "{text}"
        );
    }
    assert_eq!(stored(&server, number).await, before, "nothing changed");

    // A signed notice without an update is acknowledged, so the upstream does not retry it,
    // and changes nothing.
    let notice = case.notice.as_bytes().to_vec();
    let (status, text) = sim
        .send_push(name, &hook, case.secret, notice)
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(json_of(&text)["data"]["applied"], 0, "{text}");
    assert_eq!(
        stored(&server, number).await,
        before,
        "still nothing changed"
    );
    let now = tracking(&server, number).await;
    assert_eq!(
        now["delivery_status"], picked_up["delivery_status"],
        "{now}"
    );
    assert_eq!(sim.path_requests(name, case.poll), polls, "still no poll");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_push_off_the_same_move_arrives_by_polling() {
    let case = &SEVENTEEN_TRACK;
    let (sim, receiver, server) = created(case, false).await;
    let (entry, _) = listed(&server, case.courier).await;
    assert_eq!(entry["updates"], "poll", "{entry}");

    let polls = sim.path_requests(case.upstream, case.poll);
    sim.advance_number(case.number, Duration::from_secs(3600));
    reaches(&server, case.number, "transit001").await;
    wait_for(20, "the polled event's webhook", || async {
        receiver.got("/hook").iter().map(|g| g.json()).find(|p| {
            p["data"]["tracking_number"] == case.number && p["data"]["delivery_status"] == "transit"
        })
    })
    .await;
    assert!(
        sim.path_requests(case.upstream, case.poll) > polls,
        "the move came by polling"
    );
    // The upstream did push, and this server, without `push = true`, refused it.
    wait_for(20, "the refused push", || async {
        sim.sent_pushes(case.upstream)
            .first()
            .and_then(|s| s.answer.clone())
    })
    .await;
    let (status, _) = sim.sent_pushes(case.upstream)[0].answer.clone().unwrap();
    assert_eq!(status, 404, "no 17track push source on this server");
}

/// 17TRACK pushes a parcel's whole history every time: a long journey's push is larger than a
/// carrier may push (`[push] max_body_bytes`, 64 KB) and is taken whole all the same, up to
/// `[push] max_upstream_body_bytes`; beyond that it is refused before any work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_history_pushed_by_17track_is_taken_whole() {
    let case = &SEVENTEEN_TRACK;
    let (sim, _receiver, server) = created(case, true).await;
    let sent_before = sim.sent_pushes(case.upstream).len();

    // 500 events, one a minute up to a minute ago: the upstream pushes them all at once.
    let events = 500;
    let first = Utc::now() - chrono::Duration::minutes(events + 1);
    let kinds = [EventKind::ArrivedFacility, EventKind::DepartedFacility];
    let journey = (0..events)
        .map(|i| event(kinds[i as usize % 2], first + chrono::Duration::minutes(i)))
        .collect();
    sim.script(case.number, journey);
    let sent = wait_for(20, "the long history's push", || async {
        let sent = sim.sent_pushes(case.upstream);
        sent.get(sent_before)
            .filter(|s| s.answer.is_some())
            .cloned()
    })
    .await;
    assert!(sent.body.len() > 64 * 1024, "{} bytes", sent.body.len());
    let (status, answer) = sent.answer.expect("answered");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(json_of(&answer)["data"]["changed"], 1, "{answer}");
    let (checkpoints, _, _) = stored(&server, case.number).await;
    assert!(checkpoints >= events as u64, "{checkpoints} checkpoints");

    // Past the upstream limit (1 MiB by default): 413, nothing read.
    let hook = format!("{}/hooks/{}", server.base, case.upstream);
    let too_large = vec![b' '; 1024 * 1024 + 1];
    let refused = sim.send_push(case.upstream, &hook, case.secret, too_large);
    let (status, text) = refused.await.unwrap();
    assert_eq!(status, 413, "{text}");
    assert_eq!(stored(&server, case.number).await.0, checkpoints);
}
