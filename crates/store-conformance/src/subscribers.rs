//! Subscriptions made on the tracking page: bounded and unique per tracking, only to the
//! account's own trackings; each subscriber gets its own notification of a change, written with
//! the change, in the language they subscribed in, at most once per trigger, and never a second
//! one to the customer's own address.

use chrono::Utc;
use parceld_model::{DeliveryStatus, Language, TrackingId};
use parceld_store::notifications::{Channel, NotificationSettings};
use parceld_store::subscribers::{NewSubscriber, SubscribeOutcome, MAX_SUBSCRIBERS};
use parceld_store::{AccountId, Entity, Store, StoreError};

use crate::notifications::{claim_all, move_all, with_recipients};
use crate::{create_all, Factory};

async fn subscribe(
    store: &dyn Store,
    account: AccountId,
    tracking: &TrackingId,
    address: &str,
    language: Language,
) -> Result<SubscribeOutcome, StoreError> {
    let new = NewSubscriber::new(account, tracking.clone(), address, language, Utc::now());
    store.subscribe_to_tracking(&new).await
}

pub async fn page_subscriptions_are_unique_bounded_and_the_accounts_own(fresh: impl Factory) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap().id;
    let other = store.create_account("other").await.unwrap().id;
    let created = create_all(
        &*store,
        shop,
        vec![
            with_recipients("FULL", None, None),
            with_recipients("EMPTY", None, None),
        ],
    )
    .await;
    let (full, empty) = (&created[0].id, &created[1].id);
    for i in 0..MAX_SUBSCRIBERS {
        let address = format!("reader{i}@example.com");
        let outcome = subscribe(&*store, shop, full, &address, Language::En).await;
        assert_eq!(outcome.unwrap(), SubscribeOutcome::Added, "{address}");
    }
    let again = subscribe(&*store, shop, full, " Reader0@Example.com", Language::De).await;
    assert_eq!(
        again.unwrap(),
        SubscribeOutcome::AlreadySubscribed,
        "the same address in another case is one subscriber"
    );
    let sixth = subscribe(&*store, shop, full, "late@example.com", Language::En).await;
    assert_eq!(sixth.unwrap(), SubscribeOutcome::Full);
    let elsewhere = subscribe(&*store, shop, empty, "late@example.com", Language::En).await;
    assert_eq!(
        elsewhere.unwrap(),
        SubscribeOutcome::Added,
        "the limit is per tracking"
    );
    for (account, tracking) in [(other, full), (shop, &TrackingId::generate())] {
        let refused = subscribe(&*store, account, tracking, "x@example.com", Language::En).await;
        assert!(
            matches!(refused, Err(StoreError::NotFound(Entity::Tracking))),
            "{refused:?}"
        );
    }
}

pub async fn subscribers_get_their_own_notification_with_the_change(fresh: impl Factory) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap().id;
    let texts = store.create_account("texts").await.unwrap().id;
    let email = NotificationSettings {
        channels: vec![Channel::Email],
        ..NotificationSettings::default()
    };
    store.set_notification_settings(shop, &email).await.unwrap();
    let sms = NotificationSettings {
        channels: vec![Channel::Sms],
        ..NotificationSettings::default()
    };
    store.set_notification_settings(texts, &sms).await.unwrap();
    let parcel = create_all(
        &*store,
        shop,
        vec![with_recipients("PARCEL", Some("Ada@Example.com"), None)],
    )
    .await;
    let parcel = &parcel[0].id;
    let texted = create_all(&*store, texts, vec![with_recipients("TEXTED", None, None)]).await;
    for (account, tracking, address, language) in [
        (shop, parcel, "friend@example.com", Language::De),
        (shop, parcel, "ada@example.com", Language::Fr),
        (texts, &texted[0].id, "friend@example.com", Language::En),
    ] {
        let outcome = subscribe(&*store, account, tracking, address, language).await;
        assert_eq!(outcome.unwrap(), SubscribeOutcome::Added);
    }

    move_all(&*store, 1, DeliveryStatus::Transit, None).await;
    let mut due: Vec<(String, String, Option<String>)> = claim_all(&*store, "a")
        .await
        .into_iter()
        .map(|n| (n.trigger, n.recipient, n.language))
        .collect();
    due.sort();
    assert_eq!(
        due,
        [
            ("transit".into(), "Ada@Example.com".into(), None),
            (
                "transit".into(),
                "friend@example.com".into(),
                Some("de".into())
            ),
        ],
        "the customer once (not again as a subscriber), the subscriber in their language; \
         no subscriber of an account that sends no email"
    );

    move_all(&*store, 2, DeliveryStatus::Transit, None).await;
    assert!(
        claim_all(&*store, "b").await.is_empty(),
        "in transit again: once per recipient"
    );
    let late = subscribe(&*store, shop, parcel, "late@example.com", Language::Ja).await;
    assert_eq!(late.unwrap(), SubscribeOutcome::Added);
    move_all(&*store, 3, DeliveryStatus::Delivered, None).await;
    let mut delivered: Vec<String> = claim_all(&*store, "c")
        .await
        .into_iter()
        .map(|n| n.recipient)
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        ["Ada@Example.com", "friend@example.com", "late@example.com"]
    );
    let log = store.notifications_of(shop, parcel).await.unwrap().unwrap();
    assert_eq!(log.len(), 5, "the tracking's log holds every recipient's");
}
