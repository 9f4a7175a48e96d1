//! The dashboard over real HTTP: the first admin printed on the first `serve`, sign-in with its
//! cookie's flags, session fixation, CSRF, the sign-in limit and lock-out, roles, another
//! account's shipment, the shipments table's filters, stable pages, bulk archive, the CSV
//! export, a shipment's refresh, and the `parceld user` commands.

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::page::{backdate, create_with, page};
use crate::support::Server;

/// A browser's cookie jar over [`page`], following no redirects.
pub struct Browser<'a> {
    pub server: &'a Server,
    pub cookies: HashMap<String, String>,
    /// Extra headers sent with every request.
    pub extra: Vec<(&'static str, &'static str)>,
}

/// The `Set-Cookie` value of `name` in an answer.
pub fn set_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The CSRF token of the first form in a page.
pub fn csrf_of(body: &str) -> String {
    let start = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    body[start..start + 64].to_string()
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server) -> Self {
        Browser {
            server,
            cookies: HashMap::new(),
            extra: Vec::new(),
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = self.extra.clone();
        headers.push(("cookie", &cookie));
        let answer = page(self.server, method, path, &headers, form).await;
        for value in answer.1.get_all("set-cookie").iter() {
            let text = value.to_str().unwrap();
            let (pair, flags) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if flags.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), value.into());
            }
        }
        answer
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, HeaderMap, String) {
        self.send(Method::GET, path, None).await
    }

    /// Posts `fields` (URL-encoded) to `path`.
    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let form = serde_urlencoded::to_string(fields).unwrap();
        self.send(Method::POST, path, Some(&form)).await
    }

    /// Fills in and sends the sign-in form.
    pub async fn sign_in(
        &mut self,
        email: &str,
        password: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let (_, _, form) = self.get("/dashboard/sign-in").await;
        let csrf = csrf_of(&form);
        self.post(
            "/dashboard/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// Posts a signed-in form with this session's CSRF token (read from `page_path`).
    pub async fn act(
        &mut self,
        page_path: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let (status, _, body) = self.get(page_path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let csrf = csrf_of(&body);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

/// Whether the API shows the tracking `number` as archived ("true" or "false").
pub async fn archived(server: &Server, key: &str, number: &str) -> String {
    let tracking = server.tracking(key, number).await;
    tracking["archived"].as_str().unwrap_or("?").to_string()
}

/// The first admin's address and password, as the first `serve` printed them.
pub fn first_admin(server: &Server) -> (String, String) {
    let at = server
        .startup
        .iter()
        .position(|l| l.contains("dashboard's first admin"))
        .unwrap_or_else(|| panic!("no first admin in {:?}", server.startup));
    let password = server.startup[at + 1..]
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .expect("a password line")
        .to_string();
    ("admin@localhost".into(), password)
}

/// A browser signed in as the first admin.
pub async fn admin_browser(server: &Server) -> Browser<'_> {
    let (email, password) = first_admin(server);
    let mut browser = Browser::new(server);
    let (status, headers, body) = browser.sign_in(&email, &password).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers["location"], "/dashboard");
    browser
}

/// `parceld user create` of a role; returns the printed password.
pub fn create_user(server: &Server, account: &str, email: &str, role: &str) -> String {
    let (ok, out) = server.admin(&[
        "user",
        "create",
        "--account",
        account,
        "--email",
        email,
        "--role",
        role,
    ]);
    assert!(ok, "{out}");
    printed_password(&out)
}

fn printed_password(out: &str) -> String {
    out.lines()
        .map(str::trim)
        .find(|l| l.len() == 20 && l.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| panic!("no password in {out}"))
        .to_string()
}

#[tokio::test]
async fn the_first_admin_signs_in_with_a_flagged_cookie_and_signs_out_everywhere() {
    let server = Server::start();
    let mut anonymous = Browser::new(&server);
    let (status, headers, _) = anonymous.get("/dashboard").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/dashboard/sign-in");

    let mut first = admin_browser(&server).await;
    let (status, headers, body) = first.get("/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("admin@localhost (admin)"), "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );

    // The cookie's flags, over plain HTTP and behind a proxy that says HTTPS.
    let (email, password) = first_admin(&server);
    let mut proxied = Browser::new(&server);
    proxied.extra.push(("x-forwarded-proto", "https"));
    let (_, headers, _) = proxied.sign_in(&email, &password).await;
    let cookie = set_cookie(&headers, "parceld_session").expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Secure"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    let (_, headers, _) = Browser::new(&server).sign_in(&email, &password).await;
    let plain = set_cookie(&headers, "parceld_session").unwrap();
    assert!(
        plain.contains("HttpOnly") && !plain.contains("Secure"),
        "{plain}"
    );

    // Signing out everywhere ends the other browser's session too.
    let (status, headers, _) = first
        .act("/dashboard", "/dashboard/sign-out-everywhere", &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/dashboard/sign-in");
    let (status, _, _) = proxied.get("/dashboard").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the other session ended");
}

#[tokio::test]
async fn a_sign_in_never_keeps_the_session_the_browser_brought() {
    let server = Server::start();
    let (email, password) = first_admin(&server);
    let mut browser = admin_browser(&server).await;
    let before = browser.cookies["parceld_session"].clone();
    // A planted or earlier token is replaced, and the earlier session ends.
    let (status, _, _) = browser.sign_in(&email, &password).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = browser.cookies["parceld_session"].clone();
    assert_ne!(before, after);
    let mut replay = Browser::new(&server);
    replay.cookies.insert("parceld_session".into(), before);
    assert_eq!(replay.get("/dashboard").await.0, StatusCode::SEE_OTHER);

    let mut planted = Browser::new(&server);
    planted
        .cookies
        .insert("parceld_session".into(), "a".repeat(64));
    planted.sign_in(&email, &password).await;
    assert_ne!(planted.cookies["parceld_session"], "a".repeat(64));
    assert_eq!(planted.get("/dashboard").await.0, StatusCode::OK);
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let server = Server::start();
    let key = server.key().to_string();
    let id = server.create(&key, "CSRF1", "sandbox").await;
    let (email, password) = first_admin(&server);
    // The sign-in form: without its token, or with another browser's.
    let mut browser = Browser::new(&server);
    let fields = [("email", email.as_str()), ("password", password.as_str())];
    let (status, _, body) = browser.post("/dashboard/sign-in", &fields).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Form expired"));

    let mut browser = admin_browser(&server).await;
    let path = format!("/dashboard/shipments/{id}/archive");
    for token in ["", "0".repeat(64).as_str()] {
        let (status, _, _) = browser.post(&path, &[("csrf", token)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _, _) = browser.post("/dashboard/sign-out", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(archived(&server, &key, "CSRF1").await, "false");
    assert_eq!(
        browser.get("/dashboard").await.0,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_user_and_the_client_is_limited() {
    let server = Server::start_with_env(&[
        ("PARCELD_DASHBOARD__LOCK_AFTER", "3"),
        ("PARCELD_DASHBOARD__SIGN_IN_BURST", "5"),
        ("PARCELD_DASHBOARD__SIGN_IN_PER_MINUTE", "1"),
        ("PARCELD_DASHBOARD__CLIENT_IP_HEADER", "x-forwarded-for"),
    ]);
    let (email, password) = first_admin(&server);
    let mut browser = Browser::new(&server);
    browser.extra.push(("x-forwarded-for", "192.0.2.1"));
    let mut answers = Vec::new();
    for attempt in ["wrong-1", "wrong-2", "wrong-3", password.as_str()] {
        let (status, _, body) = browser.sign_in(&email, attempt).await;
        answers.push((
            status,
            body.contains("locked"),
            body.contains("Wrong e-mail"),
        ));
    }
    assert_eq!(
        answers,
        [
            (StatusCode::UNAUTHORIZED, false, true),
            (StatusCode::UNAUTHORIZED, false, true),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ]
    );
    // An unknown address is told the same as a wrong password.
    let (status, _, body) = browser.sign_in("nobody@example.com", "x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Wrong e-mail"));
    // The client's budget of five is spent: the next is refused before any check.
    let (status, headers, body) = browser.sign_in(&email, &password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"), "{body}");
    assert!(body.contains("Too many sign-ins from here"));

    // A reset lifts the lock (from another address, whose budget is its own).
    let (ok, out) = server.admin(&["user", "reset-password", "--email", &email]);
    assert!(ok, "{out}");
    let mut elsewhere = Browser::new(&server);
    elsewhere.extra.push(("x-forwarded-for", "192.0.2.2"));
    let (status, _, _) = elsewhere.sign_in(&email, &printed_password(&out)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (ok, list) = server.admin(&["user", "list"]);
    assert!(
        ok && list.contains("admin@localhost") && list.contains("admin"),
        "{list}"
    );
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_act() {
    let server = Server::start();
    let key = server.key().to_string();
    let id = server.create(&key, "VIEW1", "sandbox").await;
    let password = create_user(&server, "default", "viewer@example.com", "viewer");
    let mut viewer = Browser::new(&server);
    assert_eq!(
        viewer.sign_in("viewer@example.com", &password).await.0,
        StatusCode::SEE_OTHER
    );
    let (status, _, list) = viewer.get("/dashboard/shipments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("VIEW1") && !list.contains("Archive selected"),
        "{list}"
    );
    let shipment = format!("/dashboard/shipments/{id}");
    let (_, _, view) = viewer.get(&shipment).await;
    assert!(!view.contains("Refresh now"), "{view}");
    for action in ["archive", "refresh"] {
        let (status, _, body) = viewer
            .act(&shipment, &format!("{shipment}/{action}"), &[])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("Not allowed"));
    }
    let (status, _, _) = viewer
        .act(
            "/dashboard/shipments",
            "/dashboard/shipments/archive",
            &[("key", "sandbox:VIEW1")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let after = archived(&server, &key, "VIEW1").await;
    assert_eq!(after, "false", "a viewer's bulk archive changes nothing");
}

#[tokio::test]
async fn another_accounts_shipment_is_not_found() {
    let server = Server::start();
    let other_key = server.new_account("other");
    let theirs = server.create(&other_key, "THEIRS1", "sandbox").await;
    let mut admin = admin_browser(&server).await;
    let (status, _, missing) = admin
        .get("/dashboard/shipments/00000000000000000000000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let shipment = format!("/dashboard/shipments/{theirs}");
    let (status, _, body) = admin.get(&shipment).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, missing, "the same answer as for no shipment at all");
    for action in ["archive", "refresh"] {
        let (status, _, _) = admin
            .act("/dashboard", &format!("{shipment}/{action}"), &[])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, _, list) = admin.get("/dashboard/shipments?q=THEIRS1").await;
    assert!(!list.contains(&theirs), "{list}");
    assert_eq!(archived(&server, &other_key, "THEIRS1").await, "false");
}

#[tokio::test]
async fn the_table_filters_pages_stably_archives_in_bulk_and_exports_csv() {
    let server = Server::start();
    let key = server.key().to_string();
    let numbers: Vec<String> = (0..55).map(|i| format!("TBL{i:03}")).collect();
    server.create_numbers(&key, &numbers, "sandbox").await;
    create_with(
        &server,
        &key,
        json!({"tracking_number": "ORD1", "courier_code": "sandbox", "order_number": "#77"}),
    )
    .await;
    let mut admin = admin_browser(&server).await;
    let (status, _, first) = admin.get("/dashboard/shipments?courier=sandbox").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first.matches("name=\"key\"").count(), 50);
    let next = first
        .split("href=\"")
        .find_map(|s| {
            s.split_once("\" rel=\"next\"")
                .map(|(link, _)| link.replace("&#38;", "&"))
        })
        .expect("a next page");
    // A shipment created after the first page does not shift the next one, which goes on from
    // the first page's last row.
    server.create(&key, "LATE1", "sandbox").await;
    let (_, _, second) = admin.get(&next).await;
    assert_eq!(second.matches("name=\"key\"").count(), 6, "{second}");
    assert!(!second.contains("LATE1") && second.contains("TBL000"));

    // Search by number and by order number, and a filter that matches nothing.
    for (query, expected) in [("q=tbl-007", "TBL007"), ("q=%2377", "ORD1")] {
        let (_, _, found) = admin.get(&format!("/dashboard/shipments?{query}")).await;
        assert_eq!(found.matches("name=\"key\"").count(), 1, "{query}");
        assert!(found.contains(expected));
    }
    let (_, _, none) = admin.get("/dashboard/shipments?status=delivered").await;
    assert!(none.contains("No shipments match"));
    let (status, _, _) = admin.get("/dashboard/shipments?status=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, headers, _) = admin
        .act(
            "/dashboard/shipments",
            "/dashboard/shipments/archive",
            &[
                ("key", "sandbox:TBL001"),
                ("key", "sandbox:TBL002"),
                ("back", "courier=sandbox"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        "/dashboard/shipments?courier=sandbox&done=2"
    );
    assert_eq!(archived(&server, &key, "TBL001").await, "true");
    assert_eq!(archived(&server, &key, "TBL003").await, "false");

    let (status, headers, csv) = admin.get("/dashboard/shipments.csv?archived=no").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,tracking_number,courier_code,delivery_status"));
    // 55 + ORD1 + LATE1, less the two archived.
    assert_eq!(lines.len() - 1, 55, "{csv}");
    assert!(!csv.contains(",TBL001,"));
    let order = lines
        .iter()
        .find(|l| l.contains(",ORD1,sandbox,"))
        .expect("ORD1");
    assert!(order.contains(",#77,false,"), "{order}");
}

#[tokio::test]
async fn a_shipment_shows_its_state_and_refreshes_through_the_engine() {
    let server = Server::start_with_env(&[("PARCELD_ENGINE__REALTIME_WINDOW_SECS", "0")]);
    let key = server.key().to_string();
    let id = server.create(&key, "SANDBOX-DELIVERED-7", "sandbox").await;
    let mut admin = admin_browser(&server).await;
    let shipment = format!("/dashboard/shipments/{id}");
    let (_, _, before) = admin.get(&shipment).await;
    assert!(before.contains("<dd id=\"next-check\">"), "{before}");
    // Ten hours into the sandbox's journey: the carrier has more to tell than at creation.
    backdate(&server, &id, 600).await;
    let (status, headers, _) = admin
        .act(&shipment, &format!("{shipment}/refresh"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("{shipment}?done=refreshed"));
    let (_, _, after) = admin.get(&format!("{shipment}?done=refreshed")).await;
    assert!(after.contains("Asked the carrier just now."));
    let shown = after.matches("<code>").count();
    assert!(shown > before.matches("<code>").count(), "{after}");
    let stored = server
        .store()
        .await
        .count_checkpoints("SANDBOXDELIVERED7")
        .await;
    assert_eq!(
        stored.unwrap(),
        shown as u64,
        "the timeline shows every stored event"
    );
    let (status, _, _) = admin
        .act(&shipment, &format!("{shipment}/archive"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(archived(&server, &key, "SANDBOX-DELIVERED-7").await, "true");
}

#[tokio::test]
async fn user_commands_create_unique_users_and_reset_passwords() {
    let server = Server::start();
    let password = create_user(&server, "default", "Agent@Example.com", "agent");
    let (ok, out) = server.admin(&[
        "user",
        "create",
        "--account",
        "default",
        "--email",
        "agent@example.com",
    ]);
    assert!(!ok && out.contains("exists already"), "{out}");
    let (ok, out) = server.admin(&[
        "user",
        "create",
        "--account",
        "nope",
        "--email",
        "x@example.com",
    ]);
    assert!(!ok && out.contains("no account"), "{out}");
    let mut agent = Browser::new(&server);
    assert_eq!(
        agent.sign_in("agent@example.com", &password).await.0,
        StatusCode::SEE_OTHER
    );
    let (ok, out) = server.admin(&["user", "reset-password", "--email", "agent@example.com"]);
    assert!(ok, "{out}");
    // The reset ended the session, and only the new password works.
    assert_eq!(agent.get("/dashboard").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        agent.sign_in("agent@example.com", &password).await.0,
        StatusCode::UNAUTHORIZED
    );
    let new = printed_password(&out);
    assert_eq!(
        agent.sign_in("agent@example.com", &new).await.0,
        StatusCode::SEE_OTHER
    );
}
