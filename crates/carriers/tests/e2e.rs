//! Each adapter against the carrier simulator over real HTTP on 127.0.0.1: journeys, not
//! found, token expiry and refresh, 429 with Retry-After, 5xx, timeouts and malformed bodies.

use std::collections::HashMap;
use std::time::Duration;

use parceld_carriers::{
    CarrierError, CarrierSettings, Carriers, Shipment, TrackRequest, TrackResult,
};
use parceld_model::{DeliveryStatus as S, SubStatus as Sub};
use parceld_sim::{EventKind, Faults, SimEvent, Simulator};

async fn start() -> (Simulator, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sim = Simulator::new();
    tokio::spawn(parceld_sim::serve(listener, sim.clone()));
    (sim, format!("http://{addr}"))
}

fn carriers(base: &str) -> Carriers {
    let mut map = HashMap::new();
    for code in ["ups", "fedex", "usps", "dhl", "postnl-3s", "canada-post"] {
        map.insert(
            code.to_string(),
            CarrierSettings {
                timeout_ms: Some(700),
                rate_per_second: Some(100.0),
                ..CarrierSettings::simulated(format!("{base}/{code}"))
            },
        );
    }
    Carriers::from_settings(&map).unwrap()
}

fn ev(kind: EventKind, at: &str) -> SimEvent {
    SimEvent {
        kind,
        at: at.parse().unwrap(),
        place: None,
    }
}

/// A delivered journey in July (New York summer time, -04:00; Denver -06:00).
fn delivered_script() -> Vec<SimEvent> {
    vec![
        ev(EventKind::LabelCreated, "2024-07-08T13:00:00Z"),
        ev(EventKind::PickedUp, "2024-07-08T20:00:00Z"),
        ev(EventKind::ArrivedFacility, "2024-07-09T09:30:00Z"),
        // Scripted out of order on purpose.
        ev(EventKind::Delivered, "2024-07-10T19:45:00Z"),
        ev(EventKind::OutForDelivery, "2024-07-10T14:05:00Z"),
    ]
}

async fn track_one(
    carriers: &Carriers,
    code: &str,
    number: &str,
) -> Result<TrackResult, CarrierError> {
    let carrier = carriers.get(code).unwrap();
    let mut out = carrier.track(&[TrackRequest::new(number)]).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, number);
    out.remove(0).1
}

fn found(outcome: Result<TrackResult, CarrierError>) -> Shipment {
    match outcome {
        Ok(TrackResult::Found(s)) => s,
        other => panic!("expected a shipment, got {other:?}"),
    }
}

/// The delivered journey's checkpoint times in UTC, newest first.
const DELIVERED_UTC: [&str; 5] = [
    "2024-07-10T19:45:00+00:00",
    "2024-07-10T14:05:00+00:00",
    "2024-07-09T09:30:00+00:00",
    "2024-07-08T20:00:00+00:00",
    "2024-07-08T13:00:00+00:00",
];

fn check_delivered(s: &Shipment) {
    assert_eq!(
        (s.status, s.substatus),
        (S::Delivered, Some(Sub::Delivered001))
    );
    let times: Vec<String> = s.checkpoints.iter().map(|c| c.time.to_rfc3339()).collect();
    assert_eq!(times, DELIVERED_UTC);
    let statuses: Vec<S> = s.checkpoints.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            S::Delivered,
            S::Pickup,
            S::Transit,
            S::Transit,
            S::Inforeceived
        ]
    );
    // Delivered in Denver: local time with the Mountain summer offset.
    assert_eq!(
        s.checkpoints[0].checkpoint_date,
        "2024-07-10T13:45:00-06:00"
    );
    assert_eq!(s.checkpoints[0].city, "DENVER");
    assert_eq!(
        s.checkpoints[4].checkpoint_date,
        "2024-07-08T09:00:00-04:00"
    );
}

