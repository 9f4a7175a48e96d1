//! Carriers drop old scans, so a later answer can hold fewer events than an earlier one. Every
//! checkpoint stays stored, and the status and latest event follow the stored checkpoints: a
//! shorter answer never moves a tracking backwards, and a delivered tracking stays delivered.

use std::time::Duration;

use chrono::Utc;
use parceld_sim::{EventKind, SimEvent, Simulator};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engine::{engine_setup, wait_for};
use crate::support::Server;

fn event(kind: EventKind, hours_ago: i64) -> SimEvent {
    SimEvent {
        kind,
        at: Utc::now() - chrono::Duration::hours(hours_ago),
        place: None,
    }
}

/// Scripts `label`, a pick-up and `last` for the UPS number `number`, creates its tracking (v4
/// create asks the courier at once) and returns the tracking as created.
async fn created_after(
    sim: &Simulator,
    server: &Server,
    key: &str,
    number: &str,
    label: &SimEvent,
    last: EventKind,
) -> Value {
    let journey = vec![label.clone(), event(EventKind::PickedUp, 3), event(last, 1)];
    sim.script(number, journey);
    let (status, created) = server
        .post_number("/v4/trackings/create", key, number, "ups")
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created["data"].clone()
}

/// A real-time request for `tracking` that asks the carrier.
async fn fetch_from_carrier(server: &Server, key: &str, tracking: &Value) {
    let id = tracking["id"].as_str().unwrap();
    let (status, body) = server
        .post("/v4/trackings/realtime", key, json!({"id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["fetched_from"], "carrier", "{body}");
}

fn stored_events(t: &Value) -> usize {
    t["origin_info"]["trackinfo"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_carrier_answer_does_not_move_status_or_latest_event_back() {
    let (sim, server, key) = engine_setup(&[
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ("PARCELD_ENGINE__REALTIME_WINDOW_SECS", "0"),
    ])
    .await;
    let path = "/api/track/v1/details/{inquiryNumber}";

    // Out for delivery (`pickup`), then the carrier drops everything but the label scan.
    // The same label scan in both answers: a scan at another instant would be another checkpoint.
    let label = event(EventKind::LabelCreated, 5);
    let moving = "1ZSHORTER000000001";
    let before = created_after(
        &sim,
        &server,
        &key,
        moving,
        &label,
        EventKind::OutForDelivery,
    )
    .await;
    assert_eq!(before["delivery_status"], "pickup", "{before}");
    let latest_before = before["latest_event"].clone();
    assert!(latest_before.is_string(), "{before}");

    sim.script(moving, vec![label.clone()]);
    let start = sim.path_requests("ups", path);
    wait_for(20, "three refreshes with the shorter answer", || async {
        (sim.path_requests("ups", path) >= start + 3).then_some(())
    })
    .await;
    let after = server.tracking(&key, moving).await;
    assert_eq!(after["delivery_status"], "pickup", "{after}");
    assert_eq!(after["substatus"], before["substatus"], "{after}");
    assert_eq!(after["latest_event"], latest_before, "{after}");
    assert_eq!(
        after["latest_checkpoint_time"], before["latest_checkpoint_time"],
        "{after}"
    );
    assert_eq!(stored_events(&after), 3, "every checkpoint is still stored");
    assert!(
        after["next_check_at"].is_string(),
        "still refreshed: {after}"
    );

    // Delivered, then the carrier answers with the label scan alone.
    let delivered = "1ZSHORTER000000002";
    let before = created_after(&sim, &server, &key, delivered, &label, EventKind::Delivered).await;
    assert_eq!(before["delivery_status"], "delivered", "{before}");
    assert!(before["next_check_at"].is_null(), "{before}");
    sim.script(delivered, vec![label.clone()]);
    fetch_from_carrier(&server, &key, &before).await;
    let after = server.tracking(&key, delivered).await;
    assert_eq!(after["delivery_status"], "delivered", "{after}");
    assert_eq!(after["substatus"], before["substatus"], "{after}");
    assert_eq!(after["latest_event"], before["latest_event"], "{after}");
    assert_eq!(stored_events(&after), 3);
    assert!(after["next_check_at"].is_null(), "delivered stops: {after}");

    // And the scheduler does not ask about it again.
    let calls = sim.path_requests("ups", path);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let moving_calls = sim.path_requests("ups", path) - calls;
    let after_wait = server.tracking(&key, delivered).await;
    assert_eq!(after_wait["last_checked_at"], after["last_checked_at"]);
    assert!(moving_calls > 0, "the other tracking is still refreshed");
}

/// Two events of one second: the newest of them is the one the carrier lists first, for the
/// status, the latest event and the stored list alike; an answer that then drops that event but
/// keeps the other one of the same second moves nothing back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_second_follow_the_carriers_order_and_a_tie_moves_nothing_back() {
    let (sim, server, key) = engine_setup(&[("PARCELD_ENGINE__REALTIME_WINDOW_SECS", "0")]).await;
    let number = "1ZSHORTER000000003";
    let label = event(EventKind::LabelCreated, 5);
    let second = Utc::now() - chrono::Duration::hours(1);
    let at = |kind| SimEvent {
        kind,
        at: second,
        place: None,
    };
    // In transit (arrived at a facility) and out for delivery (`pickup`) in one second.
    sim.script(
        number,
        vec![
            label.clone(),
            at(EventKind::ArrivedFacility),
            at(EventKind::OutForDelivery),
        ],
    );
    let (status, created) = server
        .post_number("/v4/trackings/create", &key, number, "ups")
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let before = server.tracking(&key, number).await;
    let listed = before["origin_info"]["trackinfo"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{before}");
    assert_eq!(listed[0]["checkpoint_date"], listed[1]["checkpoint_date"]);
    assert_eq!(
        before["latest_event"], listed[0]["tracking_detail"],
        "the latest event is the list's first: {before}"
    );
    assert_eq!(
        before["delivery_status"], listed[0]["checkpoint_delivery_status"],
        "and the status is that event's: {before}"
    );

    // The carrier drops the newest event of that second and keeps the other one.
    let kept = if listed[0]["checkpoint_delivery_status"] == "pickup" {
        EventKind::ArrivedFacility
    } else {
        EventKind::OutForDelivery
    };
    sim.script(number, vec![label, at(kept)]);
    fetch_from_carrier(&server, &key, &before).await;
    let after = server.tracking(&key, number).await;
    for field in [
        "delivery_status",
        "substatus",
        "latest_event",
        "latest_checkpoint_time",
    ] {
        assert_eq!(after[field], before[field], "{field}: {after}");
    }
    assert_eq!(stored_events(&after), 3, "every checkpoint is still stored");
}
