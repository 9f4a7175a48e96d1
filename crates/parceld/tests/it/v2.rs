//! The legacy v2 API, end to end: every route and code, each of the FAQ's cases (4015 for a body
//! that is not JSON, 4031 with its hint, 4001 versus 4002), per-account rate limits at the v2
//! rates, and real-time and "not update" against the carrier simulator.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::engine::{engine_env, start_engine_server_in, start_sim, wait_for};
use crate::support::{
    assert_one_call_shows_its_limit, env_refs, extract_key, extract_key_id, DataDir, Server,
};

const UPS_NUMBER: &str = "1Z999AA10123456784";
const UPS_DETAILS: &str = "/api/track/v1/details/{inquiryNumber}";

/// A v2 key, in the header v2 clients send it in (for [`Server::request`]).
fn v2_key(key: &str) -> Option<(&str, &str)> {
    Some(("Trackingmore-Api-Key", key))
}

async fn get(server: &Server, path: &str, key: &str) -> (StatusCode, Value) {
    let (status, _, body) = server.request(Method::GET, path, v2_key(key), None).await;
    (status, body)
}

async fn send(
    server: &Server,
    method: Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let (status, _, body) = server.request(method, path, v2_key(key), Some(bytes)).await;
    (status, body)
}

async fn post(server: &Server, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    send(server, Method::POST, path, key, body).await
}

/// Posts one number and carrier to `path` (post, real-time).
async fn post_number(
    server: &Server,
    path: &str,
    key: &str,
    number: &str,
    carrier: &str,
) -> (StatusCode, Value) {
    let body = json!({"tracking_number": number, "carrier_code": carrier});
    post(server, path, key, body).await
}

/// Sends a v2 request with `key` and a raw body (JSON or not); returns status and JSON.
async fn v2_raw(
    server: &Server,
    method: Method,
    path: &str,
    key: &str,
    bytes: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let (status, _, body) = server.request(method, path, v2_key(key), bytes).await;
    (status, body)
}

/// A v2 DELETE of `path` with `key`.
async fn delete(server: &Server, path: &str, key: &str) -> (StatusCode, Value) {
    v2_raw(server, Method::DELETE, path, key, None).await
}

/// A v2 POST of `bytes` (JSON or not) to `path` with `key`.
async fn post_raw(server: &Server, path: &str, key: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    v2_raw(server, Method::POST, path, key, Some(bytes)).await
}

/// The HTTP status and `meta.type` TrackingMore's v2 answers each of its codes with.
fn v2_status_and_type(code: u64) -> (u16, &'static str) {
    match code {
        401 | 4001 | 4002 => (401, "Unauthorized"),
        403 => (403, "Forbidden"),
        404 => (404, "Not Found"),
        405 => (405, "Method Not Allowed"),
        429 => (429, "Too Many Requests"),
        4012..=4020 => (400, "Bad Request"),
        4031 => (200, "No Content"),
        4032 | 4033 => (400, "No Content"),
        other => panic!("v2 has no code {other}"),
    }
}

/// Asserts a v2 error envelope: the code with its HTTP status and type, and a message fragment.
fn assert_v2(status: StatusCode, body: &Value, code: u64, needle: &str) {
    let (http, kind) = v2_status_and_type(code);
    assert_eq!(status.as_u16(), http, "{body}");
    assert_eq!(body["meta"]["code"].as_u64(), Some(code), "{body}");
    assert_eq!(body["meta"]["type"], kind, "{body}");
    let message = body["meta"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(needle),
        "message {message:?} should contain {needle:?}"
    );
    assert!(body["data"].is_null(), "{body}");
}

fn assert_ok(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["code"], 200, "{body}");
    assert_eq!(body["meta"]["type"], "Success", "{body}");
}

async fn total(server: &Server, key: &str) -> u64 {
    let (status, body) = get(server, "/v2/trackings/get", key).await;
    assert_ok(status, &body);
    body["data"]["total"].as_u64().unwrap()
}

