//! The dashboard's analytics page and its CSV downloads over real HTTP, on the backend the
//! tests run on: sandbox journeys brought to delivered, a failed attempt and an exception (one
//! event a day), and one left pending; each chart's numbers — per day, status mix, per courier
//! transit time, first-attempt share, exception rate, API health — against what the test
//! prepared and what a direct reading of the stored trackings gives, with and without a
//! country filter; another account sees none of it.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use parceld_model::DeliveryStatus;
use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::admin_browser;
use crate::dashboard_problems::{created_in_batch, sandbox_server, started_and_refreshed};

/// (number, destination country, days since it started; `None`: never refreshed)
const JOURNEYS: [(&str, &str, Option<i64>); 6] = [
    ("SANDBOX-DELIVERED-AN1", "DE", Some(10)),
    ("SANDBOX-DELIVERED-AN2", "de", Some(10)),
    ("SANDBOX-DELIVERED-AN3", "FR", Some(10)),
    ("SANDBOX-UNDELIVERED-AN4", "DE", Some(10)),
    ("SANDBOX-EXCEPTION-AN5", "", Some(10)),
    ("SANDBOX-DELIVERED-AN6", "NL", None),
];

/// The number in the cell `<td …attribute…>N</td>` of a page.
fn cell(page: &str, attribute: &str) -> String {
    let at = page
        .find(attribute)
        .unwrap_or_else(|| panic!("{attribute} in {page}"));
    let rest = &page[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].to_string()
}

/// The row of the couriers' table for `courier`, cell by class.
fn courier_cell(page: &str, courier: &str, class: &str) -> String {
    let row = format!("<tr data-courier=\"{courier}\">");
    let at = page.find(&row).unwrap_or_else(|| panic!("{row} in {page}"));
    cell(&page[at..], &format!("class=\"{class}\""))
}

