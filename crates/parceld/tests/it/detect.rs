//! Courier detection through the API (v4 and v2) and the CLI, driven by the detection corpus
//! (`crates/detect/corpus`): one number per courier, asked as written (spaces, dashes, lower
//! case), must name that courier first on both faces; numbers written with separators are
//! created, stored and found in their normalized form on both faces.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use parceld_detect::corpus::{self, Entry};

use crate::support::{assert_error, Server, BIN};

/// The first valid corpus number of every courier that the courier must rank first for.
fn one_number_per_courier() -> Vec<Entry> {
    let mut picked: Vec<Entry> = Vec::new();
    for entry in corpus::entries() {
        if entry.valid && !entry.expect.top3 && picked.iter().all(|p| p.courier != entry.courier) {
            picked.push(entry);
        }
    }
    picked
}

/// Creates a tracking on v4 without a courier.
async fn create_detected(server: &Server, number: &str) -> (StatusCode, Value) {
    let body = json!({"tracking_number": number});
    server
        .post("/v4/trackings/create", server.key(), body)
        .await
}

/// A v2 request with the key in v2's header.
async fn v2(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
    let (status, _, json) = server
        .request(
            method,
            path,
            Some(("Trackingmore-Api-Key", server.key())),
            bytes,
        )
        .await;
    (status, json)
}

#[tokio::test]
async fn both_faces_detect_every_courier_of_the_corpus() {
    let server = Server::start();
    let key = server.key();
    let picked = one_number_per_courier();
    assert!(picked.len() >= 40, "{} couriers", picked.len());
    for entry in &picked {
        let request = json!({"tracking_number": entry.number});
        let (status, body) = server
            .post("/v4/couriers/detect", key, request.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{entry:?}: {body}");
        let first = &body["data"][0];
        assert_eq!(first["courier_code"], entry.courier, "{entry:?}: {body}");
        let courier = parceld_detect::courier(entry.courier).unwrap();
        assert_eq!(first["courier_name"], courier.name);
        assert!(first["confidence"]
            .as_f64()
            .is_some_and(|c| c > 0.0 && c <= 1.0));
        let validated = first["check_digit_valid"].as_bool().unwrap();
        let reason = first["reason"].as_str().unwrap();
        assert_eq!(
            reason.contains("check digit is valid"),
            validated,
            "{entry:?}: {reason}"
        );
        if let Some(format) = entry.expect.format {
            assert_eq!(first["format"], format, "{entry:?}");
        }

        let (status, body) = v2(&server, Method::POST, "/v2/carriers/detect", Some(request)).await;
        assert_eq!(status, StatusCode::OK, "{entry:?}: {body}");
        assert_eq!(body["data"][0]["code"], entry.courier, "{entry:?}: {body}");
    }
    let ups = &server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "1Z 999 AA1 01 2345 6784"}),
        )
        .await
        .1["data"][0];
    assert!(ups["confidence"].as_f64().unwrap() > 0.9, "{ups}");

    for (body, http, code, needle) in [
        (json!({}), 400, 4111, "tracking_number"),
        (
            json!({"tracking_number": "1Z999AA10123456784", "slug": "ups"}),
            400,
            4130,
            "`slug`",
        ),
    ] {
        let (status, answer) = server.post("/v4/couriers/detect", key, body).await;
        assert_error(status, &answer, http, code, needle);
    }
    let (status, body) = server
        .post(
            "/v4/couriers/detect",
            key,
            json!({"tracking_number": "NOTHING-FITS"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!([]));
}

#[tokio::test]
async fn numbers_written_with_separators_are_created_normalized_on_both_faces() {
    let server = Server::start();
    let key = server.key();
    // (as written on v4, as written on v2, normalized, detected courier)
    let cases = [
        (
            "1Z 999 AA1 01 2345 6784",
            "1z-999-aa1-01-2345-6784",
            "1Z999AA10123456784",
            "ups",
        ),
        (
            "RB 123 456 785 GB",
            "rb-123-456-785-gb",
            "RB123456785GB",
            "royal-mail",
        ),
        (
            "9400 1112 0108 0805 4830 16",
            "9400-1112-0108-0805-4830-16",
            "9400111201080805483016",
            "usps",
        ),
    ];
    for (v4_written, v2_written, normalized, courier) in cases {
        // v4: detected, stored normalized, and the number as written finds it.
        let (status, body) = create_detected(&server, v4_written).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["tracking_number"], normalized);
        assert_eq!(body["data"]["courier_code"], courier);
        assert_eq!(body["data"]["courier_detected"], true);
        assert!(body["data"]["status_info"]
            .as_str()
            .unwrap()
            .contains("detected"));
        let query = format!(
            "/v4/trackings/get?tracking_numbers={}",
            v2_written.replace(' ', "%20")
        );
        let (_, listed) = server.get(&query, key).await;
        assert_eq!(listed["data"][0]["tracking_number"], normalized, "{listed}");
        // The same number written otherwise is the same tracking, on both faces.
        let (status, again) = create_detected(&server, v2_written).await;
        assert_error(status, &again, 400, 4101, "already");
        let (status, body) = v2(
            &server,
            Method::POST,
            "/v2/trackings/post",
            Some(json!({"tracking_number": v2_written})),
        )
        .await;
        assert_eq!(body["meta"]["code"], 4016, "{status} {body}");
        let (status, body) = v2(
            &server,
            Method::GET,
            &format!("/v2/trackings/{courier}/{v2_written}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["tracking_number"], normalized, "{body}");
    }

    // v2 creates store the normalized number too.
    let key2 = server.new_account("v2-written");
    let (status, _, body) = server
        .request(
            Method::POST,
            "/v2/trackings/post",
            Some(("Trackingmore-Api-Key", &key2)),
            Some(serde_json::to_vec(&json!({"tracking_number": "c 110 31 500 00187 9"})).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["tracking_number"], "C11031500001879", "{body}");
    assert_eq!(body["data"]["carrier_code"], "ontrac", "{body}");

    let (status, body) = create_detected(&server, "NOTHING-FITS").await;
    assert_error(status, &body, 400, 4121, "matches no courier");

    let explicit = server.create(key, "1Z999AA10123456784", "sandbox").await;
    let (_, listed) = server
        .get("/v4/trackings/get?courier_code=sandbox", key)
        .await;
    assert_eq!(listed["data"][0]["id"], explicit.as_str());
    assert_eq!(listed["data"][0]["courier_detected"], false);
}

/// Runs `parceld detect` with `args`.
fn run_detect<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("detect")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_detects_numbers_and_finds_them_in_text() {
    let output = run_detect(&["1Z999AA10123456784", "RB123456785GB"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ups") && stdout.contains("royal-mail"),
        "{stdout}"
    );

    let output = run_detect(&["nothing"]);
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
    let output = run_detect(&[std::ffi::OsStr::new("--text"), mail.as_os_str()]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1Z999AA10123456784") && stdout.contains("ups"),
        "{stdout}"
    );
}
