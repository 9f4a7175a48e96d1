//! API keys and accounts: invalid versus deleted keys, disabled accounts, tenant isolation, and
//! keys never appearing in logs or listings.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{assert_error, extract_key, extract_key_id, Server};

#[tokio::test]
async fn missing_invalid_and_deleted_keys_get_different_answers() {
    let server = Server::start();
    let (status, _, body) = server
        .raw(Method::GET, "/v4/trackings/get", None, None)
        .await;
    assert_error(status, &body, 401, 401, "No API key");
    let (status, body) = server.get("/v4/trackings/get", "not-a-key").await;
    assert_error(status, &body, 401, 401, "Invalid API key");
    let forged = format!("pk_{}", "0".repeat(40));
    let (status, body) = server.get("/v4/trackings/get", &forged).await;
    assert_error(status, &body, 401, 401, "Invalid API key");
    // A key whose look-up part matches but whose rest does not is invalid too.
    let real = server.key().to_string();
    let tampered = format!(
        "{}{}",
        &real[..real.len() - 1],
        if real.ends_with('0') { '1' } else { '0' }
    );
    let (status, body) = server.get("/v4/trackings/get", &tampered).await;
    assert_error(status, &body, 401, 401, "Invalid API key");

    let (ok, out) = server.admin(&["key", "create", "--account", "default"]);
    assert!(ok, "{out}");
    let second = extract_key(&out);
    let (status, _) = server.get("/v4/trackings/get", &second).await;
    assert_eq!(status, StatusCode::OK);
    let key_id = extract_key_id(&out);
    let (ok, out) = server.admin(&["key", "delete", &key_id]);
    assert!(ok, "{out}");
    let (status, body) = server.get("/v4/trackings/get", &second).await;
    assert_error(status, &body, 401, 401, "API key has been deleted");
    let (ok, _) = server.admin(&["key", "delete", &key_id]);
    assert!(!ok, "deleting twice is an error");
    // The other key of the account still works.
    let (status, _) = server.get("/v4/trackings/get", &real).await;
    assert_eq!(status, StatusCode::OK);

    let (ok, listing) = server.admin(&["key", "list"]);
    assert!(ok);
    assert!(
        listing.contains(&key_id) && listing.contains("deleted"),
        "{listing}"
    );
    assert!(
        !listing.contains(&real) && !listing.contains(&second),
        "keys never listed"
    );
    let logs = server.stderr();
    assert!(!logs.is_empty());
    assert!(
        !logs.contains(&real[3..]) && !logs.contains(&second[3..]),
        "keys never logged"
    );
}

#[tokio::test]
async fn a_disabled_account_is_refused_with_403() {
    let server = Server::start();
    let key = server.key();
    // Used first, so the server has a remembered check to forget when the account changes.
    let (status, _) = server.get("/v4/trackings/get", key).await;
    assert_eq!(status, StatusCode::OK);
    let (ok, out) = server.admin(&["account", "disable", "default"]);
    assert!(ok, "{out}");
    let (status, body) = server.get("/v4/trackings/get", key).await;
    assert_error(status, &body, 403, 403, "disabled");
    let (ok, _) = server.admin(&["account", "enable", "default"]);
    assert!(ok);
    let (status, _) = server.get("/v4/trackings/get", key).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn accounts_never_see_or_touch_each_others_trackings() {
    let server = Server::start();
    let a = server.key().to_string();
    let b = server.new_account("bravo");
    let a_id = server.create(&a, "TENANT-0001", "ups").await;
    // B may track the same number independently.
    let b_id = server.create(&b, "TENANT-0001", "ups").await;
    assert_ne!(a_id, b_id);

    let b_sees = server.list_all(&b).await;
    assert_eq!(b_sees.len(), 1);
    assert_eq!(b_sees[0]["id"], b_id.as_str());
    let (_, filtered) = server
        .get("/v4/trackings/get?tracking_numbers=TENANT-0001", &b)
        .await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);

    let hijack = json!({"title": "hijacked"});
    let update_a = format!("/v4/trackings/update/{a_id}");
    let (status, body) = server.put(&update_a, &b, hijack).await;
    assert_error(status, &body, 400, 4102, "");
    let (status, body) = server
        .delete(&format!("/v4/trackings/delete/{a_id}"), &b)
        .await;
    assert_error(status, &body, 400, 4102, "");
    let (status, body) = server
        .post(&format!("/v4/trackings/retrack/{a_id}"), &b, json!({}))
        .await;
    assert_error(status, &body, 400, 4102, "");

    let a_sees = server.list_all(&a).await;
    assert_eq!(a_sees.len(), 1);
    assert_eq!(a_sees[0]["id"], a_id.as_str());
    assert!(a_sees[0]["title"].is_null(), "A's tracking is untouched");
}
