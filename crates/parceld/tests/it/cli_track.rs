//! `parceld sim` and `parceld track`, as the README shows them: the simulator as its own
//! process, and one lookup through the UPS adapter pointed at it by environment variables.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::BIN;

struct Sim(std::process::Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sim() -> (Sim, String) {
    let mut child = Command::new(BIN)
        .args(["sim", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start parceld sim");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Sim(child), url)
}

fn track(sim: &str, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("track")
        .args(args)
        .current_dir(dir.path())
        .env("PARCELD_CARRIERS__UPS__BASE_URL", format!("{sim}/ups"))
        .env("PARCELD_CARRIERS__UPS__CLIENT_ID", "any")
        .env("PARCELD_CARRIERS__UPS__CLIENT_SECRET", "any")
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn track_looks_a_number_up_through_the_adapter_against_the_simulator() {
    let (_sim, url) = start_sim();
    let (ok, out) = track(&url, &["ups", "1Z999AA10123456784"]);
    assert!(ok, "{out}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("ups 1Z999AA10123456784: "),
        "a status line first: {out}"
    );
    assert!(out.lines().count() > 2, "and the checkpoints: {out}");

    let (ok, out) = track(&url, &["ups", "1Z999AA10123456784", "--raw"]);
    assert!(ok, "{out}");
    let raw: serde_json::Value = serde_json::from_str(&out).expect("--raw prints JSON");
    let checkpoints = raw["checkpoints"].as_array().unwrap();
    assert!(!checkpoints.is_empty());
    assert!(checkpoints
        .iter()
        .all(|c| !c["raw_status"].as_str().unwrap().is_empty()
            && !c["raw_time"].as_str().unwrap().is_empty()));

    let (ok, out) = track(&url, &["dhl", "1234567890"]);
    assert!(!ok, "DHL is not configured here");
    assert!(out.contains("no adapter is configured for `dhl`"), "{out}");
}
