//! Notifications to a shop's customers: settings per account; the outbox written by the refresh
//! with the change, only for the account's channels and triggers and the tracking's
//! recipients, at most once per tracking, trigger and channel; claims with a lease, outcomes and
//! the log; the daily counts; opt-outs.

use chrono::{DateTime, Duration, Utc};
use parceld_model::{DeliveryStatus, SubStatus, TrackingFields};
use parceld_store::notifications::{
    Channel, ClaimedNotification, NotificationOutcome, NotificationRecord, NotificationSettings,
    Recipient,
};
use parceld_store::{Entity, NewTracking, Store, StoreError};

use crate::{checkpoint, claim_sandbox, create_all, update, Factory};

/// A sandbox tracking with these recipients.
pub(crate) fn with_recipients(number: &str, email: Option<&str>, sms: Option<&str>) -> NewTracking {
    NewTracking {
        fields: TrackingFields {
            customer_email: email.map(str::to_string),
            customer_sms: sms.map(str::to_string),
            ..TrackingFields::default()
        },
        ..crate::new_tracking(number, "sandbox")
    }
}

/// Refreshes every sandbox tracking to `status` (and `substatus`) with one new checkpoint.
pub(crate) async fn move_all(
    store: &dyn Store,
    minute: u32,
    status: DeliveryStatus,
    substatus: Option<SubStatus>,
) {
    let claimed = claim_sandbox(store, "w", Utc::now() + Duration::hours(10), 1000).await;
    let updates = claimed
        .iter()
        .map(|c| parceld_store::RefreshUpdate {
            substatus,
            ..update(c.pk, vec![checkpoint(minute, status, "moved")], status)
        })
        .collect();
    store.apply_refresh("w", updates).await.unwrap();
}

/// Every notification due far ahead, claimed by `owner` (and so leased to it).
pub(crate) async fn claim_all(store: &dyn Store, owner: &str) -> Vec<ClaimedNotification> {
    claim_at(store, owner, Utc::now() + Duration::days(30)).await
}

pub async fn notification_settings_default_then_stored_per_account(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    let b = store.create_account("beta").await.unwrap();
    assert_eq!(
        store.notification_settings(a.id).await.unwrap(),
        NotificationSettings::default()
    );
    let mine = NotificationSettings {
        channels: vec![Channel::Email, Channel::Sms],
        triggers: vec!["delivered".into(), "transit002".into()],
        sender_name: Some("Alpha Shoes".into()),
        daily_cap: Some(100),
        templates: [(
            "email.subject.de".to_string(),
            "Paket {{ status }}".to_string(),
        )]
        .into(),
        ..NotificationSettings::default()
    };
    assert_eq!(
        store.set_notification_settings(a.id, &mine).await.unwrap(),
        mine
    );
    assert_eq!(store.notification_settings(a.id).await.unwrap(), mine);
    assert_eq!(
        store.notification_settings(b.id).await.unwrap(),
        NotificationSettings::default(),
        "another account's settings are its own"
    );
    let missing = store
        .set_notification_settings(a.id + b.id + 100, &mine)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound(Entity::Account)),
        "{missing:?}"
    );
}

