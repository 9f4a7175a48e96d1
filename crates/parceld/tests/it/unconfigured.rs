//! A tracking of a carrier parceld has an adapter for, on a server without that carrier's
//! credentials, cannot be fetched: it says so and names the settings to set, and the server log
//! says it once per courier rather than once per tracking.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::Server;

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
        let (status, body) = server
            .get(
                &format!("/v4/trackings/get?tracking_numbers={number}"),
                &key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let t = &body["data"][0];
        assert_eq!(t["delivery_status"], "pending", "{t}");
        let info = t["status_info"].as_str().unwrap_or_default();
        assert!(
            info.contains(UPS_REASON) && info.contains(UPS_SETTINGS),
            "{number}: {t}"
        );
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
