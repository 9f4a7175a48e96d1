//! The webhook outbox against a real SQLite file: deliveries written with the change, only for
//! matching enabled endpoints; claims that keep per-(endpoint, tracking) order and the
//! per-endpoint cap; attempts recorded in batches; endpoints disabled after failing long enough.

use chrono::{Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, Leg, TrackingFields};
use parceld_store::{
    AttemptOutcome, AttemptRecord, ClaimedDelivery, CreateWebhook, NewTracking, NewWebhook,
    RefreshUpdate, Store, WebhookEndpoint, WebhookVersion,
};
use parceld_store_sqlite::SqliteStore;

async fn setup(trackings: usize) -> (tempfile::TempDir, SqliteStore, i64, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let account = store.create_account("a").await.unwrap();
    let new = (0..trackings)
        .map(|i| NewTracking {
            tracking_number: format!("NUM-{i:05}"),
            courier_code: "sandbox".into(),
            courier_detected: false,
            fields: TrackingFields::default(),
            status_info: None,
        })
        .collect();
    store.create_trackings(account.id, new).await.unwrap();
    let pks: Vec<i64> = sqlx::query_scalar("SELECT pk FROM trackings ORDER BY pk")
        .fetch_all(store.pool())
        .await
        .unwrap();
    (dir, store, account.id, pks)
}

async fn endpoint(
    store: &SqliteStore,
    account: i64,
    statuses: Vec<DeliveryStatus>,
) -> WebhookEndpoint {
    let new = NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        description: String::new(),
        statuses,
        version: WebhookVersion::V4,
        enabled: true,
        secret: "whsec_AAAA".into(),
    };
    match store.create_webhook(account, &new, 10).await.unwrap() {
        CreateWebhook::Created(e) => *e,
        other => panic!("{other:?}"),
    }
}

