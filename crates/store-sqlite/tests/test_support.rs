//! The test back door (`StoreTestSupport`) on SQLite: each method sets or counts exactly what
//! it names, so the integration tests that rely on it test what they say.

mod common;

use chrono::{Duration, TimeZone, Utc};
use parceld_model::{DeliveryStatus, TrackingId};
use parceld_store::test_support::{DeliveryRows, ForcedState, StoreTestSupport, TrackingRows};
use parceld_store::{
    AttemptOutcome, AttemptRecord, CreateWebhook, NewWebhook, Store, WebhookVersion,
};
use parceld_store_conformance::{account_with, checkpoint, claim_and_apply, update};

use common::fresh;

#[tokio::test]
async fn forced_states_and_tracking_counts() {
    let (_dir, store) = fresh().await;
    let (account, made) = account_with(
        &store,
        "a",
        &[("S-1", "sandbox"), ("S-2", "sandbox"), ("U-1", "ups")],
    )
    .await;
    assert_eq!(store.count_trackings(TrackingRows::All).await.unwrap(), 3);
    let never = TrackingRows::NeverChecked;
    assert_eq!(store.count_trackings(never).await.unwrap(), 3);
    let ups = TrackingRows::NeverCheckedOfCourier("ups");
    assert_eq!(store.count_trackings(ups).await.unwrap(), 1);
    assert_eq!(
        store.count_trackings(TrackingRows::Leased).await.unwrap(),
        0
    );

    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("w", now, now + Duration::minutes(5), 1, "sandbox")
        .await
        .unwrap();
    assert_eq!(
        store.count_trackings(TrackingRows::Leased).await.unwrap(),
        1
    );
    let number = claimed[0].tracking_number.clone();
    assert_eq!(
        store.tracking_pk(&number).await.unwrap(),
        Some(claimed[0].pk)
    );
    assert_eq!(store.tracking_pk("NONE").await.unwrap(), None);
    let transit = DeliveryStatus::Transit;
    let events = vec![checkpoint(2, transit, "b"), checkpoint(1, transit, "a")];
    let report = store
        .apply_refresh("w", vec![update(claimed[0].pk, events, transit)])
        .await
        .unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(store.count_trackings(never).await.unwrap(), 2);
    assert_eq!(store.count_checkpoints(&number).await.unwrap(), 2);
    assert_eq!(store.count_checkpoints("U-1").await.unwrap(), 0);
    assert_eq!(store.count_changes(Some(&number)).await.unwrap(), 1);
    assert_eq!(store.count_changes(Some("U-1")).await.unwrap(), 0);
    assert_eq!(store.count_changes(None).await.unwrap(), 1);

    // Backdated and delivered; then expired, which stops refreshing.
    let january = Utc.timestamp_opt(1_704_067_200, 0).unwrap();
    let forced = ForcedState {
        delivery_status: Some(DeliveryStatus::Delivered),
        created_at: Some(january),
        updated_at: Some(january + Duration::days(1)),
        next_check_at: None,
    };
    let u1 = &made[2].id;
    assert!(store.force_tracking_state(u1, &forced).await.unwrap());
    let shown = store.tracking(account, u1).await.unwrap().unwrap();
    assert_eq!(shown.delivery_status, DeliveryStatus::Delivered);
    assert_eq!(shown.created_at, january);
    assert_eq!(shown.updated_at, january + Duration::days(1));
    assert!(shown.next_check_at.is_some(), "left alone");
    let expired = ForcedState {
        delivery_status: Some(DeliveryStatus::Expired),
        next_check_at: Some(None),
        ..ForcedState::default()
    };
    assert!(store.force_tracking_state(u1, &expired).await.unwrap());
    let shown = store.tracking(account, u1).await.unwrap().unwrap();
    assert_eq!(shown.delivery_status, DeliveryStatus::Expired);
    assert_eq!(shown.created_at, january, "left alone");
    assert!(shown.next_check_at.is_none());
    let later = now + Duration::days(1);
    assert!(store
        .claim_due("w", later, later + Duration::minutes(5), 10, "ups")
        .await
        .unwrap()
        .is_empty());
    let unknown = TrackingId::generate();
    assert!(!store
        .force_tracking_state(&unknown, &expired)
        .await
        .unwrap());
}

#[tokio::test]
async fn delivery_and_attempt_counts() {
    let (_dir, store) = fresh().await;
    let (account, _) = account_with(&store, "a", &[("S-1", "sandbox"), ("S-2", "sandbox")]).await;
    let new = NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        description: String::new(),
        statuses: vec![],
        version: WebhookVersion::V4,
        enabled: true,
        secret: "whsec_AAAA".into(),
    };
    let CreateWebhook::Created(_) = store.create_webhook(account, &new, 10).await.unwrap() else {
        panic!("not created");
    };
    let at = Utc::now() + Duration::seconds(1);
    claim_and_apply(&store, "w", at, |pk| {
        let transit = DeliveryStatus::Transit;
        update(pk, vec![checkpoint(1, transit, "a")], transit)
    })
    .await;
    assert_eq!(store.count_deliveries(DeliveryRows::All).await.unwrap(), 2);
    assert_eq!(
        store.count_deliveries(DeliveryRows::Pending).await.unwrap(),
        2
    );
    let leased = DeliveryRows::PendingLeased;
    assert_eq!(store.count_deliveries(leased).await.unwrap(), 0);
    let claimed = store
        .claim_deliveries("d", at, at + Duration::seconds(60), 1, 4)
        .await
        .unwrap();
    assert_eq!(store.count_deliveries(leased).await.unwrap(), 1);
    assert_eq!(store.count_delivery_attempts().await.unwrap(), 0);
    let record = AttemptRecord {
        delivery_pk: claimed[0].pk,
        endpoint_pk: claimed[0].endpoint_pk,
        attempted_at: at,
        http_status: Some(200),
        latency_ms: 1,
        error: None,
        response_snippet: None,
        outcome: AttemptOutcome::Delivered,
        payload: Some("{}".into()),
    };
    store
        .record_attempts("d", &[record], Duration::days(5), at)
        .await
        .unwrap();
    assert_eq!(store.count_delivery_attempts().await.unwrap(), 1);
    let delivered = DeliveryRows::Delivered;
    assert_eq!(store.count_deliveries(delivered).await.unwrap(), 1);
    assert_eq!(
        store.count_deliveries(DeliveryRows::Pending).await.unwrap(),
        1
    );
    assert_eq!(store.count_deliveries(leased).await.unwrap(), 0);
}

#[tokio::test]
async fn broken_tracking_reads_fail_while_keys_still_work() {
    let (_dir, store) = fresh().await;
    let key = store.bootstrap("a").await.unwrap().unwrap();
    let (account, made) = account_with(&store, "b", &[("S-1", "sandbox")]).await;
    assert!(store.tracking(account, &made[0].id).await.is_ok());
    store.break_tracking_reads().await.unwrap();
    assert!(store.tracking(account, &made[0].id).await.is_err());
    assert!(matches!(
        store.check_api_key(&key.key).await.unwrap(),
        parceld_store::KeyCheck::Valid(_)
    ));
    store.ping().await.unwrap();
}
