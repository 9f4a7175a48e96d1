//! The dashboard's analytics counters (`parceld_store::analytics`) hold what a direct reading
//! of the trackings gives — after creates, refreshes to delivered, exception and back, a
//! change of courier and of destination, and deletes — for the account only, under every
//! filter.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, Tracking, TrackingFields};
use parceld_store::analytics::{day_of, DayCount, DeliveryCount, StatusCount};
use parceld_store::{
    AccountId, AnalyticsFilter, Counters, NewTracking, NumberKey, Store, TrackingFilter,
    TrackingPatch,
};

use crate::trackings::page;
use crate::{checkpoint_at, create_all, new_tracking, update, Factory};

fn to(number: &str, courier: &str, country: Option<&str>) -> NewTracking {
    NewTracking {
        fields: TrackingFields {
            destination_country_iso2: country.map(String::from),
            ..TrackingFields::default()
        },
        ..new_tracking(number, courier)
    }
}

/// A journey's events, newest first, as a carrier answers: label on day 1 of May 2024, first
/// scan on `scan`, a failed attempt if `failed`, the last event `last` on `end`.
fn journey(scan: u32, failed: bool, end: u32, last: DeliveryStatus) -> Vec<Checkpoint> {
    let at = |day: u32, hour: u32| format!("2024-05-{day:02}T{hour:02}:00:00+00:00");
    let mut events = vec![checkpoint_at(&at(end, 15), last, "last")];
    if failed {
        events.push(checkpoint_at(
            &at(end, 9),
            DeliveryStatus::Undelivered,
            "missed",
        ));
    }
    events.push(checkpoint_at(
        &at(scan, 12),
        DeliveryStatus::Transit,
        "scan",
    ));
    events.push(checkpoint_at(
        &at(1, 8),
        DeliveryStatus::Inforeceived,
        "label",
    ));
    events
}

/// Refreshes every due tracking of `courier` whose number `plan` names with its events.
async fn refresh(
    store: &dyn Store,
    courier: &str,
    plan: &[(&str, Vec<Checkpoint>, DeliveryStatus)],
) {
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("analytics", now, now + Duration::hours(1), 100, courier)
        .await
        .unwrap();
    let updates = claimed
        .iter()
        .filter_map(|c| {
            let (_, events, status) = plan.iter().find(|p| p.0 == c.tracking_number)?;
            Some(update(c.pk, events.clone(), *status))
        })
        .collect();
    store.apply_refresh("analytics", updates).await.unwrap();
    store.release_claims("analytics").await.unwrap();
}

