//! The tracking page in a real headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `crates/parceld/tests/browser/page.mjs`), on a server whose sandbox
//! journeys have really been fetched by its refresh worker: every status they reach, the
//! look-ups, three languages, a phone and a desktop viewport, axe-core, the page's weight.
//! Screenshots are kept in `target/page-screenshots/`. Lighthouse runs from the ignored test
//! at the end, which `.ci/page-audit` runs.
//!
//! `.ci/browser-deps` installs chromium and the pinned npm packages into
//! `target/browser-node`. Without them the tests say why and pass, except under `CI=true`,
//! where a missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use parceld_model::DeliveryStatus;
use serde_json::{json, Value};

use crate::page::{backdate, stored_number, wait_for_status};
use crate::support::{DataDir, Server};

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser and the npm packages, or why they are missing.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let chrome = PathBuf::from(std::env::var("CHROME_PATH").unwrap_or("/usr/bin/chromium".into()));
    let modules = workspace().join("target/browser-node/node_modules");
    if !chrome.exists() {
        return Err(format!(
            "no browser at {} (apt-get install chromium, or .ci/browser-deps)",
            chrome.display()
        ));
    }
    if !modules.join("playwright-core").exists() {
        return Err(format!(
            "no npm packages in {} (run .ci/browser-deps)",
            modules.display()
        ));
    }
    Ok((chrome, modules))
}

/// The tools, or `None` after saying why the test is skipped; under CI a skip is a failure.
pub(crate) fn tools_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    match tools() {
        Ok(found) => Some(found),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: {why}; CI must run the browser tests")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
    }
}

/// A sandbox tracking: journey, how far along (minutes since creation, `None`: as created),
/// the status it then has, its headline in English and whether it is a problem.
struct Case {
    number: &'static str,
    minutes: Option<i64>,
    status: DeliveryStatus,
    headline: &'static str,
    problem: bool,
}

const CASES: &[Case] = &[
    Case {
        number: "SANDBOX-DELIVERED-LABEL1",
        minutes: None,
        status: DeliveryStatus::Inforeceived,
        headline: "Label created",
        problem: false,
    },
    Case {
        number: "SANDBOX-DELIVERED-MOVING",
        minutes: Some(12),
        status: DeliveryStatus::Transit,
        headline: "In transit",
        problem: false,
    },
    Case {
        number: "SANDBOX-DELIVERED-OUTFOR",
        minutes: Some(22),
        status: DeliveryStatus::Pickup,
        headline: "Out for delivery",
        problem: false,
    },
    Case {
        number: "SANDBOX-DELIVERED-DONE01",
        minutes: Some(120),
        status: DeliveryStatus::Delivered,
        headline: "Delivered",
        problem: false,
    },
    Case {
        number: "SANDBOX-UNDELIVERED-NOHOME",
        minutes: Some(120),
        status: DeliveryStatus::Undelivered,
        headline: "Delivery attempt failed",
        problem: true,
    },
    Case {
        number: "SANDBOX-EXCEPTION-BROKEN",
        minutes: Some(120),
        status: DeliveryStatus::Exception,
        headline: "Problem with the delivery",
        problem: true,
    },
    Case {
        number: "SANDBOX-RETURNED-BACK01",
        minutes: Some(120),
        status: DeliveryStatus::Exception,
        headline: "Problem with the delivery",
        problem: true,
    },
    Case {
        number: "SANDBOX-CUSTOMS-HELD01",
        minutes: Some(120),
        status: DeliveryStatus::Exception,
        headline: "Problem with the delivery",
        problem: true,
    },
    Case {
        number: "SANDBOX-EXPIRED-QUIET1",
        minutes: Some(1),
        status: DeliveryStatus::Expired,
        headline: "No recent updates",
        problem: true,
    },
    Case {
        number: "SANDBOX-NOTFOUND-NOWHERE",
        minutes: None,
        status: DeliveryStatus::Notfound,
        headline: "Not found yet",
        problem: false,
    },
];

/// A tracking of a courier this server has no credentials for: never fetched, so pending.
const PENDING: &str = "1Z999AA10123456784";

/// The order whose parcels the order look-up shows.
const ORDER_PARCELS: [&str; 2] = ["SANDBOX-DELIVERED-MOVING", "SANDBOX-DELIVERED-DONE01"];