/// Starts a simulator, scripts `delivered` as the delivered journey and `unknown` as no journey
/// at all, and checks the carrier reads the one as delivered and the other as not found.
async fn delivered_and_not_found(
    code: &str,
    delivered: &str,
    unknown: &str,
) -> (Simulator, Carriers) {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    sim.script(delivered, delivered_script());
    check_delivered(&found(track_one(&carriers, code, delivered).await));
    sim.script(unknown, vec![]);
    assert_eq!(
        track_one(&carriers, code, unknown).await,
        Ok(TrackResult::NotFound),
        "{code} {unknown}"
    );
    (sim, carriers)
}

#[tokio::test]
async fn ups_journey_token_reuse_and_not_found() {
    let (sim, carriers) =
        delivered_and_not_found("ups", "1Z999AA10123456784", "1Z999AA10000000001").await;
    assert_eq!(
        track_one(&carriers, "ups", "1Z").await,
        Ok(TrackResult::NotFound),
        "TV1002 invalid number"
    );
    assert_eq!(
        sim.path_requests("ups", "/security/v1/oauth/token"),
        1,
        "one token for all calls"
    );
    assert_eq!(
        sim.path_requests("ups", "/api/track/v1/details/{inquiryNumber}"),
        3
    );
}

#[tokio::test]
async fn generated_journeys_are_multi_event_and_stable() {
    let (_sim, base) = start().await;
    let carriers = carriers(&base);
    let a = found(track_one(&carriers, "ups", "1Z1442YY7229014688").await);
    let b = found(track_one(&carriers, "ups", "1Z1442YY7229014688").await);
    assert!(a.checkpoints.len() >= 3, "{a:?}");
    assert_eq!(a, b);
}

#[tokio::test]
async fn fedex_batches_of_thirty_and_per_number_not_found() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    sim.script("123456789012", delivered_script());
    let mut batch: Vec<TrackRequest> = (0..31)
        .map(|i| TrackRequest::new(format!("9999{i:08}")))
        .collect();
    for request in batch.iter().skip(1) {
        sim.script(&request.tracking_number, vec![]);
    }
    batch[0] = TrackRequest::new("123456789012");
    let fedex = carriers.get("fedex").unwrap();
    assert_eq!(fedex.max_batch(), 30);
    let out = fedex.track(&batch).await;
    assert_eq!(out.len(), 31);
    assert_eq!(out[0].0, "123456789012");
    check_delivered(&found(out[0].1.clone()));
    assert!(out[1..]
        .iter()
        .all(|(_, o)| *o == Ok(TrackResult::NotFound)));
    assert_eq!(sim.path_requests("fedex", "/track/v1/trackingnumbers"), 2);
}

#[tokio::test]
async fn fedex_error_beside_events_keeps_them_and_the_estimated_window_is_scheduled() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    sim.script(
        "123456789012",
        vec![
            ev(EventKind::LabelCreated, "2024-07-08T13:00:00Z"),
            ev(EventKind::PickedUp, "2024-07-08T20:00:00Z"),
            ev(EventKind::ArrivedFacility, "2024-07-09T09:30:00Z"),
        ],
    );
    sim.script("999999999999", vec![]);
    sim.set_faults(
        Some("fedex"),
        Faults {
            result_error: Some("TRACKING.TRACKINGNUMBER.EMPTY".into()),
            ..Faults::default()
        },
    );
    let s = found(track_one(&carriers, "fedex", "123456789012").await);
    assert_eq!(s.checkpoints.len(), 3, "{s:?}");
    assert_eq!((s.status, s.substatus), (S::Transit, Some(Sub::Transit002)));
    // The window's end: 20:00 on the day after the newest scan, at that scan's offset.
    let scheduled = s.info.scheduled_delivery_date.clone().unwrap_or_default();
    assert!(
        scheduled.starts_with("2024-07-10T20:00:00-0"),
        "{scheduled}"
    );
    // An error with no events beside it is still the answer.
    assert_eq!(
        track_one(&carriers, "fedex", "999999999999").await,
        Ok(TrackResult::NotFound)
    );
}

