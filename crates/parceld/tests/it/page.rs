//! The public tracking page over real HTTP: what a visitor may see with and without the second
//! factor, identical answers for another account's numbers, the per-client rate limit, branding
//! through the API and the CLI, a shop's own host name, and bad input answered without a 5xx.
//! The same pages in a real browser: `page_browser.rs`.

use std::time::Duration;

use chrono::Utc;
use parceld_model::DeliveryStatus;
use parceld_store::test_support::ForcedState;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{tracking_id, Server};

/// A server whose page has no rate limit (the tests that are not about it).
pub fn page_server(worker: bool) -> Server {
    Server::start_with_env(&[
        (
            "PARCELD_SERVER__WORKER",
            if worker { "true" } else { "false" },
        ),
        ("PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE", "0"),
    ])
}

/// Creates a tracking with merchant fields; returns its id.
pub async fn create_with(server: &Server, key: &str, body: Value) -> String {
    let (status, created) = server.post("/v4/trackings/create", key, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created["data"]["id"].as_str().expect("an id").to_string()
}

/// A page answer: status, headers, body.
pub async fn page(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.request(method, format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(form) = form {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

/// A GET of `path` with `headers`.
async fn get_page_with(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    page(server, reqwest::Method::GET, path, headers, None).await
}

/// A POST of the form `form` to `path`.
async fn post_page(
    server: &Server,
    path: &str,
    form: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    page(server, reqwest::Method::POST, path, &[], Some(form)).await
}

pub async fn get_page(server: &Server, path: &str) -> (StatusCode, String) {
    let (status, _, body) = page(server, reqwest::Method::GET, path, &[], None).await;
    (status, body)
}

/// Makes the sandbox journey of the not yet fetched tracking `id` as far along as `minutes`
/// after its creation (the sandbox unfolds a journey from the creation instant).
pub async fn backdate(server: &Server, id: &str, minutes: i64) {
    let forced = ForcedState {
        created_at: Some(Utc::now() - chrono::Duration::minutes(minutes)),
        ..ForcedState::default()
    };
    assert!(server
        .store()
        .await
        .force_tracking_state(&tracking_id(id), &forced)
        .await
        .unwrap());
}

/// A number as parceld stores it (without separators, in capitals).
pub fn stored_number(number: &str) -> String {
    parceld_model::TrackingNumber::parse(number)
        .expect("a valid number")
        .as_str()
        .to_string()
}

/// Waits (up to a minute) until the tracking `number` has `status`.
pub async fn wait_for_status(server: &Server, key: &str, number: &str, status: DeliveryStatus) {
    let number = stored_number(number);
    for _ in 0..240 {
        let found = server.stored_trackings(key).await;
        if found
            .iter()
            .any(|t| t.tracking_number == number && t.delivery_status == status)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let found: Vec<_> = server
        .stored_trackings(key)
        .await
        .into_iter()
        .map(|t| {
            (
                t.tracking_number,
                t.delivery_status,
                t.created_at,
                t.next_check_at,
                t.checkpoints.len(),
            )
        })
        .collect();
    panic!(
        "{number} never reached {status:?}: {found:#?}\n{}",
        server.stderr()
    );
}

const ORDER: &str = "/track/default/order";

fn order_fields(number: &str) -> Value {
    json!({
        "tracking_number": number,
        "courier_code": "sandbox",
        "order_number": "#5001",
        "title": "Green teapot",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_sms": "+31 6 1234 5678",
        "recipient_postcode": "1234 AB",
    })
}

#[tokio::test]
async fn a_number_alone_shows_the_journey_and_nothing_of_the_order_or_customer() {
    let server = page_server(false);
    let key = server.key();
    create_with(&server, key, order_fields("SANDBOX-DELIVERED-PRIV1")).await;
    let private = [
        "#5001",
        "Green teapot",
        "Ada",
        "ada@example.com",
        "1234 5678",
        "1234 AB",
    ];
    let (status, body) = get_page(&server, "/track/default/SANDBOX-DELIVERED-PRIV1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Shipping label created"),
        "the journey: {body}"
    );
    let (_, json) = get_page(&server, "/track/default/SANDBOX-DELIVERED-PRIV1/json").await;
    let (_, widget) = get_page(&server, "/track/default/SANDBOX-DELIVERED-PRIV1/widget").await;
    for shown in [&body, &json, &widget] {
        for field in private {
            assert!(
                !shown.contains(field),
                "{field} shown without the second factor"
            );
        }
    }
    // Each second factor opens the order; the order's fields appear then.
    for contact in ["ADA%40example.com", "06-12345678", "1234ab"] {
        let form = format!("order=%235001&contact={contact}");
        let (status, _, body) = page(&server, reqwest::Method::POST, ORDER, &[], Some(&form)).await;
        assert_eq!(status, StatusCode::OK, "{contact}");
        assert!(
            body.contains("#5001") && body.contains("Green teapot"),
            "{contact}"
        );
        assert!(
            !body.contains("ada@example.com"),
            "contact data is never shown back"
        );
    }
    // A wrong factor is answered like an order that does not exist, and shows nothing.
    let (wrong, _, wrong_body) =
        post_page(&server, ORDER, "order=%235001&contact=eve%40example.com").await;
    let (unknown, _, unknown_body) =
        post_page(&server, ORDER, "order=%239999&contact=eve%40example.com").await;
    assert_eq!(
        (wrong, unknown),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(wrong_body, unknown_body, "the same answer, byte for byte");
    for field in private {
        assert!(
            !wrong_body.contains(field),
            "{field} shown after a wrong factor"
        );
    }
}

#[tokio::test]
async fn another_accounts_number_gets_the_same_answer_as_a_number_that_does_not_exist() {
    let server = page_server(false);
    let other = server.new_account("other");
    create_with(&server, &other, order_fields("SANDBOX-DELIVERED-THEIRS")).await;
    // Both numbers have the same length, so the pages can be compared byte for byte.
    let (theirs, theirs_headers, theirs_body) =
        get_page_with(&server, "/track/default/SANDBOX-DELIVERED-THEIRS", &[]).await;
    let (nobody, nobody_headers, nobody_body) =
        get_page_with(&server, "/track/default/SANDBOX-DELIVERED-NOBODY", &[]).await;
    assert_eq!(
        (theirs, nobody),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(
        theirs_body.replace("SANDBOX-DELIVERED-THEIRS", "N"),
        nobody_body.replace("SANDBOX-DELIVERED-NOBODY", "N")
    );
    for header in [
        "content-type",
        "content-security-policy",
        "cache-control",
        "content-length",
    ] {
        assert_eq!(
            theirs_headers.get(header),
            nobody_headers.get(header),
            "{header}"
        );
    }
    let (_, theirs_json) = get_page(&server, "/track/default/SANDBOX-DELIVERED-THEIRS/json").await;
    let (_, nobody_json) = get_page(&server, "/track/default/SANDBOX-DELIVERED-NOBODY/json").await;
    assert_eq!(theirs_json, nobody_json);
    // The owner's page does show it.
    let (status, _) = get_page(&server, "/track/other/SANDBOX-DELIVERED-THEIRS").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_client_is_limited_and_told_when_to_come_back() {
    let server = Server::start_with_env(&[
        ("PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE", "6"),
        ("PARCELD_TRACKING_PAGE__BURST", "5"),
    ]);
    for i in 0..5 {
        let (status, _) = get_page(&server, &format!("/track/default/GUESS-{i:04}")).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "request {i} is within the burst"
        );
    }
    let (status, headers, body) = get_page_with(
        &server,
        "/track/default/GUESS-9999",
        &[("accept-language", "de")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        headers["retry-after"], "10",
        "one request every ten seconds"
    );
    assert!(body.contains("Zu viele Anfragen"), "{body}");
    // The API is not behind the page's limit.
    let (status, _) = server.get("/v4/trackings/get", server.key()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn branding_set_through_the_api_and_the_cli_shows_on_the_page_and_bad_values_change_nothing()
{
    let server = page_server(false);
    let key = server.key();
    let (status, body) = server
        .put(
            "/v4/tracking-page",
            key,
            json!({"shop_name": "Acme Tea", "brand_color": "#0A7D32", "support_email": "help@acme.example", "host": "track.acme.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["brand_color"], "#0a7d32");
    assert_eq!(body["data"]["path"], "/track/default");
    for (bad, code) in [
        (json!({"brand_color": "green"}), 4180),
        (json!({"logo_url": "http://acme.example/logo.png"}), 4180),
        (json!({"colour": "#000000"}), 4130),
    ] {
        let (status, refused) = server.put("/v4/tracking-page", key, bad.clone()).await;
        assert_eq!(
            (status, refused["meta"]["code"].as_u64()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{bad}"
        );
    }
    let other = server.new_account("other");
    let (_, taken) = server
        .put(
            "/v4/tracking-page",
            &other,
            json!({"host": "track.acme.example"}),
        )
        .await;
    assert_eq!(taken["meta"]["code"], 4181, "{taken}");
    let (_, kept) = server.get("/v4/tracking-page", key).await;
    assert_eq!(
        kept["data"]["shop_name"], "Acme Tea",
        "refusals changed nothing"
    );

    let (_, lookup) = get_page(&server, "/track/default").await;
    assert!(
        lookup.contains("Acme Tea") && lookup.contains("--brand:#0a7d32"),
        "{lookup}"
    );
    assert!(lookup.contains("mailto:help@acme.example"));
    // The shop's own host name serves the same page at /track, and / leads there.
    let (status, _, on_host) =
        get_page_with(&server, "/track", &[("host", "Track.Acme.Example:443")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(on_host.contains("Acme Tea") && on_host.contains("action=\"/track/order\""));
    let (status, headers, _) = get_page_with(&server, "/", &[("host", "track.acme.example")]).await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/track")
    );

    // The CLI changes the same settings, with the same rules; the page shows it within seconds.
    let (ok, out) = server.admin(&[
        "page",
        "set",
        "--account",
        "default",
        "shop_name=Acme Tea & Co",
        "accent_color=#123456",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = server.admin(&["page", "set", "--account", "default", "brand_color=blue"]);
    assert!(!ok && out.contains("brand_color"), "{out}");
    let (ok, out) = server.admin(&["page", "set", "--account", "default", "colour=red"]);
    assert!(!ok && out.contains("colour"), "{out}");
    let (ok, out) = server.admin(&["page", "show", "--account", "default"]);
    assert!(
        ok && out.contains("Acme Tea & Co") && out.contains("#0a7d32") && out.contains("#123456"),
        "{out}"
    );
    for _ in 0..40 {
        let (_, lookup) = get_page(&server, "/track/default").await;
        if lookup.contains("Acme Tea &#38; Co") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the page never showed the CLI's shop name");
}

#[tokio::test]
async fn bad_input_gets_a_clear_page_and_never_a_server_error() {
    let server = page_server(false);
    // (method and path, form body, status): each a mistake a visitor or a script can make.
    let long = format!("GET /track/default/{}", "9".repeat(5000));
    let cases: Vec<(&str, Option<&str>, u16)> = vec![
        ("GET /track/default?number=no%21bangs", None, 400),
        ("GET /track/default/%3Cscript%3E", None, 400),
        ("GET /track/default/%FF%FE", None, 400),
        ("GET /track/default/x", None, 400),
        (&long, None, 400),
        ("GET /track/no-such-shop", None, 404),
        ("GET /track", None, 404),
        ("GET /track/default/a/b/c", None, 404),
        ("POST /track/default/order", Some("order=&contact="), 400),
        ("POST /track/default/order", Some("%%%garbage"), 400),
        (
            "POST /track/default/order",
            Some("order=%231&contact=a%00b%00c"),
            400,
        ),
        ("DELETE /track/default/ABCD-1234", None, 404),
    ];
    for (request, form, expected) in cases {
        let (method, path) = request.split_once(' ').unwrap();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, headers, body) = page(&server, method, path, &[], form).await;
        assert_eq!(status.as_u16(), expected, "{request}");
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{request}"
        );
        assert!(
            body.contains("role=\"alert\""),
            "{request}: a message, not a blank page"
        );
        assert!(
            !body.contains("<script"),
            "{request}: what was typed is escaped"
        );
    }
    let (status, _, body) = get_page_with(
        &server,
        "/track/default?number=%22%3E%3Cimg%20src=x%3E",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!body.contains("<img src=x>"), "input is escaped");
}

#[tokio::test]
async fn every_page_answer_carries_the_security_headers() {
    let server = page_server(false);
    create_with(
        &server,
        server.key(),
        order_fields("SANDBOX-DELIVERED-HEAD1"),
    )
    .await;
    for path in [
        "/track/default",
        "/track/default/SANDBOX-DELIVERED-HEAD1",
        "/track/nobody",
    ] {
        let (_, headers, _) = page(&server, reqwest::Method::GET, path, &[], None).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
    let (_, headers, _) = get_page_with(
        &server,
        "/track/default/SANDBOX-DELIVERED-HEAD1/widget",
        &[],
    )
    .await;
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors *"));
    assert!(
        headers.get("x-frame-options").is_none(),
        "the widget may be framed by a shop"
    );
}
