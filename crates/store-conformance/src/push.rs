//! Carrier push: claims by number across accounts, the receipt written with the refresh in one
//! transaction (a replay applies nothing and releases its claims), a batch's claim in that same
//! transaction, bounded receipts, and push coverage from subscriptions and pushes.

use chrono::{Duration, Utc};
use parceld_model::DeliveryStatus;
use parceld_store::push::{PushPlan, PushedNumbers};
use parceld_store::{PushApplied, PushClaim, PushReceipt, PushToApply, Subscribed};

use crate::{account_with, checkpoint, update, Factory};

fn receipt(byte: u8, at: chrono::DateTime<Utc>) -> PushReceipt {
    PushReceipt {
        source: "ups".into(),
        digest: [byte; 32],
        received_at: at,
        expires_at: at + Duration::hours(1),
    }
}

pub async fn a_push_applies_once_to_every_account_and_its_replay_changes_nothing(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let pairs = [("1Z0000000000000001", "ups"), ("1Z0000000000000002", "ups")];
    let (a, _) = account_with(&*store, "a", &pairs).await;
    let (b, _) = account_with(&*store, "b", &pairs[..1]).await;
    let now = Utc::now();
    let lease = now + Duration::minutes(1);
    let numbers = vec![pairs[0].0.to_string()];
    let claim = store
        .claim_pushed("ups", &numbers, "w", now, lease)
        .await
        .unwrap();
    assert_eq!(claim.claimed.len(), 2, "both accounts track the number");
    assert!(claim.busy.is_empty());
    let mut accounts: Vec<i64> = claim.claimed.iter().map(|c| c.account_id).collect();
    accounts.sort();
    assert_eq!(accounts, vec![a, b]);
    // Another worker finds them busy until they are applied.
    let other = store.claim_pushed("ups", &numbers, "x", now, lease).await;
    let busy = other.unwrap().busy;
    assert_eq!(busy.into_iter().collect::<Vec<_>>(), numbers, "held by w");
    let pks: Vec<i64> = claim.claimed.iter().map(|c| c.pk).collect();
    let events = vec![checkpoint(30, DeliveryStatus::Transit, "Departed")];
    let updates: Vec<_> = pks
        .iter()
        .map(|pk| update(*pk, events.clone(), DeliveryStatus::Transit))
        .collect();
    let covered_until = now + Duration::hours(2);
    let first = store
        .apply_push("w", &receipt(1, now), updates.clone(), &[], covered_until)
        .await
        .unwrap();
    let PushApplied::Applied(report) = first else {
        panic!("a new receipt applies")
    };
    assert_eq!((report.applied, report.changes.len()), (2, 2));
    let mut covered = store.push_covered(&pks, now).await.unwrap();
    covered.sort();
    assert_eq!(covered, pks, "pushed trackings are covered");
    assert!(store
        .push_covered(&pks, covered_until + Duration::seconds(1))
        .await
        .unwrap()
        .is_empty());

    // The same push again: refused, nothing applied, the claims released.
    let again = store.claim_pushed("ups", &numbers, "w", now, lease).await;
    assert_eq!(again.unwrap().claimed.len(), 2);
    let replay = store
        .apply_push("w", &receipt(1, now), updates, &[], covered_until)
        .await
        .unwrap();
    assert!(matches!(replay, PushApplied::Replayed));
    for pk in &pks {
        assert_eq!(store.changes_of(*pk).await.unwrap().len(), 1);
    }
    let free = store.claim_pushed("ups", &numbers, "x", now, lease).await;
    assert_eq!(
        free.unwrap().claimed.len(),
        2,
        "the replay released its claims"
    );
    assert_eq!(store.push_receipts().await.unwrap(), 1);
}