/// The counters as a direct reading of the account's trackings gives them; `was_delivered`
/// names trackings delivered once that are no longer (their delivery still counts).
async fn direct(
    store: &dyn Store,
    account: AccountId,
    filter: &AnalyticsFilter,
    was_delivered: &[&str],
) -> Counters {
    let all = store
        .list_trackings(account, &TrackingFilter::default(), page(1, 1000))
        .await
        .unwrap();
    let chosen = |t: &&Tracking| {
        let country = t.fields.destination_country_iso2.as_deref().unwrap_or("");
        filter
            .courier_code
            .as_ref()
            .is_none_or(|c| *c == t.courier_code)
            && filter
                .country
                .as_ref()
                .is_none_or(|c| c.eq_ignore_ascii_case(country))
    };
    let within = |day: i64| filter.days.contains(&day);
    let mut created: BTreeMap<i64, u64> = BTreeMap::new();
    let mut delivered_on: BTreeMap<i64, u64> = BTreeMap::new();
    let mut statuses: BTreeMap<(String, DeliveryStatus), u64> = BTreeMap::new();
    let mut deliveries: BTreeMap<(String, i64), (u64, u64)> = BTreeMap::new();
    for t in all.iter().filter(chosen) {
        let day = day_of(t.created_at);
        if within(day) {
            *created.entry(day).or_default() += 1;
            *statuses
                .entry((t.courier_code.clone(), t.delivery_status))
                .or_default() += 1;
        }
        let delivered = t.delivery_status == DeliveryStatus::Delivered
            || was_delivered.contains(&t.tracking_number.as_str());
        if !delivered {
            continue;
        }
        let times = |keep: &dyn Fn(DeliveryStatus) -> bool| {
            t.checkpoints
                .iter()
                .filter(|c| keep(c.status))
                .map(|c| c.time)
                .min()
        };
        let at: DateTime<Utc> = times(&|s| s == DeliveryStatus::Delivered)
            .or(t.latest_checkpoint_time)
            .unwrap_or(t.updated_at);
        let scan = times(&|s| {
            !matches!(
                s,
                DeliveryStatus::Pending | DeliveryStatus::Notfound | DeliveryStatus::Inforeceived
            )
        })
        .unwrap_or(at);
        let transit = ((at - scan).num_seconds() / 86_400).max(0);
        let first = !t
            .checkpoints
            .iter()
            .any(|c| c.status == DeliveryStatus::Undelivered);
        if within(day_of(at)) {
            *delivered_on.entry(day_of(at)).or_default() += 1;
            let slot = deliveries
                .entry((t.courier_code.clone(), transit))
                .or_default();
            slot.0 += 1;
            slot.1 += u64::from(first);
        }
    }
    let per_day = |counts: BTreeMap<i64, u64>| {
        counts
            .into_iter()
            .map(|(day, trackings)| DayCount { day, trackings })
            .collect()
    };
    Counters {
        created: per_day(created),
        delivered: per_day(delivered_on),
        statuses: statuses
            .into_iter()
            .map(|((courier_code, status), trackings)| StatusCount {
                courier_code,
                status,
                trackings,
            })
            .collect(),
        deliveries: deliveries
            .into_iter()
            .map(
                |((courier_code, transit_days), (delivered, first_attempt))| DeliveryCount {
                    courier_code,
                    transit_days,
                    delivered,
                    first_attempt,
                },
            )
            .collect(),
    }
}

/// The counters the store keeps, in the order [`direct`] gives.
async fn counted(store: &dyn Store, account: AccountId, filter: &AnalyticsFilter) -> Counters {
    let mut counters = store.analytics(account, filter).await.unwrap();
    // The store orders statuses by their text; the direct reading by the enum's order.
    counters
        .statuses
        .sort_by(|a, b| (&a.courier_code, a.status).cmp(&(&b.courier_code, b.status)));
    counters
}

/// Every filter the case checks: everything, one courier, one country, no country, the days
/// of May 2024 only (deliveries without the trackings created today), and ranges cut into
/// whole weeks and days around them in several ways.
fn filters() -> Vec<AnalyticsFilter> {
    let may = |day: u32| day_of(format!("2024-05-{day:02}T00:00:00Z").parse().unwrap());
    let all = AnalyticsFilter {
        days: may(1) - 1..=day_of(Utc::now()) + 1,
        courier_code: None,
        country: None,
    };
    vec![
        all.clone(),
        AnalyticsFilter {
            courier_code: Some("ups".into()),
            ..all.clone()
        },
        AnalyticsFilter {
            country: Some("DE".into()),
            ..all.clone()
        },
        AnalyticsFilter {
            country: Some(String::new()),
            ..all.clone()
        },
        AnalyticsFilter {
            days: may(1)..=may(31),
            ..all.clone()
        },
        // Whole weeks with days before and after them (the weekly counters and the daily
        // ones), one day alone, and today inside a whole week.
        AnalyticsFilter {
            days: may(4)..=may(30),
            ..all.clone()
        },
        AnalyticsFilter {
            days: may(6)..=may(6),
            ..all.clone()
        },
        AnalyticsFilter {
            days: day_of(Utc::now()) - 20..=day_of(Utc::now()) + 20,
            country: Some("DE".into()),
            ..all
        },
    ]
}

async fn agree(store: &dyn Store, account: AccountId, was_delivered: &[&str], when: &str) {
    for filter in filters() {
        let expected = direct(store, account, &filter, was_delivered).await;
        assert_eq!(
            counted(store, account, &filter).await,
            expected,
            "{when}, {filter:?}"
        );
    }
}

