//! The dashboard in a real headless Chromium (`crates/parceld/tests/browser/dashboard.mjs`,
//! with the tracking page's browser set-up: `page_browser.rs`, `.ci/browser-deps`): sign-in,
//! a wrong password and the lock-out, the overview's problem count, filtering and paging the
//! table, bulk archive, the CSV export, opening and refreshing a shipment, the analytics page's
//! charts (their numbers against the shipments prepared, a chart's CSV), the problems queue,
//! the admin's settings (a key, a user, a webhook delivery sent again), a CSV upload, a viewer
//! who cannot act, CSRF refusal, and axe-core on every page. Screenshots are kept in
//! `target/dashboard-screenshots/`.

use chrono::Utc;
use parceld_model::DeliveryStatus;
use parceld_store::test_support::ForcedState;
use serde_json::{json, Value};

use crate::dashboard::{create_user, first_admin};
use crate::page::{backdate, stored_number};
use crate::page_browser::{run_node, tools_or_skip};
use crate::support::{tracking_id, Server};

/// Sandbox shipments in the table: the 55 of the paging, one exception, one to refresh.
const SANDBOX_COUNT: usize = 57;
const REFRESH: &str = "SANDBOX-DELIVERED-RFR";

#[tokio::test]
async fn a_team_uses_the_dashboard_in_a_real_browser() {
    let test = "a_team_uses_the_dashboard_in_a_real_browser";
    let Some(tools) = tools_or_skip(test) else {
        return;
    };
    let server = Server::start_with_env(&[
        ("PARCELD_ENGINE__REALTIME_WINDOW_SECS", "0"),
        ("PARCELD_DASHBOARD__LOCK_AFTER", "2"),
        ("PARCELD_DASHBOARD__SIGN_IN_BURST", "100"),
    ]);
    let key = server.key().to_string();
    // A batch fetches nothing: every journey starts when the test says.
    let mut batch: Vec<Value> = (0..55)
        .map(|i| json!({"tracking_number": format!("SANDBOX-DELIVERED-T{i:02}"), "courier_code": "sandbox"}))
        .collect();
    for number in ["SANDBOX-EXCEPTION-X01", REFRESH] {
        batch.push(json!({"tracking_number": number, "courier_code": "sandbox"}));
    }
    for part in batch.chunks(40) {
        let (status, created) = server
            .post("/v4/trackings/batch", &key, Value::Array(part.to_vec()))
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{created}");
    }
    let ids: Vec<(String, String)> = server
        .stored_trackings(&key)
        .await
        .into_iter()
        .map(|t| (t.tracking_number, t.id.to_string()))
        .collect();
    let id_of = |number: &str| {
        let stored = stored_number(number);
        ids.iter()
            .find(|(n, _)| *n == stored)
            .expect("created")
            .1
            .clone()
    };
    let exception = ForcedState {
        delivery_status: Some(DeliveryStatus::Exception),
        updated_at: Some(Utc::now()),
        ..ForcedState::default()
    };
    let exception_id = tracking_id(&id_of("SANDBOX-EXCEPTION-X01"));
    let store = server.store().await;
    assert!(store
        .force_tracking_state(&exception_id, &exception)
        .await
        .unwrap());
    // Two hours into its journey: delivered once the carrier is asked.
    let refresh_id = id_of(REFRESH);
    backdate(&server, &refresh_id, 120).await;

    // A webhook endpoint whose test event failed (`localhost` is refused when delivering).
    let hook =
        crate::webhooks::create_webhook(&server, &key, json!({"url": "http://localhost:1/x"}))
            .await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let (status, test) = server
        .post(&format!("/v4/webhooks/{hook_id}/test"), &key, json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{test}");

    let (admin_email, admin_password) = first_admin(&server);
    let viewer = create_user(&server, "default", "viewer@example.com", "viewer");
    let locked = create_user(&server, "default", "locked@example.com", "agent");
    let config = json!({
        "base": server.base,
        "admin": {"email": admin_email, "password": admin_password},
        "viewer": {"email": "viewer@example.com", "password": viewer},
        "locked": {"email": "locked@example.com", "password": locked},
        "lock_after": 2,
        "problems": 1,
        "sandbox_count": SANDBOX_COUNT,
        "refresh": {"id": refresh_id, "number": REFRESH, "stored": stored_number(REFRESH)},
        "webhook": {"id": hook_id},
    });
    run_node(
        &tools,
        "dashboard.mjs",
        "dashboard-screenshots",
        ("DASHBOARD", &config),
        &server,
    );
}
