//! Whole tables in the neutral form (`CopyStore`, for `parceld db copy`), and large batches of
//! new trackings (`parceld import`), which a backend may load differently from small ones.

use chrono::Utc;
use parceld_model::{DeliveryStatus, Language, RateLimits, TrackingFields};
use parceld_store::copy::{CopyRow, CopyValue, TABLES};
use parceld_store::notifications::{Channel, NotificationSettings, Recipient};
use parceld_store::subscribers::NewSubscriber;
use parceld_store::{
    CreateOutcome, CreateWebhook, NewWebhook, PageSettings, Store, WebhookVersion,
};

use crate::trackings::{listed, numbers, page};
use crate::{checkpoint, claim_and_apply, new_tracking, numbered, update, Factory};

/// Every row of a table, in key order, as the store streams them.
async fn all_rows(
    store: &dyn Store,
    table: &'static parceld_store::copy::CopyTable,
) -> Vec<CopyRow> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let (read, rows) = tokio::join!(store.copy_stream(table, None, 7, tx), async {
        let mut rows = Vec::new();
        while let Some(chunk) = rx.recv().await {
            assert!(chunk.len() <= 7);
            rows.extend(chunk);
        }
        rows
    });
    read.unwrap();
    rows
}

pub async fn a_copy_holds_every_row_resumes_after_its_last_key_and_goes_on_after_it(
    fresh: impl Factory,
) {
    let source = fresh().await;
    let (account, _) = numbered(&*source, 30).await;
    source.create_api_key("a").await.unwrap();
    let limits = RateLimits {
        v4_create: Some(1.5),
        ..RateLimits::default()
    };
    source.set_account_rate_limits("a", &limits).await.unwrap();
    let user = parceld_store::NewUser {
        account,
        email: "ops@copy.example",
        role: parceld_store::Role::Agent,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    };
    assert!(source.create_user(&user).await.unwrap().is_some());
    let hook = NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        description: "tab\there, \"quoted\" \\ back".into(),
        statuses: vec![DeliveryStatus::Delivered, DeliveryStatus::Transit],
        version: WebhookVersion::V2,
        enabled: true,
        secret: "whsec_AAAA".into(),
    };
    assert!(matches!(
        source.create_webhook(account, &hook, 10).await.unwrap(),
        CreateWebhook::Created(_)
    ));
    let branded = PageSettings {
        host: Some("track.copy.example".into()),
        ..PageSettings::default()
    };
    source.set_page_settings(account, &branded).await.unwrap();
    // A customer to notify (of the delivery below), and one who opted out.
    let mut mail = NotificationSettings::default();
    mail.channels.push(Channel::Email);
    source
        .set_notification_settings(account, &mail)
        .await
        .unwrap();
    let mut customer = new_tracking("MAIL-1", "sandbox");
    customer.fields.customer_email = Some("ada@copy.example".into());
    let created = source.create_trackings(account, vec![customer]);
    let Some(CreateOutcome::Created(mailed)) = created.await.unwrap().pop() else {
        panic!("MAIL-1 is new");
    };
    // A subscriber from the tracking page, notified too (in the language they chose).
    let at = Utc::now();
    let friend = NewSubscriber::new(account, mailed.id, "cy@copy.example", Language::Pl, at);
    source.subscribe_to_tracking(&friend).await.unwrap();
    let gone =
        Recipient::from_stored((account, "email".into(), "bob@copy.example".into())).unwrap();
    source.unsubscribe(&gone, Utc::now()).await.unwrap();
    claim_and_apply(&*source, "w", Utc::now(), |pk| {
        let detail = "multi\nline";
        update(
            pk,
            vec![
                checkpoint(2, DeliveryStatus::Delivered, detail),
                checkpoint(1, DeliveryStatus::Transit, "in"),
            ],
            DeliveryStatus::Delivered,
        )
    })
    .await;

    // One delivery attempted and delivered, the others pending.
    let claimed = crate::webhooks::claim(&*source, 10).await;
    crate::webhooks::delivered(&*source, &claimed[..1]).await;

    // Half of every table, then the rest after the destination's last key.
    let copy = fresh().await;
    for table in TABLES {
        let rows = all_rows(&*source, table).await;
        let half = rows.len() / 2;
        copy.copy_write(table, &rows[..half]).await.unwrap();
        let extent = copy.copy_extent(table).await.unwrap();
        assert_eq!(extent.rows, half as u64, "{}", table.name);
        if let Some(last) = &extent.last {
            assert_eq!(
                source.copy_count_through(table, last).await.unwrap(),
                half as u64
            );
            assert_eq!(
                copy.copy_keys(table, 1, true).await.unwrap(),
                vec![last.clone()]
            );
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let reading = source.copy_stream(table, extent.last, 1000, tx);
        let (read, ()) = tokio::join!(reading, async {
            while let Some(chunk) = rx.recv().await {
                copy.copy_write(table, &chunk).await.unwrap();
            }
        });
        read.unwrap();
    }
    copy.copy_finish().await.unwrap();
    copy.copy_finish().await.unwrap();

    for table in TABLES {
        let (here, there) = (
            all_rows(&*source, table).await,
            all_rows(&*copy, table).await,
        );
        assert_eq!(here.len(), there.len(), "{}", table.name);
        assert!(!here.is_empty(), "the source has no {}", table.name);
        for (a, b) in here.iter().zip(&there) {
            assert_eq!(table.difference(a, b), None, "{}", table.name);
        }
        let keys: Vec<CopyValue> = here.iter().map(|row| row[0].clone()).collect();
        let sample = source.copy_keys(table, 3, false).await.unwrap();
        assert!(
            sample.iter().all(|key| keys.contains(key)),
            "{}",
            table.name
        );
        assert_eq!(copy.copy_rows(table, &keys[..1]).await.unwrap().len(), 1);
    }
    assert_eq!(
        listed(&*copy, account, page(1, 100)).await,
        listed(&*source, account, page(1, 100)).await
    );
    assert_eq!(copy.page_settings(account).await.unwrap(), branded);
    assert_eq!(copy.notification_settings(account).await.unwrap(), mail);
    assert_eq!(
        copy.unsubscribed(std::slice::from_ref(&gone))
            .await
            .unwrap(),
        [gone]
    );
    assert_eq!(
        copy.webhooks(Some(account)).await.unwrap(),
        source.webhooks(Some(account)).await.unwrap()
    );

    // New rows get keys after the copied ones.
    copy.create_account("b").await.unwrap();
    let created = copy
        .create_trackings(account, vec![new_tracking("NEW-1", "sandbox")])
        .await
        .unwrap();
    assert!(matches!(&created[0], CreateOutcome::Created(_)));
    assert_eq!(
        numbers(&listed(&*copy, account, page(1, 1)).await),
        ["NEW-1"]
    );
}

