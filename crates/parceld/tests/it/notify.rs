//! Notifications end to end: a real `parceld serve` refreshing from the carrier simulator, its
//! notification dispatcher sending through a real SMTP server (aiosmtpd, `parceld_notify::
//! test_sink`), and the links in the messages followed over real HTTP. Emails arrive exactly
//! for the configured statuses, in each parcel's order and language; the tracking-page link
//! shows the parcel; the one-click unsubscribe stops what follows; a server killed with SIGKILL
//! while sending loses nothing, and a message sent twice carries the same Message-ID.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use parceld_notify::test_sink::{python_or_skip, Sink};
use parceld_sim::{EventKind, SimEvent, Simulator};
use parceld_store::notifications::{Channel, NotificationSettings};
use parceld_store::test_support::StoreTestSupport;
use parceld_store::{AccountId, KeyCheck};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engine::{engine_env, numbers_for, start_sim, wait_for};
use crate::support::{env_refs, tracking_id, DataDir, Server};

const SECRET: &str = "an unsubscribe secret for the tests";
const SHOP: &str = "shop@acme.test";

/// A free port on the loopback address, for a server whose links must name its address.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A server refreshing from the simulator at `sim` every second, sending notifications through
/// `sink`, listening on `port` (its public address), with `extra` settings.
pub fn notifying_env(
    sim: &str,
    sink: &Sink,
    port: u16,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let sink_port = sink.port.to_string();
    let bind = format!("127.0.0.1:{port}");
    let public = format!("http://{bind}");
    let mut settings = vec![
        ("PARCELD_ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ("PARCELD_SERVER__BIND", bind.as_str()),
        ("PARCELD_NOTIFICATIONS__ENABLED", "true"),
        ("PARCELD_NOTIFICATIONS__SMTP__HOST", "127.0.0.1"),
        ("PARCELD_NOTIFICATIONS__SMTP__PORT", sink_port.as_str()),
        ("PARCELD_NOTIFICATIONS__SMTP__SECURITY", "none"),
        ("PARCELD_NOTIFICATIONS__PUBLIC_URL", public.as_str()),
        ("PARCELD_NOTIFICATIONS__UNSUBSCRIBE_SECRET", SECRET),
        ("PARCELD_NOTIFICATIONS__POLL_INTERVAL_MS", "50"),
    ];
    settings.extend_from_slice(extra);
    engine_env(sim, &settings)
}

/// The account of `key`, and email notifications switched on for it on `triggers`.
pub async fn email_on(store: &dyn StoreTestSupport, key: &str, triggers: &[&str]) -> AccountId {
    let KeyCheck::Valid(account) = store.check_api_key(key).await.unwrap() else {
        panic!("{key} is not a valid key");
    };
    let settings = NotificationSettings {
        channels: vec![Channel::Email],
        triggers: triggers.iter().map(|t| t.to_string()).collect(),
        sender_address: Some(SHOP.into()),
        ..NotificationSettings::default()
    };
    store
        .set_notification_settings(account.id, &settings)
        .await
        .unwrap();
    account.id
}

/// `kinds` one hour apart from `first_hours` from now.
pub fn journey(first_hours: i64, kinds: &[EventKind]) -> Vec<SimEvent> {
    let now = chrono::Utc::now();
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| SimEvent {
            kind: *kind,
            at: now + chrono::Duration::hours(first_hours + i as i64 * 2),
            place: None,
        })
        .collect()
}

/// The first `http://…` link in `text` that starts with `prefix`.
pub fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