#[tokio::test]
async fn usps_journey_and_not_found() {
    let _ =
        delivered_and_not_found("usps", "9400109104250532908587", "9400109104250532900000").await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refreshed() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    sim.script("9400109104250532908587", delivered_script());
    sim.set_faults(
        Some("usps"),
        Faults {
            token_ttl_secs: Some(1),
            ..Faults::default()
        },
    );
    found(track_one(&carriers, "usps", "9400109104250532908587").await);
    assert_eq!(sim.path_requests("usps", "/oauth2/v3/token"), 1);
    // The token lives 1 s and is refreshed a little before: the next call fetches a new one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    found(track_one(&carriers, "usps", "9400109104250532908587").await);
    assert_eq!(sim.path_requests("usps", "/oauth2/v3/token"), 2);

    // A token revoked behind our back: 401, one new token, one retry, success.
    sim.clear_faults();
    found(track_one(&carriers, "usps", "9400109104250532908587").await);
    let tokens = sim.path_requests("usps", "/oauth2/v3/token");
    let tracks = sim.path_requests("usps", "/tracking/v3/tracking/{trackingNumber}");
    sim.revoke_tokens();
    found(track_one(&carriers, "usps", "9400109104250532908587").await);
    assert_eq!(sim.path_requests("usps", "/oauth2/v3/token"), tokens + 1);
    assert_eq!(
        sim.path_requests("usps", "/tracking/v3/tracking/{trackingNumber}"),
        tracks + 2
    );
}

#[tokio::test]
async fn faults_are_classified_without_panics() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    for code in ["ups", "fedex", "usps", "dhl", "postnl-3s", "canada-post"] {
        let number = match code {
            "ups" => "1Z999AA10123456784",
            "fedex" => "123456789012",
            "dhl" => "00340434292135100124",
            "postnl-3s" => "3SDEVC288882229",
            "canada-post" => "7023210039414604",
            _ => "9400109104250532908587",
        };
        sim.script(number, delivered_script());
        // Warm the token so faults hit tracking calls.
        found(track_one(&carriers, code, number).await);

        sim.set_faults(
            Some(code),
            Faults {
                rate_limit_rate: 1.0,
                retry_after_secs: 7,
                remaining: Some(1),
                ..Faults::default()
            },
        );
        match track_one(&carriers, code, number).await {
            Err(CarrierError::Retryable { retry_after, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{code}")
            }
            other => panic!("{code}: 429 should be retryable: {other:?}"),
        }
        // The fault was for one request only.
        found(track_one(&carriers, code, number).await);

        // Each lasting fault, and what the classified error must say.
        let lasting = [
            (
                Faults {
                    server_error_rate: 1.0,
                    ..Faults::default()
                },
                "503",
            ),
            (
                Faults {
                    malformed_rate: 1.0,
                    ..Faults::default()
                },
                "malformed",
            ),
            (
                Faults {
                    timeout_rate: 1.0,
                    hang_ms: Some(3000),
                    ..Faults::default()
                },
                "timed out",
            ),
        ];
        for (faults, says) in lasting {
            sim.set_faults(Some(code), faults);
            let err = track_one(&carriers, code, number).await.unwrap_err();
            assert!(
                err.is_retryable() && err.to_string().contains(says),
                "{code}, {says}: {err}"
            );
        }

        sim.set_faults(Some(code), Faults::latency(50, 80));
        found(track_one(&carriers, code, number).await);
        sim.clear_faults();
    }
    let counters = sim.counters();
    assert!(counters.total >= 18);
    assert!(counters.carriers["fedex"] >= 6);
}

