//! The public tracking page: settings per account, the account a request names, and the
//! visitor's look-ups by tracking number or order number.

use parceld_model::{DeliveryStatus, TrackingFields};
use parceld_store::{
    Entity, NewTracking, PageAccount, PageAccountKey, PageLookup, PageSettings, Store, StoreError,
    MAX_PAGE_TRACKINGS,
};

use crate::{checkpoint, claim_sandbox, update, Factory};

fn with_order(number: &str, order: Option<&str>) -> NewTracking {
    NewTracking {
        fields: TrackingFields {
            order_number: order.map(str::to_string),
            customer_email: Some("ada@example.com".into()),
            ..TrackingFields::default()
        },
        ..crate::new_tracking(number, "sandbox")
    }
}

pub async fn page_settings_default_then_stored_per_account_with_unique_hosts(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    let b = store.create_account("beta").await.unwrap();
    assert_eq!(
        store.page_settings(a.id).await.unwrap(),
        PageSettings::default(),
        "an account that never set anything has the defaults"
    );
    let branded = PageSettings {
        shop_name: Some("Alpha Shoes".into()),
        brand_color: "#112233".into(),
        host: Some("track.alpha.example".into()),
        show_order_number: false,
        ..PageSettings::default()
    };
    assert_eq!(
        store.set_page_settings(a.id, &branded).await.unwrap(),
        branded
    );
    assert_eq!(store.page_settings(a.id).await.unwrap(), branded);
    assert_eq!(
        store.page_settings(b.id).await.unwrap(),
        PageSettings::default()
    );

    let taken = store
        .set_page_settings(
            b.id,
            &PageSettings {
                host: branded.host.clone(),
                ..PageSettings::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(taken, StoreError::Conflict(Entity::TrackingPage, _)),
        "{taken:?}"
    );
    assert_eq!(
        store.page_settings(b.id).await.unwrap(),
        PageSettings::default(),
        "unchanged"
    );

    // Replacing the settings frees the old host name for another account.
    let renamed = PageSettings {
        host: None,
        ..branded.clone()
    };
    store.set_page_settings(a.id, &renamed).await.unwrap();
    let moved = PageSettings {
        host: branded.host.clone(),
        ..PageSettings::default()
    };
    store.set_page_settings(b.id, &moved).await.unwrap();

    let missing = store
        .set_page_settings(a.id + b.id + 100, &branded)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound(Entity::Account)),
        "{missing:?}"
    );
}

/// The store's answer for `key`.
async fn page_account(store: &dyn Store, key: PageAccountKey<'_>) -> Option<PageAccount> {
    store.page_account(key).await.unwrap()
}

pub async fn page_accounts_are_found_by_name_or_host_only(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    store.create_account("beta").await.unwrap();
    let by_name = page_account(&*store, PageAccountKey::Name("alpha"))
        .await
        .unwrap();
    assert_eq!(by_name.account, a);
    assert_eq!(by_name.settings, PageSettings::default());
    assert!(page_account(&*store, PageAccountKey::Name("gamma"))
        .await
        .is_none());
    assert!(
        page_account(&*store, PageAccountKey::Host("alpha"))
            .await
            .is_none(),
        "a name is not a host"
    );
    let settings = PageSettings {
        host: Some("track.alpha.example".into()),
        shop_name: Some("Alpha".into()),
        ..PageSettings::default()
    };
    store.set_page_settings(a.id, &settings).await.unwrap();
    let by_host = page_account(&*store, PageAccountKey::Host("track.alpha.example"))
        .await
        .unwrap();
    assert_eq!(by_host.account, a);
    assert_eq!(by_host.settings, settings);
    assert!(
        page_account(&*store, PageAccountKey::Host("track.beta.example"))
            .await
            .is_none()
    );

    store.set_account_disabled("alpha", true).await.unwrap();
    let disabled = page_account(&*store, PageAccountKey::Name("alpha"))
        .await
        .unwrap();
    assert!(
        disabled.account.disabled,
        "disabled accounts are returned, marked"
    );
}

pub async fn page_lookups_find_the_accounts_own_trackings_with_checkpoints(fresh: impl Factory) {
    use PageLookup::{Number, OrderNumber};
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    let b = store.create_account("beta").await.unwrap();
    store
        .create_trackings(
            a.id,
            vec![
                with_order("PARCEL-ONE", Some("#1001")),
                with_order("PARCEL-TWO", Some("#1001")),
                with_order("PARCEL-THREE", Some("#1002")),
                with_order("PARCEL-FOUR", None),
            ],
        )
        .await
        .unwrap();
    store
        .create_trackings(b.id, vec![with_order("PARCEL-BETA", Some("#1001"))])
        .await
        .unwrap();
    // What each look-up finds: the numbers, newest first, space-separated.
    let (a, b) = (a.id, b.id);
    for (account, lookup, expected) in [
        (a, Number("PARCEL-ONE"), "PARCEL-ONE"),
        // A number typed in lower case.
        (a, Number("parcel-one"), "PARCEL-ONE"),
        // The order's parcels, newest first.
        (a, OrderNumber("#1001"), "PARCEL-TWO PARCEL-ONE"),
        // Each account sees only its own order and its own numbers.
        (b, OrderNumber("#1001"), "PARCEL-BETA"),
        (a, Number("PARCEL-BETA"), ""),
        (b, Number("PARCEL-ONE"), ""),
        (a, OrderNumber("#9999"), ""),
        (a, OrderNumber(""), ""),
        // Part of a number.
        (a, Number("PARCEL"), ""),
    ] {
        let found = store.page_trackings(account, lookup).await.unwrap();
        let numbers: Vec<String> = found.into_iter().map(|t| t.tracking_number).collect();
        assert_eq!(
            numbers.join(" "),
            expected,
            "{lookup:?} in account {account}"
        );
    }

    // Checkpoints come with the tracking, newest first.
    let claimed = claim_sandbox(&*store, "w", chrono::Utc::now(), 100).await;
    let pk = claimed
        .iter()
        .find(|c| c.tracking_number == "PARCEL-ONE")
        .unwrap()
        .pk;
    let events = vec![
        checkpoint(5, DeliveryStatus::Transit, "Departed"),
        checkpoint(1, DeliveryStatus::Inforeceived, "Label created"),
    ];
    store
        .apply_refresh("w", vec![update(pk, events, DeliveryStatus::Transit)])
        .await
        .unwrap();
    let read = store.page_trackings(a, Number("PARCEL-ONE")).await.unwrap();
    assert_eq!(read[0].delivery_status, DeliveryStatus::Transit);
    let details: Vec<&str> = read[0]
        .checkpoints
        .iter()
        .map(|c| c.detail.as_str())
        .collect();
    assert_eq!(details, ["Departed", "Label created"]);
    assert_eq!(read[0].fields.order_number.as_deref(), Some("#1001"));
}

pub async fn page_lookups_return_a_bounded_number_of_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    let many = MAX_PAGE_TRACKINGS as usize + 5;
    let new = (0..many)
        .map(|i| with_order(&format!("BULK-{i:04}"), Some("#SAME")))
        .collect();
    store.create_trackings(a.id, new).await.unwrap();
    let found = store
        .page_trackings(a.id, PageLookup::OrderNumber("#SAME"))
        .await
        .unwrap();
    assert_eq!(found.len(), MAX_PAGE_TRACKINGS as usize);
    assert_eq!(
        found[0].tracking_number,
        format!("BULK-{:04}", many - 1),
        "newest first"
    );
}
