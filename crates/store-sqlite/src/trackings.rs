//! Trackings in SQLite: creating them in multi-row inserts, the list and one-tracking reads
//! (through the inline reader, [`crate::reader`]), updates, deletes and the set-based v2
//! operations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use parceld_model::{DeliveryStatus, Tracking, TrackingFields, TrackingId};
use parceld_store::{
    AccountId, CreateOutcome, Entity, NewTracking, NumberKey, Page, RetrackOutcome, StoreError,
    TrackingFilter, TrackingPatch, RETRACKED_STATUS_INFO,
};
use rusqlite::types::Value;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::mpsc;

use crate::error::Result;
use crate::reader::{self, Readers};
use crate::rows::{from_ts, parse_json, parse_status};
use crate::statements::keep_prepared;

/// Rows per multi-row INSERT: well under SQLite's limit of bound parameters.
const INSERT_CHUNK: usize = 500;

/// Trackings with their checkpoint lists (checkpoint_list.rs; NULL for a tracking without
/// checkpoints); `reader::tracking_columns` reads these columns by position: keep the order.
/// One row per tracking: joining checkpoint rows instead copied every tracking column into each
/// checkpoint's row, and reading them in a second statement cost about half of a one-tracking
/// read.
pub(crate) const SELECT_TRACKINGS: &str = "SELECT pk, id, tracking_number, courier_code, \
    courier_detected, delivery_status, substatus, status_info, latest_event, \
    latest_checkpoint_time, archived, fields, shipment, created_at, updated_at, last_checked_at, \
    next_check_at, check_error, \
    (SELECT list FROM checkpoint_lists WHERE tracking_pk = trackings.pk) FROM trackings";

/// The unique (account_id, tracking_number, courier_code) index: SQLite names the index of a
/// table's second UNIQUE constraint (0001_init.sql) this way. Its first two columns serve every
/// look-up by number; a separate index on them only took room (migration 0010).
pub(crate) const BY_NUMBER: &str = "sqlite_autoindex_trackings_2";

pub(crate) async fn create(
    pool: &SqlitePool,
    account: AccountId,
    trackings: Vec<NewTracking>,
) -> Result<Vec<CreateOutcome>> {
    let now = Utc::now();
    let now_ts = now.timestamp();
    let prepared: Vec<(TrackingId, String, NewTracking)> = trackings
        .into_iter()
        .map(|new| {
            let fields = serde_json::to_string(&new.fields).expect("fields serialise");
            (TrackingId::generate(), fields, new)
        })
        .collect();
    let mut created_ids: HashSet<Vec<u8>> = HashSet::new();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in prepared.chunks(INSERT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO trackings (id, account_id, tracking_number, courier_code, \
             courier_detected, delivery_status, status_info, check_error, fields, created_at, \
             updated_at, next_check_at) ",
        );
        insert.push_values(chunk, |mut row, (id, fields, new)| {
            row.push_bind(id.to_bytes().to_vec())
                .push_bind(account)
                .push_bind(&new.tracking_number)
                .push_bind(&new.courier_code)
                .push_bind(new.courier_detected)
                .push_bind(DeliveryStatus::Pending.as_str())
                .push_bind(&new.status_info)
                .push_bind(&new.check_error)
                .push_bind(fields)
                .push_bind(now_ts)
                .push_bind(now_ts)
                .push_bind(now_ts);
        });
        insert.push(
            " ON CONFLICT (account_id, tracking_number, courier_code) DO NOTHING RETURNING id",
        );
        let ids: Vec<Vec<u8>> = insert
            .build_query_scalar()
            .persistent(keep_prepared(chunk.len(), INSERT_CHUNK))
            .fetch_all(&mut *tx)
            .await?;
        created_ids.extend(ids);
    }
    tx.commit().await?;
    let created_at = from_ts(now_ts);
    Ok(prepared
        .into_iter()
        .map(|(id, _, new)| {
            let created = created_ids.contains(&id.to_bytes()[..]);
            new.outcome(id, created_at, created)
        })
        .collect())
}

pub(crate) async fn list(
    readers: &Readers,
    account: AccountId,
    filter: &TrackingFilter,
    page: Page,
) -> Result<Vec<Tracking>> {
    let (sql, params) = list_sql(account, filter, page);
    let rows = readers.with(|conn| reader::trackings(conn, &sql, &params))?;
    Ok(rows.into_iter().map(|(_, tracking)| tracking).collect())
}

