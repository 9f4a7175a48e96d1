//! The list queries: one page of an account's trackings, newest first, with every filter of the
//! list endpoint, the dashboard's sorted page from a position (`parceld_store::sorting`), and
//! the counts by status over the same filters.
//!
//! Each is one statement built from the filters that are set, so PostgreSQL plans it with the
//! index of that filter (`trackings_by_status`, `_by_courier`, …, migration 0001), or, for
//! tracking numbers, with the unique (account, number, courier) index. Values are always bound,
//! never written into the SQL, but for the constant list of statuses in flight of the "stuck"
//! filter, which must stand as literals for the partial index on it to be used.

use parceld_store::sorting::{Part, NO_EVENT_SECONDS};
use parceld_store::{AccountId, Page, Seek, SortKey, SortValue, TrackingFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::rows::TRACKING_COLUMNS;

/// One page of `list_trackings`: [`TRACKING_COLUMNS`] rows, newest first.
pub(crate) fn page_query(
    account: AccountId,
    filter: &TrackingFilter,
    page: Page,
) -> QueryBuilder<'static, Postgres> {
    let mut query = selected(account, filter);
    let offset = i64::from(page.number.max(1) - 1) * i64::from(page.size);
    query
        .push(" ORDER BY t.pk DESC LIMIT ")
        .push_bind(i64::from(page.size));
    // A first page has no `OFFSET`: see `selected` on plans kept between executions.
    if offset > 0 {
        query.push(" OFFSET ").push_bind(offset);
    }
    query
}

/// `SELECT` [`TRACKING_COLUMNS`] of the account's trackings `filter` selects, to be ordered.
fn selected(account: AccountId, filter: &TrackingFilter) -> QueryBuilder<'static, Postgres> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.account_id = "
    ));
    query.push_bind(account);
    // One number (`GET /v4/trackings/get?tracking_numbers=…`, the commonest call) is compared
    // with `=`, and a first page has no `OFFSET` (`page_query`). PostgreSQL then finds its
    // generic plan of such a statement as cheap as one made for the values and keeps it after a
    // few executions. An array's length and an offset are unknown to a generic plan, which then
    // costs more, so it planned the statement anew on every execution: 70 µs of planning for 16
    // µs of execution, half of what PostgreSQL spent on one `GET`.
    match filter.tracking_numbers.as_slice() {
        [] => {}
        [number] => {
            query
                .push(" AND t.tracking_number = ")
                .push_bind(number.clone());
        }
        numbers => {
            query
                .push(" AND t.tracking_number = ANY(")
                .push_bind(numbers.to_vec())
                .push(")");
        }
    }
    push_other_filters(&mut query, filter);
    query
}

/// The expression a key sorts by (`parceld_store::sorting`): the last event's time with the
/// stand-in for none (the expression of `trackings_by_last_event`, migration 0020).
fn sorted_by(key: SortKey) -> &'static str {
    match key {
        SortKey::Created => "t.pk",
        SortKey::Updated => "t.updated_at",
        SortKey::LastEvent => {
            "COALESCE(t.latest_checkpoint_time, '0001-01-01 00:00:00+00'::timestamptz)"
        }
        SortKey::Number => "t.tracking_number",
    }
}

/// One page of `list_sorted`: [`TRACKING_COLUMNS`] rows in reading order, from the position.
/// PostgreSQL's statistics choose between the order's index and a filter's.
pub(crate) fn sorted_query(
    account: AccountId,
    filter: &TrackingFilter,
    seek: &Seek,
) -> QueryBuilder<'static, Postgres> {
    let mut query = selected(account, filter);
    let expr = sorted_by(seek.sort.key);
    for part in seek.position_sql(expr, "t.pk") {
        match part {
            Part::Sql(text) => query.push(text),
            Part::Pk(pk) => query.push_bind(pk),
            Part::Value(SortValue::Time(micros)) => {
                let no_event = || SortValue::time(NO_EVENT_SECONDS * 1_000_000);
                query.push_bind(SortValue::time(*micros).or_else(no_event))
            }
            Part::Value(SortValue::Text(text)) => query.push_bind(text.clone()),
            Part::Value(SortValue::Key) => query.push_bind(None::<i64>),
        };
    }
    query
        .push(seek.order_sql(expr, "t.pk"))
        .push(" LIMIT ")
        .push_bind(i64::from(seek.size));
    query
}

