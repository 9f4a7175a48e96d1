//! The dashboard's sorted listing (`parceld_store::sorting`): every key in both directions,
//! ties ordered by primary key, pages read from a position forwards and back, and a position
//! that keeps its place while trackings arrive.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, Tracking};
use parceld_store::{AccountId, Position, Seek, Sort, SortKey, Store, Toward, TrackingFilter};

use crate::{
    account_with, checkpoint, claim_and_apply, create_all, new_tracking, sandbox_pks, update,
};

/// One read of `size` rows of `sort` from `from`.
async fn read(
    store: &dyn Store,
    account: AccountId,
    sort: Sort,
    from: Option<(Position, Toward)>,
    size: u32,
) -> Vec<(i64, Tracking)> {
    let seek = Seek { sort, from, size };
    store
        .list_sorted(account, &TrackingFilter::default(), &seek)
        .await
        .unwrap()
}

/// Every row of `sort`, read forwards two at a time from the start.
async fn forwards(store: &dyn Store, account: AccountId, sort: Sort) -> Vec<(i64, Tracking)> {
    let mut all: Vec<(i64, Tracking)> = Vec::new();
    loop {
        let from = all
            .last()
            .map(|(pk, t)| (Position::of(sort.key, *pk, t), Toward::Later));
        let page = read(store, account, sort, from, 2).await;
        let done = page.len() < 2;
        all.extend(page);
        if done {
            return all;
        }
    }
}

fn numbers(rows: &[(i64, Tracking)]) -> Vec<&str> {
    rows.iter()
        .map(|(_, t)| t.tracking_number.as_str())
        .collect()
}

fn sort(key: SortKey, descending: bool) -> Sort {
    Sort { key, descending }
}

pub async fn every_sort_key_pages_both_ways_with_ties_by_primary_key(fresh: impl crate::Factory) {
    let store = fresh().await;
    // Created in this order; SORTB2 twice, of two couriers.
    let (sandbox, ups) = ("sandbox", "ups");
    let (account, _) = account_with(
        &*store,
        "a",
        &[
            ("SORTC3", sandbox),
            ("SORTA1", sandbox),
            ("SORTB2", sandbox),
            ("SORTB2", ups),
            ("SORTD4", sandbox),
        ],
    )
    .await;
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    // Last events: two at the same minute, one later, one sandbox tracking and the ups one
    // with none.
    let pks = sandbox_pks(&*store).await;
    let report = claim_and_apply(&*store, "w", Utc::now() + Duration::seconds(1), |pk| {
        let events = match pks.iter().position(|p| *p == pk) {
            Some(0) | Some(2) => vec![checkpoint(5, DeliveryStatus::Transit, "Sorted")],
            Some(3) => vec![checkpoint(9, DeliveryStatus::Transit, "Sorted")],
            _ => Vec::new(),
        };
        update(pk, events, DeliveryStatus::Transit)
    })
    .await;
    assert_eq!(report.applied, 4);

    for key in SortKey::ALL {
        for descending in [false, true] {
            let sort = sort(key, descending);
            let all = read(&*store, account, sort, None, 100).await;
            assert_eq!(all.len(), 5, "{sort:?}");
            // Strictly in (sort value, pk) order: ties ordered by primary key.
            for pair in all.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let (a, b) = (Position::of(key, a.0, &a.1), Position::of(key, b.0, &b.1));
                assert!(
                    if descending { a > b } else { a < b },
                    "{sort:?}: {a:?}, {b:?}"
                );
            }
            assert_eq!(forwards(&*store, account, sort).await, all, "{sort:?}");
            // Back from the last row, two at a time, the same rows before it.
            let mut back: Vec<(i64, Tracking)> = vec![all[4].clone()];
            while back.len() < 5 {
                let (pk, first) = &back[0];
                let from = (Position::of(key, *pk, first), Toward::Earlier);
                let page = read(&*store, account, sort, Some(from), 2).await;
                assert!(!page.is_empty(), "{sort:?}");
                back.splice(0..0, page);
            }
            assert_eq!(back, all, "{sort:?} read back");
        }
    }

    let ascending = |key| read(&*store, account, sort(key, false), None, 100);
    let by_number = ascending(SortKey::Number).await;
    assert_eq!(
        numbers(&by_number),
        ["SORTA1", "SORTB2", "SORTB2", "SORTC3", "SORTD4"]
    );
    assert!(
        by_number[1].0 < by_number[2].0,
        "equal numbers by primary key"
    );
    let by_event = ascending(SortKey::LastEvent).await;
    let times: Vec<Option<u32>> = by_event
        .iter()
        .map(|(_, t)| {
            t.latest_checkpoint_time
                .map(|t| chrono::Timelike::minute(&t))
        })
        .collect();
    assert_eq!(
        times,
        [None, None, Some(5), Some(5), Some(9)],
        "no event first"
    );
    assert!(by_event[0].0 < by_event[1].0 && by_event[2].0 < by_event[3].0);
    let by_created = read(&*store, account, sort(SortKey::Created, true), None, 100).await;
    assert_eq!(
        numbers(&by_created),
        ["SORTD4", "SORTB2", "SORTB2", "SORTA1", "SORTC3"],
        "newest first"
    );
    // The ups tracking was never refreshed: least recently updated.
    let by_updated = ascending(SortKey::Updated).await;
    assert_eq!(by_updated[0].1.courier_code, "ups");

    // A filter narrows a sorted read.
    let filter = TrackingFilter {
        delivery_status: Some(DeliveryStatus::Pending),
        ..TrackingFilter::default()
    };
    let seek = Seek {
        sort: sort(SortKey::Updated, true),
        from: None,
        size: 10,
    };
    let pending = store.list_sorted(account, &filter, &seek).await.unwrap();
    assert_eq!(numbers(&pending), ["SORTB2"]);
}

pub async fn a_position_keeps_its_place_while_trackings_arrive(fresh: impl crate::Factory) {
    let store = fresh().await;
    let account = store.create_account("a").await.unwrap().id;
    let kept = ["KEEPB1", "KEEPC1", "KEEPD1", "KEEPE1"];
    let new = kept.map(|number| new_tracking(number, "sandbox")).to_vec();
    create_all(&*store, account, new).await;
    let newest = sort(SortKey::Created, true);
    let by_number = sort(SortKey::Number, false);
    let mut before = Vec::new();
    let mut first_pages = Vec::new();
    for sort in [newest, by_number] {
        before.push(read(&*store, account, sort, None, 100).await);
        first_pages.push(read(&*store, account, sort, None, 2).await);
    }
    // Newer than every row, and by number one before the first page's end, one after it.
    let arrived = vec![
        new_tracking("KEEPA1", "sandbox"),
        new_tracking("KEEPZ1", "sandbox"),
    ];
    create_all(&*store, account, arrived).await;
    for ((sort, before), first) in [newest, by_number].into_iter().zip(before).zip(first_pages) {
        let (pk, last) = first.last().unwrap();
        let from = (Position::of(sort.key, *pk, last), Toward::Later);
        let rest = read(&*store, account, sort, Some(from), 100).await;
        let mut seen = first.clone();
        seen.extend(rest);
        if sort == newest {
            assert_eq!(
                seen, before,
                "nothing new behind the first page, nothing twice"
            );
        } else {
            assert_eq!(
                numbers(&seen),
                ["KEEPB1", "KEEPC1", "KEEPD1", "KEEPE1", "KEEPZ1"],
                "only what sorts after the position is new to the reader"
            );
        }
    }
}
