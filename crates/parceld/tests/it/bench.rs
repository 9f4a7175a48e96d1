//! `parceld bench --quick`: every scenario runs and reports a figure. This checks the bench
//! itself (that it starts its server and simulator, loads data and measures); the figures of a
//! quick debug run mean nothing and are not asserted against the targets.

use std::process::Command;

use parceld_store_postgres::test_database::{available, server_url};
use sqlx::Connection;

use crate::support::BIN;

/// The figures every backend's quick run measures (JSON pointers into its report).
const FIGURES: [&str; 25] = [
    "/api_hello/per_second",
    "/api_get_one/per_second",
    "/api_get_one_ratio",
    "/api_page_2000/p50_ms",
    "/ingest_per_second",
    "/refresh_per_second",
    "/refresh_adapter_direct_per_second",
    "/detection_per_second_one_core",
    "/detection_corpus/top1",
    "/detection_corpus_named/top3",
    "/import_seconds",
    "/rss_idle_mb",
    "/rss_peak_refreshing_mb",
    "/webhook_deliveries_per_second",
    "/webhook_latency_p50_ms",
    "/webhook_latency_p99_ms",
    "/notify_emails_per_second",
    "/notify_latency_p99_ms",
    "/page_shipment/per_second",
    "/page_ratio",
    "/page_bytes",
    "/dashboard/first_page/per_second",
    "/dashboard/filtered_page/per_second",
    "/dashboard/deep_sorted_page/per_second",
    "/dashboard/export_rows_per_second",
];

#[test]
fn the_quick_bench_runs_every_scenario_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let output = Command::new(BIN)
        .args(["bench", "--quick", "--json"])
        .arg(&json)
        .env("TMPDIR", dir.path())
        .output()
        .expect("run parceld bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("GET one tracking"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for figure in FIGURES {
        let value = report.pointer(figure).and_then(|v| v.as_f64());
        assert!(
            value.is_some_and(|v| v > 0.0),
            "{figure} is measured: {report}"
        );
    }
    assert_eq!(report["api_get_one"]["errors"], 0, "{report}");
    assert_eq!(report["page_shipment"]["errors"], 0, "{report}");
    assert_eq!(report["import_trackings"], 20_000);
    for page in ["first_page", "filtered_page", "deep_sorted_page"] {
        assert_eq!(report["dashboard"][page]["errors"], 0, "{report}");
    }
    assert_eq!(
        report["dashboard"]["export_rows"], 20_000,
        "the export streams every imported tracking: {report}"
    );
}

#[test]
fn a_short_soak_samples_memory_and_descriptors_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("soak.json");
    let output = Command::new(BIN)
        .args(["bench", "--only", "soak", "--soak", "15s", "--json"])
        .arg(&json)
        .env("TMPDIR", dir.path())
        .output()
        .expect("run parceld bench --only soak");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("soak: "), "a line per sample: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let soak = &report["soak"];
    let samples = soak["samples"].as_array().expect("samples");
    assert!(samples.len() >= 3, "{soak}");
    for sample in samples {
        assert!(
            sample["rss_mb"].as_f64().is_some_and(|v| v > 0.0),
            "{sample}"
        );
        assert!(sample["fds"].as_i64().is_some_and(|v| v > 0), "{sample}");
    }
    assert!(
        soak["api_requests"].as_u64().is_some_and(|v| v > 0),
        "{soak}"
    );
    assert!(soak["imports"].as_u64().is_some_and(|v| v > 0), "{soak}");
    assert!(
        soak["webhooks_received"].as_u64().is_some_and(|v| v > 0),
        "{soak}"
    );
    assert_eq!(soak["errors"], 0, "{soak}");
    assert!(soak["verdict"].as_str().is_some(), "{soak}");
}

#[test]
fn the_quick_bench_with_a_database_measures_both_backends_and_the_nodes_then_drops_its_databases() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let child = Command::new(BIN)
        .args(["bench", "--quick", "--database", &server_url(), "--json"])
        .arg(&json)
        .env("TMPDIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run parceld bench --database");
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let header = stdout.lines().find(|l| l.contains("SQLite")).unwrap_or("");
    assert!(header.contains("PostgreSQL"), "a column each: {stdout}");
    assert!(stdout.contains("PostgreSQL targets"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["backend"], "SQLite");
    assert_eq!(report["postgres"]["backend"], "PostgreSQL");
    for backend in ["", "/postgres"] {
        for figure in FIGURES {
            let value = report.pointer(&format!("{backend}{figure}"));
            assert!(
                value.and_then(|v| v.as_f64()).is_some_and(|v| v > 0.0),
                "{backend}{figure} is measured: {report}"
            );
        }
    }
    for figure in ["one_node_per_second", "two_nodes_per_second"] {
        let value = report["nodes"][figure].as_f64();
        assert!(value.is_some_and(|v| v > 0.0), "{figure}: {report}");
    }
    assert_eq!(report["nodes"]["calls_in_flight_per_node"], 64);
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 6, "{report}");
    for target in targets {
        let verdict = target["verdict"].as_str().unwrap();
        assert!(
            verdict == "PASS" || verdict == "FAIL" || verdict.starts_with("NOT JUDGED"),
            "{target}"
        );
    }
    assert!(targets[5]["verdict"]
        .as_str()
        .unwrap()
        .starts_with("NOT JUDGED (run with --trackings 1000000"));
    // Every database the run created is gone.
    let left: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut server = sqlx::PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(format!("parceld_bench_{pid}_"))
            .fetch_all(&mut server)
            .await
            .unwrap()
    });
    assert!(left.is_empty(), "left behind: {left:?}");
}
