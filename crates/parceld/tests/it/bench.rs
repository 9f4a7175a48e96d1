//! `parceld bench --quick`: every scenario runs and reports a figure. This checks the bench
//! itself (that it starts its server and simulator, loads data and measures); the figures of a
//! quick debug run mean nothing and are not asserted against the targets.

use std::process::Command;

use crate::support::BIN;

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
    for figure in [
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
        "/page_shipment/per_second",
        "/page_ratio",
        "/page_bytes",
    ] {
        let value = report.pointer(figure).and_then(|v| v.as_f64());
        assert!(
            value.is_some_and(|v| v > 0.0),
            "{figure} is measured: {report}"
        );
    }
    assert_eq!(report["api_get_one"]["errors"], 0, "{report}");
    assert_eq!(report["page_shipment"]["errors"], 0, "{report}");
    assert_eq!(report["import_trackings"], 20_000);
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
