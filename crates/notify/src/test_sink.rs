//! A real SMTP server for tests (feature `test-support`): Python's aiosmtpd running
//! `test-support/smtp_sink.py`, installed in `target/smtp-venv` by `.ci/smtp-deps`. It is here,
//! not in one crate's `tests/`, because this crate's tests and the binary's end-to-end tests
//! both read its mailbox, and it is Python so that parceld's SMTP client is judged by a server
//! it was not written with.
//!
//! Without the server a test says why and passes, except under `CI=true`, where it fails
//! ([`python_or_skip`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The Python with aiosmtpd (`PARCELD_SMTP_PYTHON`, else `target/smtp-venv`), or why there is
/// none.
pub fn python() -> Result<PathBuf, String> {
    let python = match std::env::var_os("PARCELD_SMTP_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp-venv/bin/python"),
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

/// The Python to run the sink with; `None` (after saying why on stderr) when there is none and
/// the test `name` should return at once. Under `CI=true` a missing server panics instead.
pub fn python_or_skip(name: &str) -> Option<PathBuf> {
    match python() {
        Ok(python) => Some(python),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{why}; CI must run the SMTP tests")
        }
        Err(why) => {
            eprintln!("SKIPPED {name}: {why}");
            None
        }
    }
}

/// The SMTP server, stopped (its standard input closed) when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    mailbox: tempfile::TempDir,
}

impl Sink {
    /// A server answering at once.
    pub fn start(python: &Path) -> Sink {
        Sink::start_slow(python, 0)
    }

    /// A server that takes `delay_ms` over each message before accepting it.
    pub fn start_slow(python: &Path, delay_ms: u64) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mailbox = tempfile::tempdir().expect("a mailbox directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-support/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(mailbox.path())
            .arg(port.to_string())
            .arg(delay_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("the sink's stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the sink says it is ready");
        assert_eq!(line.trim(), "ready");
        Sink {
            child,
            port,
            mailbox,
        }
    }

    /// The messages received so far, in order: `to`, `subject`, `message_id`,
    /// `list_unsubscribe`, `list_unsubscribe_post`, `text`, `html`.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.mailbox.path())
            .expect("the mailbox")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("a stored message");
                serde_json::from_str(&text).expect("a message as JSON")
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