async fn disable(store: &SqliteStore, endpoint: &WebhookEndpoint) {
    store
        .update_webhook(
            None,
            &endpoint.id,
            &parceld_store::WebhookPatch {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

fn checkpoint(minute: u32, status: DeliveryStatus) -> Checkpoint {
    Checkpoint {
        leg: Leg::Origin,
        time: format!("2024-05-01T10:{minute:02}:00Z").parse().unwrap(),
        checkpoint_date: format!("2024-05-01T10:{minute:02}:00+00:00"),
        status,
        substatus: None,
        detail: format!("event {minute}"),
        location: "Here".into(),
        country_iso2: "NL".into(),
        state: String::new(),
        city: String::new(),
        zip: String::new(),
        raw_status: "X".into(),
        raw_time: String::new(),
    }
}

/// Claims `pks` and applies one refresh to each with these checkpoints and status.
async fn refresh(
    store: &SqliteStore,
    pks: &[i64],
    checkpoints: Vec<Checkpoint>,
    status: DeliveryStatus,
) {
    let now = Utc::now();
    store
        .claim_due(
            "w",
            now + Duration::hours(10),
            now + Duration::hours(11),
            1000,
            "sandbox",
        )
        .await
        .unwrap();
    let updates = pks
        .iter()
        .map(|pk| RefreshUpdate {
            pk: *pk,
            latest_event: None,
            latest_checkpoint_time: None,
            checkpoints: checkpoints.clone(),
            shipment: None,
            delivery_status: status,
            substatus: None,
            status_info: None,
            check_error: None,
            check_failures: 0,
            notfound_since: None,
            next_check_at: Some(now),
            checked_at: now,
        })
        .collect();
    store.apply_refresh("w", updates).await.unwrap();
}

async fn claim(store: &SqliteStore, per_endpoint: usize) -> Vec<ClaimedDelivery> {
    let now = Utc::now() + Duration::seconds(1);
    store
        .claim_deliveries("d", now, now + Duration::seconds(60), 1000, per_endpoint)
        .await
        .unwrap()
}

fn record(
    d: &ClaimedDelivery,
    outcome: AttemptOutcome,
    at: chrono::DateTime<Utc>,
) -> AttemptRecord {
    AttemptRecord {
        delivery_pk: d.pk,
        endpoint_pk: d.endpoint_pk,
        attempted_at: at,
        http_status: Some(if outcome == AttemptOutcome::Delivered {
            200
        } else {
            500
        }),
        latency_ms: 3,
        error: None,
        response_snippet: None,
        outcome,
        payload: Some("{}".into()),
    }
}

#[tokio::test]
async fn changes_queue_one_delivery_per_matching_enabled_endpoint_in_the_same_transaction() {
    let (_dir, store, account, pks) = setup(3).await;
    let all = endpoint(&store, account, vec![]).await;
    let delivered = endpoint(&store, account, vec![DeliveryStatus::Delivered]).await;
    let off = endpoint(&store, account, vec![]).await;
    disable(&store, &off).await;
    refresh(
        &store,
        &pks,
        vec![checkpoint(1, DeliveryStatus::Transit)],
        DeliveryStatus::Transit,
    )
    .await;
    let claimed = claim(&store, 100).await;
    assert_eq!(claimed.len(), 3, "transit: only the all-statuses endpoint");
    assert!(claimed.iter().all(|d| d.endpoint_pk == all.pk));
    // The same data again is no change: nothing more is queued.
    refresh(
        &store,
        &pks,
        vec![checkpoint(1, DeliveryStatus::Transit)],
        DeliveryStatus::Transit,
    )
    .await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 3);
    refresh(
        &store,
        &pks[..1],
        vec![checkpoint(2, DeliveryStatus::Delivered)],
        DeliveryStatus::Delivered,
    )
    .await;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_pk = ?")
            .bind(delivered.pk)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn claims_keep_order_per_tracking_and_the_per_endpoint_cap() {
    let (_dir, store, account, pks) = setup(5).await;
    endpoint(&store, account, vec![]).await;
    refresh(
        &store,
        &pks,
        vec![checkpoint(1, DeliveryStatus::Transit)],
        DeliveryStatus::Transit,
    )
    .await;
    refresh(
        &store,
        &pks,
        vec![checkpoint(2, DeliveryStatus::Pickup)],
        DeliveryStatus::Pickup,
    )
    .await;
    // Ten due deliveries, two per tracking: at most the cap, and never the second of a pair
    // while the first is pending.
    let first = claim(&store, 3).await;
    assert_eq!(first.len(), 3);
    let mut trackings: Vec<i64> = first.iter().filter_map(|d| d.tracking_pk).collect();
    trackings.dedup();
    assert_eq!(trackings.len(), 3, "one per tracking: {first:?}");
    assert!(
        claim(&store, 3).await.is_empty(),
        "the cap is reached while they are leased"
    );
    let now = Utc::now();
    let records: Vec<AttemptRecord> = first
        .iter()
        .map(|d| record(d, AttemptOutcome::Delivered, now))
        .collect();
    store
        .record_attempts("d", &records, Duration::days(5), now)
        .await
        .unwrap();
    let second = claim(&store, 100).await;
    assert_eq!(
        second.len(),
        5,
        "the three successors and the two untouched firsts"
    );
    let second_trackings: Vec<i64> = second.iter().filter_map(|d| d.tracking_pk).collect();
    for pk in &pks {
        assert_eq!(second_trackings.iter().filter(|t| *t == pk).count(), 1);
    }
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_a_success_resets_the_clock() {
    let (_dir, store, account, pks) = setup(1).await;
    let e = endpoint(&store, account, vec![]).await;
    let t0 = Utc::now();
    refresh(
        &store,
        &pks,
        vec![checkpoint(1, DeliveryStatus::Transit)],
        DeliveryStatus::Transit,
    )
    .await;
    let d = claim(&store, 4).await.pop().unwrap();
    let retry = AttemptOutcome::Retry { at: t0 };
    let disabled = store
        .record_attempts("d", &[record(&d, retry, t0)], Duration::seconds(2), t0)
        .await
        .unwrap();
    assert!(disabled.is_empty());
    let d = claim(&store, 4).await.pop().unwrap();
    let later = t0 + Duration::seconds(3);
    let disabled = store
        .record_attempts(
            "d",
            &[record(&d, AttemptOutcome::Retry { at: later }, later)],
            Duration::seconds(2),
            later,
        )
        .await
        .unwrap();
    assert_eq!(disabled, vec![e.id.clone()]);
    let shown = store.webhook(None, &e.id).await.unwrap().unwrap();
    assert!(!shown.enabled);
    assert!(shown
        .disabled_reason
        .unwrap()
        .contains("Disabled by parceld"));
    assert!(
        claim(&store, 4).await.is_empty(),
        "nothing is sent to a disabled endpoint"
    );
    // Enabled again, a success ends the failing run.
    let patch = parceld_store::WebhookPatch {
        enabled: Some(true),
        ..Default::default()
    };
    let shown = store
        .update_webhook(None, &e.id, &patch)
        .await
        .unwrap()
        .unwrap();
    assert!(shown.failing_since.is_none() && shown.disabled_reason.is_none());
}

#[tokio::test]
async fn attempts_of_an_endpoint_deleted_mid_flight_do_not_sink_the_batch() {
    let (_dir, store, account, pks) = setup(2).await;
    let kept = endpoint(&store, account, vec![]).await;
    let deleted = endpoint(&store, account, vec![]).await;
    refresh(
        &store,
        &pks,
        vec![checkpoint(1, DeliveryStatus::Transit)],
        DeliveryStatus::Transit,
    )
    .await;
    let claimed = claim(&store, 10).await;
    assert_eq!(claimed.len(), 4);
    store.delete_webhook(None, &deleted.id).await.unwrap();
    let now = Utc::now();
    let records: Vec<AttemptRecord> = claimed
        .iter()
        .map(|d| record(d, AttemptOutcome::Delivered, now))
        .collect();
    store
        .record_attempts("d", &records, Duration::days(5), now)
        .await
        .unwrap();
    let log = store.deliveries(kept.pk, 10, None).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|d| d.state == "delivered" && d.attempt_log.len() == 1));
}

#[tokio::test]
async fn deliveries_behind_many_that_cannot_go_are_still_claimed() {
    let (_dir, store, account, _) = setup(0).await;
    let off = endpoint(&store, account, vec![]).await;
    let on = endpoint(&store, account, vec![]).await;
    // More due deliveries of a disabled endpoint than a claim looks at first (256 for a claim
    // of 2), all older than the one delivery that can go.
    for i in 0..300 {
        store
            .insert_delivery(&off, "TEST", &format!("evt_off_{i}"), Some("{}"), true)
            .await
            .unwrap();
    }
    disable(&store, &off).await;
    store
        .insert_delivery(&on, "TEST", "evt_on", Some("{}"), true)
        .await
        .unwrap();
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_deliveries("d", now, now + Duration::seconds(60), 2, 4)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].endpoint_pk, on.pk);
}
