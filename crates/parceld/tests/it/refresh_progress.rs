//! A claim's results are applied as they come back from the carrier, in small groups, not all
//! at once when the whole claim is done: a node killed every few seconds still makes progress.

use parceld_sim::{EventKind, Faults, SimEvent};
use parceld_store::test_support::TrackingRows;

use crate::engine::{start_engine_server, start_sim, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_claim_is_applied_in_groups_as_the_carrier_answers() {
    let (sim, sim_url) = start_sim().await;
    // Two calls at a time, 250 ms each: a claim of 40 takes about 5 s of carrier calls.
    sim.set_faults(Some("ups"), Faults::latency(250, 250));
    let server = start_engine_server(
        &sim_url,
        &[
            ("PARCELD_CARRIERS__UPS__CONCURRENCY", "2"),
            ("PARCELD_ENGINE__EARLY_CHECKS_SECS", "[1]"),
        ],
    );
    let key = server.key().to_string();
    let numbers: Vec<String> = (0..40).map(|i| format!("1ZPROGRESS{i:08}")).collect();
    for number in &numbers {
        let label = SimEvent {
            kind: EventKind::LabelCreated,
            at: chrono::Utc::now() - chrono::Duration::hours(2),
            place: None,
        };
        sim.script(number, vec![label]);
    }
    // One batch is one transaction: the 40 become due together and are claimed together.
    server.create_numbers(&key, &numbers, "ups").await;
    let store = server.store().await;
    let unchecked = || async {
        store
            .count_trackings(TrackingRows::NeverChecked)
            .await
            .unwrap()
    };
    assert_eq!(unchecked().await, 40);

    // The first time anything of the claim is applied, only part of it is: the rest is still
    // being asked of the carrier.
    let first_applied = wait_for(30, "the first applied results", || async {
        let left = unchecked().await;
        (left < 40).then_some(left)
    })
    .await;
    assert!(
        first_applied > 0,
        "the whole claim of 40 was applied in one go, after all its carrier calls"
    );
    wait_for(30, "the whole claim applied", || async {
        (unchecked().await == 0).then_some(())
    })
    .await;
    assert!(server.stop());
}
