//! `parceld db copy`: a SQLite database with trackings, checkpoints, webhooks and their
//! deliveries, keys, rate limits, a tracking page and notification settings moves onto PostgreSQL; a copy killed
//! half-way continues when run again and ends equal to the source; a destination holding
//! anything else is refused; the copied database then serves the same answers to the same key.

use std::process::{Command, Stdio};

use parceld_store::copy::CopyTable;
use parceld_store::test_support::TrackingRows;
use parceld_store::CopyStore;
use parceld_store_postgres::test_database::{available, TestDatabase};
use parceld_store_postgres::PostgresStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engine::wait_for;
use crate::support::{database_url, sqlite_only, Server, BIN};

const TRACKINGS: usize = 2000;

fn copy_command(from: &str, to: &str, batch: &str) -> Command {
    let mut command = Command::new(BIN);
    command.args(["db", "copy", "--from", from, "--to", to, "--batch", batch]);
    command
}

fn run_copy(from: &str, to: &str) -> (bool, String) {
    let output = copy_command(from, to, "500").output().expect("run parceld");
    let mut text = String::from_utf8_lossy(&output.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

async fn rows(store: &PostgresStore, table: &str) -> u64 {
    let table = CopyTable::named(table).expect("a table");
    store.copy_extent(table).await.expect("extent").rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_copied_onto_postgres_resumes_checks_itself_and_serves_the_same() {
    if sqlite_only("the copy's source is a SQLite file") || !available() {
        return;
    }
    // The source: refreshed trackings (checkpoints, changes) with merchant fields, a webhook
    // that fails (deliveries, attempts), a second key, rate limits and a tracking page.
    let source = Server::start_with_env(&[
        ("PARCELD_SERVER__WORKER", "true"),
        ("PARCELD_ENGINE__IDLE_POLL_MS", "50"),
        ("PARCELD_ENGINE__JITTER", "0"),
        ("PARCELD_WEBHOOKS__ALLOW_NETWORKS", "[\"127.0.0.0/8\"]"),
    ]);
    let key = source.key().to_string();
    // Email notification settings, notifications and an opt-out. The sandbox's first event
    // (label created, `inforeceived`) is all the source's refreshes see in the test's time (the
    // next is five minutes on), and it is not a default trigger: listed here, so that every
    // first refresh writes a notification to copy.
    let store = source.store().await;
    let parceld_store::KeyCheck::Valid(shop) = store.check_api_key(&key).await.unwrap() else {
        panic!("{key} is not a valid key");
    };
    let account = shop.id;
    let mut mail = parceld_store::notifications::NotificationSettings::default();
    mail.channels
        .push(parceld_store::notifications::Channel::Email);
    mail.triggers.push("inforeceived".into());
    store
        .set_notification_settings(account, &mail)
        .await
        .unwrap();
    let gone = (account, "email".to_string(), "bob@acme.test".to_string());
    let gone = parceld_store::notifications::Recipient::from_stored(gone).unwrap();
    store.unsubscribe(&gone, chrono::Utc::now()).await.unwrap();
    let hook = json!({"url": "http://127.0.0.1:9/hook"});
    let (status, body) = source.post("/v4/webhooks", &key, hook).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items: Vec<Value> = (0..TRACKINGS)
        .map(|i| {
            json!({"tracking_number": format!("SANDBOX-DELIVERED-C{i:05}"),
                   "courier_code": "sandbox", "order_number": format!("#{i}"),
                   "customer_name": "Ann \\ \"Quote\"",
                   "customer_email": format!("c{i}@acme.test")})
        })
        .collect();
    source.create_items(&key, items).await;
    // A subscriber from the tracking page.
    let first = source.tracking(&key, "SANDBOX-DELIVERED-C00000").await;
    let first = crate::support::tracking_id(first["id"].as_str().unwrap());
    let language = parceld_model::Language::Nl;
    let friend = parceld_store::subscribers::NewSubscriber::new(
        account,
        first,
        "friend@acme.test",
        language,
        chrono::Utc::now(),
    );
    store.subscribe_to_tracking(&friend).await.unwrap();
    let second_key = source.new_key("default");
    for args in [
        &["account", "set-limits", "default", "v4_other=50"][..],
        &[
            "page",
            "set",
            "--account",
            "default",
            "shop_name=Acme",
            "host=track.acme.test",
        ],
    ] {
        let (ok, out) = source.admin(args);
        assert!(ok, "{out}");
    }
    let never_checked = || async {
        let left = store.count_trackings(TrackingRows::NeverChecked).await;
        (left.unwrap() == 0).then_some(())
    };
    wait_for(120, "every tracking refreshed", never_checked).await;
    let before = source.list_all(&key).await;
    assert_eq!(before.len(), TRACKINGS);
    assert!(!before[0]["origin_info"]["trackinfo"]
        .as_array()
        .unwrap()
        .is_empty());
    let from = database_url(&source.data_dir);
    let data_dir = source.data_dir.clone();
    let _source_dir = source.stop_keeping_data();
    drop(store);

    let destination = TestDatabase::create().await;
    let to = destination.url().to_string();
    let target = PostgresStore::connect(&to, 2).await.unwrap();

    // Killed as soon as some trackings are in: the checkpoints are not all there yet.
    let mut child = copy_command(&from, &to, "50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(60, "the first trackings copied", || async {
        (rows(&target, "trackings").await > 0).then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let source_store =
        parceld_store_sqlite::SqliteStore::open_existing(&data_dir.join("parceld.db"))
            .await
            .unwrap();
    let checkpoints = source_store
        .copy_extent(CopyTable::named("checkpoints").unwrap())
        .await
        .unwrap()
        .rows;
    assert!(checkpoints >= TRACKINGS as u64, "{checkpoints} checkpoints");
    assert!(
        rows(&target, "checkpoints").await < checkpoints,
        "not interrupted"
    );

    let (ok, out) = run_copy(&from, &to);
    assert!(ok, "{out}");
    assert!(out.contains("continuing it"), "{out}");
    for needle in [
        "check: rows per table",
        "trackings equal as the API reads them",
        "check: passed",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    for table in parceld_store::copy::TABLES {
        let source_rows = source_store.copy_extent(table).await.unwrap().rows;
        assert_eq!(
            rows(&target, table.name).await,
            source_rows,
            "{}",
            table.name
        );
        if !["tracking_pages", "api_keys"].contains(&table.name) {
            assert!(source_rows > 0, "the source has no {}", table.name);
        }
    }
    // Run again on a finished copy: nothing more to write, the check passes again.
    let (ok, out) = run_copy(&from, &to);
    assert!(ok && out.contains("0 rows written"), "{out}");

    // Another source into the now full destination is refused.
    let other = Server::start();
    let other_url = database_url(&other.data_dir);
    let _other_dir = other.stop_keeping_data();
    let (ok, out) = run_copy(&other_url, &to);
    assert!(!ok, "{out}");
    assert!(
        out.contains("not an interrupted copy of this source"),
        "{out}"
    );

    // The copy serves the same trackings to the same keys; new trackings get new keys.
    let dir = tempfile::tempdir().unwrap();
    let copied = Server::start_in(dir.path(), &[("PARCELD_DATABASE__URL", to.as_str())]);
    assert_eq!(copied.list_all(&key).await, before);
    assert_eq!(copied.list_all(&second_key).await, before);
    let (status, page) = copied.get("/v4/tracking-page", &key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["data"]["host"], "track.acme.test", "{page}");
    let id = copied
        .create(&key, "SANDBOX-TRANSIT-NEW01", "sandbox")
        .await;
    assert_eq!(
        copied.tracking(&key, "SANDBOX-TRANSIT-NEW01").await["id"],
        id
    );
}
