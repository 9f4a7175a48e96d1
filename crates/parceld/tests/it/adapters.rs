//! The adapters of carriers' own APIs, end to end and all alike: for each carrier, the real
//! `parceld` refreshes from that carrier's protocol in the simulator over real HTTP, and the same
//! scenarios run against it — a 5xx, a 429 with `Retry-After` and a malformed body each leave a
//! `check_error` naming what went wrong while the stored status and checkpoints stay; an unknown
//! number is `notfound`; a parcel walks to `delivered` through the statuses and sub-statuses the
//! carrier's codes map to (`docs/carriers.md`); refused credentials leave a `check_error` naming
//! the configuration table to fix, and keep the data.
//!
//! A carrier is one row of [`CASES`]: its courier code, its configuration table and
//! credentials, three numbers of its format and the walk.

use std::time::Duration;

use chrono::Utc;
use parceld_sim::{EventKind, Faults, SimEvent, Simulator};
use reqwest::StatusCode;
use serde_json::Value;

use crate::engine::{start_sim, wait_for};
use crate::support::{env_refs, Server};

/// One carrier under test: a row of `adapters.tsv`.
struct Case {
    /// The courier code trackings are created with.
    courier: String,
    /// Its `[carriers.<table>]`, which is also its prefix in the simulator.
    table: String,
    /// The credentials the table needs (field, value).
    credentials: Vec<(String, String)>,
    /// Numbers of the courier's format: the walked parcel, an unknown one, and one whose
    /// credentials get refused.
    numbers: [String; 3],
    /// The walk: each event and the sub-status (or bare status) the tracking has after it.
    walk: Vec<(EventKind, String)>,
}

/// The row of `courier` in `adapters.tsv`.
fn case(courier: &str) -> Case {
    let table = include_str!("adapters.tsv");
    let row = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|fields| fields[0] == courier)
        .unwrap_or_else(|| panic!("{courier} has no row in adapters.tsv"));
    let [courier, table, credentials, numbers, walk] = row[..] else {
        panic!("adapters.tsv: {courier} has not five fields");
    };
    let pairs = |text: &str| -> Vec<(String, String)> {
        text.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let numbers: Vec<String> = numbers.split_whitespace().map(str::to_string).collect();
    Case {
        courier: courier.into(),
        table: table.into(),
        credentials: pairs(credentials),
        numbers: numbers.try_into().expect("three numbers"),
        walk: pairs(walk)
            .into_iter()
            .map(|(kind, sub)| (serde_json::from_value(Value::String(kind)).unwrap(), sub))
            .collect(),
    }
}

/// A test per carrier, each running the scenarios against its row.
macro_rules! adapter_tests {
    ($($name:ident => $courier:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run(&case($courier)).await;
            }
        )*
    };
}

adapter_tests! {
    royal_mail => "royal-mail",
    australia_post => "australia-post",
    laposte => "laposte",
    postnord => "sweden-posten",
    gls => "gls",
    dpd => "dpd",
    purolator => "purolator",
    aramex => "aramex",
    bpost => "bpost",
    deutsche_post => "deutsch-post",
}

/// Every adapter of a carrier's own API beyond the first six has a row here.
#[test]
fn every_newer_adapter_is_in_the_harness() {
    let first_six = ["fedex", "ups", "usps", "dhl", "postnl-3s", "canada-post"];
    for adapter in parceld_carriers::catalog::ADAPTERS {
        if !first_six.contains(&adapter.table) {
            let case = case(adapter.serves[0]);
            assert_eq!(case.table, adapter.table);
        }
    }
}

/// The registry says parceld fetches a courier itself exactly when an adapter serves it
/// (`supported` in `couriers/all`, the "not fetched yet" note on create). Chronopost is the one
/// code an adapter serves that the registry does not know yet (no citable number format).
#[test]
fn the_registry_marks_exactly_the_couriers_an_adapter_serves() {
    use parceld_carriers::catalog::{serving, ADAPTERS};
    let served: Vec<&str> = ADAPTERS
        .iter()
        .flat_map(|a| a.serves.iter().copied())
        .collect();
    let unknown: Vec<&str> = served
        .iter()
        .copied()
        .filter(|code| parceld_detect::courier(code).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "served but not in the registry: {unknown:?}"
    );
    for courier in parceld_detect::couriers() {
        let adapter = courier.code == "sandbox" || serving(courier.code).is_some();
        assert_eq!(courier.has_adapter, adapter, "{}", courier.code);
    }
}

/// The server for `case`: its table pointed at the simulator with its credentials, the
/// worker checking every second and retrying failures after a second.
fn start_server(case: &Case, sim_url: &str) -> Server {
    let var = case.table.to_ascii_uppercase().replace('-', "_");
    let mut env = vec![
        (
            format!("PARCELD_CARRIERS__{var}__BASE_URL"),
            format!("{sim_url}/{}", case.table),
        ),
        (
            format!("PARCELD_CARRIERS__{var}__RATE_PER_SECOND"),
            "1000".into(),
        ),
    ];
    for (field, value) in &case.credentials {
        env.push((
            format!("PARCELD_CARRIERS__{var}__{field}"),
            value.to_string(),
        ));
    }
    env.extend(brisk_worker());
    Server::start_with_env(&env_refs(&env))
}