#[tokio::test]
async fn post_then_get_and_the_faq_cases() {
    let server = Server::start();
    let key = server.key().to_string();

    // POST /trackings/post stores the shipment (no courier call) and echoes what was sent.
    let (status, body) = post(
        &server,
        "/v2/trackings/post",
        &key,
        json!({"tracking_number": UPS_NUMBER, "carrier_code": "ups", "title": "Blue shoes",
               "customer_email": "a@example.com", "order_id": "#1001", "lang": "en"}),
    )
    .await;
    assert_ok(status, &body);
    let created = &body["data"];
    assert_eq!(created["tracking_number"], UPS_NUMBER);
    assert_eq!(created["carrier_code"], "ups");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["title"], "Blue shoes");
    assert_eq!(created["order_id"], "#1001");
    assert!(created["id"].as_str().unwrap().len() == 32);
    assert!(
        created.get("comment").is_none(),
        "only the fields sent come back: {created}"
    );

    // … then GET /trackings/get (and the single result) returns it in v2 field names.
    let (status, body) = get(&server, "/v2/trackings/get", &key).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["total"], 1);
    assert_eq!(body["data"]["page"], 1);
    assert_eq!(body["data"]["limit"], 100);
    let item = &body["data"]["items"][0];
    assert_eq!(item["carrier_code"], "ups");
    assert_eq!(item["status"], "pending");
    assert_eq!(item["title"], "Blue shoes");
    assert_eq!(item["customer_email"], "a@example.com");
    assert!(item["origin_info"]["trackinfo"]
        .as_array()
        .unwrap()
        .is_empty());
    for field in [
        "lastEvent",
        "lastUpdateTime",
        "itemTimeLength",
        "stayTimeLength",
        "singed_by",
    ] {
        assert!(item.get(field).is_some(), "{field} in {item}");
    }
    let (status, one) = get(&server, &format!("/v2/trackings/ups/{UPS_NUMBER}"), &key).await;
    assert_ok(status, &one);
    assert_eq!(one["data"]["id"], created["id"]);
    let (status, one) = get(&server, &format!("/v2/trackings/ups/{UPS_NUMBER}/en"), &key).await;
    assert_ok(status, &one);

    // Posting it again is 4016.
    let (status, body) = post_number(&server, "/v2/trackings/post", &key, UPS_NUMBER, "ups").await;
    assert_v2(status, &body, 4016, "Tracking already exists.");

    // FAQ: GET of a shipment never posted → 4031 with the hint.
    let (status, body) = get(&server, "/v2/trackings/ups/1Z999AA10000000001", &key).await;
    assert_v2(
        status,
        &body,
        4031,
        "Please try POST /trackings/post and then GET /trackings/get",
    );

    // FAQ: a body that is not JSON → 4015, saying that the body must be JSON and what is wrong.
    let form = b"tracking_number=1Z999AA10123456784&carrier_code=ups".to_vec();
    let (status, body) = post_raw(&server, "/v2/trackings/post", &key, form).await;
    assert_v2(status, &body, 4015, "The request body must be JSON");
    assert!(
        body["meta"]["message"]
            .as_str()
            .unwrap()
            .contains("at line 1 column"),
        "{body}"
    );
    let (status, body) = post_raw(&server, "/v2/trackings/post", &key, Vec::new()).await;
    assert_v2(status, &body, 4015, "must be JSON, and it is empty");
    let (status, body) = post_raw(
        &server,
        "/v2/trackings/post",
        &key,
        b"{\"tracking_number\": \"1Z\"".to_vec(),
    )
    .await;
    assert_v2(status, &body, 4015, "must be JSON, and it is not: EOF");

    // The other codes of create.
    let cases = [
        (
            json!({"carrier_code": "ups"}),
            4013,
            "Tracking_number is required.",
        ),
        (
            json!({"tracking_number": "x", "carrier_code": "ups"}),
            4014,
            "The value of `tracking_number` is invalid.",
        ),
        (
            json!({"tracking_number": "ABC123456", "carrier_code": "nope"}),
            4015,
            "`nope` is not a courier code parceld knows; GET /v2/carriers lists them",
        ),
        (
            json!({"tracking_number": "ABC123456", "courier_code": "ups"}),
            4012,
            "In v2 the field is `carrier_code`",
        ),
        (
            json!({"tracking_number": 12345, "carrier_code": "ups"}),
            4012,
            "Field `tracking_number` has the wrong type",
        ),
        (
            json!({"tracking_number": "HELLOWORLD"}),
            4032,
            "Cannot detect courier.",
        ),
        (
            json!([{"tracking_number": "ABC123456", "carrier_code": "ups"}]),
            4012,
            "send one JSON object, not an array",
        ),
        (
            json!({"tracking_number": "ABC123456", "carrier_code": "postnl-3s"}),
            4012,
            "`tracking_postal_code`",
        ),
    ];
    for (request, code, needle) in cases {
        let (status, body) = post(&server, "/v2/trackings/post", &key, request.clone()).await;
        assert_v2(status, &body, code, needle);
    }
    // Bad requests changed nothing.
    assert_eq!(total(&server, &key).await, 1);

    // Without carrier_code the courier is detected from the number.
    let other = server.new_account("detect");
    let request = json!({"tracking_number": UPS_NUMBER});
    let (status, body) = post(&server, "/v2/trackings/post", &other, request).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["carrier_code"], "ups", "{body}");
}

