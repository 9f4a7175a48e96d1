//! Creating, reading, changing, deleting and retracking trackings; no account sees another's.

use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, Tracking, TrackingFields, TrackingId};
use parceld_store::{
    AccountId, CreateOutcome, Entity, Page, RetrackOutcome, Store, StoreError, TrackingFilter,
    TrackingPatch,
};

use crate::{account_with, claim_and_apply, new_tracking, update, Factory};

/// A 1-based page of `size`.
pub(crate) fn page(number: u32, size: u32) -> Page {
    Page { number, size }
}

/// One page of the account's trackings, unfiltered.
pub(crate) async fn listed(store: &dyn Store, account: AccountId, page: Page) -> Vec<Tracking> {
    let any = TrackingFilter::default();
    store.list_trackings(account, &any, page).await.unwrap()
}

/// The tracking after `patch`; it must exist.
async fn patched(
    store: &dyn Store,
    account: AccountId,
    id: &TrackingId,
    patch: &TrackingPatch,
) -> Tracking {
    let updated = store.update_tracking(account, id, patch).await;
    updated.unwrap().expect("the tracking exists")
}

/// The tracking numbers, in order.
pub(crate) fn numbers(trackings: &[parceld_model::Tracking]) -> Vec<&str> {
    trackings
        .iter()
        .map(|t| t.tracking_number.as_str())
        .collect()
}
pub async fn batch_create_reports_each_item_in_input_order(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = account_with(&*store, "a", &[("A1", "ups"), ("B1", "ups")]).await;
    let outcomes = store
        .create_trackings(
            account,
            vec![
                new_tracking("C1", "ups"),
                new_tracking("A1", "ups"),
                new_tracking("B1", "fedex"),
                new_tracking("B1", "ups"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    match &outcomes[0] {
        CreateOutcome::Created(t) => assert_eq!(
            (t.tracking_number.as_str(), t.courier_code.as_str()),
            ("C1", "ups")
        ),
        other => panic!("{other:?}"),
    }
    match &outcomes[1] {
        CreateOutcome::AlreadyExists {
            tracking_number,
            courier_code,
        } => assert_eq!(
            (tracking_number.as_str(), courier_code.as_str()),
            ("A1", "ups")
        ),
        other => panic!("{other:?}"),
    }
    match &outcomes[2] {
        CreateOutcome::Created(t) => {
            assert_eq!(
                (t.tracking_number.as_str(), t.courier_code.as_str()),
                ("B1", "fedex")
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&outcomes[3], CreateOutcome::AlreadyExists { .. }));
    let all = listed(&*store, account, page(1, 100)).await;
    assert_eq!(numbers(&all), ["B1", "C1", "B1", "A1"], "newest first");

    // The same number in another account is another tracking.
    let other = store.create_account("b").await.unwrap();
    let outcomes = store
        .create_trackings(other.id, vec![new_tracking("A1", "ups")])
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], CreateOutcome::Created(_)));
    let empty = store.create_trackings(other.id, Vec::new()).await.unwrap();
    assert!(empty.is_empty());
}

pub async fn created_trackings_are_pending_and_read_back(fresh: impl Factory) {
    let store = fresh().await;
    let account = store.create_account("a").await.unwrap();
    let before = Utc::now() - Duration::seconds(1);
    let mut new = new_tracking("READ-0001", "ups");
    new.courier_detected = true;
    new.fields = TrackingFields {
        order_number: Some("ORDER-7".into()),
        customer_name: Some("Ada".into()),
        ..TrackingFields::default()
    };
    new.status_info = Some("waiting".into());
    new.check_error = Some("not configured".into());
    let created = match store
        .create_trackings(account.id, vec![new])
        .await
        .unwrap()
        .pop()
        .unwrap()
    {
        CreateOutcome::Created(t) => *t,
        other => panic!("{other:?}"),
    };
    assert_eq!(created.delivery_status, DeliveryStatus::Pending);
    assert!(created.courier_detected);
    assert!(!created.archived);
    assert!(created.checkpoints.is_empty());
    assert!(created.last_checked_at.is_none());
    assert!(created.created_at >= before && created.created_at <= Utc::now());
    assert!(
        created
            .next_check_at
            .is_some_and(|t| t <= Utc::now() + Duration::seconds(1)),
        "due for a check now: {:?}",
        created.next_check_at
    );
    assert_eq!(created.fields.order_number.as_deref(), Some("ORDER-7"));
    assert_eq!(created.status_info.as_deref(), Some("waiting"));
    assert_eq!(created.check_error.as_deref(), Some("not configured"));

    let read = store
        .tracking(account.id, &created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.id, created.id);
    assert_eq!(read.tracking_number, "READ-0001");
    assert_eq!(read.courier_code, "ups");
    assert_eq!(read.fields, created.fields);
    assert_eq!(read.created_at, created.created_at);
    assert_eq!(read.status_info.as_deref(), Some("waiting"));
    assert_eq!(read.check_error.as_deref(), Some("not configured"));
    assert!(store
        .tracking(account.id, &TrackingId::generate())
        .await
        .unwrap()
        .is_none());
    let pks = crate::sandbox_pks(&*store).await;
    assert!(pks.is_empty(), "a ups tracking is not claimed as sandbox");
}

pub async fn update_changes_fields_courier_and_archived(fresh: impl Factory) {
    let store = fresh().await;
    let mut new = new_tracking("UPD-0001", "ups");
    new.courier_detected = true;
    new.fields.order_number = Some("O-1".into());
    let account = store.create_account("a").await.unwrap().id;
    let created = match store
        .create_trackings(account, vec![new])
        .await
        .unwrap()
        .pop()
    {
        Some(CreateOutcome::Created(t)) => *t,
        other => panic!("{other:?}"),
    };
    let patch = TrackingPatch {
        fields: TrackingFields {
            customer_name: Some("Ada".into()),
            ..TrackingFields::default()
        },
        ..TrackingPatch::default()
    };
    let updated = patched(&*store, account, &created.id, &patch).await;
    assert_eq!(updated.fields.customer_name.as_deref(), Some("Ada"));
    assert_eq!(
        updated.fields.order_number.as_deref(),
        Some("O-1"),
        "fields not in the patch stay"
    );
    assert!(updated.courier_detected, "same courier: still detected");
    assert!(!updated.archived);

    let patch = TrackingPatch {
        courier_code_new: Some("fedex".into()),
        archived: Some(true),
        ..TrackingPatch::default()
    };
    let moved = patched(&*store, account, &created.id, &patch).await;
    assert_eq!(moved.courier_code, "fedex");
    assert!(
        !moved.courier_detected,
        "a courier set by hand is not detected"
    );
    assert!(moved.archived);
    assert_eq!(moved.id, created.id);
    let read = store.tracking(account, &created.id).await.unwrap().unwrap();
    assert_eq!(read.courier_code, "fedex");
    assert!(read.archived);
    let unarchived = store
        .update_tracking(
            account,
            &created.id,
            &TrackingPatch {
                archived: Some(false),
                ..TrackingPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!unarchived.archived);

    assert!(store
        .update_tracking(account, &TrackingId::generate(), &TrackingPatch::default())
        .await
        .unwrap()
        .is_none());
}

pub async fn update_to_a_taken_courier_is_a_conflict(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) =
        account_with(&*store, "a", &[("DUP-0001", "ups"), ("DUP-0001", "fedex")]).await;
    let patch = TrackingPatch {
        courier_code_new: Some("fedex".into()),
        ..TrackingPatch::default()
    };
    let err = store
        .update_tracking(account, &made[0].id, &patch)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Entity::Tracking, _)),
        "{err:?}"
    );
    let unchanged = store.tracking(account, &made[0].id).await.unwrap().unwrap();
    assert_eq!(unchanged.courier_code, "ups");
}

