//! The README's command-line steps, as a newcomer runs them: top to bottom, each account created
//! before a command names it, and the bulk-import example on the sample file it names.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{parceld, Server, BIN};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `parceld` commands of the README's `sh` blocks, in order, as argument lists (what follows
/// `cargo run --release --`, without the trailing comment).
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repository_root().join("README.md")).unwrap();
    let mut in_shell = false;
    let mut commands = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        if !in_shell {
            continue;
        }
        let Some((_, rest)) = line.split_once("cargo run --release -- ") else {
            continue;
        };
        let rest = rest.split(" #").next().unwrap_or_default();
        let rest = rest.trim().trim_end_matches('&').trim();
        commands.push(rest.split_whitespace().map(str::to_string).collect());
    }
    commands
}

#[test]
fn every_account_the_readme_names_is_created_before_it_is_used() {
    let commands = readme_commands();
    assert!(
        commands.len() > 10,
        "found the README's commands: {commands:?}"
    );
    let mut created = vec!["default".to_string()];
    for command in &commands {
        if command.first().map(String::as_str) == Some("account")
            && command.get(1).map(String::as_str) == Some("create")
        {
            created.push(command[2].clone());
        }
        let named = command
            .iter()
            .position(|arg| arg == "--account")
            .map(|at| command[at + 1].clone());
        if let Some(name) = named {
            assert!(
                created.contains(&name),
                "`parceld {}` names the account `{name}` before the README creates it",
                command.join(" ")
            );
        }
    }
}

#[tokio::test]
async fn the_readme_import_example_runs_on_its_sample_file() {
    let commands = readme_commands();
    let server = Server::start();
    let run = |args: &[String]| {
        let output = parceld(&server.data_dir)
            .args(args)
            .current_dir(repository_root())
            .output()
            .expect("run parceld");
        let mut text = String::from_utf8_lossy(&output.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    };
    let create = commands
        .iter()
        .find(|c| c.starts_with(&["account".into(), "create".into()]))
        .expect("the README creates an account");
    let (ok, out) = run(create);
    assert!(ok, "{out}");
    let import = commands
        .iter()
        .find(|c| c.first().map(String::as_str) == Some("import"))
        .expect("the README shows an import");
    let file = repository_root().join(&import[1]);
    assert!(
        file.exists(),
        "the README imports {}, which must exist",
        file.display()
    );
    let (ok, out) = run(import);
    assert!(ok, "{out}");
    assert!(
        out.contains("5 read, 5 created, 0 already existed, 0 rejected"),
        "{out}"
    );
    let key = server.new_key(&create[2]);
    let imported = server.list_all(&key).await;
    assert_eq!(imported.len(), 5);
    assert!(imported.iter().any(|t| t["order_number"] == "#1004"
        && t["courier_code"] == "ups"
        && t["customer_name"] == "Katherine Johnson"));
}

#[test]
fn the_first_run_message_says_how_to_create_another_key() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .current_dir(dir.path())
        .env("PARCELD_SERVER__WORKER", "false")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start parceld");
    let mut printed = String::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        let done = line.starts_with("parceld listening on ");
        printed.push_str(&line);
        printed.push('\n');
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(printed.contains("pk_"), "{printed}");
    assert!(
        printed.contains("parceld key create --account default"),
        "{printed}"
    );
}