#[tokio::test]
async fn invalid_and_deleted_keys_get_4001_and_4002() {
    let server = Server::start();
    let key = server.key().to_string();
    let (status, _, body) = server
        .request(Method::GET, "/v2/carriers", None, None)
        .await;
    assert_v2(status, &body, 401, "Trackingmore-Api-Key");
    let (status, body) = get(&server, "/v2/carriers", "not-a-key").await;
    assert_v2(status, &body, 4001, "Invalid API key.");
    let (status, body) = get(&server, "/v2/carriers", &format!("pk_{}", "0".repeat(40))).await;
    assert_v2(status, &body, 4001, "Invalid API key.");

    let (ok, out) = server.admin(&["key", "create", "--account", "default"]);
    assert!(ok, "{out}");
    let second = extract_key(&out);
    let (status, _) = get(&server, "/v2/carriers", &second).await;
    assert_eq!(status, StatusCode::OK);
    let key_id = extract_key_id(&out);
    let (ok, out) = server.admin(&["key", "delete", &key_id]);
    assert!(ok, "{out}");
    let (status, body) = get(&server, "/v2/carriers", &second).await;
    assert_v2(status, &body, 4002, "API key has been deleted.");

    // The v4 header works on v2 too; a disabled account is 403 in the v2 envelope.
    let (status, body) = server.get("/v2/carriers", &key).await;
    assert_ok(status, &body);
    let (ok, out) = server.admin(&["account", "disable", "default"]);
    assert!(ok, "{out}");
    let (status, body) = get(&server, "/v2/carriers", &key).await;
    assert_v2(status, &body, 403, "disabled");

    // Unknown v2 routes and methods answer in the v2 envelope.
    for (path, code, needle) in [
        ("/v2/nothing/here", 404, "/openapi.json"),
        ("/v2/trackings/post", 405, "another HTTP method"),
    ] {
        let (status, body) = get(&server, path, &key).await;
        assert_v2(status, &body, code, needle);
    }
}

