//! An operator's traps at start and in the admin commands: a port already taken, a second
//! `serve` on the same database, an admin command pointed at the wrong place, configuration that
//! would be silently ignored or changed.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{env_refs, sqlite_only, Server, BIN};

/// Runs `parceld <args>` in `dir` and waits at most `secs` seconds for it to exit.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], secs: u64) -> (Output, Duration) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env("PARCELD_SERVER__WORKER", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("start parceld");
    while started.elapsed() < Duration::from_secs(secs) {
        if child.try_wait().expect("wait").is_some() {
            return (child.wait_with_output().expect("output"), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("output");
    panic!(
        "parceld {args:?} did not exit within {secs} s; stdout: {} stderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn a_port_already_taken_stops_serve_at_once_before_it_touches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data_dir = dir.path().to_str().unwrap();
    let (output, took) = run(
        dir.path(),
        &["--data-dir", data_dir, "serve", "--bind", &address],
        &[],
        20,
    );
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout} {stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(!stdout.contains("pk_"), "no first key was made: {stdout}");
    assert!(!stderr.contains("refresh worker started"), "{stderr}");
    assert!(
        !dir.path().join("parceld.db").exists(),
        "no database was created"
    );
}

#[test]
fn a_second_serve_on_the_same_database_is_refused() {
    if sqlite_only("a SQLite file has one serve; a PostgreSQL database is shared by nodes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[]);
    let data_dir = dir.path().to_str().unwrap();
    let (output, took) = run(
        dir.path(),
        &["--data-dir", data_dir, "serve", "--bind", "127.0.0.1:0"],
        &[],
        20,
    );
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout} {stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(stderr.contains("another `parceld serve`"), "{stderr}");
    assert!(stderr.contains("parceld.db"), "{stderr}");
    assert!(!stdout.contains("listening"), "{stdout}");
    // Admin commands still run beside the server.
    let (ok, out) = server.admin(&["account", "list"]);
    assert!(ok, "{out}");
    // Once the first has stopped, the database can be served again.
    assert!(server.stop());
    let again = Server::start_in(dir.path(), &[]);
    assert!(again.stop());
}

#[test]
fn admin_commands_create_no_database_and_name_the_one_they_looked_for() {
    if sqlite_only("the database is a file in the data directory only on SQLite") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("dtaa");
    let typo_arg = typo.to_str().unwrap();
    for args in [
        vec!["--data-dir", typo_arg, "key", "list"],
        vec![
            "--data-dir",
            typo_arg,
            "key",
            "create",
            "--account",
            "default",
        ],
        vec!["--data-dir", typo_arg, "account", "list"],
        vec!["--data-dir", typo_arg, "account", "create", "acme"],
        vec!["--data-dir", typo_arg, "webhook", "list"],
        vec!["account", "list"],
    ] {
        let (output, _) = run(dir.path(), &args, &[], 20);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{args:?}: {stdout} {stderr}");
        assert!(stderr.contains("parceld.db"), "{args:?}: {stderr}");
        assert!(stderr.contains("parceld migrate"), "{args:?}: {stderr}");
    }
    let csv = dir.path().join("numbers.csv");
    std::fs::write(
        &csv,
        "tracking_number,courier_code\n1Z999AA10123456784,ups\n",
    )
    .unwrap();
    let (output, _) = run(
        dir.path(),
        &["--data-dir", typo_arg, "import", csv.to_str().unwrap()],
        &[],
        20,
    );
    assert!(!output.status.success(), "{:?}", text(&output));
    assert!(
        !typo.exists(),
        "the mistyped data directory was not created"
    );
    assert!(!dir.path().join("data").exists(), "nor the default one");

    // Where the database exists, the command says which one it used, on stderr.
    let (output, _) = run(dir.path(), &["--data-dir", typo_arg, "migrate"], &[], 20);
    assert!(output.status.success(), "{:?}", text(&output));
    let (output, _) = run(
        dir.path(),
        &["--data-dir", typo_arg, "account", "list"],
        &[],
        20,
    );
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout} {stderr}");
    let used: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("using the database"))
        .collect();
    assert_eq!(used.len(), 1, "{stderr}");
    assert!(
        used[0].contains(&typo.join("parceld.db").display().to_string()),
        "{stderr}"
    );
    assert!(!stdout.contains("using the database"), "{stdout}");
}

/// Runs `parceld serve` on a fresh data directory with `env`, expects it to refuse to start with
/// exit code 2 (a configuration error), and returns its stderr.
fn serve_refused_with(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let (output, _) = run(
        dir.path(),
        &["--data-dir", data_dir, "serve", "--bind", "127.0.0.1:0"],
        env,
        20,
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

#[test]
fn a_log_level_tracing_cannot_use_stops_the_start_naming_the_key() {
    let stderr = serve_refused_with(&[("PARCELD_LOG__LEVEL", "verbose")]);
    assert!(stderr.contains("log.level"), "{stderr}");
    assert!(stderr.contains("verbose"), "{stderr}");
}

#[test]
fn a_sandbox_step_of_zero_is_refused_not_silently_changed() {
    let stderr = serve_refused_with(&[("PARCELD_CARRIERS__SANDBOX__STEP_MINUTES", "0")]);
    assert!(stderr.contains("carriers.sandbox.step_minutes"), "{stderr}");
}

#[test]
fn a_parceld_variable_that_is_no_key_is_warned_about_once() {
    let server = Server::start_with_env(&[
        ("PARCELD_SERVER_BIND", "0.0.0.0:9999"),
        ("PARCELD_LOG_LEVEL", "debug"),
    ]);
    let stderr = server.stderr();
    for name in ["PARCELD_SERVER_BIND", "PARCELD_LOG_LEVEL"] {
        let warnings = stderr
            .lines()
            .filter(|l| l.contains("warning") && l.contains(name))
            .count();
        assert_eq!(warnings, 1, "{name}: {stderr}");
    }
    assert!(stderr.contains("PARCELD_SERVER__BIND"), "{stderr}");
    // Sectioned variables are configuration and draw no warning.
    assert!(!stderr.contains("PARCELD_SERVER__WORKER"), "{stderr}");
}

#[test]
fn push_that_could_not_be_verified_stops_the_start_naming_the_table() {
    let upstream = |name: &str, field: &str| format!("PARCELD_UPSTREAMS__{name}__{field}");
    for (name, table, needle) in [
        (
            "TRACKINGMORE",
            "[upstreams.trackingmore]",
            "no webhook signature",
        ),
        ("AFTERSHIP", "[upstreams.aftership]", "webhook_secret"),
    ] {
        let env = [
            (upstream(name, "API_KEY"), "k".to_string()),
            (upstream(name, "COURIERS"), "[\"yanwen\"]".to_string()),
            (upstream(name, "PUSH"), "true".to_string()),
        ];
        let stderr = serve_refused_with(&env_refs(&env));
        assert!(
            stderr.contains(table) && stderr.contains(needle),
            "{stderr}"
        );
    }
    let fedex = [
        ("PARCELD_PUSH__SOURCES__FEDEX__ENABLED", "true"),
        ("PARCELD_PUSH__SOURCES__FEDEX__SECRET", "token"),
        ("PARCELD_PUSH__SOURCES__FEDEX__SUBSCRIBE", "true"),
    ];
    let stderr = serve_refused_with(&fedex);
    assert!(stderr.contains("account = true"), "{stderr}");
}
