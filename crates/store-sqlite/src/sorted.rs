//! The sorted listing in SQLite (`parceld_store::sorting`): one statement per page, from an
//! index range at the page's position.
//!
//! SQLite has no statistics to choose an index by, so the statement names it. In creation
//! order the (account, column, pk) indexes already walk the order, and the list's own choice
//! among them stands (`trackings::push_filter`). In another order the statement walks that
//! order's index — `trackings_by_updated`, `trackings_by_last_event` (migration 0021, on the
//! last event's time with [`NO_EVENT_SECONDS`] for none) or the unique number index — each of
//! which holds the primary key after its columns (SQLite's rowid), so ties need no sort but for
//! numbers shared by couriers; other filters are checked on that walk. A page from a position
//! is two ranges of that index, each at most a page: the rest of the position's own value (by
//! key), then the values beyond it, as `UNION ALL` in the one statement. A status filter is the
//! exception unless the status is common: the statuses one filters by are mostly the few in
//! flight or in trouble, so their index finds them and only they are sorted, where walking the
//! order would pass over the whole account for a page of a rare status. A common status
//! (delivered, three quarters of a shop of a million) is the other way round: sorting its
//! hundreds of thousands took 0.4 s a page, and walking the order finds a page at once. So a
//! first statement counts the status's trackings on its index alone (no row is read), up to
//! [`COMMON`]: fewer are sorted, more are found on the walk of the order's index. The count is
//! of the status alone: with a courier too, the walk checks both.

use parceld_model::Tracking;
use parceld_store::sorting::NO_EVENT_SECONDS;
use parceld_store::{AccountId, Seek, SortKey, SortValue, TrackingFilter};
use rusqlite::types::Value;

use crate::error::Result;
use crate::reader::{self, Readers};
use crate::trackings::{push_filter, BY_NUMBER, SELECT_TRACKINGS};

/// Trackings of one status from which a page walks the order's index rather than sort them
/// all (see the module comment): sorting 86,000 took 50 ms here, 740,000 took 0.4 s.
const COMMON: i64 = 100_000;

pub(crate) async fn list(
    readers: &Readers,
    account: AccountId,
    filter: &TrackingFilter,
    seek: &Seek,
) -> Result<Vec<(i64, Tracking)>> {
    let rows = readers.with(|conn| {
        let walk = common_status(conn, account, filter, seek, COMMON)?;
        let (sql, params) = sorted_sql(account, filter, seek, walk);
        reader::trackings(conn, &sql, &params)
    })?;
    Ok(seek.in_order(rows))
}

/// Whether the filter's status (in an order with an index of its own) has at least `common`
/// trackings in the account, counted on the status index alone.
fn common_status(
    conn: &rusqlite::Connection,
    account: AccountId,
    filter: &TrackingFilter,
    seek: &Seek,
    common: i64,
) -> Result<bool> {
    let Some(status) = filter.delivery_status else {
        return Ok(false);
    };
    let ordered = sorted_by(seek.sort.key).1.is_some();
    if !ordered || filter.quiet.is_some() || !filter.tracking_numbers.is_empty() {
        return Ok(false);
    }
    let counted: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM trackings INDEXED BY trackings_by_status \
         WHERE account_id = ?1 AND delivery_status = ?2 LIMIT ?3)",
        rusqlite::params![account, status.as_str(), common],
        |row| row.get(0),
    )?;
    Ok(counted >= common)
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

/// The statement and parameters of one page of `seek`: a `SELECT_TRACKINGS`. With
/// `walk_the_order`, a status filter is checked on the walk of the order's index rather than
/// read from the status index (a common status: [`common_status`]).
fn sorted_sql(
    account: AccountId,
    filter: &TrackingFilter,
    seek: &Seek,
    walk_the_order: bool,
) -> (String, Vec<Value>) {
    let (expr, walk) = sorted_by(seek.sort.key);
    let by_status = filter.delivery_status.is_some() || filter.quiet.is_some();
    let index = if !filter.tracking_numbers.is_empty() {
        Some(BY_NUMBER)
    } else if by_status && !walk_the_order {
        walk.map(|_| "trackings_by_status")
    } else {
        walk
    };
    let order = seek.order_sql(&expr, "pk");
    let mut select = Select {
        account,
        filter,
        index,
        expr: &expr,
        value: false,
        limit: seek.size,
    };
    let mut params = Vec::new();
    // The page's keys first (from the index alone), then their rows: sorting whole rows would
    // copy every column, the checkpoint list too, into the sorter.
    let keys = match &seek.from {
        Some((position, _)) if seek.sort.key != SortKey::Created => {
            // The rest of the position's own value (an index range on value and key), then the
            // values beyond it: two ranges of at most a page each. SQLite does not search an
            // index by a row value `(value, pk) < (?, ?)`, and a bound on the value alone
            // would read every row of a large group of equal values (a million trackings
            // without an event) to pass those already seen.
            let (dir, beyond) = (seek.direction(), seek.beyond());
            select.value = true;
            let value = sort_value(&position.value);
            let same = select.sql(
                &mut params,
                &format!(" AND {expr} = ? AND pk {beyond} ?"),
                [value.clone(), Value::Integer(position.pk)],
                &format!(" ORDER BY pk {dir}"),
            );
            let past = select.sql(
                &mut params,
                &format!(" AND {expr} {beyond} ?"),
                [value],
                &order,
            );
            params.push(Value::Integer(i64::from(seek.size)));
            format!(
                "SELECT pk FROM (SELECT * FROM ({same}) UNION ALL SELECT * FROM ({past})) \
                 ORDER BY v {dir}, pk {dir} LIMIT ?"
            )
        }
        Some((position, _)) => {
            let condition = format!(" AND pk {} ?", seek.beyond());
            let pk = [Value::Integer(position.pk)];
            select.sql(&mut params, &condition, pk, &order)
        }
        None => select.sql(&mut params, "", [], &order),
    };
    (
        format!("{SELECT_TRACKINGS} WHERE pk IN ({keys}){order}"),
        params,
    )
}