pub async fn a_batch_of_pushes_applies_in_one_call_each_with_its_own_outcome(fresh: impl Factory) {
    let store = fresh().await;
    let numbers: Vec<String> = (1..=3).map(|i| format!("1Z{i:016}")).collect();
    let pairs: Vec<(&str, &str)> = numbers.iter().map(|n| (n.as_str(), "ups")).collect();
    account_with(&*store, "a", &pairs).await;
    let (now, lease) = (Utc::now(), Utc::now() + Duration::minutes(1));
    // The third push's receipt is already known: a replay in the batch.
    let known = receipt(3, now);
    let known = store.apply_push("w", &known, Vec::new(), &[], now).await;
    assert!(matches!(known.unwrap(), PushApplied::Applied(_)));
    let claim = store
        .claim_pushed("ups", &numbers, "w", now, lease)
        .await
        .unwrap();
    let pk_of = |number: &str| {
        let claimed = claim.claimed.iter().find(|c| c.tracking_number == number);
        claimed.unwrap().pk
    };
    let events = vec![checkpoint(30, DeliveryStatus::Transit, "Departed")];
    let push = |byte: u8, number: &str| PushToApply {
        receipt: receipt(byte, now),
        updates: vec![update(
            pk_of(number),
            events.clone(),
            DeliveryStatus::Transit,
        )],
        release: Vec::new(),
    };
    let batch = vec![
        push(1, pairs[0].0),
        push(2, pairs[1].0),
        push(3, pairs[2].0),
    ];
    let covered_until = now + Duration::hours(2);
    let outcomes = store
        .apply_pushes("w", batch, &[], covered_until)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3, "one outcome per push");
    for (index, outcome) in outcomes.iter().take(2).enumerate() {
        let PushApplied::Applied(report) = outcome else {
            panic!("push {index} has a new receipt")
        };
        assert_eq!((report.applied, report.changes.len()), (1, 1));
        assert_eq!(report.changes[0].tracking_pk, pk_of(pairs[index].0));
    }
    assert!(matches!(outcomes[2], PushApplied::Replayed));
    assert_eq!(store.changes_of(pk_of(pairs[0].0)).await.unwrap().len(), 1);
    assert_eq!(store.changes_of(pk_of(pairs[1].0)).await.unwrap().len(), 1);
    assert!(store
        .changes_of(pk_of(pairs[2].0))
        .await
        .unwrap()
        .is_empty());
    let mut covered = store
        .push_covered(
            &[pk_of(pairs[0].0), pk_of(pairs[1].0), pk_of(pairs[2].0)],
            now,
        )
        .await
        .unwrap();
    covered.sort();
    assert_eq!(covered, vec![pk_of(pairs[0].0), pk_of(pairs[1].0)]);
    assert_eq!(store.push_receipts().await.unwrap(), 3);
    // Every claim of the batch was given back, the replay's too.
    let free = store.claim_pushed("ups", &numbers, "x", now, lease).await;
    assert_eq!(free.unwrap().claimed.len(), 3);
}

pub async fn a_batch_is_claimed_and_applied_in_one_call_each_push_with_its_own_outcome(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let numbers: Vec<String> = (1..=3).map(|i| format!("1Z{i:016}")).collect();
    let pairs: Vec<(&str, &str)> = numbers.iter().map(|n| (n.as_str(), "ups")).collect();
    account_with(&*store, "a", &pairs).await;
    let (now, lease) = (Utc::now(), Utc::now() + Duration::minutes(1));
    // The third number is held by another worker; the second push's receipt is known already.
    let held = store
        .claim_pushed("ups", &numbers[2..], "x", now, lease)
        .await;
    assert_eq!(held.unwrap().claimed.len(), 1);
    let known = store
        .apply_push("w", &receipt(2, now), Vec::new(), &[], now)
        .await;
    assert!(matches!(known.unwrap(), PushApplied::Applied(_)));

    let wanted = [PushedNumbers {
        courier_code: "ups".into(),
        numbers: numbers.clone(),
    }];
    let events = vec![checkpoint(30, DeliveryStatus::Transit, "Departed")];
    let mut seen = Vec::new();
    let mut plan = |claims: Vec<PushClaim>| {
        let claim = &claims[0];
        seen.push((claim.claimed.len(), claim.busy.clone()));
        let pushes = claim
            .claimed
            .iter()
            .map(|c| PushToApply {
                receipt: receipt(u8::from(c.tracking_number == numbers[1]) + 1, now),
                updates: vec![update(c.pk, events.clone(), DeliveryStatus::Transit)],
                release: Vec::new(),
            })
            .collect();
        PushPlan {
            pushes,
            release: Vec::new(),
        }
    };
    let outcomes = store
        .claim_and_apply_pushes("w", &wanted, (now, lease), &mut plan, lease)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1, "the plan is asked once");
    assert_eq!(seen[0].0, 2, "the two free numbers are claimed");
    let busy: Vec<String> = seen[0].1.iter().cloned().collect();
    assert_eq!(busy, numbers[2..], "the held one is busy");
    assert_eq!(outcomes.len(), 2, "one outcome per push");
    let PushApplied::Applied(report) = &outcomes[0] else {
        panic!("a new receipt applies")
    };
    assert_eq!((report.applied, report.changes.len()), (1, 1));
    assert!(matches!(outcomes[1], PushApplied::Replayed));
    // Both claims were given back (the applied and the replayed); the held one stays held.
    let after = store.claim_pushed("ups", &numbers, "y", now, lease).await;
    let after = after.unwrap();
    assert_eq!(after.claimed.len(), 2);
    assert_eq!(after.busy.into_iter().collect::<Vec<_>>(), numbers[2..]);
}

