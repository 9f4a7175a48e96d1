//! The sorted listing in SQLite (`parceld_store::sorting`): one statement per page, from an
//! index range at the page's position.
//!
//! SQLite has no statistics to choose an index by, so the statement names it. In creation
//! order the (account, column, pk) indexes already walk the order, and the list's own choice
//! among them stands (`trackings::push_filter`). In another order the statement walks that
//! order's index — `trackings_by_updated`, `trackings_by_last_event` (migration 0021, on the
//! last event's time with [`NO_EVENT_SECONDS`] for none) or the unique number index — each of
//! which holds the primary key after its columns (SQLite's rowid), so ties need no sort but for
//! numbers shared by couriers; other filters are checked on that walk. A status filter is the
//! exception: the statuses one filters by are mostly the few in flight or in trouble, so their
//! index finds them and only they are sorted, where walking the order would pass over the
//! whole account for a page of a rare status.

use parceld_model::Tracking;
use parceld_store::sorting::{Part, NO_EVENT_SECONDS};
use parceld_store::{AccountId, Seek, SortKey, SortValue, TrackingFilter};
use rusqlite::types::Value;

use crate::error::Result;
use crate::reader::{self, Readers};
use crate::trackings::{push_filter, BY_NUMBER, SELECT_TRACKINGS};

pub(crate) async fn list(
    readers: &Readers,
    account: AccountId,
    filter: &TrackingFilter,
    seek: &Seek,
) -> Result<Vec<(i64, Tracking)>> {
    let (sql, params) = sorted_sql(account, filter, seek);
    let rows = readers.with(|conn| reader::trackings(conn, &sql, &params))?;
    Ok(seek.in_order(rows))
}

/// The column or expression a key sorts by, and the index that walks it.
fn sorted_by(key: SortKey) -> (String, Option<&'static str>) {
    match key {
        SortKey::Created => ("pk".into(), None),
        SortKey::Updated => ("updated_at".into(), Some("trackings_by_updated")),
        SortKey::LastEvent => (
            format!("coalesce(latest_checkpoint_time, {NO_EVENT_SECONDS})"),
            Some("trackings_by_last_event"),
        ),
        SortKey::Number => ("tracking_number".into(), Some(BY_NUMBER)),
    }
}

/// The statement and parameters of one page of `seek`: a `SELECT_TRACKINGS`.
fn sorted_sql(account: AccountId, filter: &TrackingFilter, seek: &Seek) -> (String, Vec<Value>) {
    let (expr, walk) = sorted_by(seek.sort.key);
    let index = if !filter.tracking_numbers.is_empty() {
        Some(BY_NUMBER)
    } else if filter.delivery_status.is_some() || filter.quiet.is_some() {
        walk.map(|_| "trackings_by_status")
    } else {
        walk
    };
    let order = seek.order_sql(&expr, "pk");
    // The page's keys first (from the index alone), then their rows: sorting whole rows would
    // copy every column, the checkpoint list too, into the sorter.
    let mut sql = String::from("SELECT pk FROM trackings");
    if let Some(index) = index {
        sql.push_str(&format!(" INDEXED BY {index}"));
    }
    sql.push_str(" WHERE account_id = ?");
    let mut params = vec![Value::Integer(account)];
    push_filter(&mut sql, &mut params, filter);
    for part in seek.position_sql(&expr, "pk") {
        match part {
            Part::Sql(text) => sql.push_str(&text),
            Part::Pk(pk) => push_value(&mut sql, &mut params, Value::Integer(pk)),
            Part::Value(SortValue::Time(micros)) => {
                let seconds = micros.div_euclid(1_000_000);
                push_value(&mut sql, &mut params, Value::Integer(seconds));
            }
            Part::Value(SortValue::Text(text)) => {
                push_value(&mut sql, &mut params, Value::Text(text.clone()));
            }
            Part::Value(SortValue::Key) => push_value(&mut sql, &mut params, Value::Null),
        }
    }
    sql.push_str(&format!("{order} LIMIT ?"));
    params.push(Value::Integer(i64::from(seek.size)));
    (
        format!("{SELECT_TRACKINGS} WHERE pk IN ({sql}){order}"),
        params,
    )
}

fn push_value(sql: &mut String, params: &mut Vec<Value>, value: Value) {
    sql.push('?');
    params.push(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trackings::query_plan;
    use parceld_store::{Position, Sort, Toward};

    fn deep(key: SortKey, value: SortValue) -> Seek {
        Seek {
            sort: Sort {
                key,
                descending: true,
            },
            from: Some((Position { value, pk: 500_000 }, Toward::Later)),
            size: 51,
        }
    }

    /// A deep page in each order is a search of that order's index from the position, with no
    /// sort of the account's rows (a sort of the page's own keys at most).
    #[tokio::test]
    async fn a_deep_page_searches_its_orders_index_from_the_position() {
        let cases = [
            (
                deep(SortKey::Updated, SortValue::Time(1_700_000_000_000_000)),
                "trackings_by_updated (account_id=? AND updated_at<?)",
            ),
            (
                deep(SortKey::LastEvent, SortValue::Time(0)),
                "trackings_by_last_event (account_id=? AND <expr><?)",
            ),
            (
                deep(SortKey::Number, SortValue::Text("1Z".into())),
                "sqlite_autoindex_trackings_2 (account_id=? AND tracking_number<?)",
            ),
            (
                deep(SortKey::Created, SortValue::Key),
                "trackings_by_account (account_id=? AND pk<?)",
            ),
        ];
        for (seek, search) in cases {
            let (sql, params) = sorted_sql(1, &TrackingFilter::default(), &seek);
            let plan = query_plan(&sql, &params).await;
            let searched = |step: &&String| step.starts_with("SEARCH") && step.ends_with(search);
            let scans = plan
                .iter()
                .filter(|step| step.starts_with("SCAN trackings"));
            assert!(
                plan.iter().any(|step| searched(&step)),
                "{search}: {plan:?}"
            );
            assert_eq!(scans.count(), 0, "{plan:?}");
        }
    }

    /// With a status filter, the status's index finds the rows, whatever the order.
    #[tokio::test]
    async fn a_status_filter_reads_the_status_index_in_any_order() {
        let filter = TrackingFilter {
            delivery_status: Some(parceld_model::DeliveryStatus::Transit),
            courier_code: Some("ups".into()),
            ..TrackingFilter::default()
        };
        let seek = deep(SortKey::Updated, SortValue::Time(0));
        let (sql, params) = sorted_sql(1, &filter, &seek);
        let plan = query_plan(&sql, &params).await;
        let walk = "USING INDEX trackings_by_status (account_id=? AND delivery_status=?)";
        assert!(plan.iter().any(|step| step.ends_with(walk)), "{plan:?}");
    }
}