/// [`list`], sent into `chunks` in chunks of at most `chunk` trackings as one statement yields
/// them. The inline reader blocks, so the reading runs on a blocking thread while the caller's
/// task renders what has arrived; a dropped receiver stops the reading.
pub(crate) async fn list_in_chunks(
    readers: Arc<Readers>,
    account: AccountId,
    filter: &TrackingFilter,
    page: Page,
    chunk: usize,
    chunks: mpsc::Sender<Vec<Tracking>>,
) -> Result<()> {
    let (sql, params) = list_sql(account, filter, page);
    tokio::task::spawn_blocking(move || {
        readers.with(|conn| {
            reader::trackings_in_chunks(conn, &sql, &params, chunk, &mut |rows| {
                chunks
                    .blocking_send(rows.into_iter().map(|(_, tracking)| tracking).collect())
                    .is_ok()
            })
        })
    })
    .await
    .map_err(StoreError::backend)?
}

pub(crate) async fn get(
    readers: &Readers,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<Tracking>> {
    let rows = readers.with(|conn| {
        reader::trackings(
            conn,
            &format!("{SELECT_TRACKINGS} WHERE id = ?1 AND account_id = ?2"),
            &[Value::Blob(id.to_bytes().to_vec()), Value::Integer(account)],
        )
    })?;
    Ok(rows.into_iter().next().map(|(_, tracking)| tracking))
}

pub(crate) async fn update(
    pool: &SqlitePool,
    readers: &Readers,
    account: AccountId,
    id: &TrackingId,
    patch: &TrackingPatch,
) -> Result<Option<Tracking>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query(
        "SELECT pk, fields, courier_code FROM trackings WHERE id = ? AND account_id = ?",
    )
    .bind(id.to_bytes().to_vec())
    .bind(account)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let pk: i64 = row.get(0);
    let mut fields: TrackingFields = parse_json(row.get(1), "fields")?;
    fields.apply(&patch.fields);
    let courier: String = patch.courier_code_new.clone().unwrap_or_else(|| row.get(2));
    let result = sqlx::query(
        "UPDATE trackings SET fields = ?1, courier_code = ?2, \
         courier_detected = CASE WHEN courier_code = ?2 THEN courier_detected ELSE 0 END, \
         archived = COALESCE(?3, archived), updated_at = ?4 WHERE pk = ?5",
    )
    .bind(serde_json::to_string(&fields).expect("fields serialise"))
    .bind(&courier)
    .bind(patch.archived)
    .bind(Utc::now().timestamp())
    .bind(pk)
    .execute(&mut *tx)
    .await;
    match result {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Conflict(
                Entity::Tracking,
                format!("this account already tracks the number with courier `{courier}`"),
            )
            .into());
        }
        other => {
            other?;
        }
    }
    tx.commit().await?;
    load_one(readers, pk).await
}

pub(crate) async fn delete(
    pool: &SqlitePool,
    readers: &Readers,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<Tracking>> {
    let Some(pk) = tracking_pk(pool, account, id).await? else {
        return Ok(None);
    };
    let Some(tracking) = load_one(readers, pk).await? else {
        return Ok(None);
    };
    let deleted = sqlx::query("DELETE FROM trackings WHERE pk = ? AND account_id = ?")
        .bind(pk)
        .bind(account)
        .execute(pool)
        .await?
        .rows_affected();
    Ok((deleted > 0).then_some(tracking))
}

pub(crate) async fn count_by_status(
    readers: &Readers,
    account: AccountId,
    filter: &TrackingFilter,
) -> Result<Vec<(DeliveryStatus, u64)>> {
    let mut sql =
        String::from("SELECT delivery_status, COUNT(*) FROM trackings WHERE account_id = ?");
    let mut params = vec![Value::Integer(account)];
    push_filter(
        &mut sql,
        &mut params,
        &TrackingFilter {
            tracking_numbers: Vec::new(),
            ..filter.clone()
        },
    );
    sql.push_str(" GROUP BY delivery_status");
    let rows: Vec<(String, i64)> = readers.with(|conn| {
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    })?;
    rows.into_iter()
        .map(|(status, count)| Ok((parse_status(&status)?, count.max(0) as u64)))
        .collect()
}

/// Rows of the account `?1` whose number and courier are among the keys `?2` (a JSON array of
/// `[number, courier]` pairs), as a `WHERE` condition.
const AMONG_KEYS: &str = "account_id = ?1 AND (tracking_number, courier_code) IN \
     (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2))";

/// Runs `statement`, which changes the rows [`AMONG_KEYS`] names, takes `now` as `?3` where it
/// needs the time, and returns each changed row's number and courier; the keys it changed.
async fn change_keyed(
    pool: &SqlitePool,
    account: AccountId,
    keys: &[NumberKey],
    statement: &str,
    now: Option<i64>,
) -> Result<Vec<NumberKey>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::query_as(statement)
        .bind(account)
        .bind(keys_json(keys));
    if let Some(now) = now {
        query = query.bind(now);
    }
    let rows: Vec<(String, String)> = query.fetch_all(pool).await?;
    Ok(rows.into_iter().map(number_key).collect())
}

