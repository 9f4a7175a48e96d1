//! Courier detection through the API and the CLI.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{assert_error, Server, BIN};

#[tokio::test]
async fn detect_ranks_candidates_with_confidence_and_reason() {
    let server = Server::start();
    let key = server.key();
    let (status, body) = server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "1Z999AA10123456784"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["data"][0];
    assert_eq!(first["courier_code"], "ups");
    assert_eq!(first["courier_name"], "UPS");
    assert_eq!(first["check_digit_valid"], true);
    assert!(first["confidence"].as_f64().unwrap() > 0.9);
    assert!(first["reason"].as_str().unwrap().contains("check digit"));

    let (status, body) = server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "RB123456785GB"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"][0]["courier_code"], "royal-mail");

    let (status, body) = server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "NOTHING-FITS"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!([]));

    let (status, body) = server.post("/v4/couriers/detect", key, json!({})).await;
    assert_error(status, &body, 400, 4111, "tracking_number");
    let (status, body) = server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "1Z999AA10123456784", "slug": "ups"}),
        )
        .await;
    assert_error(status, &body, 400, 4130, "`slug`");
}

#[tokio::test]
async fn create_without_a_courier_uses_the_best_candidate_and_says_so() {
    let server = Server::start();
    let key = server.key();
    let (status, body) = server
        .post(
            "/v4/trackings/create",
            key,
            json!({"tracking_number": "1Z999AA10123456784"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["courier_code"], "ups");
    assert_eq!(body["data"]["courier_detected"], true);
    assert!(body["data"]["status_info"]
        .as_str()
        .unwrap()
        .contains("detected"));

    let (status, body) = server
        .post(
            "/v4/trackings/create",
            key,
            json!({"tracking_number": "NOTHING-FITS"}),
        )
        .await;
    assert_error(status, &body, 400, 4121, "matches no courier");

    let explicit = server.create(key, "1Z999AA10123456784", "sandbox").await;
    let (_, listed) = server
        .get("/v4/trackings/get?courier_code=sandbox", key)
        .await;
    assert_eq!(listed["data"][0]["id"], explicit.as_str());
    assert_eq!(listed["data"][0]["courier_detected"], false);
    assert_eq!(server.list_all(key).await.len(), 2);
}

#[test]
fn the_cli_detects_numbers_and_finds_them_in_text() {
    let output = std::process::Command::new(BIN)
        .args(["detect", "1Z999AA10123456784", "RB123456785GB"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ups") && stdout.contains("royal-mail"),
        "{stdout}"
    );

    let output = std::process::Command::new(BIN)
        .args(["detect", "nothing"])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "no courier found is an error exit"
    );

    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail.txt");
    std::fs::write(
        &mail,
        "Hello,\nyour order shipped with tracking 1Z 999 AA1 01 2345 6784.\nThanks!",
    )
    .unwrap();
    let output = std::process::Command::new(BIN)
        .args(["detect", "--text"])
        .arg(&mail)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1Z999AA10123456784") && stdout.contains("ups"),
        "{stdout}"
    );
}
