//! The dashboard's settings over real HTTP: only admins see and use them; API keys made once
//! (and then working on the API), listed by prefix and deleted; webhook endpoints with their
//! delivery log and redelivery; users added with a one-time password, given another role and
//! removed — never the account's last admin; another account's things are not found; and every
//! form needs the session's CSRF token.

use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::{admin_browser, create_user, Browser};
use crate::support::Server;

const KEYS: &str = "/dashboard/settings/keys";
const USERS: &str = "/dashboard/settings/users";
const WEBHOOKS: &str = "/dashboard/settings/webhooks";

/// The text between `start` and the next `end` in `body`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let len = body[from..].find(end).expect("the end");
    &body[from..from + len]
}

/// The id in the form action of the row that names `email` on the users page.
fn user_id(page: &str, email: &str) -> String {
    let row = page
        .split("<tr>")
        .find(|row| row.contains(&format!("<td>{email}")))
        .unwrap_or_else(|| panic!("{email} in {page}"));
    between(row, "/dashboard/settings/users/", "/role").to_string()
}

/// Sends the admin's form that adds a user.
async fn add_user(admin: &mut Browser<'_>, email: &str, role: &str) -> (StatusCode, String) {
    let fields = [("email", email), ("role", role)];
    let (status, _, page) = admin.act(USERS, USERS, &fields).await;
    (status, page)
}

/// A browser signed in as a new user of `role` of the default account.
async fn signed_in<'a>(server: &'a Server, email: &str, role: &str) -> Browser<'a> {
    let password = create_user(server, "default", email, role);
    let mut browser = Browser::new(server);
    let (status, _, body) = browser.sign_in(email, &password).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    browser
}