/// (recipient, subject) of every message in the mailbox, in arrival order.
pub fn received(sink: &Sink) -> Vec<(String, String)> {
    sink.messages()
        .iter()
        .map(|m| {
            let to = m["to"][0].as_str().unwrap_or_default().to_string();
            (to, m["subject"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The notification log of `number` as (trigger, state), once every entry is final.
async fn settled_log(
    store: &dyn StoreTestSupport,
    account: AccountId,
    server: &Server,
    key: &str,
    number: &str,
) -> Vec<(String, String)> {
    let id = tracking_id(server.tracking(key, number).await["id"].as_str().unwrap());
    wait_for(30, "every notification sent or suppressed", || async {
        let log = store.notifications_of(account, &id).await.unwrap().unwrap();
        let log: Vec<(String, String)> = log.into_iter().map(|n| (n.trigger, n.state)).collect();
        log.iter()
            .all(|(_, state)| state != "pending")
            .then_some(log)
    })
    .await
}

/// Unsubscribes with one click, as a mail client does with `List-Unsubscribe-Post`.
pub async fn one_click(unsubscribe: &str) -> StatusCode {
    let response = reqwest::Client::new()
        .post(unsubscribe)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    response.status()
}

/// A real SMTP server and the carrier simulator (and its address) for the test `name`, or
/// `None` when there is no Python with aiosmtpd (the test is skipped, saying why).
pub async fn sink_and_sim(name: &str) -> Option<(Sink, Simulator, String)> {
    let python = python_or_skip(name)?;
    let sink = Sink::start(&python);
    let (sim, sim_url) = start_sim().await;
    Some((sink, sim, sim_url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_emails_exactly_the_configured_statuses_with_working_links() {
    let name = "a_journey_emails_exactly_the_configured_statuses_with_working_links";
    let Some((sink, sim, sim_url)) = sink_and_sim(name).await else {
        return;
    };
    let (ada, bob) = ("1ZNOTIFY0000000001", "1ZNOTIFY0000000002");
    // Label, picked up, at the depot, out for delivery, delivered: the label is there at
    // creation, then each advance of the simulator's clock by two hours shows one more event.
    let kinds = [
        EventKind::LabelCreated,
        EventKind::PickedUp,
        EventKind::ArrivedFacility,
        EventKind::OutForDelivery,
        EventKind::Delivered,
    ];
    for number in [ada, bob] {
        sim.script(number, journey(-1, &kinds));
    }
    let port = free_port();
    let server = Server::start_with_env(&env_refs(&notifying_env(&sim_url, &sink, port, &[])));
    let key = server.key().to_string();
    let store = server.store().await;
    // On its way and delivered; out for delivery is not asked for.
    let account = email_on(store.as_ref(), &key, &["transit", "delivered"]).await;
    for (number, email, language) in [
        (ada, "ada@example.com", "de"),
        (bob, "bob@example.com", "fr"),
    ] {
        let body = json!({"tracking_number": number, "courier_code": "ups",
                          "customer_email": email, "customer_name": "Kim", "language": language});
        let (status, created) = server.post("/v4/trackings/create", &key, body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        assert_eq!(
            created["data"]["delivery_status"], "inforeceived",
            "{created}"
        );
    }

    // Picked up: each customer hears it in their language.
    sim.advance(Duration::from_secs(2 * 3600));
    let first = wait_for(30, "two emails", || async {
        let messages = sink.messages();
        (messages.len() >= 2).then_some(messages)
    })
    .await;
    let by_recipient: BTreeMap<&str, &Value> = first
        .iter()
        .map(|m| (m["to"][0].as_str().unwrap(), m))
        .collect();
    let to_ada = by_recipient["ada@example.com"];
    let to_bob = by_recipient["bob@example.com"];
    assert_eq!(to_ada["subject"], "default: Ihr Paket ist unterwegs");
    assert_eq!(to_bob["subject"], "default: Votre colis est en route");
    let base = format!("http://127.0.0.1:{port}");

    // The tracking-page link shows the parcel, in the customer's language.
    let text = to_ada["text"].as_str().unwrap();
    assert!(text.contains("Hallo Kim"), "{text}");
    let page = link(text, &format!("{base}/track/"));
    assert!(page.ends_with(&format!("/{ada}?lang=de")), "{page}");
    let response = reqwest::get(&page).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{page}");
    let html = response.text().await.unwrap();
    assert!(html.contains(ada), "the page shows the number");
    assert!(html.contains("lang=\"de\""), "the page is in German");
    assert!(to_ada["html"]
        .as_str()
        .unwrap()
        .contains(&page.replace('&', "&amp;")));

    // Bob unsubscribes with one click, as a mail client does with List-Unsubscribe-Post.
    let unsubscribe = to_bob["list_unsubscribe"].as_str().unwrap();
    let unsubscribe = unsubscribe.trim_matches(['<', '>']);
    assert!(
        unsubscribe.starts_with(&format!("{base}/unsubscribe/")),
        "{unsubscribe}"
    );
    assert_eq!(
        to_bob["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(
        link(
            to_bob["text"].as_str().unwrap(),
            &format!("{base}/unsubscribe/")
        ),
        unsubscribe
    );
    assert_eq!(one_click(unsubscribe).await, StatusCode::OK);

    // At the depot (still in transit), out for delivery, delivered.
    for expected in ["transit", "pickup", "delivered"] {
        sim.advance(Duration::from_secs(2 * 3600));
        wait_for(30, expected, || async {
            let both = [ada, bob].map(|n| server.tracking(&key, n));
            let [a, b] = both;
            let (a, b) = (a.await, b.await);
            (a["delivery_status"] == expected && b["delivery_status"] == expected).then_some(())
        })
        .await;
    }
    let ada_log = settled_log(store.as_ref(), account, &server, &key, ada).await;
    let bob_log = settled_log(store.as_ref(), account, &server, &key, bob).await;
    let entry = |t: &str, s: &str| (t.to_string(), s.to_string());
    assert_eq!(
        ada_log,
        [entry("transit", "sent"), entry("delivered", "sent")]
    );
    assert_eq!(
        bob_log,
        [entry("transit", "sent"), entry("delivered", "suppressed")]
    );
    // Nothing else comes: exactly the configured emails, each parcel's in order.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut all = received(&sink);
    let last = all.pop().unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            (
                "ada@example.com".into(),
                "default: Ihr Paket ist unterwegs".into()
            ),
            (
                "bob@example.com".into(),
                "default: Votre colis est en route".into()
            ),
        ]
    );
    assert_eq!(
        last,
        (
            "ada@example.com".into(),
            "default: Ihr Paket wurde zugestellt".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_sending_loses_no_notification_and_repeats_keep_their_message_id() {
    let name =
        "a_server_killed_while_sending_loses_no_notification_and_repeats_keep_their_message_id";
    let Some(python) = python_or_skip(name) else {
        return;
    };
    const COUNT: usize = 120;
    // A slow server (40 ms a message, four at once): the kill lands in the middle of sending.
    let sink = Sink::start_slow(&python, 40);
    let (sim, sim_url) = start_sim().await;
    let numbers = numbers_for("ups", COUNT, 71);
    for number in &numbers {
        sim.script(
            number,
            journey(-3, &[EventKind::LabelCreated, EventKind::PickedUp]),
        );
    }
    let dir = DataDir::new();
    let port = free_port();
    let extra = [
        ("PARCELD_NOTIFICATIONS__CONCURRENCY", "4"),
        ("PARCELD_NOTIFICATIONS__BATCH", "40"),
        ("PARCELD_NOTIFICATIONS__LEASE_SECONDS", "2"),
    ];
    let env = notifying_env(&sim_url, &sink, port, &extra);
    // Trackings and settings first, with the worker off: every notification is queued by the
    // first refresh once the worker runs.
    let idle = Server::start_in(dir.path(), &[("PARCELD_SERVER__WORKER", "false")]);
    let key = idle.key().to_string();
    let store = idle.store().await;
    let account = email_on(store.as_ref(), &key, &["transit"]).await;
    let items: Vec<Value> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"tracking_number": n, "courier_code": "ups",
                   "customer_email": format!("c{i:03}@example.com")})
        })
        .collect();
    idle.create_items(&key, items).await;
    assert!(idle.stop());

    let server = Server::start_in(dir.path(), &env_refs(&env));
    let at_kill = wait_for(60, "the first emails", || async {
        let got = sink.messages().len();
        (got >= 8).then_some(got)
    })
    .await;
    server.kill();
    assert!(
        at_kill < COUNT,
        "killed before it sent everything ({at_kill})"
    );

    // Restarted: the leases of what the killed server held run out, and everything goes out.
    let server = Server::start_in(dir.path(), &env_refs(&env));
    let messages = wait_for(90, "an email to every customer", || async {
        let messages = sink.messages();
        let recipients: BTreeSet<String> = messages
            .iter()
            .map(|m| m["to"][0].as_str().unwrap().to_string())
            .collect();
        (recipients.len() == COUNT).then_some(messages)
    })
    .await;
    // Every notification's id, from the store: each went out, under its own Message-ID only.
    let mut ids = BTreeMap::new();
    for tracking in server.stored_trackings(&key).await {
        let log = wait_for(30, "sent", || async {
            let log = store
                .notifications_of(account, &tracking.id)
                .await
                .unwrap()
                .unwrap();
            (log.len() == 1 && log[0].state == "sent").then_some(log)
        })
        .await;
        let to = tracking.fields.customer_email.unwrap();
        ids.insert(to, format!("<{}@acme.test>", log[0].id));
    }
    assert_eq!(ids.len(), COUNT);
    for message in &messages {
        let to = message["to"][0].as_str().unwrap();
        assert_eq!(message["message_id"].as_str().unwrap(), ids[to], "{to}");
    }
    let mut repeats = 0;
    let per_recipient = messages
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut n, m| {
            *n.entry(m["to"][0].as_str().unwrap()).or_default() += 1;
            n
        });
    for count in per_recipient.values() {
        repeats += count - 1;
    }
    eprintln!(
        "{} emails for {COUNT} notifications ({repeats} repeats); {at_kill} before the kill",
        messages.len()
    );
}