pub async fn changes_queue_one_notification_per_trigger_and_channel_with_the_change(
    fresh: impl Factory,
) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap().id;
    let quiet = store.create_account("quiet").await.unwrap().id;
    let both = NotificationSettings {
        channels: vec![Channel::Email, Channel::Sms],
        ..NotificationSettings::default()
    };
    store.set_notification_settings(shop, &both).await.unwrap();
    create_all(
        &*store,
        shop,
        vec![
            with_recipients("BOTH", Some(" ada@example.com "), Some("+31201234567")),
            with_recipients("MAIL", Some("bob@example.com"), None),
            with_recipients("NONE", None, Some("  ")),
        ],
    )
    .await;
    // An account that chose no channel (the default) notifies no one.
    create_all(
        &*store,
        quiet,
        vec![with_recipients("QUIET", Some("cy@example.com"), None)],
    )
    .await;

    // Information received is not a default trigger: nothing.
    assert!(due_after(&*store, 1, DeliveryStatus::Inforeceived, None)
        .await
        .is_empty());
    let transit = shop_due(&["transit"]);
    let moved = due_after(
        &*store,
        2,
        DeliveryStatus::Transit,
        Some(SubStatus::Transit001),
    )
    .await;
    assert_eq!(
        moved, transit,
        "each channel whose recipient the tracking has, trimmed"
    );
    // More checkpoints in transit, and a failed attempt followed by transit again: "in transit"
    // is queued once, and never again.
    let more = due_after(
        &*store,
        3,
        DeliveryStatus::Transit,
        Some(SubStatus::Transit002),
    )
    .await;
    assert_eq!(more, transit, "nothing new");
    let failed = shop_due(&["transit", "undelivered"]);
    let attempt = due_after(&*store, 4, DeliveryStatus::Undelivered, None).await;
    assert_eq!(attempt, failed);
    let back = Some(SubStatus::Transit001);
    let back = due_after(&*store, 5, DeliveryStatus::Transit, back).await;
    assert_eq!(back, failed, "back in transit: not queued again");

    // A sub-status as a trigger: listed sub-statuses notify under their own name.
    let by_substatus = NotificationSettings {
        channels: vec![Channel::Email],
        triggers: vec!["pickup002".into()],
        ..NotificationSettings::default()
    };
    store
        .set_notification_settings(quiet, &by_substatus)
        .await
        .unwrap();
    let mut pickup = shop_due(&["pickup", "transit", "undelivered"]);
    pickup.push(("pickup002".into(), Channel::Email, "cy@example.com".into()));
    pickup.sort();
    let collected = due_after(
        &*store,
        6,
        DeliveryStatus::Pickup,
        Some(SubStatus::Pickup002),
    )
    .await;
    assert_eq!(collected, pickup);
}

/// (trigger, channel, recipient) of a claimed notification.
type Due = (String, Channel, String);

/// Moves every sandbox tracking, then lists every notification due (claiming them for a moment
/// and releasing them again), sorted.
async fn due_after(
    store: &dyn Store,
    minute: u32,
    status: DeliveryStatus,
    substatus: Option<SubStatus>,
) -> Vec<Due> {
    move_all(store, minute, status, substatus).await;
    let claimed = claim_all(store, "peek").await;
    store.release_notifications("peek").await.unwrap();
    assert!(claimed.iter().all(|n| n.id.starts_with("ntf_")));
    let mut due: Vec<Due> = claimed
        .into_iter()
        .map(|n| (n.trigger, n.channel, n.recipient))
        .collect();
    due.sort();
    due
}

/// What the shop's three recipients have due for these triggers, sorted.
fn shop_due(triggers: &[&str]) -> Vec<Due> {
    let recipients = [
        (Channel::Email, "ada@example.com"),
        (Channel::Email, "bob@example.com"),
        (Channel::Sms, "+31201234567"),
    ];
    let mut due: Vec<Due> = triggers
        .iter()
        .flat_map(|t| recipients.map(|(c, r)| (t.to_string(), c, r.to_string())))
        .collect();
    due.sort();
    due
}

/// Claims every notification as `owner` at `at`.
async fn claim_at(store: &dyn Store, owner: &str, at: DateTime<Utc>) -> Vec<ClaimedNotification> {
    store
        .claim_notifications(owner, at, at + Duration::minutes(5), 1000)
        .await
        .unwrap()
}

