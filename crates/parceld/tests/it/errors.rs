//! Every public error code, each with a message that says what to fix, and the rule that a
//! refused request changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{assert_error, Server};

#[tokio::test]
async fn bad_create_requests_get_their_documented_code_and_store_nothing() {
    let server = Server::start();
    let key = server.key();
    let cases: Vec<(Vec<u8>, u64, &str)> = vec![
        (b"this is not json".to_vec(), 400, "must be valid JSON"),
        (b"".to_vec(), 400, "empty"),
        (
            br#"{"tracking_number": 12345, "courier_code": "ups"}"#.to_vec(),
            400,
            "tracking_number",
        ),
        (br#"["not", "an", "object"]"#.to_vec(), 400, "expected"),
        (
            br#"{"tracking_number": "ABC-12345", "carrier_code": "ups"}"#.to_vec(),
            4130,
            "`courier_code`",
        ),
        (
            br#"{"tracking_number": "ABC-12345", "courier_code": "ups", "colour": "red"}"#.to_vec(),
            4130,
            "`colour`",
        ),
        (
            br#"{"courier_code": "ups"}"#.to_vec(),
            4111,
            "tracking_number",
        ),
        (
            br#"{"tracking_number": "  ", "courier_code": "ups"}"#.to_vec(),
            4111,
            "tracking_number",
        ),
        (
            br#"{"tracking_number": "AB", "courier_code": "ups"}"#.to_vec(),
            4110,
            "4 to 50",
        ),
        (
            br#"{"tracking_number": "AB/CD/EF/GH", "courier_code": "ups"}"#.to_vec(),
            4110,
            "letters, digits",
        ),
        (
            br#"{"tracking_number": "ABC-12345", "courier_code": "teleport"}"#.to_vec(),
            4120,
            "`teleport`",
        ),
        (
            br#"{"tracking_number": "ABC-12345"}"#.to_vec(),
            4121,
            "courier_code",
        ),
        (
            br#"{"tracking_number": "ABC-12345", "courier_code": "postnl-3s"}"#.to_vec(),
            4122,
            "tracking_postal_code",
        ),
    ];
    for (body, code, needle) in cases {
        let (status, _, json) = server
            .raw(
                Method::POST,
                "/v4/trackings/create",
                Some(key),
                Some(body.clone()),
            )
            .await;
        let http = if code >= 4100 { 400 } else { code as u16 };
        assert_error(status, &json, http, code, needle);
    }
    assert!(server.list_all(key).await.is_empty(), "nothing was stored");
    // The same number twice: 4101, and the first one is unchanged.
    let id = server.create(key, "ABC-12345", "ups").await;
    let (status, body) = server
        .post(
            "/v4/trackings/create",
            key,
            json!({"tracking_number": "ABC-12345", "courier_code": "ups", "title": "x"}),
        )
        .await;
    assert_error(status, &body, 400, 4101, "already tracked");
    let all = server.list_all(key).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], id.as_str());
    assert!(all[0]["title"].is_null());
}

#[tokio::test]
async fn bad_ids_and_unknown_ids_get_4112_and_4102() {
    let server = Server::start();
    let key = server.key();
    let (malformed, unknown) = ("32 hex", "Create a tracking");
    let id = "0123456789abcdef0123456789abcdef";
    let cases = [
        (Method::PUT, "update/not-an-id".to_string(), 4112, malformed),
        (Method::DELETE, "delete/123".to_string(), 4112, malformed),
        (
            Method::POST,
            format!("retrack/{}", "z".repeat(32)),
            4112,
            malformed,
        ),
        (Method::PUT, format!("update/{id}"), 4102, unknown),
        (Method::DELETE, format!("delete/{id}"), 4102, unknown),
        (Method::POST, format!("retrack/{id}"), 4102, unknown),
    ];
    for (method, path, code, needle) in cases {
        let path = format!("/v4/trackings/{path}");
        let body = Some(b"{}".to_vec());
        let (status, _, body) = server.raw(method, &path, Some(key), body).await;
        assert_error(status, &body, 400, code, needle);
    }
}

