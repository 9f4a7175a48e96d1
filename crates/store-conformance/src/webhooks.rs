//! Webhook endpoints and the outbox: deliveries written with the change, only for matching
//! enabled endpoints; claims that keep per-(endpoint, tracking) order and the per-endpoint cap;
//! attempts recorded in batches; endpoints disabled after failing long enough; redelivery.

use chrono::{DateTime, Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus};
use parceld_store::{
    AccountId, AttemptOutcome, AttemptRecord, ClaimedDelivery, CreateWebhook, NewWebhook, Store,
    WebhookEndpoint, WebhookPatch, WebhookVersion,
};

use crate::{claim_sandbox, numbered, sandbox_pks, update, Factory};

/// An account `a` with `trackings` sandbox trackings; returns it and their primary keys.
async fn setup(store: &dyn Store, trackings: usize) -> (AccountId, Vec<i64>) {
    let (account, _) = numbered(store, trackings).await;
    (account, sandbox_pks(store).await)
}

fn new_endpoint(statuses: Vec<DeliveryStatus>) -> NewWebhook {
    NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        description: String::new(),
        statuses,
        version: WebhookVersion::V4,
        enabled: true,
        secret: "whsec_AAAA".into(),
    }
}

async fn endpoint(
    store: &dyn Store,
    account: AccountId,
    statuses: Vec<DeliveryStatus>,
) -> WebhookEndpoint {
    match store
        .create_webhook(account, &new_endpoint(statuses), 10)
        .await
        .unwrap()
    {
        CreateWebhook::Created(e) => *e,
        other => panic!("{other:?}"),
    }
}

async fn set_enabled(
    store: &dyn Store,
    endpoint: &WebhookEndpoint,
    enabled: bool,
) -> WebhookEndpoint {
    let patch = WebhookPatch {
        enabled: Some(enabled),
        ..Default::default()
    };
    let changed = store.update_webhook(None, &endpoint.id, &patch).await;
    changed.unwrap().expect("the endpoint exists")
}

/// How many deliveries an endpoint has, in any state.
async fn delivery_count(store: &dyn Store, endpoint_pk: i64) -> usize {
    store
        .deliveries(endpoint_pk, 100_000, None)
        .await
        .unwrap()
        .len()
}

fn checkpoint(minute: u32, status: DeliveryStatus) -> Checkpoint {
    crate::checkpoint(minute, status, &format!("event {minute}"))
}

/// Claims `pks` and applies one refresh to each with these checkpoints and status.
async fn refresh(
    store: &dyn Store,
    pks: &[i64],
    checkpoints: Vec<Checkpoint>,
    status: DeliveryStatus,
) -> parceld_store::ApplyReport {
    claim_sandbox(store, "w", Utc::now() + Duration::hours(10), 1000).await;
    let updates = pks
        .iter()
        .map(|pk| update(*pk, checkpoints.clone(), status))
        .collect();
    store.apply_refresh("w", updates).await.unwrap()
}

/// [`refresh`] of `pks` to in transit with one checkpoint.
async fn in_transit(store: &dyn Store, pks: &[i64]) -> parceld_store::ApplyReport {
    let transit = DeliveryStatus::Transit;
    refresh(store, pks, vec![checkpoint(1, transit)], transit).await
}

async fn claim_at(
    store: &dyn Store,
    at: DateTime<Utc>,
    per_endpoint: usize,
) -> Vec<ClaimedDelivery> {
    store
        .claim_deliveries("d", at, at + Duration::seconds(60), 1000, per_endpoint)
        .await
        .unwrap()
}

pub(crate) async fn claim(store: &dyn Store, per_endpoint: usize) -> Vec<ClaimedDelivery> {
    claim_at(store, Utc::now() + Duration::seconds(1), per_endpoint).await
}

/// Records a successful attempt of each of `claimed`, now.
pub(crate) async fn delivered(store: &dyn Store, claimed: &[ClaimedDelivery]) {
    let now = Utc::now();
    let records: Vec<AttemptRecord> = claimed
        .iter()
        .map(|d| record(d, AttemptOutcome::Delivered, now))
        .collect();
    let disabled = store.record_attempts("d", &records, Duration::days(5), now);
    assert!(disabled.await.unwrap().is_empty());
}