#[tokio::test]
async fn batch_list_filters_and_status_numbers() {
    let server = Server::start();
    let key = server.key().to_string();
    let batch = json!([
        {"tracking_number": "BATCH-0001", "carrier_code": "ups"},
        {"tracking_number": "BATCH-0002", "carrier_code": "fedex", "title": "two"},
        {"tracking_number": "BATCH-0003", "carrier_code": "dhl"},
        {"tracking_number": "BATCH-0001", "carrier_code": "ups"},
        {"tracking_number": "BATCH-0004", "carrier_code": "nope"},
    ]);
    let (status, body) = post(&server, "/v2/trackings/batch", &key, batch).await;
    assert_ok(status, &body);
    let data = &body["data"];
    assert_eq!(
        (data["submitted"].as_u64(), data["added"].as_u64()),
        (Some(5), Some(3)),
        "{data}"
    );
    assert_eq!(data["trackings"].as_array().unwrap().len(), 3);
    let codes: Vec<u64> = data["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["meta"]["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{data}");
    assert!(codes.contains(&4015) && codes.contains(&4016), "{codes:?}");

    let too_many: Vec<Value> = (0..41)
        .map(|i| json!({"tracking_number": format!("MANY-{i:04}"), "carrier_code": "ups"}))
        .collect();
    let (status, body) = post(&server, "/v2/trackings/batch", &key, Value::Array(too_many)).await;
    assert_v2(status, &body, 4020, "at most 40");
    let request = json!({"tracking_number": "X1234"});
    let (status, body) = post(&server, "/v2/trackings/batch", &key, request).await;
    assert_v2(status, &body, 4012, "must be a JSON array");
    let nope = Some(b"nope".to_vec());
    let (status, body) = v2_raw(&server, Method::POST, "/v2/trackings/batch", &key, nope).await;
    assert_v2(status, &body, 4015, "must be JSON");
    assert_eq!(total(&server, &key).await, 3);

    // Paging: newest first.
    let (status, body) = get(&server, "/v2/trackings/get?page=1&limit=2", &key).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["total"], 3);
    let numbers: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tracking_number"].as_str().unwrap())
        .collect();
    // Stored in their normalized form (separators removed).
    assert_eq!(numbers, ["BATCH0003", "BATCH0002"]);
    let (_, body) = get(&server, "/v2/trackings/get?page=2&limit=2", &key).await;
    assert_eq!(body["data"]["items"][0]["tracking_number"], "BATCH0001");
    let (status, body) = get(&server, "/v2/trackings/get?limit=2000&lang=en", &key).await;
    assert_ok(status, &body);

    // Filters: status, unix-second times.
    let (_, body) = get(&server, "/v2/trackings/get?status=transit", &key).await;
    assert_eq!(body["data"]["total"], 0);
    assert!(body["data"]["items"].as_array().unwrap().is_empty());
    let (_, body) = get(&server, "/v2/trackings/get?status=pending", &key).await;
    assert_eq!(body["data"]["total"], 3);
    let now = chrono::Utc::now().timestamp();
    let (_, body) = get(
        &server,
        &format!("/v2/trackings/get?created_at_min={}", now + 3600),
        &key,
    )
    .await;
    assert_eq!(body["data"]["total"], 0);
    let (_, body) = get(
        &server,
        &format!(
            "/v2/trackings/get?created_at_min={}&update_time_max={}",
            now - 3600,
            now + 3600
        ),
        &key,
    )
    .await;
    assert_eq!(body["data"]["total"], 3);

    for (query, code, needle) in [
        ("limit=2001", 4012, "from 1 to 2000"),
        ("limit=0", 4012, "from 1 to 2000"),
        ("page=first", 4012, "`page`"),
        (
            "status=lost",
            4033,
            "The value of `package status` is invalid.",
        ),
        ("created_at_min=2024-05-01", 4012, "unix seconds"),
        ("order_created_time_min=1", 4012, "cannot filter by it"),
        ("courier=ups", 4012, "unknown parameter"),
    ] {
        let (status, body) = get(&server, &format!("/v2/trackings/get?{query}"), &key).await;
        assert_v2(status, &body, code, needle);
    }

    let (status, body) = get(&server, "/v2/trackings/getstatusnumber", &key).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["pending"], 3);
    assert_eq!(body["data"]["delivered"], 0);
    assert_eq!(body["data"]["total"], 3);
    let (_, body) = get(
        &server,
        &format!(
            "/v2/trackings/getstatusnumber?created_at_max={}",
            now - 3600
        ),
        &key,
    )
    .await;
    assert_eq!(body["data"]["total"], 0);
    let (status, body) = get(&server, "/v2/trackings/getstatusnumber?status=x", &key).await;
    assert_v2(status, &body, 4012, "unknown parameter");

    // Another account sees none of it.
    let other = server.new_account("other");
    assert_eq!(total(&server, &other).await, 0);
    let (status, body) = get(&server, "/v2/trackings/ups/BATCH-0001", &other).await;
    assert_v2(status, &body, 4031, "POST /trackings/post");
}