pub(crate) async fn archive_many(
    pool: &SqlitePool,
    account: AccountId,
    keys: &[NumberKey],
) -> Result<Vec<NumberKey>> {
    let statement = format!(
        "UPDATE trackings SET archived = 1, \
         updated_at = CASE WHEN archived = 1 THEN updated_at ELSE ?3 END \
         WHERE {AMONG_KEYS} RETURNING tracking_number, courier_code"
    );
    let now = Utc::now().timestamp();
    change_keyed(pool, account, keys, &statement, Some(now)).await
}

pub(crate) async fn delete_many(
    pool: &SqlitePool,
    account: AccountId,
    keys: &[NumberKey],
) -> Result<Vec<NumberKey>> {
    let statement =
        format!("DELETE FROM trackings WHERE {AMONG_KEYS} RETURNING tracking_number, courier_code");
    change_keyed(pool, account, keys, &statement, None).await
}

pub(crate) async fn retrack(
    pool: &SqlitePool,
    readers: &Readers,
    account: AccountId,
    id: &TrackingId,
) -> Result<RetrackOutcome> {
    let now = Utc::now().timestamp();
    let pk: Option<i64> = sqlx::query_scalar(
        "UPDATE trackings SET delivery_status = 'pending', substatus = NULL, \
         status_info = ?, next_check_at = ?, updated_at = ? \
         WHERE id = ? AND account_id = ? AND delivery_status = 'expired' RETURNING pk",
    )
    .bind(RETRACKED_STATUS_INFO)
    .bind(now)
    .bind(now)
    .bind(id.to_bytes().to_vec())
    .bind(account)
    .fetch_optional(pool)
    .await?;
    match pk {
        Some(pk) => Ok(match load_one(readers, pk).await? {
            Some(tracking) => RetrackOutcome::Retracked(Box::new(tracking)),
            None => RetrackOutcome::NotFound,
        }),
        None if tracking_pk(pool, account, id).await?.is_some() => Ok(RetrackOutcome::NotExpired),
        None => Ok(RetrackOutcome::NotFound),
    }
}

/// Trackings by primary key, with their checkpoints, in the order of `pks`: one statement
/// whatever the number.
pub(crate) async fn load_trackings_by_pk(
    readers: &Readers,
    pks: &[i64],
) -> Result<Vec<(i64, Tracking)>> {
    if pks.is_empty() {
        return Ok(Vec::new());
    }
    let pk_list = serde_json::to_string(pks).expect("integers serialise");
    let rows = readers.with(|conn| {
        reader::trackings(
            conn,
            &format!("{SELECT_TRACKINGS} WHERE pk IN (SELECT value FROM json_each(?1))"),
            &[Value::Text(pk_list)],
        )
    })?;
    let mut by_pk: HashMap<i64, Tracking> = rows.into_iter().collect();
    Ok(pks
        .iter()
        .filter_map(|pk| by_pk.remove(pk).map(|t| (*pk, t)))
        .collect())
}

async fn tracking_pk(
    pool: &SqlitePool,
    account: AccountId,
    id: &TrackingId,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT pk FROM trackings WHERE id = ? AND account_id = ?")
            .bind(id.to_bytes().to_vec())
            .bind(account)
            .fetch_optional(pool)
            .await?,
    )
}

async fn load_one(readers: &Readers, pk: i64) -> Result<Option<Tracking>> {
    Ok(load_trackings_by_pk(readers, &[pk])
        .await?
        .pop()
        .map(|(_, tracking)| tracking))
}