pub async fn notifications_are_leased_recorded_logged_and_counted(fresh: impl Factory) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap().id;
    let email = NotificationSettings {
        channels: vec![Channel::Email],
        ..NotificationSettings::default()
    };
    store.set_notification_settings(shop, &email).await.unwrap();
    let numbers = ["A", "B", "C", "D", "E"];
    let trackings = create_all(
        &*store,
        shop,
        numbers
            .iter()
            .map(|n| with_recipients(n, Some(&format!("{n}@example.com")), None))
            .collect(),
    )
    .await;
    move_all(&*store, 1, DeliveryStatus::Transit, None).await;

    let now = Utc::now() + Duration::seconds(1);
    let first = claim_at(&*store, "one", now).await;
    assert_eq!(first.len(), 5);
    assert!(
        claim_at(&*store, "two", now).await.is_empty(),
        "leased to another dispatcher"
    );
    let later = now + Duration::minutes(6);
    let taken_over = claim_at(&*store, "two", later).await;
    assert_eq!(taken_over.len(), 5, "an expired lease comes back");
    assert_eq!(
        taken_over.iter().map(|n| &n.id).collect::<Vec<_>>(),
        first.iter().map(|n| &n.id).collect::<Vec<_>>(),
        "with the same ids (Message-IDs), earliest first"
    );

    let retry_at = later + Duration::minutes(1);
    let outcomes = [
        NotificationOutcome::Sent {
            response: "250 2.0.0 queued".into(),
        },
        NotificationOutcome::Retry {
            at: retry_at,
            response: "421 try later".into(),
        },
        NotificationOutcome::Failed {
            response: "550 no such user".into(),
        },
        NotificationOutcome::Suppressed {
            reason: "unsubscribed".into(),
        },
        NotificationOutcome::Deferred {
            at: retry_at,
            reason: "quiet hours".into(),
        },
    ];
    let records: Vec<NotificationRecord> = taken_over
        .iter()
        .zip(outcomes.iter())
        .map(|(n, outcome)| NotificationRecord {
            pk: n.pk,
            outcome: outcome.clone(),
            at: later,
        })
        .collect();
    // The first dispatcher lost its leases: its outcomes are ignored.
    store.record_notifications("one", &records).await.unwrap();
    assert!(claim_at(&*store, "three", later).await.is_empty());
    store.record_notifications("two", &records).await.unwrap();

    assert!(
        claim_at(&*store, "three", later).await.is_empty(),
        "the retry and the deferral wait for their time"
    );
    let due = claim_at(&*store, "three", retry_at).await;
    let ids: Vec<&str> = due.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, [taken_over[1].id.as_str(), taken_over[4].id.as_str()]);
    assert_eq!(due[0].attempts, 1, "a retry counts an attempt");
    assert_eq!(due[1].attempts, 0, "a deferral does not");

    for (tracking, outcome) in trackings.iter().zip(outcomes.iter()) {
        let log = store
            .notifications_of(shop, &tracking.id)
            .await
            .unwrap()
            .expect("the account's tracking");
        assert_eq!(log.len(), 1);
        let entry = &log[0];
        assert_eq!(entry.state, outcome.state());
        assert_eq!(entry.response.as_deref(), Some(outcome.response()));
        assert_eq!(entry.channel, Channel::Email);
        assert_eq!(entry.trigger, "transit");
        assert_eq!(
            entry.finished_at.is_some(),
            outcome.next_attempt().is_none()
        );
    }
    let other = store.create_account("other").await.unwrap().id;
    assert_eq!(
        store
            .notifications_of(other, &trackings[0].id)
            .await
            .unwrap(),
        None,
        "another account's tracking is not found"
    );

    let counts = store
        .notifications_sent_since(&[shop, other], later - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(counts, [(shop, 1)]);
    let none = store
        .notifications_sent_since(&[shop], later + Duration::hours(1))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(store.release_notifications("three").await.unwrap(), 2);

    // Deleting a tracking takes its notifications along.
    store.delete_tracking(shop, &trackings[1].id).await.unwrap();
    let rest = claim_at(&*store, "four", retry_at).await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, taken_over[4].id);
}

pub async fn unsubscribes_are_kept_per_account_channel_and_address(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap().id;
    let b = store.create_account("beta").await.unwrap().id;
    let recipient = |account, channel, address: &str| Recipient {
        account_id: account,
        channel,
        address: address.to_string(),
    };
    let ada = recipient(a, Channel::Email, "ada@example.com");
    store.unsubscribe(&ada, Utc::now()).await.unwrap();
    store.unsubscribe(&ada, Utc::now()).await.unwrap();
    let asked = [
        ada.clone(),
        recipient(b, Channel::Email, "ada@example.com"),
        recipient(a, Channel::Sms, "ada@example.com"),
        recipient(a, Channel::Email, "bob@example.com"),
    ];
    assert_eq!(store.unsubscribed(&asked).await.unwrap(), [ada]);
    assert!(store.unsubscribed(&[]).await.unwrap().is_empty());
}
