//! `parceld import`: CSV and JSON lines into a running server's database, with a summary of
//! what was created, what existed and what was rejected (line and reason), and resume.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use parceld_store::test_support::TrackingRows;

use crate::support::{parceld, Server};

fn ups_number(i: usize) -> String {
    crate::engine::numbers_for("ups", i + 1, 90).pop().unwrap()
}

#[tokio::test]
async fn a_jsonl_import_creates_reports_existing_and_rejects_with_line_numbers() {
    let server = Server::start();
    let key = server.key().to_string();
    server.create(&key, &ups_number(0), "ups").await;
    let lines = [
        json!({"tracking_number": ups_number(0), "courier_code": "ups"}).to_string(), // exists
        json!({"tracking_number": ups_number(1), "courier_code": "ups", "order_number": "#7"})
            .to_string(),
        String::new(), // blank lines are skipped
        "{not json".to_string(),
        json!({"tracking_number": "SANDBOX-DELIVERED-1", "courier_code": "nope"}).to_string(),
        json!({"tracking_number": "SANDBOX-DELIVERED-2", "carrier_code": "sandbox"}).to_string(),
        json!({"tracking_number": "SANDBOX-DELIVERED-3", "courier_code": "sandbox"}).to_string(),
        json!({"tracking_number": "SANDBOX-DELIVERED-3", "courier_code": "sandbox"}).to_string(), // repeated in the file
    ];
    let path = server.data_dir.join("shipments.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let (ok, out) = server.admin(&["import", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(
        out.contains("7 read, 2 created, 2 already existed, 3 rejected"),
        "{out}"
    );
    let rejected =
        std::fs::read_to_string(server.data_dir.join("shipments.jsonl.rejected")).unwrap();
    assert!(rejected.contains("line 4: not JSON"), "{rejected}");
    assert!(rejected.contains("line 5: 4120"), "{rejected}");
    assert!(
        rejected.contains("line 6:") && rejected.contains("carrier_code"),
        "{rejected}"
    );
    let all = server.list_all(&key).await;
    assert_eq!(all.len(), 3);
    let imported = all
        .iter()
        .find(|t| t["tracking_number"] == ups_number(1).as_str())
        .expect("imported tracking is listed");
    assert_eq!(imported["order_number"], "#7");
    assert!(!server
        .data_dir
        .join("shipments.jsonl.import-progress")
        .exists());
}

#[tokio::test]
async fn a_csv_import_uses_the_header_as_field_names_and_names_its_account() {
    let server = Server::start();
    let other_key = server.new_account("acme");
    let path = server.data_dir.join("orders.csv");
    std::fs::write(
        &path,
        format!(
            "tracking_number,courier_code,order_number,title\n{},ups,#1,\"Shoes, blue\"\nSANDBOX-DELIVERED-9,sandbox,#2,\n,ups,#3,missing number\n",
            ups_number(2)
        ),
    )
    .unwrap();
    let (ok, out) = server.admin(&["import", path.to_str().unwrap(), "--account", "acme"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("3 read, 2 created, 0 already existed, 1 rejected"),
        "{out}"
    );
    assert!(
        out.contains("line 4: rejected: 4111") || out.contains("line 4: rejected: 4110"),
        "{out}"
    );
    let mine = server.list_all(&other_key).await;
    assert_eq!(mine.len(), 2);
    let shoes = mine.iter().find(|t| t["order_number"] == "#1").unwrap();
    assert_eq!(shoes["title"], "Shoes, blue");
    assert!(
        server.list_all(server.key()).await.is_empty(),
        "the default account got nothing"
    );

    let (ok, out) = server.admin(&["import", path.to_str().unwrap(), "--account", "nobody"]);
    assert!(!ok);
    assert!(out.contains("no account named `nobody`"), "{out}");
    let (ok, out) = server.admin(&["import", "/nonexistent/file.txt"]);
    assert!(!ok);
    assert!(out.contains("--format"), "{out}");
}

#[tokio::test]
async fn an_import_killed_midway_resumes_without_losing_or_duplicating() {
    let server = Server::start();
    let total = 60_000;
    let path = server.data_dir.join("big.jsonl");
    let mut text = String::with_capacity(total * 70);
    for i in 0..total {
        text.push_str(&format!(
            "{{\"tracking_number\":\"SANDBOX-DELIVERED-{i:07}\",\"courier_code\":\"sandbox\"}}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let progress = server.data_dir.join("big.jsonl.import-progress");
    let mut child = parceld(&server.data_dir)
        .args(["import", path.to_str().unwrap(), "--batch", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !progress.exists() {
        assert!(std::time::Instant::now() < deadline, "no progress recorded");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let store = server.store().await;
    let count = || async { store.count_trackings(TrackingRows::All).await.unwrap() };
    let partial = count().await;
    assert!(
        partial > 0 && partial < total as u64,
        "killed midway: {partial} stored"
    );

    let (ok, out) = server.admin(&["import", path.to_str().unwrap()]);
    assert!(!ok, "an interrupted import is not silently restarted");
    assert!(out.contains("--resume"), "{out}");

    let (ok, out) = server.admin(&["import", path.to_str().unwrap(), "--resume"]);
    assert!(ok, "{out}");
    assert_eq!(
        count().await,
        total as u64,
        "every record stored exactly once"
    );
    assert!(
        out.contains(&format!("{total} read")) && out.contains(" 0 rejected"),
        "the totals cover both runs: {out}"
    );
    assert!(!progress.exists());
}
