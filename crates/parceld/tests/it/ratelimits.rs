//! Per-account rate limits: bursts above the limit get 429 with the documented headers, the
//! budget recovers after `Retry-After`, keys of one account share a budget, other accounts are
//! unaffected, and `account set-limits` changes an account's budget.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{assert_error, assert_one_call_shows_its_limit, Server};

const DEFAULTS: [(&str, &str); 2] = [
    ("PARCELD_RATE_LIMITS__V4_CREATE", "3"),
    ("PARCELD_RATE_LIMITS__V4_OTHER", "10"),
];

/// Sends `n` requests back to back with `key`; returns how many got 200, how many 429, and how
/// many tokens the bucket (of `rate` a second) may have regained meanwhile: a few milliseconds
/// give none, but a busy machine (or a database round trip per request, as on PostgreSQL) may
/// stretch a burst past a refill.
async fn burst(server: &Server, key: &str, n: usize, rate: f64) -> (usize, usize, usize) {
    let started = std::time::Instant::now();
    let mut ok = 0;
    let mut limited = 0;
    for _ in 0..n {
        match server
            .raw(Method::GET, "/v4/couriers/all", Some(key), None)
            .await
            .0
        {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * rate).floor() as usize;
    (ok, limited, refilled)
}

#[tokio::test]
async fn a_burst_at_twice_the_limit_is_cut_at_the_limit_with_headers_then_recovers() {
    let server = Server::start_with_env(&DEFAULTS);
    let key = server.key().to_string();

    // Every response carries the limit headers.
    assert_one_call_shows_its_limit(&server, "/v4/couriers/all", "Tracking-Api-Key", "10", "9")
        .await;
    let (ok, limited, refilled) = burst(&server, &key, 20, 10.0).await;
    assert!(
        (10..=11 + refilled).contains(&ok),
        "{ok} allowed of 20 at 10/s ({refilled} refilled)"
    );
    assert_eq!(ok + limited, 20);

    // Creates have their own, smaller budget (3/s).
    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..6 {
        let (status, headers, body) = server
            .raw(
                Method::POST,
                "/v4/trackings/create",
                Some(&key),
                Some(
                    serde_json::to_vec(
                        &json!({"tracking_number": format!("RATE-{i:04}"), "courier_code": "ups"}),
                    )
                    .unwrap(),
                ),
            )
            .await;
        statuses.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            last = Some((headers, body));
        }
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!((3..=4).contains(&created), "{statuses:?}");
    let (headers, body) = last.expect("some creates were limited");
    assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        &body,
        429,
        429,
        "3 requests per second",
    );
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-limit"], "3");

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    // A limited create stored nothing.
    let (_, listed) = server.get("/v4/trackings/get", &key).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), created);
    let (status, _) = server
        .post_number("/v4/trackings/create", &key, "RATE-AFTER", "ups")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the account recovers after Retry-After"
    );
}

#[tokio::test]
async fn keys_of_one_account_share_a_budget_and_other_accounts_are_unaffected() {
    let (server, first, second, other) = Server::start_with_two_accounts(&DEFAULTS);

    let (ok_first, _, refilled_first) = burst(&server, &first, 6, 10.0).await;
    let (ok_second, limited_second, refilled_second) = burst(&server, &second, 10, 10.0).await;
    assert!(ok_first == 6, "{ok_first}");
    let refilled = refilled_first + refilled_second;
    assert!(
        ok_second <= 5 + refilled,
        "the second key draws on the same budget: {ok_second} ({refilled} refilled)"
    );
    assert_eq!(ok_second + limited_second, 10);
    let (ok_other, limited_other, _) = burst(&server, &other, 10, 10.0).await;
    assert_eq!(
        (ok_other, limited_other),
        (10, 0),
        "another account has its own budget"
    );
}

#[tokio::test]
async fn set_limits_changes_one_accounts_budget() {
    let server = Server::start_with_env(&DEFAULTS);
    let key = server.key().to_string();
    let (ok, out) = server.admin(&["account", "set-limits", "default", "v4_other=2"]);
    assert!(ok, "{out}");
    assert!(out.contains("v4_other=2/s"), "{out}");
    let (ok_count, limited, refilled) = burst(&server, &key, 5, 2.0).await;
    assert!(
        (2..=2 + refilled).contains(&ok_count),
        "{ok_count} ({refilled} refilled)"
    );
    assert_eq!(ok_count + limited, 5);
    let (ok, out) = server.admin(&["account", "set-limits", "default", "v4_other=fast"]);
    assert!(!ok && out.contains("fast"), "{out}");
    let (ok, out) = server.admin(&["account", "set-limits", "default", "v9_other=1"]);
    assert!(!ok && out.contains("v9_other"), "{out}");
    let (ok, out) = server.admin(&["account", "set-limits", "default", "v4_other=default"]);
    assert!(ok, "{out}");
    let (ok, out) = server.admin(&["account", "list"]);
    assert!(ok && out.contains("server defaults"), "{out}");
}
