//! The dashboard's problems queue and adding shipments, over real HTTP. The queue: sandbox journeys a carrier check has brought
//! to an exception, a failed attempt, a return, expiry, and quiet for longer than usual, each in its
//! tab with its count, the same counts on the overview, archived shipments left out. Adding: one
//! shipment by hand (its courier detected) and a CSV upload, both with the import's rules and
//! words, refused lines listed; viewers may not add.

use reqwest::StatusCode;

use crate::dashboard::{admin_browser, create_user, csrf_of, Browser};
use serde_json::{json, Value};

use crate::page::{backdate, stored_number};
use crate::support::Server;

/// The count a tab of the queue (or the overview) shows for `label`.
fn count(page: &str, label: &str) -> u64 {
    let before = format!("{label} <span class=\"badge\">");
    let at = page
        .find(&before)
        .unwrap_or_else(|| panic!("{label} in {page}"));
    let rest = &page[at + before.len()..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

/// The tracking numbers a page of the queue lists.
fn listed(page: &str) -> Vec<String> {
    page.split("<tr><td><a href=\"/dashboard/shipments/")
        .skip(1)
        .map(|row| {
            row.split_once("\">")
                .unwrap()
                .1
                .split_once('<')
                .unwrap()
                .0
                .to_string()
        })
        .collect()
}

/// A server whose sandbox journeys take one step every `step_minutes`, and whose dashboard
/// refreshes ask the carrier whenever they are asked.
pub fn sandbox_server(step_minutes: u32) -> Server {
    Server::start_with_env(&[
        ("PARCELD_ENGINE__REALTIME_WINDOW_SECS", "0"),
        (
            "PARCELD_CARRIERS__SANDBOX__STEP_MINUTES",
            &step_minutes.to_string(),
        ),
    ])
}

/// Creates `batch` with the API's batch call (which asks no carrier); every stored tracking.
pub async fn created_in_batch(
    server: &Server,
    key: &str,
    batch: Vec<Value>,
) -> Vec<parceld_model::Tracking> {
    let (status, created) = server
        .post("/v4/trackings/batch", key, Value::Array(batch))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    server.stored_trackings(key).await
}

/// Starts the journey of the stored tracking `number` `days` ago and has the dashboard refresh
/// it now, as a team member would; its id.
pub async fn started_and_refreshed(
    server: &Server,
    admin: &mut Browser<'_>,
    stored: &[parceld_model::Tracking],
    number: &str,
    days: i64,
) -> String {
    let id = stored
        .iter()
        .find(|t| t.tracking_number == stored_number(number))
        .expect("created")
        .id
        .to_string();
    backdate(server, &id, days * 24 * 60).await;
    let shipment = format!("/dashboard/shipments/{id}");
    let (status, headers, _) = admin
        .act(&shipment, &format!("{shipment}/refresh"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("{shipment}?done=refreshed"),
        "{number}"
    );
    id
}

#[tokio::test]
async fn each_kind_of_problem_has_its_tab_and_count() {
    // One sandbox event every ten days: a journey's state is set by how far back it started.
    let server = sandbox_server(14_400);
    let key = server.key().to_string();
    let mut admin = admin_browser(&server).await;
    // (number, days since it started)
    let journeys = [
        ("SANDBOX-DELIVERED-QUIET", 7),
        ("SANDBOX-DELIVERED-FRESH", 2),
        ("SANDBOX-RETURNED-BACK", 100),
        ("SANDBOX-EXCEPTION-DAMAGED", 35),
        ("SANDBOX-UNDELIVERED-NOTHOME", 55),
        ("SANDBOX-EXPIRED-OLD", 0),
        ("SANDBOX-EXCEPTION-ARCHIVED", 35),
    ];
    // A batch fetches nothing: each journey starts when it is backdated to.
    let batch = journeys
        .iter()
        .map(|(number, _)| json!({"tracking_number": number, "courier_code": "sandbox"}))
        .collect();
    let stored = created_in_batch(&server, &key, batch).await;
    let mut ids = Vec::new();
    for (number, days) in journeys {
        ids.push(started_and_refreshed(&server, &mut admin, &stored, number, days).await);
    }
    let archive = format!("/dashboard/shipments/{}", ids[6]);
    let (status, _, _) = admin
        .act(&archive, &format!("{archive}/archive"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, _, page) = admin.get("/dashboard/problems").await;
    assert_eq!(status, StatusCode::OK, "{page}");

    let expected = [
        ("Exceptions", 2),
        ("Failed attempts", 1),
        ("Returned", 1),
        ("Expired", 1),
        ("Stuck", 1),
    ];
    for (label, n) in expected {
        assert_eq!(count(&page, label), n, "{label}");
    }
    let mut exceptions = listed(&page);
    exceptions.sort();
    assert_eq!(
        exceptions,
        ["SANDBOXEXCEPTIONDAMAGED", "SANDBOXRETURNEDBACK"]
    );
    for (kind, numbers) in [
        ("stuck", vec!["SANDBOXDELIVEREDQUIET"]),
        ("returned", vec!["SANDBOXRETURNEDBACK"]),
        ("failed-attempt", vec!["SANDBOXUNDELIVEREDNOTHOME"]),
        ("expired", vec!["SANDBOXEXPIREDOLD"]),
    ] {
        let (status, _, page) = admin.get(&format!("/dashboard/problems?kind={kind}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed(&page), numbers, "{kind}");
        assert!(page.contains(&format!(
            "href=\"/dashboard/problems?kind={kind}\" aria-current=\"page\""
        )));
    }
    let (_, _, page) = admin.get("/dashboard/problems?kind=stuck").await;
    assert!(
        page.contains("more than 5 days (express couriers) or 10 days (postal services)"),
        "{page}"
    );

    // The overview shows the same counts, each a link to its tab.
    let (_, _, overview) = admin.get("/dashboard").await;
    for (label, n) in expected {
        let kind = match label {
            "Exceptions" => "exception".to_string(),
            "Failed attempts" => "failed-attempt".to_string(),
            other => other.to_ascii_lowercase(),
        };
        let link =
            format!("<a href=\"/dashboard/problems?kind={kind}\"><strong>{n}</strong>{label}</a>");
        assert!(overview.contains(&link), "{link} in {overview}");
    }
    for bad in ["kind=lost", "page=0", "page=x"] {
        let (status, _, _) = admin.get(&format!("/dashboard/problems?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// A file whose header names a column that is not a create field.
const BAD_HEADER: &str = "tracking_number,carrier_code\nSANDBOX-DELIVERED-UP3,sandbox\n";
/// A file that would add one shipment.
const ONE_MORE: &str = "tracking_number\nSANDBOX-DELIVERED-UP4\n";

/// Posts `file` as the upload form's file (a `multipart/form-data` body) with `csrf`.
async fn upload(browser: &Browser<'_>, csrf: &str, file: &str) -> (StatusCode, String) {
    let body = format!(
        "--B0undary\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --B0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--B0undary--\r\n"
    );
    let cookie = format!("parceld_session={}", browser.cookies["parceld_session"]);
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/dashboard/shipments/upload",
            browser.server.base
        ))
        .header("cookie", cookie)
        .header("content-type", "multipart/form-data; boundary=B0undary")
        .body(body)
        .send()
        .await
        .unwrap();
    (answer.status(), answer.text().await.unwrap())
}

#[tokio::test]
async fn shipments_are_added_by_hand_and_from_a_csv_with_the_imports_rules() {
    let server = Server::start();
    let key = server.key().to_string();
    let mut admin = admin_browser(&server).await;
    let (status, _, form) = admin.get("/dashboard/shipments/new").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&form);

    // One by hand, the courier detected from the number.
    let fields = [
        ("tracking_number", "1Z999AA10123456784"),
        ("order_number", "#42"),
    ];
    let (status, headers, _) = admin
        .act(
            "/dashboard/shipments/new",
            "/dashboard/shipments/new",
            &fields,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?done=created"), "{location}");
    let tracking = server.tracking(&key, "1Z999AA10123456784").await;
    assert_eq!(
        (
            tracking["courier_code"].as_str(),
            tracking["order_number"].as_str()
        ),
        (Some("ups"), Some("#42"))
    );
    let (_, _, shown) = admin.get(&location).await;
    assert!(shown.contains("Added: parceld asks the carrier"), "{shown}");
    // Refused with the API's words, and what was typed kept.
    for (number, courier, reason) in [
        ("1Z999AA10123456784", "", "already tracked"),
        ("ABC123456", "nope", "4120"),
        ("", "ups", "4111"),
    ] {
        let fields = [("tracking_number", number), ("courier_code", courier)];
        let (status, _, page) = admin
            .act(
                "/dashboard/shipments/new",
                "/dashboard/shipments/new",
                &fields,
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{number}");
        assert!(
            page.contains(reason) && page.contains(&format!("value=\"{number}\"")),
            "{page}"
        );
    }

    // A file: added, already tracked, and refused lines with their reasons.
    let file = "tracking_number,courier_code,order_number\n\
                SANDBOX-DELIVERED-UP1,sandbox,#1\n\
                1Z999AA10123456784,ups,\n\
                ABC123456,nope,\n\
                ,sandbox,#4\n\
                SANDBOX-DELIVERED-UP2,sandbox,#5\n";
    let (status, page) = upload(&admin, &csrf, file).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let summary = "5 row(s) read: 2 added, 1 already tracked, 2 refused.";
    assert!(page.contains(summary), "{page}");
    for refused in ["<tr><td>4</td><td>4120 ", "<tr><td>5</td><td>4111 "] {
        assert!(page.contains(refused), "{refused} in {page}");
    }
    let added = server.tracking(&key, "SANDBOX-DELIVERED-UP2").await;
    assert_eq!(added["order_number"], "#5");
    // A header the import refuses is refused whole; so is a form without the session's token.
    let (status, page) = upload(&admin, &csrf, BAD_HEADER).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("carrier_code"), "{page}");
    let (status, _) = upload(&admin, &"0".repeat(64), ONE_MORE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let all = server.list_all(&key).await;
    assert_eq!(all.len(), 3, "nothing else was added");

    // A viewer may not add.
    let password = create_user(&server, "default", "viewer@example.com", "viewer");
    let mut viewer = Browser::new(&server);
    viewer.sign_in("viewer@example.com", &password).await;
    assert_eq!(
        viewer.get("/dashboard/shipments/new").await.0,
        StatusCode::FORBIDDEN
    );
    let (_, _, list) = viewer.get("/dashboard/shipments").await;
    let viewer_csrf = csrf_of(&list);
    assert_eq!(
        upload(&viewer, &viewer_csrf, ONE_MORE).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(server.list_all(&key).await.len(), 3);
}
