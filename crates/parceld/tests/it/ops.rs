//! Operations: health, readiness, metrics, request ids, the OpenAPI document.

use reqwest::{Method, StatusCode};

use crate::support::Server;

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let server = Server::start();
    let (status, headers, body) = server.raw(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert!(headers.get("x-request-id").is_some());
    let (status, _, body) = server.raw(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_code() {
    let server = Server::start();
    let key = server.key();
    server.get("/v4/trackings/get", key).await;
    server.get("/v4/trackings/get", key).await;
    server
        .get("/v4/trackings/get?delivery_status=lost", key)
        .await;
    let response = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"parceld_http_requests_total{route="/v4/trackings/get",method="GET",status="200",code="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"parceld_http_requests_total{route="/v4/trackings/get",method="GET",status="400",code="4130"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("parceld_http_request_duration_seconds_bucket{route=\"/v4/trackings/get\"")
    );
}

#[tokio::test]
async fn made_up_methods_and_random_paths_do_not_grow_the_metrics() {
    let server = Server::start();
    let key = server.key();
    let http = reqwest::Client::new();
    let send = |method: &str, path: String| {
        let request = http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.base),
            )
            .header("Tracking-Api-Key", key);
        async move { request.send().await.unwrap().status() }
    };
    // One request of each kind first, so every series that can exist exists.
    send("FIRST", "/first-unknown-path".into()).await;
    send("FIRST", "/v4/trackings/get".into()).await;
    send("GET", "/first-unknown-path".into()).await;
    server.text("/metrics").await;
    let before = server.text("/metrics").await;
    for i in 0..60 {
        send(&format!("MADEUP{i}"), format!("/no/such/path/{i}")).await;
        send(&format!("X{i}"), "/v4/trackings/get".into()).await;
        send("GET", format!("/random-{i}/{}", i * 7919)).await;
    }
    let after = server.text("/metrics").await;
    let series = |text: &str| {
        text.lines()
            .filter(|line| line.starts_with("parceld_http_requests_total{"))
            .map(|line| line.rsplit_once(' ').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(series(&before), series(&after), "{after}");
    assert!(!after.contains("MADEUP"), "{after}");
    assert!(!after.contains("random-"), "{after}");
    assert!(
        after.contains(r#"route="unmatched",method="other""#),
        "{after}"
    );
}

#[tokio::test]
async fn one_access_log_line_per_request_without_colour_keys_or_numbers() {
    let server = Server::start();
    let key = server.key().to_string();
    let number = "1Z999AA10123456784";
    server.create(&key, number, "ups").await;
    server.get("/v4/trackings/get", &key).await;
    server
        .get(
            &format!("/v4/trackings/get?tracking_numbers={number}"),
            &key,
        )
        .await;
    server.get("/v4/trackings/get", "pk_not_a_real_key").await;
    server.get("/no/such/route", &key).await;
    let stderr = server.stderr();
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape codes: {stderr}");
    assert!(!stderr.contains(&key), "the API key is never logged");
    assert!(!stderr.contains("pk_not_a_real_key"), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("parceld::access"))
        .collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    for line in &lines {
        assert!(line.contains("INFO"), "{line}");
        for field in [
            "method=",
            "route=",
            "status=",
            "code=",
            "latency_ms=",
            "request_id=",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
        assert!(!line.contains(number), "no tracking number: {line}");
    }
    assert!(
        lines[0].contains("route=/v4/trackings/create"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("method=POST"), "{}", lines[0]);
    assert!(lines[0].contains("status=200"), "{}", lines[0]);
    assert!(lines[3].contains("status=401"), "{}", lines[3]);
    assert!(lines[4].contains("route=unmatched"), "{}", lines[4]);
    assert!(
        lines[4].contains("code=4040") || lines[4].contains("status=404"),
        "{}",
        lines[4]
    );
}

#[tokio::test]
async fn the_committed_openapi_document_matches_the_code() {
    let server = Server::start();
    let served = server.text("/openapi.json").await;
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json"))
            .expect("openapi.json at the repository root");
    assert!(
        served == committed,
        "openapi.json is out of date: run `cargo run -- openapi > openapi.json` and commit it"
    );
    let document: serde_json::Value = serde_json::from_str(&served).unwrap();
    for path in [
        "/v4/trackings/create",
        "/v4/trackings/batch",
        "/v4/trackings/get",
        "/v4/trackings/update/{id}",
        "/v4/trackings/delete/{id}",
        "/v4/trackings/retrack/{id}",
        "/v4/couriers/all",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
}

#[test]
fn command_output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // The document is larger than a pipe's buffer, so the command is still writing when the
    // reader goes away, as with `parceld openapi | head`.
    let mut child = Command::new(crate::support::BIN)
        .arg("openapi")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first[..1], b"{");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