pub async fn analytics_counters_follow_every_change_of_the_trackings(fresh: impl Factory) {
    let store = fresh().await;
    let account = store.create_account("shop").await.unwrap().id;
    let other = store.create_account("other").await.unwrap().id;
    let new = vec![
        to("A1", "ups", Some("de")),
        to("A2", "ups", Some("DE")),
        to("A3", "ups", None),
        to("A4", "ups", Some("fr")),
        to("B1", "dhl", Some("de")),
        to("B2", "dhl", None),
        to("B3", "dhl", Some("nl")),
    ];
    let made = create_all(&*store, account, new).await;
    create_all(&*store, other, vec![to("A1", "ups", Some("de"))]).await;
    agree(&*store, account, &[], "after creating").await;
    assert!(counted(&*store, other, &filters()[0])
        .await
        .deliveries
        .is_empty());

    use DeliveryStatus::{Delivered, Exception, Transit};
    refresh(
        &*store,
        "ups",
        &[
            ("A1", journey(2, false, 5, Delivered), Delivered),
            ("A2", journey(2, true, 7, Delivered), Delivered),
            ("A3", journey(3, false, 3, Delivered), Delivered),
            ("A4", journey(2, false, 4, Exception), Exception),
        ],
    )
    .await;
    refresh(
        &*store,
        "dhl",
        &[
            ("B1", journey(2, false, 9, Delivered), Delivered),
            ("B2", journey(4, false, 4, Transit), Transit),
        ],
    )
    .await;
    agree(&*store, account, &[], "after the refreshes").await;
    let all = counted(&*store, account, &filters()[0]).await;
    let delivered: u64 = all.deliveries.iter().map(|d| d.delivered).sum();
    let first: u64 = all.deliveries.iter().map(|d| d.first_attempt).sum();
    assert_eq!((delivered, first), (4, 3), "{all:?}");
    // A2: scanned on the 2nd at noon, delivered on the 7th at three after a failed attempt.
    let a2 = all
        .deliveries
        .iter()
        .find(|d| d.courier_code == "ups" && d.transit_days == 5);
    assert_eq!(a2.map(|d| d.first_attempt), Some(0), "{all:?}");

    // Delivered, then an exception: the status moves, the delivery stays counted.
    refresh(
        &*store,
        "ups",
        &[("A1", journey(2, false, 6, Exception), Exception)],
    )
    .await;
    agree(&*store, account, &["A1"], "after delivered → exception").await;

    // Another courier and another destination move the counters with the tracking.
    let by_number = |n: &str| {
        made.iter()
            .find(|t| t.tracking_number == n)
            .unwrap()
            .id
            .clone()
    };
    let moved = TrackingPatch {
        courier_code_new: Some("dhl".into()),
        ..TrackingPatch::default()
    };
    store
        .update_tracking(account, &by_number("A3"), &moved)
        .await
        .unwrap();
    let elsewhere = TrackingPatch {
        fields: TrackingFields {
            destination_country_iso2: Some("at".into()),
            ..TrackingFields::default()
        },
        ..TrackingPatch::default()
    };
    store
        .update_tracking(account, &by_number("A2"), &elsewhere)
        .await
        .unwrap();
    agree(&*store, account, &["A1"], "after the updates").await;

    // Deletes take a tracking out, one and many.
    store
        .delete_tracking(account, &by_number("B1"))
        .await
        .unwrap();
    let keys = [NumberKey {
        tracking_number: "A3".into(),
        courier_code: "dhl".into(),
    }];
    store.delete_many(account, &keys).await.unwrap();
    agree(&*store, account, &["A1"], "after the deletes").await;
    let left = counted(&*store, account, &filters()[0]).await;
    let tracked: u64 = left.statuses.iter().map(|s| s.trackings).sum();
    assert_eq!(tracked, 5, "{left:?}");
    // The other account's counters never moved.
    let theirs = counted(&*store, other, &filters()[0]).await;
    assert_eq!(theirs.statuses.len(), 1, "{theirs:?}");
    assert_eq!(theirs.statuses[0].trackings, 1);
}
