//! Start, restart and configuration: the first key, data surviving a restart, graceful stop,
//! configuration errors and environment overrides.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{on_postgres, parceld, DataDir, Server, BIN};

#[tokio::test]
async fn data_survives_a_restart_and_no_second_first_key_is_made() {
    let dir = DataDir::new();
    let first = Server::start_in(dir.path(), &[]);
    let key = first.key().to_string();
    let id = first.create(&key, "RESTART-0001", "ups").await;
    let update = format!("/v4/trackings/update/{id}");
    let (status, _) = first.put(&update, &key, json!({"note": "kept"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.stop(), "SIGTERM stops the server cleanly");

    let second = Server::start_in(dir.path(), &[]);
    assert!(
        second.key.is_none(),
        "the first key is printed only on an empty database"
    );
    let all = second.list_all(&key).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(all[0]["note"], "kept");
    assert!(second.stop());
}

#[tokio::test]
async fn environment_variables_override_the_configuration() {
    let server = Server::start_with_env(&[("PARCELD_SERVER__DEFAULT_ACCOUNT", "acme")]);
    let (ok, out) = server.admin(&["account", "list"]);
    assert!(ok);
    assert!(out.contains("acme"), "{out}");
}

#[test]
fn invalid_configuration_fails_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("parceld.toml");
    std::fs::write(&file, "[server]\nshutdown_grace_seconds = \"soon\"\n").unwrap();
    let output = std::process::Command::new(BIN)
        .args(["--config"])
        .arg(&file)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shutdown_grace_seconds"), "{stderr}");

    let output = std::process::Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PARCELD_LOG__FORMAT", "xml")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.to_lowercase().contains("log.format"), "{stderr}");
}

#[test]
fn migrate_creates_the_schema() {
    let dir = DataDir::new();
    let output = parceld(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("up to date"), "{stdout}");
    if on_postgres() {
        assert!(stdout.contains("database postgres://"), "{stdout}");
    } else {
        assert!(dir.path().join("parceld.db").exists());
    }
}
