//! End to end against a real SMTP server process (`parceld_notify::test_sink`: Python's
//! aiosmtpd, installed in `target/smtp-venv` by `.ci/smtp-deps`): changes stored by the refresh become
//! emails in the customer's language, in order, with a stable Message-ID and a working
//! unsubscribe link; an unsubscribe stops further emails; a 5xx reply fails for good and a 4xx
//! reply is retried; an account's daily cap holds across batches. Without the server the tests
//! say why and pass, except under `CI=true`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, TrackingFields};
use parceld_notify::settings::{Security, SmtpServer};
use parceld_notify::{Dispatcher, NotifySettings};
use parceld_store::notifications::{Channel, NotificationSettings};
use parceld_store::{NewTracking, PageSettings, Store};
use parceld_store_conformance::{checkpoint, claim_and_apply, create_all, new_tracking, update};
use tower::ServiceExt;

use parceld_notify::test_sink::{python_or_skip, Sink};

/// The SMTP server for test `name`, or `None` (after saying why) when there is no Python with
/// aiosmtpd outside CI.
fn sink_for(name: &str) -> Option<Sink> {
    python_or_skip(name).map(|python| Sink::start(&python))
}

const SECRET: &str = "a test secret, long enough";
const PUBLIC_URL: &str = "http://track.test";

