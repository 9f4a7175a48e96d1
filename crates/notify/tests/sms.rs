//! Texts end to end against the simulated SMS provider (`parceld sim`'s Twilio Messages API,
//! served over real HTTP): changes stored by the refresh become exactly one text each in the
//! tracking's language; a text due in the customer's quiet hours (the zone of the tracking's
//! destination) is held and sent when they end, not before; an invalid number fails for good
//! after one request, logged by notification id without the number; a 500 is retried and then
//! sent; a STOP answer records an opt-out that stops the next text. On SQLite, or on PostgreSQL
//! with `PARCELD_TEST_DATABASE=postgres`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Timelike, Utc};
use parceld_model::{DeliveryStatus, TrackingFields};
use parceld_notify::settings::{Secret, SmsProvider};
use parceld_notify::{Dispatcher, NotifySettings};
use parceld_sim::{Simulator, SmsRequest};
use parceld_store::notifications::{
    Channel, NotificationInfo, NotificationSettings, QuietHours, Recipient,
};
use parceld_store::{AccountId, NewTracking, PageSettings, Store};
use parceld_store_conformance::{checkpoint, claim_and_apply, create_all, new_tracking, update};
use serde_json::json;

const SECRET: &str = "a test secret, long enough";
const PUBLIC_URL: &str = "http://track.test";
const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";

/// The store the test runs on, with what must live as long as it.
enum Keep {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] parceld_store_postgres::test_database::TestDatabase),
}

async fn open_store() -> (Arc<dyn Store>, Keep) {
    match std::env::var("PARCELD_TEST_DATABASE").as_deref() {
        Ok("postgres") => {
            let database = parceld_store_postgres::test_database::TestDatabase::create().await;
            let store = parceld_store_postgres::PostgresStore::connect(database.url(), 4)
                .await
                .expect("open the PostgreSQL store");
            (Arc::new(store), Keep::Postgres(database))
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let store = parceld_store_sqlite::SqliteStore::open(&dir.path().join("parceld.db"))
                .await
                .unwrap();
            (Arc::new(store), Keep::Sqlite(dir))
        }
    }
}

/// The process log of this crate, captured.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn customer(number: &str, phone: &str, language: &str, country: &str) -> NewTracking {
    NewTracking {
        fields: TrackingFields {
            customer_sms: Some(phone.into()),
            customer_name: Some("Ada".into()),
            language: Some(language.into()),
            destination_country_iso2: Some(country.into()),
            ..TrackingFields::default()
        },
        ..new_tracking(number, "sandbox")
    }
}

/// Every sandbox tracking due `later` than now moves to `status` (one new checkpoint).
async fn refresh_to(store: &dyn Store, status: DeliveryStatus, later: Duration) {
    let scan = |pk| update(pk, vec![checkpoint(1, status, "Scanned")], status);
    claim_and_apply(store, "worker", Utc::now() + later, scan).await;
}

/// The simulated provider over HTTP: its address, and what it received.
struct Provider {
    base: String,
    http: reqwest::Client,
}

impl Provider {
    async fn start() -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(parceld_sim::serve(listener, Simulator::new()));
        Provider {
            base,
            http: reqwest::Client::new(),
        }
    }

    /// Makes texts to `number` fail with `fail` (`times` requests, or for good).
    async fn fail(&self, number: &str, fail: &str, times: Option<u64>) {
        let url = format!("{}/_control/sms/failures", self.base);
        let body = json!({"number": number, "fail": fail, "times": times});
        let response = self.http.put(url).json(&body).send().await.unwrap();
        assert!(response.status().is_success());
    }

    /// Every request the provider answered for `to`, oldest first.
    async fn requests_to(&self, to: &str) -> Vec<SmsRequest> {
        let url = format!("{}/_control/sms/messages", self.base);
        let response = self.http.get(url).send().await.unwrap();
        let all: Vec<SmsRequest> = response.json().await.unwrap();
        all.into_iter().filter(|r| r.message.to == to).collect()
    }
}