/// A server with every case fetched by its own worker, and what the browser checks against.
/// The trackings are created in one batch (which fetches nothing) on a server without a
/// worker, their creation moved back so far as each case needs, and only then does a server
/// with a worker fetch them: the sandbox unfolds a journey from the creation instant, so each
/// journey is exactly as far along as its case says.
async fn seeded() -> (DataDir, Server, Value) {
    let dir = DataDir::new();
    let no_limit = ("PARCELD_TRACKING_PAGE__REQUESTS_PER_MINUTE", "0");
    let first = Server::start_in(dir.path(), &[no_limit]);
    let key = first.key().to_string();
    let mut batch: Vec<Value> = CASES
        .iter()
        .map(|case| {
            let mut body = json!({"tracking_number": case.number, "courier_code": "sandbox"});
            if ORDER_PARCELS.contains(&case.number) {
                body["order_number"] = json!("#7001");
                body["title"] = json!("Green teapot");
                body["customer_email"] = json!("ada@example.com");
            }
            body
        })
        .collect();
    batch.push(json!({"tracking_number": PENDING, "courier_code": "ups"}));
    let (status, created) = first
        .post("/v4/trackings/batch", &key, Value::Array(batch))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{created}");
    for tracking in first.stored_trackings(&key).await {
        let case = CASES
            .iter()
            .find(|c| stored_number(c.number) == tracking.tracking_number);
        if let Some(minutes) = case.and_then(|c| c.minutes) {
            backdate(&first, &tracking.id.to_string(), minutes).await;
        }
    }
    assert!(first.stop());
    let server = Server::start_in(dir.path(), &[no_limit, ("PARCELD_SERVER__WORKER", "true")]);
    for case in CASES {
        wait_for_status(&server, &key, case.number, case.status).await;
    }
    let mut cases: Vec<Value> = CASES
        .iter()
        .map(|c| json!({"number": c.number, "status": format!("{}-{}", c.status.as_str(), c.number.to_lowercase()), "headline": c.headline, "problem": c.problem}))
        .collect();
    cases.push(json!({"number": PENDING, "status": "pending", "headline": "Waiting for the courier", "problem": false}));
    let config = json!({
        "base": server.base,
        "account": "default",
        "cases": cases,
        "by_number": {
            "typed": "SANDBOX-DELIVERED-OUTFOR",
            "number": stored_number("SANDBOX-DELIVERED-OUTFOR"),
            "headline": "Out for delivery",
        },
        "order": {
            "order_number": "#7001",
            "email": "ada@example.com",
            "contents": "Green teapot",
            "parcels": ORDER_PARCELS.len(),
            "wrong_text": "No parcel matches this order number and contact detail. Check both and try again.",
        },
        "problem_number": "SANDBOX-RETURNED-BACK01",
        "weight_number": "SANDBOX-DELIVERED-DONE01",
    });
    (dir, server, config)
}

/// Runs the node script `script` of `tests/browser` (with its output in `target/<out>`) on a
/// freshly seeded server, prints what it said and fails the test when it failed. Skips, saying
/// why, without the browser or the npm packages (outside CI).
async fn run_script(test: &str, script: &str, out: &str) {
    let Some(tools) = tools_or_skip(test) else {
        return;
    };
    let (_dir, server, config) = seeded().await;
    run_node(&tools, script, out, ("PAGE_CASES", &config), &server);
}

/// Runs the node script `script` of `tests/browser` with the browser `tools`, screenshots in
/// `target/<out>` and `config` in the environment variable it names; prints what it said and
/// fails when it failed, with the server's log.
pub(crate) fn run_node(
    tools: &(PathBuf, PathBuf),
    script: &str,
    out: &str,
    config: (&str, &Value),
    server: &Server,
) {
    let (chrome, modules) = tools;
    let output = Command::new("node")
        .arg(
            workspace()
                .join("crates/parceld/tests/browser")
                .join(script),
        )
        .env("BROWSER_NODE_MODULES", modules)
        .env("CHROME_PATH", chrome)
        .env(config.0, config.1.to_string())
        .env("SHOTS", workspace().join("target").join(out))
        .output()
        .expect("run node");
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    println!("{text}");
    assert!(
        output.status.success(),
        "{script} failed:\n{text}\nserver log:\n{}",
        server.stderr()
    );
}

#[tokio::test]
async fn shoppers_use_the_page_in_a_real_browser() {
    run_script(
        "shoppers_use_the_page_in_a_real_browser",
        "page.mjs",
        "page-screenshots",
    )
    .await;
}

/// Lighthouse (mobile settings, the same chromium) on the lookup and shipment pages: at least
/// 95 for performance and 100 for accessibility and best practices. Slow (a minute or two), so
/// it is not part of `cargo test`; `.ci/page-audit` runs it and prints the scores.
#[tokio::test]
#[ignore = "run by .ci/page-audit"]
async fn lighthouse_scores_the_page() {
    run_script(
        "lighthouse_scores_the_page",
        "lighthouse.mjs",
        "page-lighthouse",
    )
    .await;
}