pub async fn a_large_batch_create_keeps_the_rules_of_a_small_one(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = crate::account_with(&*store, "a", &[("BULK-00007", "ups")]).await;
    let mut batch: Vec<_> = (0..1200)
        .map(|i| {
            let mut new = new_tracking(&format!("BULK-{i:05}"), "ups");
            new.fields = TrackingFields {
                order_number: Some(format!("#{i}\t\\")),
                ..TrackingFields::default()
            };
            new
        })
        .collect();
    batch.push(new_tracking("BULK-00010", "ups"));
    batch[20].status_info = Some("note".into());
    let outcomes = store.create_trackings(account, batch).await.unwrap();
    assert_eq!(outcomes.len(), 1201);
    for (i, outcome) in outcomes.iter().enumerate() {
        let existed = i == 7 || i == 1200;
        match outcome {
            CreateOutcome::Created(t) if !existed => {
                assert_eq!(t.tracking_number, format!("BULK-{i:05}"));
                assert_eq!(t.fields.order_number, Some(format!("#{i}\t\\")));
            }
            CreateOutcome::AlreadyExists {
                tracking_number, ..
            } if existed => {
                assert_eq!(
                    tracking_number,
                    if i == 7 { "BULK-00007" } else { "BULK-00010" }
                );
            }
            other => panic!("{i}: {other:?}"),
        }
    }
    let newest = listed(&*store, account, page(1, 3)).await;
    assert_eq!(numbers(&newest), ["BULK-01199", "BULK-01198", "BULK-01197"]);
    match &outcomes[20] {
        CreateOutcome::Created(t) => assert_eq!(t.status_info.as_deref(), Some("note")),
        other => panic!("{other:?}"),
    }
}