pub async fn delete_removes_only_the_named_tracking(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) =
        account_with(&*store, "a", &[("DEL-0001", "ups"), ("DEL-0002", "ups")]).await;
    let deleted = store
        .delete_tracking(account, &made[0].id)
        .await
        .unwrap()
        .expect("it existed");
    assert_eq!(deleted.id, made[0].id);
    assert_eq!(deleted.tracking_number, "DEL-0001");
    assert!(store
        .tracking(account, &made[0].id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .delete_tracking(account, &made[0].id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .tracking(account, &made[1].id)
        .await
        .unwrap()
        .is_some());
    // The number can be stored again after deletion.
    let again = store
        .create_trackings(account, vec![new_tracking("DEL-0001", "ups")])
        .await
        .unwrap();
    assert!(matches!(&again[0], CreateOutcome::Created(t) if t.id != made[0].id));
}

pub async fn retrack_only_reactivates_expired_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) = account_with(&*store, "a", &[("RETRACK-0001", "sandbox")]).await;
    let id = made[0].id.clone();
    assert!(matches!(
        store.retrack(account, &id).await.unwrap(),
        RetrackOutcome::NotExpired
    ));
    assert!(matches!(
        store
            .retrack(account, &TrackingId::generate())
            .await
            .unwrap(),
        RetrackOutcome::NotFound
    ));
    // Expired by a refresh: no next check.
    let report = claim_and_apply(&*store, "w", Utc::now() + Duration::seconds(1), |pk| {
        let mut expired = update(pk, Vec::new(), DeliveryStatus::Expired);
        expired.next_check_at = None;
        expired
    })
    .await;
    assert_eq!(report.applied, 1);
    let later = Utc::now() + Duration::days(30);
    assert!(store
        .claim_due("w", later, later + Duration::minutes(5), 10, "sandbox")
        .await
        .unwrap()
        .is_empty());
    let retracked = match store.retrack(account, &id).await.unwrap() {
        RetrackOutcome::Retracked(t) => *t,
        other => panic!("{other:?}"),
    };
    assert_eq!(retracked.delivery_status, DeliveryStatus::Pending);
    assert!(retracked.next_check_at.is_some());
    let now = Utc::now() + Duration::seconds(1);
    let due = store
        .claim_due("w", now, now + Duration::minutes(5), 10, "sandbox")
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "due again now");
    assert!(matches!(
        store.retrack(account, &id).await.unwrap(),
        RetrackOutcome::NotExpired
    ));
}

pub async fn accounts_never_see_each_others_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let (a, made) = account_with(&*store, "a", &[("MINE-0001", "ups")]).await;
    let b = store.create_account("b").await.unwrap().id;
    let id = &made[0].id;
    assert!(store.tracking(b, id).await.unwrap().is_none());
    assert!(listed(&*store, b, page(1, 100)).await.is_empty());
    let patch = TrackingPatch {
        archived: Some(true),
        ..TrackingPatch::default()
    };
    assert!(store
        .update_tracking(b, id, &patch)
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_tracking(b, id).await.unwrap().is_none());
    assert!(matches!(
        store.retrack(b, id).await.unwrap(),
        RetrackOutcome::NotFound
    ));
    let now = Utc::now();
    assert!(matches!(
        store
            .claim_tracking(b, id, "w", now, now + Duration::minutes(1))
            .await
            .unwrap(),
        parceld_store::ClaimOne::NotFound
    ));
    let kept = store.tracking(a, id).await.unwrap().unwrap();
    assert!(!kept.archived);
}