#[tokio::test]
async fn put_delete_change_carrier_and_delete_many() {
    let server = Server::start();
    let key = server.key().to_string();
    for (number, carrier) in [
        ("EDIT-0001", "ups"),
        ("EDIT-0002", "ups"),
        ("EDIT-0003", "ups"),
        ("EDIT-0001", "fedex"),
    ] {
        let request = json!({"tracking_number": number, "carrier_code": carrier});
        let (status, body) = post(&server, "/v2/trackings/post", &key, request).await;
        assert_ok(status, &body);
    }

    // PUT changes fields and the archive state.
    let edit = "/v2/trackings/ups/EDIT-0001";
    let request = json!({"title": "Red hat", "comment": "fragile", "archived": "true"});
    let (status, body) = send(&server, Method::PUT, edit, &key, request).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["title"], "Red hat");
    assert_eq!(body["data"]["comment"], "fragile");
    assert_eq!(body["data"]["archived"], "true");
    // A PUT without a body (as some v2 clients send it) changes nothing.
    let (status, body) = v2_raw(&server, Method::PUT, edit, &key, None).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["title"], "Red hat");
    for (path, request, code, needle) in [
        (edit, json!({"status": 4}), 4033, "cannot set one by hand"),
        (
            edit,
            json!({"archived": "maybe"}),
            4012,
            "`archived` must be \"true\" or \"false\"",
        ),
        (
            edit,
            json!({"courier_code": "dhl"}),
            4012,
            "In v2 the field is `carrier_code`",
        ),
        (
            "/v2/trackings/ups/NEVER-0001",
            json!({"title": "x"}),
            4017,
            "Tracking does not exist.",
        ),
        ("/v2/trackings/nope/EDIT-0001", json!({}), 4015, "`nope`"),
    ] {
        let (status, body) = send(&server, Method::PUT, path, &key, request).await;
        assert_v2(status, &body, code, needle);
    }
    let (_, one) = get(&server, "/v2/trackings/ups/EDIT-0001", &key).await;
    assert_eq!(
        one["data"]["title"], "Red hat",
        "failed PUTs changed nothing"
    );

    // Change carrier.
    let (status, body) = post(&server, "/v2/trackings/update", &key, json!({"tracking_number": "EDIT-0002", "carrier_code": "ups", "update_carrier_code": "dhl"})).await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["carrier_code"], "dhl");
    let (status, body) = get(&server, "/v2/trackings/ups/EDIT-0002", &key).await;
    assert_v2(status, &body, 4031, "never posted");
    let (status, _) = get(&server, "/v2/trackings/dhl/EDIT-0002", &key).await;
    assert_eq!(status, StatusCode::OK);
    for (number, new_carrier, code, needle) in [
        (
            Some("EDIT-0001"),
            Some("fedex"),
            4016,
            "Tracking already exists.",
        ),
        (
            Some("EDIT-0003"),
            None,
            4015,
            "`update_carrier_code` is required",
        ),
        (Some("EDIT-0003"), Some("nope"), 4015, "`nope`"),
        (
            Some("EDIT-0003"),
            Some("postnl-3s"),
            4012,
            "`tracking_postal_code`",
        ),
        (
            Some("NEVER-0001"),
            Some("dhl"),
            4017,
            "Tracking does not exist.",
        ),
        (None, Some("dhl"), 4013, "Tracking_number is required."),
    ] {
        let mut request = json!({"carrier_code": "ups"});
        if let Some(number) = number {
            request["tracking_number"] = number.into();
        }
        if let Some(carrier) = new_carrier {
            request["update_carrier_code"] = carrier.into();
        }
        let (status, body) = post(&server, "/v2/trackings/update", &key, request).await;
        assert_v2(status, &body, code, needle);
    }
    let (status, _) = get(&server, "/v2/trackings/ups/EDIT-0003", &key).await;
    assert_eq!(status, StatusCode::OK);

    // DELETE one: data is an empty array; then the shipment is gone.
    let (status, body) = delete(&server, "/v2/trackings/ups/EDIT-0003", &key).await;
    assert_ok(status, &body);
    assert_eq!(body["data"], json!([]));
    let (status, body) = get(&server, "/v2/trackings/ups/EDIT-0003", &key).await;
    assert_v2(status, &body, 4031, "POST /trackings/post");
    let (status, body) = delete(&server, "/v2/trackings/ups/EDIT-0003", &key).await;
    assert_v2(status, &body, 4017, "Tracking does not exist.");

    // Delete many: per-item results.
    let (status, body) = post(
        &server,
        "/v2/trackings/delete",
        &key,
        json!([
            {"tracking_number": "EDIT-0001", "carrier_code": "ups"},
            {"tracking_number": "EDIT-0001", "carrier_code": "fedex"},
            {"tracking_number": "EDIT-0009", "carrier_code": "ups"},
            {"tracking_number": "EDIT-0002", "carrier_code": "nope"},
        ]),
    )
    .await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["submitted"], 4);
    assert_eq!(body["data"]["delete"], 2);
    let failed: Vec<(String, u64)> = body["data"]["trackings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tracking_number"].as_str().unwrap().to_string(),
                t["meta"]["code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("EDIT-0002".to_string(), 4015),
            ("EDIT-0009".to_string(), 4017)
        ]
    );
    assert_eq!(
        total(&server, &key).await,
        1,
        "only EDIT-0002 (now dhl) is left"
    );
    let request = json!({"tracking_number": "EDIT-0002"});
    let (status, body) = post(&server, "/v2/trackings/delete", &key, request).await;
    assert_v2(status, &body, 4012, "must be a JSON array");
    let too_many: Vec<Value> = (0..41)
        .map(|i| json!({"tracking_number": format!("EDIT-{i:04}"), "carrier_code": "dhl"}))
        .collect();
    let (status, body) = post(
        &server,
        "/v2/trackings/delete",
        &key,
        Value::Array(too_many.clone()),
    )
    .await;
    assert_v2(status, &body, 4020, "at most 40");
    let (status, body) = post(
        &server,
        "/v2/trackings/notupdate",
        &key,
        Value::Array(too_many),
    )
    .await;
    assert_v2(status, &body, 4020, "at most 40");
    assert_eq!(
        total(&server, &key).await,
        1,
        "rejected requests deleted nothing"
    );
}