#[tokio::test]
async fn control_endpoint_scripts_advances_and_counts() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    let http = reqwest::Client::new();
    let now = chrono::Utc::now();
    let body = serde_json::json!({"events": [
        {"kind": "label_created", "at": (now - chrono::Duration::hours(2)).to_rfc3339()},
        {"kind": "picked_up", "at": (now + chrono::Duration::hours(1)).to_rfc3339(), "place": {"city": "BOSTON", "state": "MA", "country": "US"}}
    ]});
    let r = http
        .put(format!("{base}/_control/numbers/1Z999AA10123456799"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let s = found(track_one(&carriers, "ups", "1Z999AA10123456799").await);
    assert_eq!(s.status, S::Inforeceived);
    let r = http
        .post(format!("{base}/_control/clock/advance"))
        .json(&serde_json::json!({"seconds": 7200}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let s = found(track_one(&carriers, "ups", "1Z999AA10123456799").await);
    assert_eq!(
        (s.status, s.checkpoints[0].city.as_str()),
        (S::Transit, "BOSTON")
    );

    let r = http
        .put(format!("{base}/_control/faults"))
        .json(&serde_json::json!({"carrier": "ups", "server_error_rate": 1.0, "remaining": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(track_one(&carriers, "ups", "1Z999AA10123456799")
        .await
        .is_err());
    found(track_one(&carriers, "ups", "1Z999AA10123456799").await);

    let counters: serde_json::Value = http
        .get(format!("{base}/_control/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["carriers"]["ups"], 5);
    assert_eq!(
        counters["paths"]["ups /api/track/v1/details/{inquiryNumber}"],
        4
    );
    assert_eq!(sim.requests("ups"), 5);
}

#[tokio::test]
async fn sandbox_is_always_there() {
    let carriers = Carriers::from_settings(&HashMap::new()).unwrap();
    assert_eq!(carriers.codes(), ["sandbox"]);
    let created = chrono::Utc::now() - chrono::Duration::hours(2);
    let out = carriers
        .get("sandbox")
        .unwrap()
        .track(&[TrackRequest {
            created_at: Some(created),
            ..TrackRequest::new("SANDBOX-DELIVERED-1")
        }])
        .await;
    assert_eq!(found(out[0].1.clone()).status, S::Delivered);
}

#[test]
fn configuration_errors_are_clear() {
    let mut map = HashMap::new();
    map.insert("ups".to_string(), CarrierSettings::default());
    let err = Carriers::from_settings(&map).unwrap_err();
    assert_eq!(err.to_string(), "[carriers.ups]: `client_id` is required");
    let mut map = HashMap::new();
    map.insert("acme".to_string(), CarrierSettings::default());
    assert!(Carriers::from_settings(&map)
        .unwrap_err()
        .to_string()
        .contains("no adapter"));
}

/// DHL, PostNL and Canada Post render local times differently (offset, Amsterdam wall-clock,
/// zone abbreviation); all must land on the scripted instants.
#[tokio::test]
async fn dhl_postnl_canada_post_journeys_and_not_found() {
    let (sim, base) = start().await;
    let carriers = carriers(&base);
    let script = vec![
        ev(EventKind::PickedUp, "2024-07-08T20:00:00Z"),
        ev(EventKind::ArrivedFacility, "2024-07-09T09:30:00Z"),
        ev(EventKind::Delivered, "2024-07-10T19:45:00Z"),
        ev(EventKind::OutForDelivery, "2024-07-10T14:05:00Z"),
    ];
    for (code, number, unknown) in [
        ("dhl", "00340434292135100124", "00340434292135100999"),
        ("postnl-3s", "3SDEVC288882229", "3SDEVC288882999"),
        ("canada-post", "7023210039414604", "7023210039414999"),
    ] {
        sim.script(number, script.clone());
        let s = found(track_one(&carriers, code, number).await);
        assert_eq!(s.status, S::Delivered, "{code}");
        let times: Vec<String> = s.checkpoints.iter().map(|c| c.time.to_rfc3339()).collect();
        // The same journey without the label: all but the last (oldest) time.
        assert_eq!(times, DELIVERED_UTC[..4], "{code}");
        assert_eq!(s.checkpoints[1].status, S::Pickup, "{code}");
        sim.script(unknown, vec![]);
        assert_eq!(
            track_one(&carriers, code, unknown).await,
            Ok(TrackResult::NotFound),
            "{code}"
        );
    }
    let s = found(track_one(&carriers, "canada-post", "7023210039414604").await);
    assert_eq!(
        s.checkpoints[0].checkpoint_date,
        "2024-07-10T15:45:00-04:00"
    );
    assert_eq!(s.info.signed_by.as_deref(), Some("J TREMBLAY"));
    let s = found(track_one(&carriers, "postnl-3s", "3SDEVC288882229").await);
    assert_eq!(
        s.checkpoints[0].checkpoint_date,
        "2024-07-10T21:45:00+02:00"
    );
}
