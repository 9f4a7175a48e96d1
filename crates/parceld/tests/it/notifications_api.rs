//! Notifications over the API and the CLI, through the real binary: settings read back as
//! stored and every bad value refused with its code leaving them unchanged; templates checked
//! when saved (the line of the mistake in the refusal), read with where they come from, and
//! previewed in two languages; a tracking's log after a refresh, with the customer's address
//! masked (sent through a real SMTP server when aiosmtpd is installed); customer contacts
//! validated when trackings are created and changed.

use std::time::Duration;

use parceld_notify::test_sink::{python_or_skip, Sink};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::page::backdate;
use crate::support::{assert_error, DataDir, Server};

const SETTINGS: &str = "/v4/notifications/settings";

async fn put(server: &Server, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    server.call(Method::PUT, path, key, Some(body)).await
}

#[tokio::test]
async fn settings_round_trip_and_bad_values_change_nothing() {
    let server = Server::start();
    let key = server.key().to_string();
    let (status, defaults) = server.get(SETTINGS, &key).await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(defaults["data"]["channels"], json!([]));
    assert_eq!(
        defaults["data"]["triggers"],
        json!(["transit", "pickup", "delivered", "undelivered", "exception"])
    );

    let change = json!({
        "channels": ["sms", "email"],
        "triggers": ["delivered", "transit002", "exception"],
        "sender_name": "Acme Shoes",
        "sender_address": "shipping@acme.example",
        "reply_to": "help@acme.example",
        "quiet_hours": "21:00-08:30",
        "time_zone": "Europe/Amsterdam",
        "daily_cap": 250,
    });
    let (status, changed) = put(&server, SETTINGS, &key, change.clone()).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let mut expected = change.clone();
    expected["channels"] = json!(["email", "sms"]);
    expected["own_smtp_server"] = json!(false);
    expected["templates"] = json!([]);
    assert_eq!(changed["data"], expected);
    let (_, read) = server.get(SETTINGS, &key).await;
    assert_eq!(read["data"], expected, "read back as stored");

    let refusals = [
        (json!({"channels": ["fax"]}), 4190, "`channels`"),
        (json!({"triggers": ["arrived"]}), 4190, "`triggers`"),
        (json!({"sender_address": "shop"}), 4190, "`sender_address`"),
        (json!({"reply_to": "a@b"}), 4190, "`reply_to`"),
        (json!({"quiet_hours": "9-5"}), 4190, "`quiet_hours`"),
        (json!({"time_zone": "Mars/Olympus"}), 4190, "`time_zone`"),
        (json!({"daily_cap": 5_000_000}), 4190, "`daily_cap`"),
        // One bad value among good ones: none of them is stored.
        (
            json!({"channels": [], "sender_name": "x\u{7}"}),
            4190,
            "`sender_name`",
        ),
        (json!({"smtp_host": "evil.example"}), 4130, "smtp_host"),
        (json!({"daily_cap": "many"}), 400, "daily_cap"),
    ];
    for (body, code, needle) in refusals {
        let (status, refused) = put(&server, SETTINGS, &key, body.clone()).await;
        assert_error(status, &refused, 400, code, needle);
        let (_, after) = server.get(SETTINGS, &key).await;
        assert_eq!(after["data"], expected, "{body} changed nothing");
    }

    // The same rules from the command line.
    let (ok, out) = server.admin(&[
        "notifications",
        "set",
        "--account",
        "default",
        "channels=email",
        "daily_cap=0",
        "reply_to=",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("channels        email"), "{out}");
    assert!(out.contains("daily_cap       -\n"), "{out}");
    let (ok, out) = server.admin(&[
        "notifications",
        "set",
        "--account",
        "default",
        "channels=pigeon",
    ]);
    assert!(
        !ok && out.contains("`channels`") && out.contains("unchanged"),
        "{out}"
    );
    let (ok, out) = server.admin(&["notifications", "show", "--account", "default"]);
    assert!(ok && out.contains("reply_to        -"), "{out}");

    // The account's own SMTP server: the command line's alone, never shown back with its password.
    let set = |value: &str| {
        server.admin(&[
            "notifications",
            "set",
            "--account",
            "default",
            &format!("smtp={value}"),
        ])
    };
    let (ok, out) = set("smtp://shop:s3cret@mail.example.com:2525");
    assert!(ok && out.contains("own_smtp_server true"), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
    let (_, read) = server.get(SETTINGS, &key).await;
    assert_eq!(read["data"]["own_smtp_server"], true, "{read}");
    assert!(!read.to_string().contains("s3cret"), "{read}");
    let (ok, out) = set("ftp://mail.example.com");
    assert!(
        !ok && out.contains("smtp://") && out.contains("unchanged"),
        "{out}"
    );
    let (ok, out) = set("");
    assert!(ok && out.contains("own_smtp_server false"), "{out}");
    let (_, read) = server.get(SETTINGS, &key).await;
    assert_eq!(read["data"]["channels"], json!(["email"]));
    assert_eq!(read["data"]["daily_cap"], 0, "0: the server's cap");
    assert_eq!(read["data"]["reply_to"], "", "cleared");
    assert_eq!(read["data"]["sender_name"], "Acme Shoes", "kept");
}

#[tokio::test]
async fn templates_are_checked_when_saved_and_previewed_in_two_languages() {
    let server = Server::start();
    let key = server.key().to_string();
    let subject_de = "/v4/notifications/templates/delivered/de/subject";
    let broken = json!({"source": "Hallo {{ customer_name }}\n\n{% if tracking_number %}\nno end"});
    let (status, refused) = put(&server, subject_de, &key, broken).await;
    assert_error(status, &refused, 400, 4191, "Line 3");
    let (status, refused) = put(
        &server,
        subject_de,
        &key,
        json!({"source": "ok\n{{ tracking_number | shout }}"}),
    )
    .await;
    assert_error(status, &refused, 400, 4191, "Line 2");
    let (_, listed) = server.get("/v4/notifications/templates", &key).await;
    assert_eq!(listed["data"], json!([]), "nothing was saved");
    for (path, needle) in [
        (
            "/v4/notifications/templates/arrived/de/subject",
            "`arrived`",
        ),
        ("/v4/notifications/templates/all/sv/subject", "`sv`"),
        ("/v4/notifications/templates/all/all/footer", "`footer`"),
    ] {
        let (status, refused) = server.get(path, &key).await;
        assert_error(status, &refused, 400, 4192, needle);
    }

    let source = "{{ shop_name }}: Paket {{ tracking_number }} ist da";
    let (status, saved) = put(&server, subject_de, &key, json!({"source": source})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["data"]["key"], "delivered:email.subject.de");
    assert_eq!(saved["data"]["from"], "delivered:email.subject.de");
    let (_, general) = server
        .get("/v4/notifications/templates/all/all/subject", &key)
        .await;
    assert_eq!(general["data"]["from"], Value::Null, "parceld's default");
    assert!(general["data"]["source"]
        .as_str()
        .unwrap()
        .contains("t.headline"));
    let (_, listed) = server.get("/v4/notifications/templates", &key).await;
    assert_eq!(listed["data"][0]["source"], source);

    let (status, shop) = put(
        &server,
        "/v4/tracking-page",
        &key,
        json!({"shop_name": "Acme"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shop}");
    let preview = |body: Value| {
        let server = &server;
        let key = key.clone();
        async move { server.post("/v4/notifications/preview", &key, body).await }
    };
    let (status, german) = preview(json!({"trigger": "delivered", "language": "de"})).await;
    assert_eq!(status, StatusCode::OK, "{german}");
    assert_eq!(german["data"]["subject"], "Acme: Paket SAMPLE123456 ist da");
    assert!(
        german["data"]["text"].as_str().unwrap().contains("Hallo"),
        "{german}"
    );
    let (_, french) = preview(json!({"trigger": "delivered", "language": "fr"})).await;
    let subject = french["data"]["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("Acme: ") && subject.contains("livr"),
        "{french}"
    );
    let html = french["data"]["html"].as_str().unwrap();
    assert!(
        html.contains("lang=\"fr\"") && html.contains("Acme"),
        "{html}"
    );
    assert!(!french["data"]["sms"].as_str().unwrap().is_empty());
    let (_, given) =
        preview(json!({"language": "de", "templates": {"subject": "Neu: {{ t.headline }}"}})).await;
    assert!(
        given["data"]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Neu: "),
        "{given}"
    );
    let (status, refused) = preview(json!({"templates": {"text": "a\nb\n{{ nope }}"}})).await;
    assert_error(status, &refused, 400, 4191, "Line 3");
    let (status, refused) = preview(json!({"language": "xx"})).await;
    assert_error(status, &refused, 400, 4192, "`xx`");

    let (status, removed) = server.call(Method::DELETE, subject_de, &key, None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["data"]["from"], Value::Null);
    let (_, german) = preview(json!({"trigger": "delivered", "language": "de"})).await;
    assert_ne!(german["data"]["subject"], "Acme: Paket SAMPLE123456 ist da");
}

#[tokio::test]
async fn customer_contacts_are_validated_at_create_and_update() {
    let server = Server::start();
    let key = server.key().to_string();
    let create = |number: &str, field: &str, value: &str| json!({"tracking_number": number, "courier_code": "sandbox", field: value});
    for (field, value) in [
        ("customer_email", "ada-at-example.com"),
        ("customer_email", "Ada <ada@example.com>"),
        ("customer_sms", "call me"),
        ("customer_sms", "+1234567890123456"),
    ] {
        let (status, refused) = server
            .post(
                "/v4/trackings/create",
                &key,
                create("SANDBOX-DELIVERED-C1", field, value),
            )
            .await;
        assert_error(status, &refused, 400, 4130, &format!("`{field}`"));
    }
    let (status, none) = server.get("/v4/trackings/get", &key).await;
    assert_eq!(
        (status, none["data"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let (status, batch) = server
        .batch(
            &key,
            vec![
                create("SANDBOX-DELIVERED-C2", "customer_sms", "+31 6 1234 5678"),
                create("SANDBOX-DELIVERED-C3", "customer_email", "nobody"),
                create("SANDBOX-DELIVERED-C4", "customer_email", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(
        batch["data"]["success"].as_array().unwrap().len(),
        2,
        "{batch}"
    );
    let failed = &batch["data"]["error"][0];
    assert_eq!(failed["tracking_number"], "SANDBOX-DELIVERED-C3");
    assert_eq!(failed["errorCode"], 4130, "{failed}");
    assert!(failed["errorMessage"]
        .as_str()
        .unwrap()
        .contains("`customer_email`"));
    let id = batch["data"]["success"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, refused) = server
        .update(&key, &id, json!({"customer_email": "x@"}))
        .await;
    assert_error(status, &refused, 400, 4130, "`customer_email`");
    let (status, _, v2) = server
        .raw(
            Method::POST,
            "/v2/trackings/post",
            Some(&key),
            Some(serde_json::to_vec(&json!({"tracking_number": "SANDBOX-DELIVERED-C5", "carrier_code": "sandbox", "customer_phone": "n/a"})).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v2}");
    assert_eq!(v2["meta"]["code"], 4012, "{v2}");
    assert!(
        v2["meta"]["message"]
            .as_str()
            .unwrap()
            .contains("`customer_phone`"),
        "{v2}"
    );
}

#[tokio::test]
async fn a_trackings_log_shows_its_notifications_with_the_address_masked() {
    // Without aiosmtpd (outside CI) the log shows the notification queued instead of sent.
    let smtp = python_or_skip("sending, in a_trackings_log_shows_its_notifications")
        .map(|python| Sink::start(&python));
    let port = smtp
        .as_ref()
        .map(|s| s.port.to_string())
        .unwrap_or_default();
    let mut env = Vec::new();
    if smtp.is_some() {
        env.extend([
            ("PARCELD_NOTIFICATIONS__ENABLED", "true"),
            ("PARCELD_NOTIFICATIONS__SMTP__HOST", "127.0.0.1"),
            ("PARCELD_NOTIFICATIONS__SMTP__PORT", port.as_str()),
            ("PARCELD_NOTIFICATIONS__SMTP__SECURITY", "none"),
            (
                "PARCELD_NOTIFICATIONS__UNSUBSCRIBE_SECRET",
                "a test secret, long enough",
            ),
            ("PARCELD_NOTIFICATIONS__POLL_INTERVAL_MS", "50"),
        ]);
    }
    // Stored first without a worker, then as far along its journey as ten hours, so that the
    // worker's first fetch is a change that notifies (as page_browser.rs seeds its journeys).
    let dir = DataDir::new();
    let first = Server::start_in(dir.path(), &[]);
    let key = first.key().to_string();
    let other = first.new_account("other");
    let (status, on) = put(&first, SETTINGS, &key, json!({"channels": ["email"]})).await;
    assert_eq!(status, StatusCode::OK, "{on}");
    let tracking = json!({"tracking_number": "SANDBOX-DELIVERED-LOG1", "courier_code": "sandbox",
                          "customer_email": "ada@example.com", "customer_name": "Ada"});
    let (status, created) = first.batch(&key, vec![tracking]).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["success"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    backdate(&first, &id, 600).await;
    assert!(first.stop());
    env.push(("PARCELD_SERVER__WORKER", "true"));
    let server = Server::start_in(dir.path(), &env);

    let path = format!("/v4/notifications/trackings/{id}");
    let wanted = if smtp.is_some() { "sent" } else { "pending" };
    let mut log = Value::Null;
    for _ in 0..200 {
        let (status, body) = server.get(&path, &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        log = body["data"].clone();
        if log
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n["state"] == wanted))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entry = log
        .as_array()
        .and_then(|l| l.iter().find(|n| n["state"] == wanted))
        .unwrap_or_else(|| panic!("no {wanted} notification in {log}"));
    assert_eq!(entry["channel"], "email");
    assert_eq!(entry["recipient"], "a***@example.com");
    assert!(entry["id"].as_str().unwrap().starts_with("ntf_"), "{entry}");
    if smtp.is_some() {
        assert_eq!(entry["attempts"], 1, "{entry}");
        assert!(
            entry["response"].as_str().unwrap().starts_with("250"),
            "{entry}"
        );
        assert!(entry["finished_at"].is_string(), "{entry}");
    }
    assert!(!log.to_string().contains("ada@example.com"), "{log}");
    assert!(
        !server.stderr().contains("ada@example.com"),
        "no address in the process log"
    );

    let (status, refused) = server.get(&path, &other).await;
    assert_error(status, &refused, 400, 4102, "");
    let (status, refused) = server.get("/v4/notifications/trackings/nope", &key).await;
    assert_error(status, &refused, 400, 4112, "`nope`");
}