/// A `SELECT pk` (and the sort value as `v`) of the account's trackings that pass the filter,
/// on the chosen index, at most a page.
struct Select<'a> {
    account: AccountId,
    filter: &'a TrackingFilter,
    index: Option<&'static str>,
    expr: &'a str,
    /// Whether the sort value is selected too (as `v`), for the page's two ranges.
    value: bool,
    limit: u32,
}

impl Select<'_> {
    /// The statement with `condition` (and its `values`) after the filter's, and `order`.
    fn sql<const N: usize>(
        &self,
        params: &mut Vec<Value>,
        condition: &str,
        values: [Value; N],
        order: &str,
    ) -> String {
        let mut sql = match self.value {
            true => format!("SELECT pk, {} AS v FROM trackings", self.expr),
            false => String::from("SELECT pk FROM trackings"),
        };
        if let Some(index) = self.index {
            sql.push_str(&format!(" INDEXED BY {index}"));
        }
        sql.push_str(" WHERE account_id = ?");
        params.push(Value::Integer(self.account));
        push_filter(&mut sql, params, self.filter);
        sql.push_str(condition);
        params.extend(values);
        sql.push_str(&format!("{order} LIMIT ?"));
        params.push(Value::Integer(i64::from(self.limit)));
        sql
    }
}

/// A position's sort value as SQLite stores it (times in whole seconds).
fn sort_value(value: &SortValue) -> Value {
    match value {
        SortValue::Key => Value::Null,
        SortValue::Time(micros) => Value::Integer(micros.div_euclid(1_000_000)),
        SortValue::Text(text) => Value::Text(text.clone()),
    }
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

    /// A deep page in each order searches that order's index from the position: the rest of
    /// the position's value by key, then the values beyond it. No scan of the account, no sort
    /// but of the page's own keys.
    #[tokio::test]
    async fn a_deep_page_searches_its_orders_index_from_the_position() {
        let cases = [
            (
                deep(SortKey::Updated, SortValue::Time(1_700_000_000_000_000)),
                vec![
                    "trackings_by_updated (account_id=? AND updated_at=? AND rowid<?)",
                    "trackings_by_updated (account_id=? AND updated_at<?)",
                ],
            ),
            (
                deep(SortKey::LastEvent, SortValue::Time(0)),
                vec![
                    "trackings_by_last_event (account_id=? AND <expr>=? AND rowid<?)",
                    "trackings_by_last_event (account_id=? AND <expr><?)",
                ],
            ),
            (
                deep(SortKey::Number, SortValue::Text("1Z".into())),
                vec!["sqlite_autoindex_trackings_2 (account_id=? AND tracking_number<?)"],
            ),
            (
                deep(SortKey::Created, SortValue::Key),
                vec!["trackings_by_account (account_id=? AND pk<?)"],
            ),
        ];
        for (seek, searches) in cases {
            let (sql, params) = sorted_sql(1, &TrackingFilter::default(), &seek, true);
            let plan = query_plan(&sql, &params).await;
            for search in searches {
                let searched = |step: &String| step.starts_with("SEARCH") && step.ends_with(search);
                assert!(plan.iter().any(searched), "{search}: {plan:?}");
            }
            let scans = plan
                .iter()
                .filter(|step| step.starts_with("SCAN trackings"));
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
        let (sql, params) = sorted_sql(1, &filter, &seek, false);
        let plan = query_plan(&sql, &params).await;
        let walk = "USING INDEX trackings_by_status (account_id=? AND delivery_status=?)";
        assert!(plan.iter().any(|step| step.ends_with(walk)), "{plan:?}");
        // A common status: the order's index, the status checked on the way.
        let (sql, params) = sorted_sql(1, &filter, &seek, true);
        let plan = query_plan(&sql, &params).await;
        assert!(
            plan.iter()
                .any(|step| step.contains("trackings_by_updated")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("trackings_by_status")),
            "{plan:?}"
        );
    }

    /// The count that chooses: a status with fewer than `common` trackings is sorted, one with
    /// as many or more is walked in the order's index.
    #[tokio::test]
    async fn a_rare_status_is_sorted_and_a_common_one_walked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        crate::SqliteStore::open(&path).await.unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (id, name, created_at) VALUES (1, 'shop', 0); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) \
             INSERT INTO trackings (id, account_id, tracking_number, courier_code, \
               delivery_status, created_at, updated_at) \
             SELECT randomblob(16), 1, 'N' || i, 'ups', \
               CASE WHEN i <= 10 THEN 'transit' ELSE 'delivered' END, i, i FROM n",
        )
        .unwrap();
        let status = |status| TrackingFilter {
            delivery_status: Some(status),
            ..TrackingFilter::default()
        };
        let seek = deep(SortKey::Updated, SortValue::Time(0));
        let common = |filter: &TrackingFilter, seek: &Seek| {
            common_status(&conn, 1, filter, seek, 50).unwrap()
        };
        use parceld_model::DeliveryStatus::{Delivered, Transit};
        assert!(!common(&status(Transit), &seek));
        assert!(common(&status(Delivered), &seek));
        // In creation order the status's own index walks the order already.
        let created = Seek {
            sort: Sort {
                key: SortKey::Created,
                descending: true,
            },
            ..seek.clone()
        };
        assert!(!common(&status(Delivered), &created));
    }
}
