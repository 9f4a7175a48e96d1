//! `parceld backup` and `parceld restore`: a consistent copy taken while the server serves and
//! writes, restored into a fresh data directory, answers with the same trackings; a restore is
//! refused while a server runs on the database.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::support::{sqlite_only, Server, BIN};

fn parceld(data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run parceld");
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

fn by_number(trackings: &[Value]) -> BTreeMap<String, Value> {
    trackings
        .iter()
        .map(|t| {
            (
                t["tracking_number"].as_str().unwrap().to_string(),
                t.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_and_writing_restores_the_same_trackings() {
    if sqlite_only("backup and restore copy a SQLite file; PostgreSQL has its own tools") {
        return;
    }
    let server = Server::start();
    let key = server.key().to_string();
    for i in 0..30 {
        server
            .create(&key, &format!("SANDBOX-DELIVERED-B{i:04}"), "sandbox")
            .await;
    }

    // Keep writing while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let url = format!("{}/v4/trackings/create", server.base);
        let key = key.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                let response = http
                    .post(&url)
                    .header("Tracking-Api-Key", &key)
                    .json(&json!({"tracking_number": format!("SANDBOX-EXCEPTION-W{written:05}"), "courier_code": "sandbox"}))
                    .send()
                    .await
                    .expect("create while backing up");
                assert!(response.status().is_success());
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("parceld-backup.db");
    let file_arg = file.to_str().unwrap().to_string();
    let data_dir = server.data_dir.clone();
    let (ok, out) = tokio::task::spawn_blocking({
        let file_arg = file_arg.clone();
        move || parceld(&data_dir, &["backup", &file_arg])
    })
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("backed up"), "{out}");
    assert!(written > 0, "the server was written to during the backup");

    let (ok, out) = server.admin(&["backup", &file_arg]);
    assert!(!ok, "an existing file is not overwritten: {out}");

    // A restore onto the served database is refused, and changes nothing.
    let before = server.list_all(&key).await;
    let (ok, out) = server.admin(&["restore", &file_arg]);
    assert!(!ok, "{out}");
    assert!(out.contains("another `parceld serve`"), "{out}");
    assert_eq!(server.list_all(&key).await.len(), before.len());

    let original = by_number(&before);
    let fresh = tempfile::tempdir().unwrap();
    let (ok, out) = parceld(fresh.path(), &["restore", &file_arg]);
    assert!(ok, "{out}");
    let restored_server = Server::start_in(fresh.path(), &[]);
    assert!(
        restored_server.key.is_none(),
        "no new first key on a restored database"
    );
    let restored = by_number(&restored_server.list_all(&key).await);
    for i in 0..30 {
        let number = format!("SANDBOX-DELIVERED-B{i:04}");
        assert_eq!(restored.get(&number), original.get(&number), "{number}");
    }
    // Trackings created during the backup are there as some moment saw them (a create stores
    // the tracking, then the carrier's first answer): the same tracking, perhaps an earlier state.
    for (number, tracking) in &restored {
        let was = original.get(number).expect("a tracking the server had");
        assert_eq!(tracking["id"], was["id"], "{number}");
        assert_eq!(tracking["courier_code"], was["courier_code"], "{number}");
    }
    assert!(
        restored.len() >= 30 && restored.len() <= original.len(),
        "restored {} of {}",
        restored.len(),
        original.len()
    );
}
