//! Listing trackings: every filter, pages newest first, chunked reads, counts by status, and
//! the set-based archive and delete of many trackings named by number and courier.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, Tracking};
use parceld_store::{
    AccountId, CreateOutcome, NumberKey, Store, StoreResult, TrackingFilter, TrackingPatch,
};

use crate::trackings::{listed, numbers, page};
use crate::{account_with, claim_and_apply, new_tracking, update, Factory};

fn key(number: &str, courier: &str) -> NumberKey {
    NumberKey {
        tracking_number: number.into(),
        courier_code: courier.into(),
    }
}

pub async fn every_list_filter_selects_exactly_its_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let (account, made) = account_with(&*store, "a", &[("FILTER-A001", "sandbox")]).await;
    let a = made[0].clone();
    // Times are kept to the second: a second apart, the trackings' times differ.
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    let (b, c) = {
        let created = store
            .create_trackings(
                account,
                vec![
                    new_tracking("FILTER-B001", "ups"),
                    new_tracking("FILTER-C001", "fedex"),
                ],
            )
            .await
            .unwrap();
        let mut ts = created.into_iter().map(|o| match o {
            CreateOutcome::Created(t) => *t,
            other => panic!("{other:?}"),
        });
        (ts.next().unwrap(), ts.next().unwrap())
    };
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    // A is delivered (a refresh), C archived (an update); both change their updated_at.
    let report = claim_and_apply(&*store, "w", Utc::now() + Duration::seconds(1), |pk| {
        update(
            pk,
            vec![crate::checkpoint(1, DeliveryStatus::Delivered, "Delivered")],
            DeliveryStatus::Delivered,
        )
    })
    .await;
    assert_eq!(report.applied, 1);
    let patch = TrackingPatch {
        archived: Some(true),
        ..TrackingPatch::default()
    };
    store
        .update_tracking(account, &c.id, &patch)
        .await
        .unwrap()
        .unwrap();
    let a = store.tracking(account, &a.id).await.unwrap().unwrap();

    let numbers_of = |filter: TrackingFilter| {
        let store = &*store;
        async move {
            let listed = store
                .list_trackings(account, &filter, page(1, 100))
                .await
                .unwrap();
            let numbers: Vec<String> = listed.into_iter().map(|t| t.tracking_number).collect();
            numbers
        }
    };
    let any = TrackingFilter::default;
    assert_eq!(
        numbers_of(TrackingFilter {
            courier_code: Some("ups".into()),
            ..any()
        })
        .await,
        ["FILTER-B001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            delivery_status: Some(DeliveryStatus::Delivered),
            ..any()
        })
        .await,
        ["FILTER-A001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            delivery_status: Some(DeliveryStatus::Pending),
            ..any()
        })
        .await,
        ["FILTER-C001", "FILTER-B001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            archived: Some(true),
            ..any()
        })
        .await,
        ["FILTER-C001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            archived: Some(false),
            ..any()
        })
        .await,
        ["FILTER-B001", "FILTER-A001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            tracking_numbers: vec!["FILTER-A001".into(), "FILTER-C001".into()],
            ..any()
        })
        .await,
        ["FILTER-C001", "FILTER-A001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            tracking_numbers: vec!["FILTER-B001".into()],
            ..any()
        })
        .await,
        ["FILTER-B001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            created_min: Some(b.created_at),
            ..any()
        })
        .await,
        ["FILTER-C001", "FILTER-B001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            created_max: Some(a.created_at),
            ..any()
        })
        .await,
        ["FILTER-A001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            created_min: Some(b.created_at),
            created_max: Some(b.created_at),
            ..any()
        })
        .await,
        ["FILTER-C001", "FILTER-B001"],
        "both bounds are inclusive"
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            updated_min: Some(a.updated_at),
            ..any()
        })
        .await,
        ["FILTER-C001", "FILTER-A001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            updated_max: Some(b.updated_at),
            ..any()
        })
        .await,
        ["FILTER-B001"]
    );
    assert_eq!(
        numbers_of(TrackingFilter {
            courier_code: Some("sandbox".into()),
            delivery_status: Some(DeliveryStatus::Delivered),
            archived: Some(false),
            ..any()
        })
        .await,
        ["FILTER-A001"],
        "filters combine"
    );
    assert!(numbers_of(TrackingFilter {
        courier_code: Some("sandbox".into()),
        delivery_status: Some(DeliveryStatus::Pending),
        ..any()
    })
    .await
    .is_empty());
    let counts = store
        .count_by_status(
            account,
            &TrackingFilter {
                archived: Some(false),
                ..any()
            },
        )
        .await
        .unwrap();
    let mut counts = counts;
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(
        counts,
        [(DeliveryStatus::Delivered, 1), (DeliveryStatus::Pending, 1)]
    );
    assert_eq!(
        store
            .count_by_status(
                account,
                &TrackingFilter {
                    tracking_numbers: vec!["FILTER-B001".into()],
                    ..any()
                }
            )
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>(),
        3,
        "counts ignore tracking_numbers"
    );
}

