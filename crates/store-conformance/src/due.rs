//! Which couriers have trackings due: only the couriers asked about, only for trackings a claim
//! could take (due, not archived, not leased), sorted.

use chrono::{Duration, Utc};
use parceld_model::TrackingFields;
use parceld_store::TrackingPatch;

use crate::{account_with, Factory};

pub async fn couriers_due_names_only_asked_couriers_with_claimable_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let trackings = [
        ("YW-1", "yanwen"),
        ("PX-1", "4px"),
        ("CN-1", "cainiao"),
        ("UP-1", "ups"),
    ];
    let (account, created) = account_with(&*store, "a", &trackings).await;
    let now = Utc::now() + Duration::seconds(1);
    let asked: Vec<String> = ["yanwen", "4px", "cainiao", "no-trackings"]
        .map(String::from)
        .to_vec();
    let due = store.couriers_due(now, &asked).await.unwrap();
    assert_eq!(due, ["4px", "cainiao", "yanwen"]);
    // Archived: not claimable. Leased by a live worker: not claimable either.
    let archive = TrackingPatch {
        fields: TrackingFields::default(),
        courier_code_new: None,
        archived: Some(true),
    };
    store
        .update_tracking(account, &created[1].id, &archive)
        .await
        .unwrap();
    let claimed = store
        .claim_due("w", now, now + Duration::hours(1), 10, "cainiao")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(store.couriers_due(now, &asked).await.unwrap(), ["yanwen"]);
    // Not yet due, and nothing asked.
    let earlier = Utc::now() - Duration::days(1);
    assert!(store
        .couriers_due(earlier, &asked)
        .await
        .unwrap()
        .is_empty());
    assert!(store.couriers_due(now, &[]).await.unwrap().is_empty());
}