#[tokio::test]
async fn bad_list_queries_are_refused_with_the_parameter_named() {
    let server = Server::start();
    let key = server.key();
    let many: Vec<String> = (0..41).map(|i| format!("NUM-{i:04}")).collect();
    let cases = [
        ("delivery_status=lost", 4130, "delivery_status"),
        ("items_amount=2001", 4130, "items_amount"),
        ("items_amount=0", 4130, "items_amount"),
        ("pages_amount=-1", 4130, "pages_amount"),
        ("created_date_min=yesterday", 4130, "created_date_min"),
        ("updated_date_max=2024-13-45", 4130, "updated_date_max"),
        ("archived_status=perhaps", 4130, "archived_status"),
        ("colour=red", 4130, "colour"),
        ("courier_code=teleport", 4120, "teleport"),
        ("tracking_numbers=AB", 4110, "4 to 50"),
    ];
    for (query, code, needle) in cases {
        let (status, body) = server.get(&format!("/v4/trackings/get?{query}"), key).await;
        assert_error(status, &body, 400, code, needle);
    }
    let (status, body) = server
        .get(
            &format!("/v4/trackings/get?tracking_numbers={}", many.join(",")),
            key,
        )
        .await;
    assert_error(status, &body, 400, 4103, "at most 40");
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_oversize_bodies() {
    let server = Server::start_with_env(&[("PARCELD_SERVER__MAX_BODY_BYTES", "4096")]);
    let key = server.key();
    let (status, body) = server.get("/v4/no/such/route", key).await;
    assert_error(status, &body, 404, 404, "No such route");
    let (status, _, body) = server
        .raw(Method::GET, "/v4/trackings/create", Some(key), None)
        .await;
    assert_error(status, &body, 405, 405, "another HTTP method");
    let note = "x".repeat(8000);
    let (status, body) = server
        .post(
            "/v4/trackings/create",
            key,
            json!({"tracking_number": "BIG-0001", "courier_code": "ups", "note": note}),
        )
        .await;
    assert_error(status, &body, 413, 413, "smaller body");
    assert!(server.list_all(key).await.is_empty());
}

#[tokio::test]
async fn a_storage_failure_is_a_5xx_with_the_envelope_not_a_crash() {
    let server = Server::start();
    let key = server.key();
    server.create(key, "BROKEN-0001", "ups").await;
    server.store().await.break_tracking_reads().await.unwrap();
    let (status, body) = server.get("/v4/trackings/get", key).await;
    assert_error(status, &body, 500, 511, "server log");
    // The server is still up.
    let (status, _, _) = server.raw(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

/// The same input rules on every way in: a key named twice is refused in any JSON body (v4
/// create, a batch item, an update, a webhook, v2 post and batch); merchant texts have a length
/// limit and no control characters (v4 create and update, v2 post); a webhook's `statuses` is
/// `"all"` or a list, and its URL is taken as sent or refused.
#[tokio::test]
async fn input_rules_are_the_same_everywhere() {
    let server =
        Server::start_with_env(&[("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]")]);
    let key = server.key().to_string();
    let id = server.create(&key, "RULES-0001", "sandbox").await;
    let v4 = |method: Method, path: String, body: &'static str| {
        let server = &server;
        let key = key.clone();
        async move {
            let (status, _, body) = server
                .raw(method, &path, Some(&key), Some(body.as_bytes().to_vec()))
                .await;
            (status, body)
        }
    };
    for (method, path, body, code, needle) in [
        (
            Method::POST,
            "/v4/trackings/create".to_string(),
            r#"{"tracking_number":"RULES-0002","courier_code":"sandbox","title":"a","title":"b"}"#,
            400,
            "`title` appears twice",
        ),
        (
            Method::POST,
            "/v4/trackings/batch".to_string(),
            r#"[{"tracking_number":"RULES-0003","courier_code":"sandbox"},{"tracking_number":"RULES-0004","tracking_number":"RULES-0005","courier_code":"sandbox"}]"#,
            400,
            "(in `[1]`)",
        ),
        (
            Method::PUT,
            format!("/v4/trackings/update/{id}"),
            r#"{"note":"a","note":"b"}"#,
            400,
            "`note` appears twice",
        ),
        (
            Method::POST,
            "/v4/webhooks".to_string(),
            r#"{"url":"https://example.com/a","url":"https://example.com/b"}"#,
            400,
            "`url` appears twice",
        ),
        (
            Method::PUT,
            format!("/v4/trackings/update/{id}"),
            r#"{"customer_name":"Ann\u0000"}"#,
            4130,
            "`customer_name` contains a control character",
        ),
        (
            Method::POST,
            "/v4/trackings/create".to_string(),
            r#"{"tracking_number":"RULES-0006","courier_code":"sandbox","order_number":"No1\n"}"#,
            4130,
            "`order_number` contains a control character",
        ),
        (
            Method::POST,
            "/v4/webhooks".to_string(),
            r#"{"url":"https://example.com/a","statuses":"delivered"}"#,
            4171,
            "For a list send [\"delivered\"]",
        ),
        (
            Method::POST,
            "/v4/webhooks".to_string(),
            r#"{"url":"https://example.com/a\n"}"#,
            4170,
            "control character",
        ),
        (
            Method::POST,
            "/v4/webhooks".to_string(),
            r#"{"url":" https://example.com/a"}"#,
            4170,
            "spaces",
        ),
    ] {
        let (status, response) = v4(method, path.clone(), body).await;
        assert_error(status, &response, 400, code, needle);
    }
    let long = "x".repeat(257);
    let (status, response) = server
        .post(
            "/v4/trackings/create",
            &key,
            json!({"tracking_number": "RULES-0007", "courier_code": "sandbox", "title": long}),
        )
        .await;
    assert_error(status, &response, 400, 4130, "`title` has 257 characters");
    let (status, response) = server
        .put(
            &format!("/v4/trackings/update/{id}"),
            &key,
            json!({"note": "x".repeat(1001)}),
        )
        .await;
    assert_error(status, &response, 400, 4130, "at most 1000");

    let v2 = |path: &'static str, body: Vec<u8>| {
        let server = &server;
        let key = key.clone();
        async move {
            let (status, _, body) = server
                .request(
                    Method::POST,
                    path,
                    Some(("Trackingmore-Api-Key", &key)),
                    Some(body),
                )
                .await;
            (status, body)
        }
    };
    for (path, body, needle) in [
        (
            "/v2/trackings/post",
            br#"{"tracking_number":"RULES-0008","carrier_code":"sandbox","title":"a","title":"b"}"#.to_vec(),
            "`title` appears twice".to_string(),
        ),
        (
            "/v2/trackings/batch",
            br#"[{"tracking_number":"RULES-0009","carrier_code":"sandbox","carrier_code":"ups"}]"#.to_vec(),
            "`carrier_code` appears twice".to_string(),
        ),
        (
            "/v2/trackings/post",
            serde_json::to_vec(&json!({"tracking_number": "RULES-0010", "carrier_code": "sandbox", "customer_email": "a\u{7}@example.com"})).unwrap(),
            "`customer_email` contains a control character".to_string(),
        ),
        (
            "/v2/trackings/post",
            serde_json::to_vec(&json!({"tracking_number": "RULES-0011", "carrier_code": "sandbox", "title": "y".repeat(300)})).unwrap(),
            "`title` has 300 characters".to_string(),
        ),
        (
            "/v2/trackings/post",
            serde_json::to_vec(&json!({"tracking_number": "RULES-0012", "carrier_code": "sandbox", "comment": "z".repeat(1001)})).unwrap(),
            "`comment` has 1001 characters".to_string(),
        ),
    ] {
        let (status, response) = v2(path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {response}");
        assert_eq!(response["meta"]["code"], 4012, "{path}: {response}");
        let message = response["meta"]["message"].as_str().unwrap();
        assert!(message.contains(&needle), "{path}: {message}");
    }

    // Nothing refused was stored or changed.
    let all = server.list_all(&key).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0]["note"].is_null() && all[0]["customer_name"].is_null(),
        "{all:?}"
    );
    let (_, hooks) = server.get("/v4/webhooks", &key).await;
    assert_eq!(hooks["data"], json!([]));
}