/// A worker checking every second and retrying failures after a second.
pub(crate) fn brisk_worker() -> Vec<(String, String)> {
    [
        ("SERVER__WORKER", "true"),
        ("ENGINE__IDLE_POLL_MS", "50"),
        ("ENGINE__JITTER", "0"),
        ("ENGINE__EXPRESS_EVERY_SECS", "1"),
        ("ENGINE__POSTAL_EVERY_SECS", "1"),
        ("ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ("ENGINE__BACKOFF_BASE_SECS", "1"),
    ]
    .map(|(name, value)| (format!("PARCELD_{name}"), value.to_string()))
    .to_vec()
}

pub(crate) fn event(kind: EventKind, at: chrono::DateTime<Utc>) -> SimEvent {
    SimEvent {
        kind,
        at,
        place: None,
    }
}

/// A tracking as `GET /v4/trackings/get` shows it.
pub(crate) async fn tracking(server: &Server, number: &str) -> Value {
    let path = format!("/v4/trackings/get?tracking_numbers={number}");
    let (status, body) = server.get(&path, server.key()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"][0].clone()
}

/// `transit002` → (`transit`, `transit002`); a bare status has no sub-status.
pub(crate) fn expected(sub: &str) -> (String, Option<String>) {
    let status = sub.trim_end_matches(|c: char| c.is_ascii_digit());
    (status.to_string(), (status != sub).then(|| sub.to_string()))
}

pub(crate) fn state(t: &Value) -> (String, Option<String>) {
    (
        t["delivery_status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        t["substatus"].as_str().map(str::to_string),
    )
}

pub(crate) fn checkpoints(t: &Value) -> usize {
    t["origin_info"]["trackinfo"].as_array().map_or(0, Vec::len)
}

/// Waits until `number`'s `check_error` contains every one of `words`, then checks the stored
/// status and checkpoints are still `kept`.
pub(crate) async fn failing_with(
    server: &Server,
    number: &str,
    words: &[&str],
    kept: &Value,
) -> String {
    let t = wait_for(20, &format!("a check_error with {words:?}"), || async {
        let t = tracking(server, number).await;
        let error = t["check_error"].as_str().unwrap_or_default().to_string();
        words.iter().all(|w| error.contains(w)).then_some(t)
    })
    .await;
    assert_eq!(state(&t), state(kept), "status kept: {t}");
    assert_eq!(checkpoints(&t), checkpoints(kept), "checkpoints kept: {t}");
    t["check_error"].as_str().unwrap_or_default().to_string()
}

/// A 5xx, a 429 with `Retry-After` and a malformed body from `carrier` (its simulator prefix)
/// each leave a `check_error` on `number` naming the carrier and what failed, with the stored
/// data `kept`; each time the next check without the fault clears it.
pub(crate) async fn each_fault_leaves_its_error(
    sim: &Simulator,
    server: &Server,
    carrier: &str,
    number: &str,
    kept: &Value,
) {
    let faults = [
        (Faults::server_errors(), "503"),
        (Faults::rate_limited(1), "429"),
        (Faults::malformed(), "malformed"),
    ];
    for (fault, says) in faults {
        sim.set_faults(Some(carrier), fault);
        failing_with(server, number, &[carrier, says], kept).await;
        sim.clear_faults();
        wait_for(20, "a check without error", || async {
            tracking(server, number).await["check_error"]
                .is_null()
                .then_some(())
        })
        .await;
    }
}

async fn run(case: &Case) {
    let (sim, sim_url) = start_sim().await;
    let server = start_server(case, &sim_url);
    let [walked, unknown, refused] = &case.numbers;
    let now = Utc::now();
    // The walked parcel's first event is already there; the others follow an hour apart.
    let step = chrono::Duration::hours(1);
    let first = now - chrono::Duration::minutes(30);
    sim.script(
        walked,
        (0..)
            .zip(&case.walk)
            .map(|(i, (kind, _))| event(*kind, first + step * i))
            .collect(),
    );
    sim.script(unknown, vec![]);
    // The parcel whose credentials get refused: the walk's second and third events, past.
    let past = now - chrono::Duration::hours(3);
    sim.script(
        refused,
        (1..)
            .zip(&case.walk[1..3])
            .map(|(i, (kind, _))| event(*kind, past + step * i))
            .collect(),
    );
    for number in &case.numbers {
        server.create(server.key(), number, &case.courier).await;
    }
    let created = tracking(&server, walked).await;
    assert_eq!(state(&created), expected(&case.walk[0].1), "{created}");
    assert_eq!(
        tracking(&server, unknown).await["delivery_status"],
        "notfound"
    );

    // Carrier failures: each leaves a check_error saying what failed, and the data.
    each_fault_leaves_its_error(&sim, &server, &case.table, walked, &created).await;

    // The walk: one more event visible at a time.
    let mut seen = vec![state(&created)];
    for (_, sub) in &case.walk[1..] {
        sim.advance_number(walked, Duration::from_secs(3600));
        let want = expected(sub);
        let t = wait_for(20, &format!("{} {sub}", case.courier), || async {
            let t = tracking(&server, walked).await;
            (state(&t) == want).then_some(t)
        })
        .await;
        seen.push(state(&t));
    }
    let want: Vec<_> = case.walk.iter().map(|(_, sub)| expected(sub)).collect();
    assert_eq!(seen, want, "{}", case.courier);
    let done = tracking(&server, walked).await;
    assert_eq!(checkpoints(&done), case.walk.len(), "{done}");
    assert!(
        done["next_check_at"].is_null(),
        "delivered is final: {done}"
    );

    // Refused credentials: the check_error names the table to fix; the data stays.
    let before = tracking(&server, refused).await;
    assert!(checkpoints(&before) > 0, "{before}");
    sim.set_faults(Some(&case.table), Faults::refusing_credentials());
    let table = format!("[carriers.{}]", case.table);
    failing_with(&server, refused, &["credentials", &table], &before).await;
}