pub async fn pages_are_newest_first_without_gaps_or_repeats(fresh: impl Factory) {
    let store = fresh().await;
    let numbers_made: Vec<String> = (0..25).map(|i| format!("PAGE-{i:05}")).collect();
    let pairs: Vec<(&str, &str)> = numbers_made
        .iter()
        .map(|n| (n.as_str(), if n.ends_with('7') { "ups" } else { "sandbox" }))
        .collect();
    let (account, _) = account_with(&*store, "a", &pairs).await;
    let mut seen = Vec::new();
    for number in 1..=3 {
        let listed = store
            .list_trackings(account, &TrackingFilter::default(), page(number, 10))
            .await
            .unwrap();
        assert_eq!(listed.len(), if number == 3 { 5 } else { 10 });
        seen.extend(listed.into_iter().map(|t| t.tracking_number));
    }
    let mut expected = numbers_made.clone();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, no gaps, no repeats");
    assert!(listed(&*store, account, page(4, 10)).await.is_empty());
    // Paging applies after the filter.
    let sandbox = TrackingFilter {
        courier_code: Some("sandbox".into()),
        ..TrackingFilter::default()
    };
    let second = store
        .list_trackings(account, &sandbox, page(2, 20))
        .await
        .unwrap();
    assert_eq!(numbers(&second), ["PAGE-00002", "PAGE-00001", "PAGE-00000"]);
    assert!(second.iter().all(|t| t.courier_code == "sandbox"));
    let one = listed(&*store, account, page(25, 1)).await;
    assert_eq!(numbers(&one), ["PAGE-00000"]);
}

/// Starts a chunked read of the account's first eight trackings, three to a chunk, through a
/// channel that holds one chunk: the chunks come on the receiver, the reading's result from the
/// task.
fn read_first_eight_in_threes(
    store: Arc<dyn Store>,
    account: AccountId,
) -> (
    tokio::task::JoinHandle<StoreResult<()>>,
    tokio::sync::mpsc::Receiver<Vec<Tracking>>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let reading = tokio::spawn(async move {
        store
            .list_trackings_in_chunks(account, &TrackingFilter::default(), page(1, 8), 3, sender)
            .await
    });
    (reading, receiver)
}