#[tokio::test]
async fn each_chart_shows_the_accounts_numbers_and_downloads_them() {
    // One sandbox event a day.
    let server = sandbox_server(1440);
    let key = server.key().to_string();
    let mut admin = admin_browser(&server).await;
    let batch = JOURNEYS
        .iter()
        .map(|(number, country, _)| {
            json!({"tracking_number": number, "courier_code": "sandbox",
                   "destination_country_iso2": country})
        })
        .collect();
    let stored = created_in_batch(&server, &key, batch).await;
    for (number, _, days) in JOURNEYS {
        if let Some(days) = days {
            started_and_refreshed(&server, &mut admin, &stored, number, days).await;
        }
    }

    // What a direct reading of the trackings gives: created and delivered per day, statuses.
    let stored = server.stored_trackings(&key).await;
    let mut created: BTreeMap<String, u64> = BTreeMap::new();
    let mut delivered: BTreeMap<String, u64> = BTreeMap::new();
    let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
    for t in &stored {
        *created
            .entry(t.created_at.format("%Y-%m-%d").to_string())
            .or_default() += 1;
        *statuses.entry(t.delivery_status.as_str()).or_default() += 1;
        if t.delivery_status == DeliveryStatus::Delivered {
            let at = t
                .checkpoints
                .iter()
                .find(|c| c.status == DeliveryStatus::Delivered);
            let day = at
                .expect("a delivered event")
                .time
                .format("%Y-%m-%d")
                .to_string();
            *delivered.entry(day).or_default() += 1;
        }
    }
    let expected_statuses = [
        ("delivered", 3),
        ("undelivered", 1),
        ("exception", 1),
        ("pending", 1),
    ];
    for (status, n) in expected_statuses {
        assert_eq!(statuses.get(status), Some(&n), "{status}: {statuses:?}");
    }

    let today = Utc::now().date_naive();
    let range = format!("from={}&to={today}", today - Duration::days(20));
    let (status, _, page) = admin.get(&format!("/dashboard/analytics?{range}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("href=\"/dashboard/analytics\" aria-current=\"page\""));
    assert_eq!(cell(&page, "id=\"created-total\""), "6");
    assert_eq!(cell(&page, "id=\"delivered-total\""), "3");
    for (day, n) in &created {
        let row = format!("<tr><th scope=\"row\">{day}</th><td>{n}</td>");
        assert!(page.contains(&row), "{row} in {page}");
    }
    for (day, n) in &delivered {
        assert!(
            page.contains(&format!("<th scope=\"row\">{day}</th><td>")),
            "{day}"
        );
        let at = page.find(&format!("<th scope=\"row\">{day}</th>")).unwrap();
        let cells: Vec<&str> = page[at..].split("<td>").skip(1).take(2).collect();
        assert!(cells[1].starts_with(&format!("{n}<")), "{day}: {cells:?}");
    }
    for status in parceld_model::DeliveryStatus::ALL {
        let n = statuses.get(status.as_str()).copied().unwrap_or(0);
        let shown = cell(&page, &format!("data-status=\"{}\"", status.as_str()));
        assert_eq!(shown, n.to_string(), "{status}");
    }
    // Per courier: 6 shipments, 1 exception; 3 delivered, none after a failed attempt, each 4
    // days from the pickup scan (day 1 of its journey) to delivery (day 5).
    assert_eq!(courier_cell(&page, "sandbox", "shipments"), "6");
    assert_eq!(courier_cell(&page, "sandbox", "exceptions"), "16.7%");
    assert_eq!(courier_cell(&page, "sandbox", "delivered"), "3");
    assert_eq!(courier_cell(&page, "sandbox", "first"), "100.0%");
    assert_eq!(courier_cell(&page, "sandbox", "median"), "4");
    assert_eq!(courier_cell(&page, "sandbox", "p90"), "4");
    let api = courier_cell(&page, "sandbox", "api");
    assert!(
        api.starts_with("100.0% of "),
        "the refreshes called the sandbox: {api}"
    );
    for id in [
        "daily-chart",
        "status-chart",
        "couriers-chart",
        "transit-sandbox",
    ] {
        assert!(
            page.contains(&format!("<svg id=\"{id}\" class=\"chart\"")),
            "{id}"
        );
    }

    // One country: the two German deliveries and the failed attempt ("de" counts as "DE").
    let (_, _, german) = admin
        .get(&format!("/dashboard/analytics?{range}&country=de"))
        .await;
    assert_eq!(cell(&german, "data-status=\"delivered\""), "2");
    assert_eq!(cell(&german, "data-status=\"undelivered\""), "1");
    assert_eq!(cell(&german, "data-status=\"pending\""), "0");
    assert_eq!(courier_cell(&german, "sandbox", "exceptions"), "0.0%");
    let (_, _, nobody) = admin
        .get(&format!("/dashboard/analytics?{range}&courier=ups"))
        .await;
    assert!(nobody.contains("id=\"couriers-empty\""), "{nobody}");

    // The CSV of every chart, with the same filters.
    let csv = |name: &str| format!("/dashboard/analytics/{name}?{range}");
    let (status, headers, daily) = admin.get(&csv("daily.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(daily.starts_with("day,created,delivered\n"), "{daily}");
    assert_eq!(daily.lines().count(), 1 + 21, "{daily}");
    for (day, n) in &created {
        assert!(daily.contains(&format!("{day},{n},")), "{day} in {daily}");
    }
    let (_, _, mix) = admin.get(&csv("status.csv")).await;
    for (status, n) in expected_statuses {
        assert!(
            mix.contains(&format!("\n{status},{n}\n")),
            "{status} in {mix}"
        );
    }
    let (_, _, transit) = admin.get(&csv("transit.csv")).await;
    assert!(transit.contains("\nsandbox,4,3\n"), "{transit}");
    let (_, _, couriers) = admin.get(&csv("couriers.csv")).await;
    assert!(
        couriers.contains("\nsandbox,6,1,0.1667,3,3,1.0000,4,4,"),
        "{couriers}"
    );
    let (status, _, _) = admin.get("/dashboard/analytics/other.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in ["from=x", "country=DEU", "from=2020-01-01&to=2026-01-01"] {
        let (status, _, _) = admin.get(&format!("/dashboard/analytics?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Another account's team sees none of it.
    assert!(server.admin(&["account", "create", "other"]).0);
    let other = crate::dashboard::create_user(&server, "other", "o@example.com", "viewer");
    let mut theirs = crate::dashboard::Browser::new(&server);
    let (status, _, _) = theirs.sign_in("o@example.com", &other).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = theirs.get(&format!("/dashboard/analytics?{range}")).await;
    assert_eq!(status, StatusCode::OK, "a viewer sees the analytics");
    assert_eq!(cell(&page, "id=\"created-total\""), "0");
}