#[tokio::test]
async fn carriers_and_detect() {
    let server = Server::start();
    let key = server.key().to_string();
    let (status, body) = get(&server, "/v2/carriers", &key).await;
    assert_ok(status, &body);
    let ups = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ups")
        .expect("ups listed")
        .clone();
    assert_eq!(ups["type"], "express");
    assert!(ups["name"].as_str().unwrap().contains("UPS"), "{ups}");

    let request = json!({"tracking_number": UPS_NUMBER});
    let (status, body) = post(&server, "/v2/carriers/detect", &key, request).await;
    assert_ok(status, &body);
    assert_eq!(body["data"][0]["code"], "ups", "{body}");
    assert!(body["data"][0]["name"].is_string());
    let request = json!({"tracking_number": "HELLOWORLD"});
    let (status, body) = post(&server, "/v2/carriers/detect", &key, request).await;
    assert_v2(status, &body, 4032, "Cannot detect courier.");
    let (status, body) = post(&server, "/v2/carriers/detect", &key, json!({})).await;
    assert_v2(status, &body, 4013, "Tracking_number is required.");
    let form = Some(b"tracking_number=1Z".to_vec());
    let (status, body) = v2_raw(&server, Method::POST, "/v2/carriers/detect", &key, form).await;
    assert_v2(status, &body, 4015, "must be JSON");
}

/// Sends `n` requests back to back; returns the statuses with the last 429's headers and body.
async fn burst(
    server: &Server,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&[u8]>,
    n: usize,
) -> (usize, usize, Option<(HeaderMap, Value)>) {
    let (mut ok, mut limited, mut last) = (0, 0, None);
    for _ in 0..n {
        let body = body.map(<[u8]>::to_vec);
        let (status, headers, json) = server
            .request(method.clone(), path, v2_key(key), body)
            .await;
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                last = Some((headers, json));
            }
            other => panic!("unexpected {other}: {json}"),
        }
    }
    (ok, limited, last)
}

const V2_LIMITS: [(&str, &str); 3] = [
    ("PARCELD_RATE_LIMITS__V2_LIST", "1"),
    ("PARCELD_RATE_LIMITS__V2_OTHER", "1"),
    ("PARCELD_RATE_LIMITS__V2_REALTIME", "3"),
];