#[tokio::test]
async fn only_admins_see_and_use_the_settings() {
    let server = Server::start();
    let key = server.key().to_string();
    let hook =
        crate::webhooks::create_webhook(&server, &key, json!({"url": "http://localhost:1/x"}));
    let hook_id = hook.await["id"].as_str().unwrap().to_string();
    let mut admin = admin_browser(&server).await;
    let (_, _, overview) = admin.get("/dashboard").await;
    assert!(
        overview.contains("href=\"/dashboard/settings/keys\""),
        "{overview}"
    );
    let (_, _, users) = admin.get(USERS).await;
    let admin_id = user_id(&users, "admin@localhost");
    for role in ["agent", "viewer"] {
        let mut browser = signed_in(&server, &format!("{role}@example.com"), role).await;
        let (_, _, overview) = browser.get("/dashboard").await;
        assert!(!overview.contains("/dashboard/settings"), "{overview}");
        for page in [KEYS, USERS, WEBHOOKS, &format!("{WEBHOOKS}/{hook_id}")] {
            let (status, _, body) = browser.get(page).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {page}");
            assert!(body.contains("Admins only"), "{body}");
        }
        // Their own session's token does not make a form an admin's.
        let forms = [
            (KEYS.to_string(), vec![]),
            (
                USERS.to_string(),
                vec![("email", "x@example.com"), ("role", "admin")],
            ),
            (format!("{USERS}/{admin_id}/role"), vec![("role", "viewer")]),
            (format!("{USERS}/{admin_id}/remove"), vec![]),
        ];
        for (path, fields) in forms {
            let (status, _, _) = browser.act("/dashboard", &path, &fields).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {path}");
        }
    }
    let (_, _, users) = admin.get(USERS).await;
    assert!(!users.contains("x@example.com"), "{users}");
    let (_, _, keys) = admin.get(KEYS).await;
    assert_eq!(
        keys.matches("/delete\"").count(),
        1,
        "only the first key: {keys}"
    );
    assert_eq!(
        server.get("/v4/trackings/get", &key).await.0,
        StatusCode::OK,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_key_is_shown_once_listed_by_prefix_works_and_is_deleted() {
    let server = Server::start();
    let other_key = server.new_account("other");
    let mut admin = admin_browser(&server).await;
    // Without the session's token nothing is made.
    let (status, _, _) = admin.post(KEYS, &[("csrf", &"0".repeat(64))]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, made) = admin.act(KEYS, KEYS, &[]).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let new_key = between(&made, "<code id=\"new-key\">", "</code>").to_string();
    assert!(
        new_key.starts_with("pk_") && new_key.len() == 43,
        "{new_key}"
    );
    assert_eq!(
        server.get("/v4/trackings/get", &new_key).await.0,
        StatusCode::OK
    );

    let (status, headers, list) = admin.get(KEYS).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(!list.contains(&new_key), "shown once only");
    assert!(
        list.contains(&format!("<code>{}…</code>", &new_key[..15])),
        "{list}"
    );
    assert_eq!(list.matches("/delete\"").count(), 2, "{list}");
    let key_id = list
        .split("/dashboard/settings/keys/")
        .filter_map(|s| s.split_once("/delete"))
        .map(|(id, _)| id.to_string())
        .find(|id| {
            list.contains(&format!(
                "<tr><td><code>{}…</code></td><td><code>{id}</code>",
                &new_key[..15]
            ))
        })
        .expect("the new key's row");

    // Another account's key is not found and keeps working.
    let (ok, out) = server.admin(&["key", "list"]);
    assert!(ok, "{out}");
    let theirs = out
        .lines()
        .find(|l| l.contains("other"))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("key_")))
        .expect("the other account's key id")
        .to_string();
    let (status, _, _) = admin
        .act(KEYS, &format!("{KEYS}/{theirs}/delete"), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.get("/v4/trackings/get", &other_key).await.0,
        StatusCode::OK
    );

    let (status, headers, _) = admin
        .act(KEYS, &format!("{KEYS}/{key_id}/delete"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/dashboard/settings/keys?done=deleted");
    let (status, body) = server.get("/v4/trackings/get", &new_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, _, list) = admin.get(&format!("{KEYS}?done=deleted")).await;
    assert!(
        list.contains("Key deleted.") && !list.contains(&key_id),
        "{list}"
    );
    let (status, _, _) = admin
        .act(KEYS, &format!("{KEYS}/{key_id}/delete"), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deleted key is gone");
}

#[tokio::test]
async fn an_endpoints_deliveries_are_listed_and_one_is_sent_again() {
    let server = Server::start();
    let key = server.key().to_string();
    let other_key = server.new_account("other");
    // `localhost` is refused when delivering (loopback), so the test event fails.
    let hook = crate::webhooks::create_webhook(
        &server,
        &key,
        json!({"url": "http://localhost:1/x", "description": "shop"}),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let (status, test) = server
        .post(&format!("/v4/webhooks/{id}/test"), &key, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["data"]["state"], "failed", "{test}");
    let delivery = test["data"]["id"].as_str().unwrap();
    let theirs = crate::webhooks::create_webhook(
        &server,
        &other_key,
        json!({"url": "http://localhost:1/y"}),
    )
    .await;

    let mut admin = admin_browser(&server).await;
    let (status, _, list) = admin.get(WEBHOOKS).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains(&format!(
            "href=\"{WEBHOOKS}/{id}\">http://localhost:1/x</a>"
        )),
        "{list}"
    );
    assert!(
        !list.contains("localhost:1/y"),
        "another account's endpoint: {list}"
    );
    let endpoint = format!("{WEBHOOKS}/{id}");
    let (_, _, log) = admin.get(&endpoint).await;
    assert!(log.contains(&format!("<code>{delivery}</code>")), "{log}");
    assert!(
        log.contains("<td class=\"delivery-state\">failed</td>") && log.contains("loopback"),
        "{log}"
    );

    let redeliver = format!("{endpoint}/deliveries/{delivery}/redeliver");
    let (status, _, _) = admin.post(&redeliver, &[("csrf", "")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = admin.act(&endpoint, &redeliver, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("{endpoint}?done=redelivered"));
    let (_, deliveries) = server
        .get(&format!("/v4/webhooks/{id}/deliveries"), &key)
        .await;
    assert_eq!(deliveries["data"][0]["id"], delivery);
    assert_eq!(deliveries["data"][0]["state"], "pending", "{deliveries}");
    let (_, _, log) = admin.get(&format!("{endpoint}?done=redelivered")).await;
    assert!(log.contains("Queued again"), "{log}");

    // Unknown deliveries, and another account's endpoint, are not found.
    let theirs_id = theirs["id"].as_str().unwrap();
    for path in [
        format!("{endpoint}/deliveries/no-such/redeliver"),
        format!("{WEBHOOKS}/{theirs_id}/deliveries/{delivery}/redeliver"),
    ] {
        assert_eq!(
            admin.act(&endpoint, &path, &[]).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        admin.get(&format!("{WEBHOOKS}/{theirs_id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn users_are_added_once_given_roles_and_removed_but_the_last_admin_stays() {
    let server = Server::start();
    let _ = server.new_account("other");
    create_user(&server, "other", "eve@example.com", "admin");
    let mut admin = admin_browser(&server).await;
    let (status, page) = add_user(&mut admin, " Ann@Example.com ", "agent").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("ann@example.com can sign in"), "{page}");
    let password = between(&page, "<code id=\"new-password\">", "</code>").to_string();
    assert_eq!(password.len(), 20);
    let mut ann = Browser::new(&server);
    assert_eq!(
        ann.sign_in("ann@example.com", &password).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, _, list) = admin.get(USERS).await;
    assert!(!list.contains(&password), "shown once only");

    // Refusals keep what was typed and change nothing.
    for (email, role, problem) in [
        ("ann@example.com", "viewer", "exists already"),
        ("eve@example.com", "viewer", "exists already"),
        ("not-an-address", "agent", "Enter an e-mail address"),
        ("bob@example.com", "owner", "Choose a role"),
    ] {
        let (status, page) = add_user(&mut admin, email, role).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert!(
            page.contains(problem) && page.contains(&format!("value=\"{email}\"")),
            "{page}"
        );
    }

    // A role change holds from the user's next request.
    let ann_id = user_id(&list, "ann@example.com");
    let (status, headers, _) = admin
        .act(
            USERS,
            &format!("{USERS}/{ann_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/dashboard/settings/users?done=role");
    let (_, _, seen) = ann.get("/dashboard").await;
    assert!(seen.contains("ann@example.com (viewer)"), "{seen}");

    // The last admin can neither step down nor go.
    let admin_id = user_id(&list, "admin@localhost");
    for (action, fields) in [("role", vec![("role", "agent")]), ("remove", vec![])] {
        let path = format!("{USERS}/{admin_id}/{action}");
        let (status, _, page) = admin.act(USERS, &path, &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        assert!(page.contains("last admin"), "{page}");
    }
    let (_, _, seen) = admin.get("/dashboard").await;
    assert!(seen.contains("admin@localhost (admin)"), "{seen}");

    // Another account's user and a user that is not there are not found.
    let store = server.store().await;
    let eve = store
        .user_by_email("eve@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, _, list) = admin.get(USERS).await;
    assert!(!list.contains("eve@example.com"), "{list}");
    for path in [
        format!("{USERS}/{}/role", eve.id),
        format!("{USERS}/{}/remove", eve.id),
        format!("{USERS}/999999/remove"),
        format!("{USERS}/x/remove"),
    ] {
        let (status, _, _) = admin.act(USERS, &path, &[("role", "viewer")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let eve_now = store.user_by_email("eve@example.com").await.unwrap();
    assert_eq!(eve_now.map(|u| u.role.as_str()), Some("admin"));

    // Removing a user ends their session; with a second admin the first may go.
    let (status, headers, _) = admin
        .act(USERS, &format!("{USERS}/{ann_id}/remove"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        "/dashboard/settings/users?done=removed"
    );
    assert_eq!(ann.get("/dashboard").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        ann.sign_in("ann@example.com", &password).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, page) = add_user(&mut admin, "zoe@example.com", "admin").await;
    assert!(page.contains("zoe@example.com can sign in"), "{page}");
    let path = format!("{USERS}/{admin_id}/role");
    let (status, _, _) = admin.act(USERS, &path, &[("role", "viewer")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no longer the last admin");
    assert_eq!(
        admin.get(USERS).await.0,
        StatusCode::FORBIDDEN,
        "a viewer now"
    );
}