/// Quiet hours from 20 minutes before to 20 minutes after `now` on Berlin's clock.
fn quiet_around(now: DateTime<Utc>) -> QuietHours {
    let local = now.with_timezone(&chrono_tz::Europe::Berlin);
    let minute = (local.hour() * 60 + local.minute()) as i32;
    let at = |offset: i32| (minute + offset).rem_euclid(24 * 60) as u16;
    QuietHours {
        start_minute: at(-20),
        end_minute: at(20),
    }
}

async fn log_of(
    store: &dyn Store,
    shop: AccountId,
    id: &parceld_model::TrackingId,
) -> Vec<NotificationInfo> {
    store.notifications_of(shop, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn texts_wait_out_quiet_hours_retry_a_500_and_stop_at_an_invalid_number_or_a_stop() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("parceld_notify=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);

    let provider = Provider::start().await;
    let (store, _keep) = open_store().await;
    let shop = store.create_account("alpha").await.unwrap().id;
    let page = PageSettings {
        shop_name: Some("Alpha Shoes".into()),
        ..PageSettings::default()
    };
    store.set_page_settings(shop, &page).await.unwrap();
    let start = Utc::now();
    let texts = NotificationSettings {
        channels: vec![Channel::Sms],
        quiet_hours: Some(quiet_around(start)),
        ..NotificationSettings::default()
    };
    store.set_notification_settings(shop, &texts).await.unwrap();
    // The shop's numbers as customers typed them; the provider sees them without punctuation.
    let (berlin, tokyo, invalid, flaky, stop) = (
        "+4915123450001",
        "+819012340002",
        "+15005550001",
        "+15005550002",
        "+15005550003",
    );
    let trackings = create_all(
        &*store,
        shop,
        vec![
            customer("SMS-DE", "+49 151 2345-0001", "de", "DE"),
            customer("SMS-JP", "+81 (90) 1234 0002", "fr", "JP"),
            customer("SMS-BAD", invalid, "en", "JP"),
            customer("SMS-500", flaky, "en", "JP"),
            customer("SMS-STOP", stop, "en", "JP"),
        ],
    )
    .await;
    provider.fail(invalid, "invalid_number", None).await;
    provider.fail(flaky, "server_error", Some(2)).await;
    provider.fail(stop, "unsubscribed", None).await;
    let settings = NotifySettings {
        enabled: true,
        sms: Some(SmsProvider {
            base_url: Some(format!("{}/twilio", provider.base)),
            account_sid: ACCOUNT_SID.into(),
            auth_token: Secret("test-token".into()),
            from: Some("+15005550006".into()),
            messaging_service_sid: None,
        }),
        public_url: PUBLIC_URL.into(),
        unsubscribe_secret: SECRET.into(),
        retry_base_ms: 0,
        ..NotifySettings::default()
    };
    settings.validate().unwrap();
    let dispatcher = Dispatcher::new(store.clone(), settings);

    refresh_to(&*store, DeliveryStatus::Transit, Duration::hours(1)).await;
    let mut rounds = 0;
    while dispatcher.dispatch_at(Utc::now()).await.unwrap() > 0 {
        rounds += 1;
        assert!(rounds < 10, "the retries end");
    }

    // Tokyo's customer: exactly one text, in French, with the tracking page's link.
    let sent = provider.requests_to(tokyo).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].accepted());
    assert_eq!(
        sent[0].message.body,
        format!("Alpha Shoes: Votre colis est en route (SMS-JP). {PUBLIC_URL}/track/alpha/SMS-JP?lang=fr")
    );
    assert_eq!(sent[0].message.sender, "+15005550006");
    assert_eq!(sent[0].account_sid, ACCOUNT_SID);
    let jp = log_of(&*store, shop, &trackings[1].id).await;
    assert_eq!((jp[0].state.as_str(), jp[0].attempts), ("sent", 1));
    assert!(
        jp[0].response.as_deref().unwrap().starts_with("SM"),
        "{jp:?}"
    );

    // Berlin's customer is in quiet hours: nothing sent, held without an attempt.
    assert!(provider.requests_to(berlin).await.is_empty());
    let de = log_of(&*store, shop, &trackings[0].id).await;
    assert_eq!((de[0].state.as_str(), de[0].attempts), ("pending", 0));
    assert!(
        de[0]
            .response
            .as_deref()
            .unwrap()
            .starts_with("quiet hours in Europe/Berlin until"),
        "{de:?}"
    );

    // The invalid number: one request, failed for good.
    let refused = provider.requests_to(invalid).await;
    assert_eq!(refused.len(), 1, "no retry: {refused:?}");
    assert_eq!(refused[0].answer.error_code, Some(21211));
    let bad = log_of(&*store, shop, &trackings[2].id).await;
    assert_eq!((bad[0].state.as_str(), bad[0].attempts), ("failed", 1));
    assert!(bad[0].response.as_deref().unwrap().contains("error 21211"));

    // The 500s: retried, then sent.
    let tries = provider.requests_to(flaky).await;
    let statuses: Vec<u16> = tries.iter().map(|r| r.answer.http_status).collect();
    assert_eq!(statuses, [500, 500, 201]);
    let retried = log_of(&*store, shop, &trackings[3].id).await;
    assert_eq!(
        (retried[0].state.as_str(), retried[0].attempts),
        ("sent", 3)
    );

    // STOP: failed, and the number opted out for this account.
    let stopped = log_of(&*store, shop, &trackings[4].id).await;
    assert_eq!(stopped[0].state, "failed");
    assert!(stopped[0]
        .response
        .as_deref()
        .unwrap()
        .contains("error 21610"));
    let opted = Recipient {
        account_id: shop,
        channel: Channel::Sms,
        address: stop.into(),
    };
    let found = store
        .unsubscribed(std::slice::from_ref(&opted))
        .await
        .unwrap();
    assert_eq!(found, [opted]);

    // Not before the quiet hours end…
    assert_eq!(
        dispatcher
            .dispatch_at(start + Duration::minutes(19))
            .await
            .unwrap(),
        0
    );
    assert!(provider.requests_to(berlin).await.is_empty());
    // …and once they have, in German.
    let after = start + Duration::minutes(21);
    assert_eq!(dispatcher.dispatch_at(after).await.unwrap(), 1);
    let held = provider.requests_to(berlin).await;
    assert_eq!(held.len(), 1);
    assert!(held[0].accepted());
    assert!(
        held[0]
            .message
            .body
            .starts_with("Alpha Shoes: Ihr Paket ist unterwegs (SMS-DE)."),
        "{}",
        held[0].message.body
    );
    let de = log_of(&*store, shop, &trackings[0].id).await;
    assert_eq!((de[0].state.as_str(), de[0].attempts), ("sent", 1));

    // The parcels are delivered: the opted-out number is not tried again.
    refresh_to(&*store, DeliveryStatus::Delivered, Duration::hours(48)).await;
    while dispatcher.dispatch_at(after).await.unwrap() > 0 {}
    assert_eq!(provider.requests_to(stop).await.len(), 1);
    let stopped = log_of(&*store, shop, &trackings[4].id).await;
    assert_eq!(
        (stopped[1].state.as_str(), stopped[1].response.as_deref()),
        ("suppressed", Some("the recipient unsubscribed"))
    );
    assert_eq!(provider.requests_to(tokyo).await.len(), 2);

    // The process log names the refused notification, never a number.
    let log = capture.text();
    assert!(
        log.lines().any(|l| l.contains(&bad[0].id)
            && l.contains("code=21211")
            && l.contains("not retried")),
        "{log}"
    );
    for number in [berlin, tokyo, invalid, flaky, stop] {
        let digits = &number[number.len() - 7..];
        assert!(!log.contains(digits), "{number} in the log: {log}");
    }
}