pub async fn chunked_listing_hands_over_the_same_page_in_order(fresh: impl Factory) {
    let store = fresh().await;
    let made: Vec<String> = (0..10).map(|i| format!("CHUNK-{i:02}")).collect();
    let pairs: Vec<(&str, &str)> = made.iter().map(|n| (n.as_str(), "sandbox")).collect();
    let (account, _) = account_with(&*store, "a", &pairs).await;
    let expected: Vec<String> = listed(&*store, account, page(1, 8))
        .await
        .into_iter()
        .map(|t| t.tracking_number)
        .collect();
    let (reading, mut receiver) = read_first_eight_in_threes(store.shared(), account);
    let mut chunks: Vec<Vec<String>> = Vec::new();
    while let Some(chunk) = receiver.recv().await {
        chunks.push(chunk.into_iter().map(|t| t.tracking_number).collect());
    }
    reading.await.unwrap().unwrap();
    assert!(
        chunks.iter().all(|c| !c.is_empty() && c.len() <= 3),
        "{chunks:?}"
    );
    assert_eq!(chunks.concat(), expected);

    // A receiver dropped after the first chunk ends the reading early, and that is no error.
    let (reading, mut receiver) = read_first_eight_in_threes(store.shared(), account);
    let first = receiver.recv().await.expect("a first chunk");
    assert_eq!(first.len(), 3);
    drop(receiver);
    tokio::time::timeout(StdDuration::from_secs(10), reading)
        .await
        .expect("stops when the receiver is gone")
        .unwrap()
        .unwrap();
}

pub async fn counts_archive_and_delete_many_by_number_and_courier(fresh: impl Factory) {
    let store = fresh().await;
    let (account, _) = account_with(
        &*store,
        "a",
        &[("A1", "ups"), ("A2", "ups"), ("A1", "fedex"), ("B1", "dhl")],
    )
    .await;
    let other = store.create_account("b").await.unwrap();

    let counts = store
        .count_by_status(account, &TrackingFilter::default())
        .await
        .unwrap();
    assert_eq!(counts, vec![(DeliveryStatus::Pending, 4)]);
    let none = store
        .count_by_status(other.id, &TrackingFilter::default())
        .await
        .unwrap();
    assert!(none.is_empty());

    // Only the exact (number, courier) pairs of this account are touched.
    let archived = store
        .archive_many(
            account,
            &[key("A1", "ups"), key("A1", "usps"), key("ZZ", "ups")],
        )
        .await
        .unwrap();
    assert_eq!(archived, vec![key("A1", "ups")]);
    assert!(store
        .archive_many(other.id, &[key("A2", "ups")])
        .await
        .unwrap()
        .is_empty());
    let again = store
        .archive_many(account, &[key("A1", "ups")])
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![key("A1", "ups")],
        "already archived still exists"
    );
    assert!(store.archive_many(account, &[]).await.unwrap().is_empty());

    // Archived trackings are never claimed for a refresh, even when due.
    let now = Utc::now() + Duration::seconds(5);
    let mut claimed: Vec<(String, String)> = Vec::new();
    for courier in ["dhl", "fedex", "ups", "usps"] {
        let batch = store
            .claim_due("w", now, now + Duration::seconds(60), 100, courier)
            .await
            .unwrap();
        claimed.extend(
            batch
                .into_iter()
                .map(|c| (c.tracking_number, c.courier_code)),
        );
    }
    claimed.sort();
    assert_eq!(
        claimed,
        vec![
            ("A1".to_string(), "fedex".to_string()),
            ("A2".to_string(), "ups".to_string()),
            ("B1".to_string(), "dhl".to_string()),
        ]
    );

    let mut deleted = store
        .delete_many(
            account,
            &[key("A1", "fedex"), key("B1", "dhl"), key("B1", "ups")],
        )
        .await
        .unwrap();
    deleted.sort_by(|a, b| a.courier_code.cmp(&b.courier_code));
    assert_eq!(deleted, vec![key("B1", "dhl"), key("A1", "fedex")]);
    assert!(store.delete_many(account, &[]).await.unwrap().is_empty());
    let archived_only = TrackingFilter {
        archived: Some(true),
        ..TrackingFilter::default()
    };
    assert_eq!(
        store
            .count_by_status(account, &archived_only)
            .await
            .unwrap(),
        vec![(DeliveryStatus::Pending, 1)]
    );
    assert_eq!(
        store
            .count_by_status(account, &TrackingFilter::default())
            .await
            .unwrap(),
        vec![(DeliveryStatus::Pending, 2)]
    );
}