/// `count_by_status`: (status, count) rows of the trackings `filter` selects, its tracking
/// numbers aside.
pub(crate) fn count_query(
    account: AccountId,
    filter: &TrackingFilter,
) -> QueryBuilder<'static, Postgres> {
    let mut query = QueryBuilder::new(
        "SELECT t.delivery_status, count(*) FROM trackings t WHERE t.account_id = ",
    );
    query.push_bind(account);
    push_other_filters(&mut query, filter);
    query.push(" GROUP BY t.delivery_status");
    query
}

/// The conditions of `filter` other than `tracking_numbers`.
fn push_other_filters(query: &mut QueryBuilder<'static, Postgres>, filter: &TrackingFilter) {
    if let Some(courier) = &filter.courier_code {
        query
            .push(" AND t.courier_code = ")
            .push_bind(courier.clone());
    }
    if let Some(status) = filter.delivery_status {
        query
            .push(" AND t.delivery_status = ")
            .push_bind(status.as_str());
    }
    if let Some(archived) = filter.archived {
        query.push(" AND t.archived = ").push_bind(archived);
    }
    let bounds = [
        (" AND t.created_at >= ", filter.created_min),
        (" AND t.created_at <= ", filter.created_max),
        (" AND t.updated_at >= ", filter.updated_min),
        (" AND t.updated_at <= ", filter.updated_max),
    ];
    for (condition, bound) in bounds {
        if let Some(bound) = bound {
            query.push(condition).push_bind(bound);
        }
    }
    if !filter.substatuses.is_empty() {
        let names: Vec<String> = filter
            .substatuses
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        query
            .push(" AND t.substatus = ANY(")
            .push_bind(names)
            .push(")");
    }
    if let Some(quiet) = &filter.quiet {
        // In flight and quiet since the later bound (the index's range), then each courier's
        // own bound.
        query
            .push(" AND t.delivery_status IN ")
            .push(parceld_store::quiet::IN_FLIGHT_SQL)
            .push(" AND t.latest_checkpoint_time < ")
            .push_bind(quiet.latest_bound())
            .push(" AND CASE WHEN t.courier_code = ANY(")
            .push_bind(quiet.postal_couriers.clone())
            .push(") THEN t.latest_checkpoint_time < ")
            .push_bind(quiet.postal_before)
            .push(" ELSE t.latest_checkpoint_time < ")
            .push_bind(quiet.express_before)
            .push(" END");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_model::DeliveryStatus;

    #[test]
    fn only_the_filters_that_are_set_appear_and_every_value_is_bound() {
        let filter = TrackingFilter {
            tracking_numbers: vec!["1Z'; DROP TABLE trackings; --".into()],
            delivery_status: Some(DeliveryStatus::Transit),
            ..TrackingFilter::default()
        };
        let page = Page {
            number: 3,
            size: 20,
        };
        let sql = page_query(7, &filter, page).into_sql();
        assert!(
            sql.ends_with(
                "WHERE t.account_id = $1 AND t.tracking_number = $2 \
             AND t.delivery_status = $3 ORDER BY t.pk DESC LIMIT $4 OFFSET $5"
            ),
            "{sql}"
        );
        assert!(!sql.contains("DROP"), "{sql}");
        let two_numbers = TrackingFilter {
            tracking_numbers: vec!["1Z1".into(), "1Z2".into()],
            ..filter.clone()
        };
        let first = Page { number: 1, ..page };
        let sql = page_query(7, &two_numbers, first).into_sql();
        assert!(
            sql.ends_with(
                "WHERE t.account_id = $1 AND t.tracking_number = ANY($2) \
             AND t.delivery_status = $3 ORDER BY t.pk DESC LIMIT $4"
            ),
            "{sql}"
        );
        let counts = count_query(7, &filter).into_sql();
        assert!(
            counts.ends_with(
                "WHERE t.account_id = $1 AND t.delivery_status = $2 GROUP BY t.delivery_status"
            ),
            "{counts}"
        );
    }
}
