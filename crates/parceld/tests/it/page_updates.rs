//! "Get email updates" on the tracking page end to end: a shopper subscribes through the page's
//! HTML form over real HTTP, the simulator moves the parcel, and the subscriber's email arrives
//! at a real SMTP server (aiosmtpd, `parceld_notify::test_sink`) in the page's language, beside
//! the customer's; a refused address and a full tracking change nothing; the subscriber's
//! unsubscribe link stops what follows for them only; the API's log shows them masked; and a
//! post costs the page's rate limit.

use std::time::Duration;

use parceld_sim::EventKind;
use parceld_store::subscribers::MAX_SUBSCRIBERS;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::engine::wait_for;
use crate::notify::{
    email_on, free_port, journey, link, notifying_env, one_click, received, sink_and_sim,
};
use crate::page::page;
use crate::support::{env_refs, tracking_id, Server};

const NUMBER: &str = "1ZUPDATES000000001";

/// Posts the form's `email`; the answer's status and page.
async fn subscribe(server: &Server, action: &str, email: &str) -> (StatusCode, String) {
    let form = serde_urlencoded::to_string([("email", email)]).unwrap();
    let (status, _, html) = page(server, Method::POST, action, &[], Some(&form)).await;
    (status, html)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_from_the_page_gets_the_parcels_emails_in_the_pages_language() {
    let name = "a_subscriber_from_the_page_gets_the_parcels_emails_in_the_pages_language";
    let Some((sink, sim, sim_url)) = sink_and_sim(name).await else {
        return;
    };
    sim.script(
        NUMBER,
        journey(
            -1,
            &[
                EventKind::LabelCreated,
                EventKind::PickedUp,
                EventKind::Delivered,
            ],
        ),
    );
    let port = free_port();
    let extra = [("PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE", "0")];
    let server = Server::start_with_env(&env_refs(&notifying_env(&sim_url, &sink, port, &extra)));
    let key = server.key().to_string();
    let store = server.store().await;
    let shop_page = format!("/track/default/{NUMBER}?lang=fr");

    // Before the shop sends email, the page offers no form and takes no subscription.
    let body = json!({"tracking_number": NUMBER, "courier_code": "ups",
                      "customer_email": "ada@example.com", "customer_name": "Kim", "language": "de"});
    let (status, created) = server.post("/v4/trackings/create", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_string();
    let action = format!("/track/default/{NUMBER}/updates?lang=fr");
    let (_, _, html) = page(&server, Method::GET, &shop_page, &[], None).await;
    assert!(!html.contains("/updates"), "no form without email: {html}");
    let (status, _) = subscribe(&server, &action, "early@example.com").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let account = email_on(store.as_ref(), &key, &["transit", "delivered"]).await;
    // The shop's page is remembered for a few seconds.
    let html = wait_for(10, "the form", || async {
        let (_, _, html) = page(&server, Method::GET, &shop_page, &[], None).await;
        html.contains("/updates").then_some(html)
    })
    .await;
    assert!(
        html.contains(&format!("action=\"{}\"", action.replace('&', "&amp;"))),
        "{html}"
    );
    assert!(html.contains("<label for=\"email\">"), "a labelled field");

    // A refused address: the page again with the reason, and nothing stored.
    let (status, html) = subscribe(&server, &action, "not an address").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Ce n’est pas une adresse e-mail"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");

    // The friend and three more (the customer's own address too, which does not count twice
    // when sending), up to the limit; then the tracking is full.
    let (status, html) = subscribe(&server, &action, "Friend@Example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("role=\"status\""), "{html}");
    assert!(html.contains("C’est fait"), "{html}");
    let others: Vec<String> = (1..MAX_SUBSCRIBERS - 1)
        .map(|i| format!("reader{i}@example.com"))
        .chain(["ada@example.com".to_string()])
        .collect();
    for other in &others {
        let (status, _) = subscribe(&server, &action, other).await;
        assert_eq!(status, StatusCode::OK, "{other}");
    }
    let (status, again) = subscribe(&server, &action, "friend@example.com").await;
    assert_eq!(status, StatusCode::OK, "already subscribed: {again}");
    let (status, html) = subscribe(&server, &action, "late@example.com").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("nombre maximal"), "{html}");

    // Picked up: the customer in German, each subscriber once, in French; nobody refused.
    sim.advance(Duration::from_secs(2 * 3600));
    let wanted = MAX_SUBSCRIBERS as usize; // the customer, the friend and the readers
    let first = wait_for(30, "the first emails", || async {
        let messages = sink.messages();
        (messages.len() >= wanted).then_some(messages)
    })
    .await;
    let mut to: Vec<(String, String)> = received(&sink);
    to.sort();
    let mut expected: Vec<(String, String)> = (1..MAX_SUBSCRIBERS - 1)
        .map(|i| format!("reader{i}@example.com"))
        .chain(["friend@example.com".to_string()])
        .map(|r| (r, "default: Votre colis est en route".to_string()))
        .chain([(
            "ada@example.com".to_string(),
            "default: Ihr Paket ist unterwegs".to_string(),
        )])
        .collect();
    expected.sort();
    assert_eq!(to, expected);
    let to_friend = first
        .iter()
        .find(|m| m["to"][0] == "friend@example.com")
        .unwrap();
    let text = to_friend["text"].as_str().unwrap();
    assert!(
        !text.contains("Kim"),
        "the customer's name is not a subscriber's: {text}"
    );

    // The friend unsubscribes with their own link; the delivery reaches everyone else.
    let base = format!("http://127.0.0.1:{port}");
    let unsubscribe = link(text, &format!("{base}/unsubscribe/"));
    assert_eq!(one_click(&unsubscribe).await, StatusCode::OK);
    sim.advance(Duration::from_secs(2 * 3600));
    let tracking = tracking_id(&id);
    let log = wait_for(30, "every notification final", || async {
        let log = store.notifications_of(account, &tracking).await.unwrap()?;
        (log.len() == 2 * wanted && log.iter().all(|n| n.state != "pending")).then_some(log)
    })
    .await;
    let suppressed: Vec<(&str, &str)> = log
        .iter()
        .filter(|n| n.state != "sent")
        .map(|n| (n.trigger.as_str(), n.recipient.as_str()))
        .collect();
    assert_eq!(suppressed, [("delivered", "friend@example.com")]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2 * wanted - 1);

    // The API's log lists every recipient's, masked like the customer's.
    let (status, body) = server
        .get(&format!("/v4/notifications/trackings/{id}"), &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recipients: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(recipients.len(), 2 * wanted, "{body}");
    assert!(recipients.contains(&"f***@example.com"), "{body}");
    assert!(!body.to_string().contains("friend@"), "{body}");
}

#[tokio::test]
async fn subscribing_costs_the_pages_rate_limit() {
    // Three tokens at once, one a minute after: a post costs three (like an order look-up).
    let server = Server::start_with_env(&[
        ("PARCELD_SERVER__WORKER", "false"),
        ("PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE", "1"),
        ("PARCELD_TRACKING_PAGE__BURST", "3"),
    ]);
    let key = server.key().to_string();
    let store = server.store().await;
    email_on(store.as_ref(), &key, &["transit"]).await;
    server.create(&key, NUMBER, "ups").await;
    let action = format!("/track/default/{NUMBER}/updates");
    let (status, html) = subscribe(&server, &action, "first@example.com").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let form = serde_urlencoded::to_string([("email", "second@example.com")]).unwrap();
    let (status, headers, _) = page(&server, Method::POST, &action, &[], Some(&form)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
}