/// A fresh SQLite store in a temporary directory (kept as long as the directory is).
async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = parceld_store_sqlite::SqliteStore::open(&dir.path().join("parceld.db"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

/// The dispatcher's settings for sending through `sink`.
fn sending_to(sink: &Sink) -> NotifySettings {
    NotifySettings {
        enabled: true,
        smtp: Some(SmtpServer {
            host: "127.0.0.1".into(),
            port: sink.port,
            security: Security::None,
            username: None,
            password: None,
        }),
        public_url: PUBLIC_URL.into(),
        unsubscribe_secret: SECRET.into(),
        ..NotifySettings::default()
    }
}

fn customer(number: &str, email: &str, language: Option<&str>) -> NewTracking {
    NewTracking {
        fields: TrackingFields {
            customer_email: Some(email.into()),
            customer_name: Some("Ada".into()),
            language: language.map(str::to_string),
            ..TrackingFields::default()
        },
        ..new_tracking(number, "sandbox")
    }
}

/// Refreshes every due sandbox tracking (as of `hours` from now) to `status`.
async fn move_all(store: &dyn Store, hours: i64, minute: u32, status: DeliveryStatus) {
    let at = Utc::now() + Duration::hours(hours);
    claim_and_apply(store, "worker", at, |pk| {
        update(pk, vec![checkpoint(minute, status, "Scanned")], status)
    })
    .await;
}

async fn post(router: axum::Router, path: &str, body: &str) -> (StatusCode, String) {
    let request = Request::post(path)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn changes_become_emails_in_order_and_an_unsubscribe_stops_them() {
    let Some(sink) = sink_for("changes_become_emails_in_order_and_an_unsubscribe_stops_them")
    else {
        return;
    };
    let (_dir, store) = sqlite_store().await;
    let shop = store.create_account("alpha").await.unwrap().id;
    let branded = PageSettings {
        shop_name: Some("Alpha Shoes".into()),
        ..PageSettings::default()
    };
    assert_eq!(
        store.set_page_settings(shop, &branded).await.unwrap(),
        branded
    );
    let email = NotificationSettings {
        channels: vec![Channel::Email],
        sender_address: Some("shop@alpha.example".into()),
        ..NotificationSettings::default()
    };
    store.set_notification_settings(shop, &email).await.unwrap();
    let trackings = create_all(
        &*store,
        shop,
        vec![
            customer("DE-1", "ada@example.com", Some("de")),
            customer("REJ-1", "reject@example.com", None),
            customer("LATER-1", "later@example.com", Some("fr")),
        ],
    )
    .await;
    let settings = NotifySettings {
        retry_base_ms: 0,
        ..sending_to(&sink)
    };
    let dispatcher = Dispatcher::new(store.clone(), settings);

    move_all(&*store, 1, 1, DeliveryStatus::Transit).await;
    assert_eq!(dispatcher.dispatch_once().await.unwrap(), 3);
    let first = sink.messages();
    assert_eq!(first.len(), 1, "only Ada's went through: {first:?}");
    let ada = &first[0];
    assert_eq!(ada["to"][0], "ada@example.com");
    assert_eq!(ada["subject"], "Alpha Shoes: Ihr Paket ist unterwegs");
    let text = ada["text"].as_str().unwrap();
    assert!(text.contains("Hallo Ada"), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/track/alpha/DE-1?lang=de")),
        "{text}"
    );
    assert!(ada["html"].as_str().unwrap().contains("Sendung verfolgen"));
    assert_eq!(ada["list_unsubscribe_post"], "List-Unsubscribe=One-Click");

    // The log: what was sent and the server's answer; the refusals.
    let log_of = |n: usize| {
        let store = store.clone();
        let id = trackings[n].id.clone();
        async move { store.notifications_of(shop, &id).await.unwrap().unwrap() }
    };
    let sent = log_of(0).await;
    assert_eq!(sent[0].state, "sent");
    assert!(sent[0].response.as_deref().unwrap().starts_with("250"));
    assert_eq!(
        ada["message_id"],
        format!("<{}@alpha.example>", sent[0].id),
        "the Message-ID is the notification's id"
    );
    let rejected = log_of(1).await;
    assert_eq!(rejected[0].state, "failed", "a 5xx reply is final");
    assert!(rejected[0].response.as_deref().unwrap().contains("550"));
    let later = log_of(2).await;
    assert_eq!((later[0].state.as_str(), later[0].attempts), ("pending", 1));
    assert!(later[0].response.as_deref().unwrap().contains("451"));

    // Ada unsubscribes with the link from her email (one-click, as a mail client does).
    let link = ada["list_unsubscribe"].as_str().unwrap();
    let path = link
        .trim_matches(['<', '>'])
        .strip_prefix(PUBLIC_URL)
        .expect("the link is on the public address");
    let pages = parceld_notify::unsubscribe::router::<()>(store.clone(), SECRET.as_bytes());
    let (status, page) = post(pages.clone(), path, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (forged, _) = post(pages, "/unsubscribe/AAAA.BBBB", "").await;
    assert_eq!(forged, StatusCode::NOT_FOUND);

    // The parcels move on: Ada hears nothing more; the retried address gets its first email
    // again under the same Message-ID, then the next one, in order.
    move_all(&*store, 4, 2, DeliveryStatus::Pickup).await;
    while dispatcher.dispatch_once().await.unwrap() > 0 {}
    let all = sink.messages();
    let subjects: Vec<(&str, &str)> = all[1..]
        .iter()
        .map(|m| (m["to"][0].as_str().unwrap(), m["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        subjects,
        [
            ("later@example.com", "Alpha Shoes: Votre colis est en route"),
            (
                "later@example.com",
                "Alpha Shoes: Votre colis est en cours de livraison ou prêt à être retiré"
            ),
        ]
    );
    assert_eq!(
        all[1]["message_id"],
        format!("<{}@alpha.example>", later[0].id)
    );
    let ada_log = log_of(0).await;
    assert_eq!(ada_log.len(), 2);
    assert_eq!(ada_log[1].state, "suppressed");
    assert_eq!(
        ada_log[1].response.as_deref(),
        Some("the recipient unsubscribed")
    );
}

#[tokio::test]
async fn an_accounts_daily_cap_stops_what_goes_over_it_also_in_later_batches() {
    let Some(sink) = sink_for("an_accounts_daily_cap_stops_what_goes_over_it") else {
        return;
    };
    let (_dir, store) = sqlite_store().await;
    let shop = store.create_account("capped").await.unwrap().id;
    let capped = NotificationSettings {
        channels: vec![Channel::Email],
        daily_cap: Some(2),
        ..NotificationSettings::default()
    };
    store
        .set_notification_settings(shop, &capped)
        .await
        .unwrap();
    let trackings = create_all(
        &*store,
        shop,
        (1..=3)
            .map(|n| customer(&format!("CAP-{n}"), &format!("c{n}@example.com"), None))
            .collect(),
    )
    .await;
    move_all(&*store, 1, 1, DeliveryStatus::Transit).await;
    // One a batch: the cap is counted from what the store says was sent today.
    let one_a_batch = NotifySettings {
        batch: 1,
        ..sending_to(&sink)
    };
    let dispatcher = Dispatcher::new(store.clone(), one_a_batch);
    while dispatcher.dispatch_once().await.unwrap() > 0 {}
    assert_eq!(sink.messages().len(), 2, "the cap of 2 a day");
    let mut states = Vec::new();
    for tracking in &trackings {
        let log = store
            .notifications_of(shop, &tracking.id)
            .await
            .unwrap()
            .unwrap();
        states.push((
            log[0].state.clone(),
            log[0].response.clone().unwrap_or_default(),
        ));
    }
    let suppressed: Vec<_> = states.iter().filter(|(s, _)| s == "suppressed").collect();
    assert_eq!(suppressed.len(), 1, "{states:?}");
    assert!(suppressed[0].1.contains("daily cap of 2"), "{states:?}");
}
