//! The problems queue's filters: trackings by sub-status (the returned ones), and trackings in
//! flight that have been quiet for longer than is usual for their kind of courier
//! (`parceld_store::Quiet`), listed and counted by the list's own statements.

use chrono::{Duration, Utc};
use parceld_model::{DeliveryStatus, SubStatus};
use parceld_store::{AccountId, Quiet, Store, TrackingFilter};

use crate::trackings::{numbers, page};
use crate::{account_with, checkpoint_at, update, Factory};

/// Gives every tracking of `courier` due now the state `(number, status, sub-status, days since
/// the latest event)` the table names for its number.
async fn set_states(
    store: &dyn Store,
    courier: &str,
    states: &[(&str, DeliveryStatus, Option<SubStatus>, i64)],
) {
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("setup", now, now + Duration::hours(1), 100, courier)
        .await
        .unwrap();
    let pks: Vec<i64> = claimed.iter().map(|c| c.pk).collect();
    let found = store.trackings_by_pk(&pks).await.unwrap();
    let updates = found
        .iter()
        .map(|(pk, tracking)| {
            let (_, status, substatus, days) = states
                .iter()
                .find(|s| s.0 == tracking.tracking_number)
                .expect("a state for every tracking");
            let at = (Utc::now() - Duration::days(*days)).to_rfc3339();
            let mut made = update(*pk, vec![checkpoint_at(&at, *status, "event")], *status);
            made.substatus = *substatus;
            made
        })
        .collect();
    store.apply_refresh("setup", updates).await.unwrap();
}

async fn selected(store: &dyn Store, account: AccountId, filter: &TrackingFilter) -> Vec<String> {
    let found = store.list_trackings(account, filter, page(1, 50)).await;
    let mut found: Vec<String> = numbers(&found.unwrap())
        .into_iter()
        .map(String::from)
        .collect();
    found.sort();
    found
}

pub async fn returned_and_quiet_trackings_are_listed_and_counted(fresh: impl Factory) {
    use DeliveryStatus::{Delivered, Exception, Pickup, Transit};
    let store = fresh().await;
    let express = [
        ("QEXPOLD", Transit, None, 6),
        ("QEXPNEW", Transit, None, 2),
        ("QDONE", Delivered, Some(SubStatus::Delivered001), 20),
        ("QRETURNED", Exception, Some(SubStatus::Exception010), 1),
        ("QLOST", Exception, Some(SubStatus::Exception007), 1),
    ];
    let postal = [
        ("QPOSTMID", Transit, None, 6),
        ("QPOSTOLD", Pickup, None, 12),
    ];
    let mut made: Vec<(&str, &str)> = express.iter().map(|s| (s.0, "fastco")).collect();
    made.extend(postal.iter().map(|s| (s.0, "postco")));
    let (account, _) = account_with(&*store, "a", &made).await;
    // Another account's quiet tracking is never the first's.
    let (other, _) = account_with(&*store, "b", &[("QOTHER", "slowco")]).await;
    set_states(&*store, "fastco", &express).await;
    set_states(&*store, "postco", &postal).await;
    set_states(&*store, "slowco", &[("QOTHER", Transit, None, 30)]).await;

    let now = Utc::now();
    let quiet = TrackingFilter {
        quiet: Some(Quiet {
            express_before: now - Duration::days(5),
            postal_before: now - Duration::days(10),
            postal_couriers: vec!["postco".into()],
        }),
        ..TrackingFilter::default()
    };
    // Express after five quiet days, postal only after ten; never a delivered one.
    assert_eq!(
        selected(&*store, account, &quiet).await,
        ["QEXPOLD", "QPOSTOLD"]
    );
    let mut counts = store.count_by_status(account, &quiet).await.unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(counts, [(Pickup, 1), (Transit, 1)]);
    assert_eq!(selected(&*store, other, &quiet).await, ["QOTHER"]);
    let archived_too = TrackingFilter {
        archived: Some(true),
        ..quiet.clone()
    };
    assert!(selected(&*store, account, &archived_too).await.is_empty());

    let returned = TrackingFilter {
        substatuses: vec![SubStatus::Exception010, SubStatus::Exception011],
        ..TrackingFilter::default()
    };
    assert_eq!(selected(&*store, account, &returned).await, ["QRETURNED"]);
    let counts = store.count_by_status(account, &returned).await.unwrap();
    assert_eq!(counts, [(Exception, 1)]);
}