fn record(d: &ClaimedDelivery, outcome: AttemptOutcome, at: DateTime<Utc>) -> AttemptRecord {
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

pub async fn endpoints_are_created_listed_updated_and_deleted_per_account(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("a").await.unwrap().id;
    let b = store.create_account("b").await.unwrap().id;
    let mut new = new_endpoint(vec![DeliveryStatus::Delivered, DeliveryStatus::Exception]);
    new.description = "orders".into();
    let first = match store.create_webhook(a, &new, 2).await.unwrap() {
        CreateWebhook::Created(e) => *e,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.account_id, a);
    assert_eq!(first.url, new.url);
    assert_eq!(first.description, "orders");
    assert_eq!(first.statuses, new.statuses);
    assert_eq!(first.version, WebhookVersion::V4);
    assert!(first.enabled);
    assert_eq!(first.secret, "whsec_AAAA");
    assert!(first.disabled_reason.is_none() && first.failing_since.is_none());
    let second = endpoint(&*store, a, vec![]).await;
    assert_ne!(first.id, second.id);
    assert!(matches!(
        store.create_webhook(a, &new, 2).await.unwrap(),
        CreateWebhook::LimitReached { max: 2 }
    ));
    let other = endpoint(&*store, b, vec![]).await;

    let ids = |list: Vec<WebhookEndpoint>| list.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let of_a = ids(store.webhooks(Some(a)).await.unwrap());
    assert_eq!(of_a.len(), 2);
    assert!(of_a.contains(&first.id) && of_a.contains(&second.id));
    assert_eq!(
        ids(store.webhooks(Some(b)).await.unwrap()),
        std::slice::from_ref(&other.id)
    );
    assert_eq!(
        store.webhooks(None).await.unwrap().len(),
        3,
        "the operator sees all"
    );
    assert_eq!(
        store.webhook(Some(a), &first.id).await.unwrap().unwrap().id,
        first.id
    );
    assert!(store.webhook(Some(b), &first.id).await.unwrap().is_none());
    assert!(store.webhook(None, &first.id).await.unwrap().is_some());
    assert!(store.webhook(Some(a), "wh_none").await.unwrap().is_none());

    let patch = WebhookPatch {
        url: Some("http://127.0.0.1:9/other".into()),
        description: Some("changed".into()),
        statuses: Some(vec![]),
        version: Some(WebhookVersion::V2),
        enabled: Some(false),
        secret: Some("whsec_BBBB".into()),
    };
    assert!(store
        .update_webhook(Some(b), &first.id, &patch)
        .await
        .unwrap()
        .is_none());
    let changed = store
        .update_webhook(Some(a), &first.id, &patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.url, "http://127.0.0.1:9/other");
    assert_eq!(changed.description, "changed");
    assert!(changed.statuses.is_empty());
    assert_eq!(changed.version, WebhookVersion::V2);
    assert!(!changed.enabled);
    assert_eq!(changed.secret, "whsec_BBBB");
    let partial = store
        .update_webhook(
            Some(a),
            &first.id,
            &WebhookPatch {
                description: Some("again".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(partial.url, changed.url, "what the patch leaves out stays");
    assert_eq!(partial.description, "again");

    assert!(store
        .delete_webhook(Some(b), &first.id)
        .await
        .unwrap()
        .is_none());
    let deleted = store
        .delete_webhook(Some(a), &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.id, first.id);
    assert!(store.webhook(None, &first.id).await.unwrap().is_none());
    assert!(store
        .delete_webhook(None, &first.id)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.create_webhook(a, &new, 2).await.unwrap(),
        CreateWebhook::Created(_)
    ));
    let gauges = store.webhook_gauges().await.unwrap();
    assert_eq!(gauges.pending_deliveries, 0);
    assert_eq!(gauges.endpoints_by_state, [("enabled".to_string(), 3)]);
}

pub async fn changes_queue_one_delivery_per_matching_enabled_endpoint_in_the_same_call(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let (account, pks) = setup(&*store, 3).await;
    let all = endpoint(&*store, account, vec![]).await;
    let delivered = endpoint(&*store, account, vec![DeliveryStatus::Delivered]).await;
    let off = endpoint(&*store, account, vec![]).await;
    set_enabled(&*store, &off, false).await;
    let other_account = store.create_account("b").await.unwrap().id;
    let foreign = endpoint(&*store, other_account, vec![]).await;
    let report = in_transit(&*store, &pks).await;
    assert_eq!(report.deliveries, 3, "written by the apply itself");
    let claimed = claim(&*store, 100).await;
    assert_eq!(claimed.len(), 3, "transit: only the all-statuses endpoint");
    assert!(claimed.iter().all(|d| d.endpoint_pk == all.pk));
    let event_ids: Vec<&str> = report.changes.iter().map(|c| c.event_id.as_str()).collect();
    assert!(claimed
        .iter()
        .all(|d| event_ids.contains(&d.event_id.as_str())));
    // The same data again is no change: nothing more is queued.
    let report = in_transit(&*store, &pks).await;
    assert_eq!(report.deliveries, 0);
    assert_eq!(delivery_count(&*store, all.pk).await, 3);
    assert_eq!(delivery_count(&*store, delivered.pk).await, 0);
    assert_eq!(delivery_count(&*store, off.pk).await, 0);
    assert_eq!(delivery_count(&*store, foreign.pk).await, 0);
    refresh(
        &*store,
        &pks[..1],
        vec![checkpoint(2, DeliveryStatus::Delivered)],
        DeliveryStatus::Delivered,
    )
    .await;
    assert_eq!(delivery_count(&*store, delivered.pk).await, 1);
    assert_eq!(delivery_count(&*store, all.pk).await, 4);
    assert_eq!(delivery_count(&*store, off.pk).await, 0);
    assert_eq!(delivery_count(&*store, foreign.pk).await, 0);
}

pub async fn claims_keep_order_per_tracking_and_the_per_endpoint_cap(fresh: impl Factory) {
    let store = fresh().await;
    let (account, pks) = setup(&*store, 5).await;
    endpoint(&*store, account, vec![]).await;
    in_transit(&*store, &pks).await;
    refresh(
        &*store,
        &pks,
        vec![checkpoint(2, DeliveryStatus::Pickup)],
        DeliveryStatus::Pickup,
    )
    .await;
    // Ten due deliveries, two per tracking: at most the cap, and never the second of a pair
    // while the first is pending.
    let first = claim(&*store, 3).await;
    assert_eq!(first.len(), 3);
    let mut trackings: Vec<i64> = first.iter().filter_map(|d| d.tracking_pk).collect();
    trackings.dedup();
    assert_eq!(trackings.len(), 3, "one per tracking: {first:?}");
    assert!(
        claim(&*store, 3).await.is_empty(),
        "the cap is reached while they are leased"
    );
    delivered(&*store, &first).await;
    let second = claim(&*store, 100).await;
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

pub async fn an_endpoint_that_keeps_failing_is_disabled_and_a_success_resets_the_clock(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let (account, pks) = setup(&*store, 1).await;
    let e = endpoint(&*store, account, vec![]).await;
    let t0 = Utc::now();
    in_transit(&*store, &pks).await;
    let d = claim(&*store, 4).await.pop().unwrap();
    let retry = AttemptOutcome::Retry { at: t0 };
    let disabled = store
        .record_attempts("d", &[record(&d, retry, t0)], Duration::seconds(2), t0)
        .await
        .unwrap();
    assert!(disabled.is_empty());
    let d = claim(&*store, 4).await.pop().unwrap();
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
        claim(&*store, 4).await.is_empty(),
        "nothing is sent to a disabled endpoint"
    );
    let gauges = store.webhook_gauges().await.unwrap();
    assert_eq!(gauges.pending_deliveries, 1, "the delivery is kept");
    assert_eq!(
        gauges.endpoints_by_state,
        [("disabled_failing".to_string(), 1)]
    );
    // Enabled again, a success ends the failing run.
    let shown = set_enabled(&*store, &e, true).await;
    assert!(shown.failing_since.is_none() && shown.disabled_reason.is_none());
}

pub async fn attempts_of_an_endpoint_deleted_mid_flight_do_not_sink_the_batch(fresh: impl Factory) {
    let store = fresh().await;
    let (account, pks) = setup(&*store, 2).await;
    let kept = endpoint(&*store, account, vec![]).await;
    let deleted = endpoint(&*store, account, vec![]).await;
    in_transit(&*store, &pks).await;
    let claimed = claim(&*store, 10).await;
    assert_eq!(claimed.len(), 4);
    store.delete_webhook(None, &deleted.id).await.unwrap();
    delivered(&*store, &claimed).await;
    let log = store.deliveries(kept.pk, 10, None).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|d| d.state == "delivered" && d.attempt_log.len() == 1));
}

pub async fn deliveries_behind_many_that_cannot_go_are_still_claimed(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = setup(&*store, 0).await;
    let off = endpoint(&*store, account, vec![]).await;
    let on = endpoint(&*store, account, vec![]).await;
    // More due deliveries of a disabled endpoint than a claim looks at first (256 for a claim
    // of 2), all older than the one delivery that can go.
    for i in 0..300 {
        store
            .insert_delivery(&off, "TEST", &format!("evt_off_{i}"), Some("{}"), true)
            .await
            .unwrap();
    }
    set_enabled(&*store, &off, false).await;
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

pub async fn retries_are_recorded_and_redelivery_queues_again(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = setup(&*store, 0).await;
    let e = endpoint(&*store, account, vec![]).await;
    let (_, not_due) = store
        .insert_delivery(&e, "TEST", "evt_sent_by_caller", None, false)
        .await
        .unwrap();
    let (pk, id) = store
        .insert_delivery(&e, "TEST", "evt_queued", None, true)
        .await
        .unwrap();
    let now = Utc::now();
    let first = claim(&*store, 4).await;
    assert_eq!(first.len(), 1, "a delivery not queued is not claimed");
    assert_eq!((first[0].pk, first[0].id.as_str()), (pk, id.as_str()));
    assert_eq!(first[0].attempts, 0);
    assert!(first[0].payload.is_none());
    assert_eq!(first[0].secret, e.secret);

    // A failed attempt: retried at the given time, with the body of the first attempt.
    let retry_at = now + Duration::hours(1);
    store
        .record_attempts(
            "d",
            &[record(
                &first[0],
                AttemptOutcome::Retry { at: retry_at },
                now,
            )],
            Duration::days(5),
            now,
        )
        .await
        .unwrap();
    assert!(
        claim(&*store, 4).await.is_empty(),
        "not due before the retry"
    );
    let shown = store.deliveries(e.pk, 10, Some(&id)).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].state, "pending");
    assert_eq!(shown[0].attempts, 1);
    assert_eq!(shown[0].attempt_log.len(), 1);
    assert_eq!(shown[0].attempt_log[0].http_status, Some(500));
    assert_eq!(shown[0].payload.as_deref(), Some("{}"));
    let again = claim_at(&*store, retry_at + Duration::seconds(1), 4).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(
        again[0].payload.as_deref(),
        Some("{}"),
        "retries repeat the body"
    );

    // Given up: failed, and never claimed again until redelivered.
    let at = retry_at + Duration::seconds(1);
    store
        .record_attempts(
            "d",
            &[record(&again[0], AttemptOutcome::GiveUp, at)],
            Duration::days(5),
            at,
        )
        .await
        .unwrap();
    let shown = store.deliveries(e.pk, 10, Some(&id)).await.unwrap();
    assert_eq!(shown[0].state, "failed");
    assert_eq!(shown[0].attempt_log.len(), 2);
    assert!(shown[0].finished_at.is_some());
    assert!(claim_at(&*store, at + Duration::days(1), 4)
        .await
        .is_empty());
    assert!(store.redeliver(e.pk, &id).await.unwrap());
    assert!(!store.redeliver(e.pk, "dlv_none").await.unwrap());
    let redelivered = claim(&*store, 4).await;
    assert_eq!(redelivered.len(), 1);
    assert_eq!(redelivered[0].id, id);
    assert_eq!(redelivered[0].attempts, 0, "counted afresh");
    assert_eq!(redelivered[0].event_id, "evt_queued", "the same event");
    assert_eq!(store.release_deliveries("d").await.unwrap(), 1);
    let sent = claim(&*store, 4).await;
    assert_eq!(sent.len(), 1, "released: claimable at once");

    // The log is newest first; finished deliveries are pruned, pending ones stay.
    let log = store.deliveries(e.pk, 10, None).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].id, not_due);
    let prune_now = || store.prune_deliveries(Utc::now() + Duration::seconds(1));
    assert_eq!(prune_now().await.unwrap(), 0, "nothing finished");
    delivered(&*store, &sent).await;
    let yesterday = Utc::now() - Duration::days(1);
    let pruned = store.prune_deliveries(yesterday).await.unwrap();
    assert_eq!(pruned, 0, "created after the cut-off");
    assert_eq!(prune_now().await.unwrap(), 1, "the delivered one");
    let log = store.deliveries(e.pk, 10, None).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].id, not_due, "pending stays");
}