pub async fn receipts_expire_and_are_capped(fresh: impl Factory) {
    let store = fresh().await;
    let now = Utc::now();
    for byte in 0..5u8 {
        let at = now + Duration::seconds(i64::from(byte));
        let applied = store
            .apply_push("w", &receipt(byte, at), Vec::new(), &[], now)
            .await
            .unwrap();
        assert!(matches!(applied, PushApplied::Applied(_)));
    }
    assert_eq!(store.push_receipts().await.unwrap(), 5);
    assert_eq!(store.prune_push_receipts(now, 3).await.unwrap(), 2);
    assert_eq!(store.push_receipts().await.unwrap(), 3);
    // The newest stay: the oldest is gone, so it would count as new again.
    let oldest = store
        .apply_push("w", &receipt(0, now), Vec::new(), &[], now)
        .await
        .unwrap();
    assert!(matches!(oldest, PushApplied::Applied(_)));
    let later = now + Duration::hours(2);
    assert_eq!(store.prune_push_receipts(later, 100).await.unwrap(), 4);
    assert_eq!(store.push_receipts().await.unwrap(), 0);
}

pub async fn subscriptions_cover_trackings_and_move_their_polls(fresh: impl Factory) {
    let store = fresh().await;
    let pairs = [
        ("1Z0000000000000001", "ups"),
        ("1Z0000000000000002", "ups"),
        ("123456789012", "fedex"),
    ];
    account_with(&*store, "a", &pairs).await;
    let now = Utc::now();
    let due = store.to_subscribe("ups", "ups", now, 10).await.unwrap();
    assert_eq!(due.len(), 2, "only the courier's trackings");
    let outcomes = [
        Subscribed {
            tracking_pk: due[0].0,
            until: Some(now + Duration::days(14)),
        },
        Subscribed {
            tracking_pk: due[1].0,
            until: None,
        },
    ];
    let slow = now + Duration::days(1);
    store
        .record_subscriptions("ups", &outcomes, slow)
        .await
        .unwrap();
    let pks = [due[0].0, due[1].0];
    assert_eq!(store.push_covered(&pks, now).await.unwrap(), vec![due[0].0]);
    // Neither is asked again: one is covered, the other was refused.
    assert!(store
        .to_subscribe("ups", "ups", now, 10)
        .await
        .unwrap()
        .is_empty());
    // A subscription about to run out is renewed.
    let renew = store
        .to_subscribe("ups", "ups", now + Duration::days(15), 10)
        .await
        .unwrap();
    assert_eq!(renew, vec![due[0].clone()]);
    // The subscribed tracking is no longer due before the safety net; the refused one is.
    let soon = now + Duration::hours(1);
    let claimed = store
        .claim_due("w", soon, soon + Duration::minutes(1), 10, "ups")
        .await
        .unwrap();
    let claimed: Vec<i64> = claimed.iter().map(|c| c.pk).collect();
    assert_eq!(claimed, vec![due[1].0]);
}