/// The statement and parameters of one page of `list_trackings`: a `SELECT_TRACKINGS`.
fn list_sql(account: AccountId, filter: &TrackingFilter, page: Page) -> (String, Vec<Value>) {
    // Looking numbers up goes through the unique (account_id, tracking_number, courier_code)
    // index; left alone, the planner prefers the index that yields newest-first order and scans
    // the whole account.
    let mut sql = String::from(SELECT_TRACKINGS);
    let mut params = vec![Value::Integer(account)];
    let offset = i64::from(page.number.max(1) - 1) * i64::from(page.size);
    if let [number] = filter.tracking_numbers.as_slice() {
        // One number (the commonest call): a plain index search, then a sort of the rows it
        // finds (one per courier, usually one). The general form below builds temporary tables
        // for `json_each` and the inner `ORDER BY`, which were a quarter of SQLite's time for
        // one tracking.
        sql.push_str(&format!(
            " INDEXED BY {BY_NUMBER} WHERE account_id = ? AND tracking_number = ?"
        ));
        params.push(Value::Text(number.clone()));
        push_other_filters(&mut sql, &mut params, filter);
        sql.push_str(" ORDER BY pk DESC LIMIT ? OFFSET ?");
    } else {
        sql.push_str(" WHERE pk IN (SELECT pk FROM trackings");
        if !filter.tracking_numbers.is_empty() {
            sql.push_str(&format!(" INDEXED BY {BY_NUMBER}"));
        }
        sql.push_str(" WHERE account_id = ?");
        push_filter(&mut sql, &mut params, filter);
        sql.push_str(" ORDER BY pk DESC LIMIT ? OFFSET ?) ORDER BY pk DESC");
    }
    params.extend([Value::Integer(i64::from(page.size)), Value::Integer(offset)]);
    (sql, params)
}

/// Appends the conditions of `filter` (after `WHERE account_id = ?`) and their parameters.
pub(crate) fn push_filter(sql: &mut String, params: &mut Vec<Value>, filter: &TrackingFilter) {
    if !filter.tracking_numbers.is_empty() {
        sql.push_str(" AND tracking_number IN (SELECT value FROM json_each(?))");
        params.push(Value::Text(
            serde_json::to_string(&filter.tracking_numbers).expect("strings"),
        ));
    }
    push_other_filters(sql, params, filter);
}

/// The conditions of `filter` other than `tracking_numbers`.
///
/// Each of status, courier and archived has an (account, column, pk) index that walks the list
/// newest first, and SQLite, without statistics, picks among them blindly. The walk should be
/// on the column likeliest to narrow the list — a status (the problems' statuses are few among
/// many delivered), then a courier, and last `archived`, which has two values — so the others
/// are written `+column`: filters on that walk, not indexes to choose.
fn push_other_filters(sql: &mut String, params: &mut Vec<Value>, filter: &TrackingFilter) {
    let by_status = filter.delivery_status.is_some() || filter.quiet.is_some();
    let by_courier = filter.courier_code.is_some();
    if let Some(courier) = &filter.courier_code {
        let unary = if by_status { "+" } else { "" };
        sql.push_str(&format!(" AND {unary}courier_code = ?"));
        params.push(Value::Text(courier.clone()));
    }
    if let Some(status) = filter.delivery_status {
        sql.push_str(" AND delivery_status = ?");
        params.push(Value::Text(status.as_str().to_string()));
    }
    if let Some(archived) = filter.archived {
        let unary = if by_status || by_courier { "+" } else { "" };
        sql.push_str(&format!(" AND {unary}archived = ?"));
        params.push(Value::Integer(i64::from(archived)));
    }
    // A bound with no lower bound beside it ("created up to now", as the dashboard's paging
    // snapshot says) matches nearly every row. SQLite, which has no statistics of ranges, would
    // still read it through the date index and then sort every row by `pk`; written `+column`
    // it is a filter on the newest-first walk of another index instead. A range with a lower
    // bound stays indexed: it is what narrows the list.
    for (column, low, high) in [
        ("created_at", filter.created_min, filter.created_max),
        ("updated_at", filter.updated_min, filter.updated_max),
    ] {
        let upper = if low.is_some() { "" } else { "+" };
        for (op, value, unary) in [(">=", low, ""), ("<=", high, upper)] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {unary}{column} {op} ?"));
                params.push(Value::Integer(value.timestamp()));
            }
        }
    }
    if !filter.substatuses.is_empty() {
        let names: Vec<&str> = filter.substatuses.iter().map(|s| s.as_str()).collect();
        sql.push_str(" AND substatus IN (SELECT value FROM json_each(?))");
        params.push(Value::Text(serde_json::to_string(&names).expect("strings")));
    }
    if let Some(quiet) = &filter.quiet {
        // In flight and quiet since the later bound (the index's range), then each courier's
        // own bound.
        sql.push_str(&format!(
            " AND delivery_status IN {} AND latest_checkpoint_time < ? \
             AND CASE WHEN courier_code IN (SELECT value FROM json_each(?)) \
             THEN latest_checkpoint_time < ? ELSE latest_checkpoint_time < ? END",
            parceld_store::quiet::IN_FLIGHT_SQL
        ));
        params.extend([
            Value::Integer(quiet.latest_bound().timestamp()),
            Value::Text(serde_json::to_string(&quiet.postal_couriers).expect("strings")),
            Value::Integer(quiet.postal_before.timestamp()),
            Value::Integer(quiet.express_before.timestamp()),
        ]);
    }
}

