//! The list queries: one page of an account's trackings, newest first, with every filter of the
//! list endpoint, and the counts by status over the same filters.
//!
//! Each is one statement built from the filters that are set, so PostgreSQL plans it with the
//! index of that filter (`trackings_by_status`, `_by_courier`, …, migration 0001), or, for
//! tracking numbers, with the unique (account, number, courier) index. Values are always bound,
//! never written into the SQL, but for the constant list of statuses in flight of the "stuck"
//! filter, which must stand as literals for the partial index on it to be used.

use parceld_store::{AccountId, Page, TrackingFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::rows::TRACKING_COLUMNS;

/// One page of `list_trackings`: [`TRACKING_COLUMNS`] rows, newest first.
pub(crate) fn page_query(
    account: AccountId,
    filter: &TrackingFilter,
    page: Page,
) -> QueryBuilder<'static, Postgres> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.account_id = "
    ));
    query.push_bind(account);
    if !filter.tracking_numbers.is_empty() {
        query
            .push(" AND t.tracking_number = ANY(")
            .push_bind(filter.tracking_numbers.clone())
            .push(")");
    }
    push_other_filters(&mut query, filter);
    let offset = i64::from(page.number.max(1) - 1) * i64::from(page.size);
    query
        .push(" ORDER BY t.pk DESC LIMIT ")
        .push_bind(i64::from(page.size))
        .push(" OFFSET ")
        .push_bind(offset);
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
                "WHERE t.account_id = $1 AND t.tracking_number = ANY($2) \
             AND t.delivery_status = $3 ORDER BY t.pk DESC LIMIT $4 OFFSET $5"
            ),
            "{sql}"
        );
        assert!(!sql.contains("DROP"), "{sql}");
        let counts = count_query(7, &filter).into_sql();
        assert!(
            counts.ends_with(
                "WHERE t.account_id = $1 AND t.delivery_status = $2 GROUP BY t.delivery_status"
            ),
            "{counts}"
        );
    }
}
