//! A tracking of a carrier parceld has an adapter for, on a server without that carrier's
//! credentials, cannot be fetched: it says so and names the settings to set, and the server log
//! says it once per courier rather than once per tracking.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::Server;

/// The stored tracking of `number` (UPS, on a server without UPS credentials): pending, and
/// both its `status_info` and its `check_error` name the settings to set.
async fn assert_stored_says_why(server: &Server, key: &str, number: &str) {
    let (status, body) = server
        .get(&format!("/v4/trackings/get?tracking_numbers={number}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t = &body["data"][0];
    assert_eq!(t["tracking_number"], number, "{t}");
    assert_eq!(t["delivery_status"], "pending", "{t}");
    for field in ["status_info", "check_error"] {
        let text = t[field].as_str().unwrap_or_default();
        assert!(
            text.contains(UPS_REASON) && text.contains(UPS_SETTINGS),
            "{number}: {field}: {t}"
        );
    }
}

const UPS_REASON: &str = "UPS is not configured on this server";
const UPS_SETTINGS: &str = "set carriers.ups.client_id and carriers.ups.client_secret \
     (PARCELD_CARRIERS__UPS__CLIENT_ID, PARCELD_CARRIERS__UPS__CLIENT_SECRET)";

#[tokio::test]
async fn a_tracking_of_an_unconfigured_carrier_says_which_settings_it_needs() {
    let server = Server::start();
    let key = server.key().to_string();

    let (status, created) = server
        .post_number("/v4/trackings/create", &key, "1ZNOCREDS000000001", "ups")
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["data"]["delivery_status"], "pending", "{created}");
    let info = created["data"]["status_info"].as_str().unwrap_or_default();
    assert!(
        info.contains(UPS_REASON) && info.contains(UPS_SETTINGS),
        "{created}"
    );

    let (status, body) = server
        .post(
            "/v4/trackings/batch",
            &key,
            json!([
                {"tracking_number": "1ZNOCREDS000000002", "courier_code": "ups"},
                {"tracking_number": "1ZNOCREDS000000003", "courier_code": "ups"},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for number in [
        "1ZNOCREDS000000001",
        "1ZNOCREDS000000002",
        "1ZNOCREDS000000003",
    ] {
        assert_stored_says_why(&server, &key, number).await;
    }
    // A carrier without an adapter keeps its own words and is not called unconfigured.
    let (number, courier) = ("RB123456785IT", "poste-italiane");
    let (_, other) = server
        .post_number("/v4/trackings/create", &key, number, courier)
        .await;
    let info = other["data"]["status_info"].as_str().unwrap_or_default();
    assert!(!info.contains("not configured"), "{other}");

    let log = server.stderr();
    assert_eq!(
        log.matches(UPS_REASON).count(),
        1,
        "said once in the log for three trackings:\n{log}"
    );
}

#[tokio::test]
async fn an_imported_tracking_of_an_unconfigured_carrier_says_so_too() {
    let server = Server::start();
    let key = server.key().to_string();
    let numbers = ["1ZNOCREDS000000011", "1ZNOCREDS000000012"];
    let lines: Vec<String> = numbers
        .iter()
        .map(|n| json!({"tracking_number": n, "courier_code": "ups"}).to_string())
        .chain([
            json!({"tracking_number": "SANDBOX-DELIVERED-9", "courier_code": "sandbox"})
                .to_string(),
        ])
        .collect();
    let path = server.data_dir.join("unconfigured.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let (ok, out) = server.admin(&["import", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert_eq!(
        out.matches(UPS_REASON).count(),
        1,
        "the import says it once, for two trackings:\n{out}"
    );
    assert!(
        out.contains("2 of the created trackings cannot be fetched yet"),
        "{out}"
    );
    for number in numbers {
        assert_stored_says_why(&server, &key, number).await;
    }
    let (_, sandbox) = server
        .get(
            "/v4/trackings/get?tracking_numbers=SANDBOX-DELIVERED-9",
            &key,
        )
        .await;
    assert!(sandbox["data"][0]["check_error"].is_null(), "{sandbox}");
}
