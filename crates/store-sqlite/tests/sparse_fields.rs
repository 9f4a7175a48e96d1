//! The merchant fields are stored sparsely: a tracking's `fields` JSON holds only the fields that
//! are set, and rows written before that (every key, nulls included) read the same through every
//! path that reads them (one tracking, lists, claims) and come out sparse when next written.

mod common;

use chrono::{Duration, Utc};
use parceld_model::TrackingFields;
use parceld_store::{
    ClaimOne, CreateOutcome, NewTracking, Page, Store, TrackingFilter, TrackingPatch,
};
use parceld_store_sqlite::SqliteStore;

/// What parceld wrote before: all 21 keys, `null` for each unset one.
const EVERY_KEY_WITH_NULLS: &str = r##"{"order_number":"#1","order_id":null,"order_date":null,"origin_country_iso2":null,"destination_country_iso2":null,"customer_name":null,"customer_email":"ada@example.com","customer_sms":null,"recipient_postcode":null,"title":null,"logistics_channel":null,"note":null,"label":null,"tracking_courier_account":null,"tracking_postal_code":null,"tracking_origin_country":null,"tracking_destination_country":null,"tracking_ship_date":null,"tracking_key":null,"language":null,"auto_correct":null}"##;

fn two_fields() -> TrackingFields {
    TrackingFields {
        order_number: Some("#1".into()),
        customer_email: Some("ada@example.com".into()),
        ..TrackingFields::default()
    }
}

async fn stored_fields(store: &SqliteStore, number: &str) -> String {
    sqlx::query_scalar("SELECT fields FROM trackings WHERE tracking_number = ?")
        .bind(number)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tracking_stores_only_its_set_fields_and_old_rows_still_read() {
    let (_dir, store) = common::fresh().await;
    let account = store.create_account("a").await.unwrap();
    let outcomes = store
        .create_trackings(
            account.id,
            vec![NewTracking {
                tracking_number: "NEW-1".into(),
                courier_code: "sandbox".into(),
                courier_detected: false,
                fields: two_fields(),
                status_info: None,
                check_error: None,
            }],
        )
        .await
        .unwrap();
    let CreateOutcome::Created(created) = &outcomes[0] else {
        panic!("not created: {outcomes:?}");
    };
    assert_eq!(
        stored_fields(&store, "NEW-1").await,
        r##"{"order_number":"#1","customer_email":"ada@example.com"}"##
    );
    assert_eq!(
        store
            .tracking(account.id, &created.id)
            .await
            .unwrap()
            .unwrap()
            .fields,
        two_fields()
    );

    // A row as an older parceld wrote it.
    sqlx::query("UPDATE trackings SET fields = ? WHERE tracking_number = 'NEW-1'")
        .bind(EVERY_KEY_WITH_NULLS)
        .execute(store.pool())
        .await
        .unwrap();
    let one = store.tracking(account.id, &created.id).await.unwrap();
    assert_eq!(one.unwrap().fields, two_fields(), "one tracking");
    let listed = store
        .list_trackings(
            account.id,
            &TrackingFilter::default(),
            Page {
                number: 1,
                size: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fields, two_fields(), "a list");
    let now = Utc::now();
    match store
        .claim_tracking(
            account.id,
            &created.id,
            "worker",
            now,
            now + Duration::minutes(1),
        )
        .await
        .unwrap()
    {
        ClaimOne::Claimed(claimed) => assert_eq!(claimed.fields, two_fields(), "a claim"),
        ClaimOne::Busy | ClaimOne::NotFound => panic!("not claimed"),
    }

    // The next write of the fields stores them sparsely.
    let patched = store
        .update_tracking(
            account.id,
            &created.id,
            &TrackingPatch {
                fields: TrackingFields {
                    title: Some("shoes".into()),
                    ..TrackingFields::default()
                },
                ..TrackingPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.fields.order_number.as_deref(), Some("#1"));
    assert_eq!(
        stored_fields(&store, "NEW-1").await,
        r##"{"order_number":"#1","customer_email":"ada@example.com","title":"shoes"}"##
    );
}
