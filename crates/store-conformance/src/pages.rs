//! The public tracking page: settings per account, the account a request names, and the
//! visitor's look-ups by tracking number or order number.

use parceld_model::{DeliveryStatus, TrackingFields};
use parceld_store::{
    Entity, NewTracking, PageAccountKey, PageLookup, PageSettings, StoreError, MAX_PAGE_TRACKINGS,
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

pub async fn page_accounts_are_found_by_name_or_host_only(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    store.create_account("beta").await.unwrap();
    let by_name = store
        .page_account(PageAccountKey::Name("alpha"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.account, a);
    assert_eq!(by_name.settings, PageSettings::default());
    assert!(store
        .page_account(PageAccountKey::Name("gamma"))
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .page_account(PageAccountKey::Host("alpha"))
            .await
            .unwrap()
            .is_none(),
        "a name is not a host"
    );
    let settings = PageSettings {
        host: Some("track.alpha.example".into()),
        shop_name: Some("Alpha".into()),
        ..PageSettings::default()
    };
    store.set_page_settings(a.id, &settings).await.unwrap();
    let by_host = store
        .page_account(PageAccountKey::Host("track.alpha.example"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_host.account, a);
    assert_eq!(by_host.settings, settings);
    assert!(store
        .page_account(PageAccountKey::Host("track.beta.example"))
        .await
        .unwrap()
        .is_none());

    store.set_account_disabled("alpha", true).await.unwrap();
    let disabled = store
        .page_account(PageAccountKey::Name("alpha"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        disabled.account.disabled,
        "disabled accounts are returned, marked"
    );
}

pub async fn page_lookups_find_the_accounts_own_trackings_with_checkpoints(fresh: impl Factory) {
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
    let numbers = |found: Vec<parceld_model::Tracking>| -> Vec<String> {
        found.into_iter().map(|t| t.tracking_number).collect()
    };

    let one = store
        .page_trackings(a.id, PageLookup::Number("PARCEL-ONE"))
        .await
        .unwrap();
    assert_eq!(numbers(one), ["PARCEL-ONE"]);
    let typed_lower = store
        .page_trackings(a.id, PageLookup::Number("parcel-one"))
        .await
        .unwrap();
    assert_eq!(
        numbers(typed_lower),
        ["PARCEL-ONE"],
        "a number typed in lower case"
    );
    let order = store
        .page_trackings(a.id, PageLookup::OrderNumber("#1001"))
        .await
        .unwrap();
    assert_eq!(
        numbers(order),
        ["PARCEL-TWO", "PARCEL-ONE"],
        "the order's parcels, newest first"
    );
    for (account, lookup) in [
        (a.id, PageLookup::Number("PARCEL-BETA")),
        (b.id, PageLookup::Number("PARCEL-ONE")),
        (a.id, PageLookup::OrderNumber("#9999")),
        (a.id, PageLookup::OrderNumber("")),
        (a.id, PageLookup::Number("PARCEL")),
    ] {
        assert!(
            store
                .page_trackings(account, lookup)
                .await
                .unwrap()
                .is_empty(),
            "{lookup:?} finds nothing in account {account}"
        );
    }
    let beta = store
        .page_trackings(b.id, PageLookup::OrderNumber("#1001"))
        .await
        .unwrap();
    assert_eq!(
        numbers(beta),
        ["PARCEL-BETA"],
        "each account sees only its own order"
    );

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
    let read = store
        .page_trackings(a.id, PageLookup::Number("PARCEL-ONE"))
        .await
        .unwrap();
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
