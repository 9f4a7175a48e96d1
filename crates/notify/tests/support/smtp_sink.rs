//! A real SMTP server for tests (Python's aiosmtpd running `crates/notify/tests/smtp_sink.py`,
//! installed in `target/smtp-venv` by `.ci/smtp-deps`), shared by parceld-notify's tests and
//! the binary's integration tests (included there by path), so both start it the same way.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The workspace's root: every crate including this file is at `crates/<name>`.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn python() -> Result<PathBuf, String> {
    let python = match std::env::var_os("PARCELD_SMTP_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => workspace().join("target/smtp-venv/bin/python"),
    };
    let works = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if works {
        Ok(python)
    } else {
        Err(format!(
            "no Python with aiosmtpd at {} (run .ci/smtp-deps, or set PARCELD_SMTP_PYTHON)",
            python.display()
        ))
    }
}

/// The SMTP server, stopped (its standard input closed) when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    mailbox: tempfile::TempDir,
}

impl Sink {
    pub fn start(python: &Path) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailbox = tempfile::tempdir().unwrap();
        let script = workspace().join("crates/notify/tests/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(mailbox.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Sink {
            child,
            port,
            mailbox,
        }
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.mailbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The SMTP server for the test `name`; `None` (the test skipped, saying why) without aiosmtpd,
/// except under `CI=true`, where that fails.
pub fn sink_for(name: &str) -> Option<Sink> {
    match python() {
        Ok(python) => Some(Sink::start(&python)),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{why}; CI must run the SMTP tests")
        }
        Err(why) => {
            eprintln!("SKIPPED {name}: {why}");
            None
        }
    }
}