#[tokio::test]
async fn list_and_other_v2_calls_are_limited_to_1_per_second_with_headers_then_recover() {
    let server = Server::start_with_env(&V2_LIMITS);
    let key = server.key().to_string();

    // Every response carries the headers.
    let header = "Trackingmore-Api-Key";
    assert_one_call_shows_its_limit(&server, "/v2/trackings/get", header, "1", "0").await;

    // A burst at twice the limit: the list gets 1 per second, the rest 429 in the v2 envelope.
    let (ok, limited, last) = burst(&server, Method::GET, "/v2/trackings/get", &key, None, 2).await;
    assert_eq!((ok, limited), (1, 1));
    let (headers, body) = last.unwrap();
    assert_v2(
        StatusCode::TOO_MANY_REQUESTS,
        &body,
        429,
        "1 requests per second",
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(headers["x-ratelimit-limit"], "1");
    assert_eq!(headers["x-ratelimit-remaining"], "0");

    // Other v2 calls have their own budget of 1 per second.
    let (ok, limited, last) = burst(&server, Method::GET, "/v2/carriers", &key, None, 2).await;
    assert_eq!((ok, limited), (1, 1));
    let (headers, body) = last.unwrap();
    assert_eq!(body["meta"]["code"], 429);
    // A limited post stored nothing; after Retry-After the account recovers.
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    let create =
        serde_json::to_vec(&json!({"tracking_number": "RATE-0001", "carrier_code": "ups"}))
            .unwrap();
    let (status, body) = post_raw(&server, "/v2/trackings/post", &key, create.clone()).await;
    assert_v2(status, &body, 429, "retry after");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let (status, body) = post_raw(&server, "/v2/trackings/post", &key, create).await;
    assert_ok(status, &body);
    let (status, _, body) = server
        .request(Method::GET, "/v2/trackings/get", v2_key(&key), None)
        .await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["total"], 1);

    // v4 routes keep their own budgets.
    let (status, _) = server.get("/v4/couriers/all", &key).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn v2_budgets_are_per_account_whichever_key_and_set_limits_changes_them() {
    let (server, first, second, other) = Server::start_with_two_accounts(&V2_LIMITS);

    let (ok_first, _, _) = burst(&server, Method::GET, "/v2/carriers", &first, None, 1).await;
    assert_eq!(ok_first, 1);
    for (key, calls, expected, what) in [
        (
            &second,
            2,
            (0, 2),
            "the second key draws on the same budget",
        ),
        (&other, 1, (1, 0), "another account has its own budget"),
    ] {
        let (ok, limited, _) = burst(&server, Method::GET, "/v2/carriers", key, None, calls).await;
        assert_eq!((ok, limited), expected, "{what}");
    }

    let (ok, out) = server.admin(&["account", "set-limits", "default", "v2_list=5"]);
    assert!(ok, "{out}");
    let (ok_list, limited, _) =
        burst(&server, Method::GET, "/v2/trackings/get", &first, None, 10).await;
    assert!(
        (5..=6).contains(&ok_list) && ok_list + limited == 10,
        "{ok_list}"
    );
    let (ok_other, _, _) = burst(&server, Method::GET, "/v2/trackings/get", &other, None, 2).await;
    assert_eq!(ok_other, 1, "the other account keeps the server default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_is_one_shipment_per_request_keeps_the_two_hour_rule_and_3_per_second() {
    let (sim, sim_url) = start_sim().await;
    let env = engine_env(
        &sim_url,
        &[("PARCELD_SERVER__WORKER", "false"), V2_LIMITS[2]],
    );
    let server = Server::start_with_env(&env_refs(&env));
    let key = server.key().to_string();
    let number = "1ZV2REALTIME000001";

    // Post does not call the carrier.
    let (status, body) = post_number(&server, "/v2/trackings/post", &key, number, "ups").await;
    assert_ok(status, &body);
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), 0);

    // The first real-time request does.
    let (status, first) = post_number(&server, "/v2/trackings/realtime", &key, number, "ups").await;
    assert_ok(status, &first);
    let item = &first["data"]["items"][0];
    assert_eq!(item["fetched_from"], "carrier", "{first}");
    assert_ne!(item["status"], "pending", "{first}");
    assert!(
        !item["origin_info"]["trackinfo"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{first}"
    );
    assert!(item["origin_info"]["trackinfo"][0]["Date"].is_string());
    assert!(item["origin_info"]["trackinfo"][0]["StatusDescription"].is_string());
    assert!(item["lastEvent"].is_string(), "{first}");
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), 1);

    // Inside the two-hour window the stored result comes back without a carrier call.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, again) = post_number(&server, "/v2/trackings/realtime", &key, number, "ups").await;
    assert_ok(status, &again);
    assert_eq!(again["data"]["items"][0]["fetched_from"], "store");
    assert_eq!(again["data"]["items"][0]["fetched_at"], item["fetched_at"]);
    assert_eq!(again["data"]["items"][0]["status"], item["status"]);
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), 1);

    // One shipment per request; a body that is not JSON is 4015.
    let request = json!([{"tracking_number": number, "carrier_code": "ups"}]);
    let (status, body) = post(&server, "/v2/trackings/realtime", &key, request).await;
    assert_v2(status, &body, 4012, "one shipment per request");
    let form = Some(b"tracking_number=1Z".to_vec());
    let (status, body) = v2_raw(&server, Method::POST, "/v2/trackings/realtime", &key, form).await;
    assert_v2(status, &body, 4015, "must be JSON");
    assert_eq!(sim.path_requests("ups", UPS_DETAILS), 1);

    // A number not posted yet is posted by real-time and fetched.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = post_number(
        &server,
        "/v2/trackings/realtime",
        &key,
        "1ZV2REALTIME000002",
        "ups",
    )
    .await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["items"][0]["fetched_from"], "carrier");
    let (status, _) = get(&server, "/v2/trackings/ups/1ZV2REALTIME000002", &key).await;
    assert_eq!(status, StatusCode::OK);

    // 3 real-time requests per second per account: a burst of 6 gets 3 through.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let request =
        serde_json::to_vec(&json!({"tracking_number": number, "carrier_code": "ups"})).unwrap();
    let (ok, limited, last) = burst(
        &server,
        Method::POST,
        "/v2/trackings/realtime",
        &key,
        Some(&request),
        6,
    )
    .await;
    assert!((3..=4).contains(&ok) && ok + limited == 6, "{ok} of 6");
    let (headers, body) = last.unwrap();
    assert_v2(
        StatusCode::TOO_MANY_REQUESTS,
        &body,
        429,
        "3 requests per second",
    );
    assert_eq!(headers["x-ratelimit-limit"], "3");
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notupdate_stops_the_background_refresh() {
    let (sim, sim_url) = start_sim().await;
    let dir = DataDir::new();
    // First without the worker: post two shipments and stop updating one.
    let server = Server::start_in(dir.path(), &[]);
    let key = server.key().to_string();
    let (status, body) = post(
        &server,
        "/v2/trackings/batch",
        &key,
        json!([{"tracking_number": "1ZNOTUPDATE0000001", "carrier_code": "ups"},
               {"tracking_number": "1ZNOTUPDATE0000002", "carrier_code": "ups"}]),
    )
    .await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["added"], 2);
    let (status, body) = post(
        &server,
        "/v2/trackings/notupdate",
        &key,
        json!([{"tracking_number": "1ZNOTUPDATE0000001", "carrier_code": "ups"},
               {"tracking_number": "1ZNOTUPDATE0000009", "carrier_code": "ups"},
               {"carrier_code": "ups"}]),
    )
    .await;
    assert_ok(status, &body);
    assert_eq!(body["data"]["submitted"], 3);
    assert_eq!(body["data"]["change"], 1);
    let codes: Vec<u64> = body["data"]["trackings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["meta"]["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [4013, 4017], "{body}");
    let (_, one) = get(&server, "/v2/trackings/ups/1ZNOTUPDATE0000001", &key).await;
    assert_eq!(one["data"]["archived"], "true");
    assert!(server.stop());

    // Then with the worker refreshing every second: only the other one is ever fetched.
    let every_second = [
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
    ];
    let server = start_engine_server_in(dir.path(), &sim_url, &every_second);
    wait_for(30, "two refreshes of the active tracking", || {
        let sim = sim.clone();
        async move { (sim.path_requests("ups", UPS_DETAILS) >= 2).then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut checked: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = server
        .stored_trackings(&key)
        .await
        .into_iter()
        .map(|t| (t.tracking_number, t.last_checked_at))
        .collect();
    checked.sort();
    assert!(
        checked[0].1.is_none(),
        "the archived tracking was never refreshed: {checked:?}"
    );
    assert!(checked[1].1.is_some(), "{checked:?}");
    let (_, one) = get(&server, "/v2/trackings/ups/1ZNOTUPDATE0000001", &key).await;
    assert_eq!(one["data"]["status"], "pending");
    let (_, two) = get(&server, "/v2/trackings/ups/1ZNOTUPDATE0000002", &key).await;
    assert_ne!(two["data"]["status"], "pending", "{two}");
}