/// `[[number, courier], …]`, for `json_each` look-ups of many keys in one statement.
fn keys_json(keys: &[NumberKey]) -> String {
    let pairs: Vec<[&str; 2]> = keys
        .iter()
        .map(|k| [k.tracking_number.as_str(), k.courier_code.as_str()])
        .collect();
    serde_json::to_string(&pairs).expect("strings serialise")
}

fn number_key((tracking_number, courier_code): (String, String)) -> NumberKey {
    NumberKey {
        tracking_number,
        courier_code,
    }
}

/// The query plan of `sql` on a fresh, empty store's schema, one line per step.
#[cfg(test)]
pub(crate) async fn query_plan(sql: &str, params: &[Value]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    crate::SqliteStore::open(&path).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = statement
        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
            row.get::<_, String>(3)
        })
        .unwrap();
    rows.map(|row| row.unwrap()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of a list page's statement, one line per step.
    async fn plan(filter: &TrackingFilter) -> Vec<String> {
        let page = Page {
            number: 1,
            size: 20,
        };
        let (sql, params) = list_sql(1, filter, page);
        query_plan(&sql, &params).await
    }

    fn numbers(numbers: &[&str]) -> TrackingFilter {
        TrackingFilter {
            tracking_numbers: numbers.iter().map(|n| n.to_string()).collect(),
            ..TrackingFilter::default()
        }
    }

    /// Asserts that `plan` searches `index_kind` (`INDEX` or `COVERING INDEX`) on account and
    /// number and never scans the trackings.
    fn assert_searches_by_number(plan: &[String], index_kind: &str) {
        let search = format!(
            "SEARCH trackings USING {index_kind} {BY_NUMBER} (account_id=? AND tracking_number=?)"
        );
        assert!(plan.contains(&search), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN trackings")),
            "{plan:?}"
        );
    }

    #[tokio::test]
    async fn one_number_is_an_index_search_on_account_and_number() {
        let plan = plan(&numbers(&["1Z999"])).await;
        assert_searches_by_number(&plan, "INDEX");
    }

    #[tokio::test]
    async fn many_numbers_are_index_searches_on_account_and_number() {
        let plan = plan(&numbers(&["1Z999", "1Z998"])).await;
        assert_searches_by_number(&plan, "COVERING INDEX");
    }

    /// The dashboard's pages: "created up to the listing's start" and no other filter walks the
    /// account newest first, with no sort of every row by `pk` (a million rows took seconds).
    #[tokio::test]
    async fn an_upper_bound_alone_walks_the_list_newest_first_without_a_sort() {
        let filter = TrackingFilter {
            created_max: Some(chrono::Utc::now()),
            ..TrackingFilter::default()
        };
        let plan = plan(&filter).await;
        let walk = "SEARCH trackings USING INDEX trackings_by_account (account_id=?)";
        assert!(plan.iter().any(|step| step == walk), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }

    /// A status with a courier and `archived` walks the status's index, not the two-valued
    /// `archived`'s.
    #[tokio::test]
    async fn a_status_with_a_courier_and_archived_walks_the_status_index() {
        let filter = TrackingFilter {
            delivery_status: Some(parceld_model::DeliveryStatus::Transit),
            courier_code: Some("ups".into()),
            archived: Some(false),
            created_max: Some(chrono::Utc::now()),
            ..TrackingFilter::default()
        };
        let plan = plan(&filter).await;
        let walk =
            "SEARCH trackings USING INDEX trackings_by_status (account_id=? AND delivery_status=?)";
        assert!(plan.iter().any(|step| step == walk), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}
