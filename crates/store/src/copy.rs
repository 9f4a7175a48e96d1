//! Moving a whole database from one backend to another (`parceld db copy`), row for row.
//!
//! The backends lay the same data out differently (SQLite keeps unix seconds and milliseconds,
//! a JSON array of statuses and the page host beside the page settings; PostgreSQL keeps
//! `timestamptz`, `text[]` and the host on the account, and an account id on every table), so
//! a copy speaks a neutral form: [`TABLES`] names every table parceld keeps, its columns in a
//! fixed order with their [`Kind`], and the key it is copied in the order of. Each backend
//! reads its rows into that form ([`CopyStore::copy_stream`]) and writes that form into its own
//! layout ([`CopyStore::copy_write`], one transaction per batch), and the copy itself
//! (`parceld`'s `dbcopy.rs`) never sees SQL.
//!
//! A copy keeps every key (the primary keys other tables refer to), which is what makes it
//! resumable without any bookkeeping of its own: batches are written in key order, each
//! committed whole, so the destination's largest key of a table is exactly how far that table
//! got ([`CopyStore::copy_extent`]), and a second run continues after it. What is not copied is
//! named, with why, in [`NOT_COPIED`]; each backend's tests check that every table of its schema
//! is in one list or the other ([`uncovered`]), so a new table cannot be silently left behind.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::StoreResult;

/// What a column holds, in the neutral form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
    /// A JSON document, as text; compared by value, since PostgreSQL's `jsonb` does not keep
    /// the text it was given.
    Json,
    /// A time the tables keep to the second.
    Seconds,
    /// A time the tables keep to the millisecond.
    Millis,
    /// A list of strings (a webhook's statuses).
    TextList,
}

/// One column of a [`CopyTable`]: its neutral name (which is the PostgreSQL column's) and kind.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum CopyValue {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Json(String),
    Time(DateTime<Utc>),
    TextList(Vec<String>),
}

impl CopyValue {
    /// Whether two values hold the same data: JSON by its value (key order and spacing aside),
    /// everything else exactly.
    pub fn same(&self, other: &CopyValue) -> bool {
        match (self, other) {
            (CopyValue::Json(a), CopyValue::Json(b)) => {
                a == b
                    || matches!(
                        (
                            serde_json::from_str::<serde_json::Value>(a),
                            serde_json::from_str::<serde_json::Value>(b),
                        ),
                        (Ok(a), Ok(b)) if a == b
                    )
            }
            _ => self == other,
        }
    }

    /// The value as a message shows it.
    pub fn shown(&self) -> String {
        match self {
            CopyValue::Null => "NULL".into(),
            CopyValue::Int(n) => n.to_string(),
            CopyValue::Bool(b) => b.to_string(),
            CopyValue::Text(s) | CopyValue::Json(s) => format!("{s:?}"),
            CopyValue::Bytes(b) => format!("x'{}'", hex::encode(b)),
            CopyValue::Time(t) => t.to_rfc3339(),
            CopyValue::TextList(l) => format!("{l:?}"),
        }
    }
}

/// One row, its values in the order of its table's [`CopyTable::columns`].
pub type CopyRow = Vec<CopyValue>;

/// A table as a copy moves it.
#[derive(Debug)]
pub struct CopyTable {
    pub name: &'static str,
    /// Column 0 is the key the table is copied in the order of (unique, never null).
    pub columns: &'static [Column],
}

impl CopyTable {
    /// The table named `name`.
    pub fn named(name: &str) -> Option<&'static CopyTable> {
        TABLES.iter().find(|table| table.name == name)
    }

    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }

    /// The first column where `a` and `b` differ, by name, with both values.
    pub fn difference(&self, a: &CopyRow, b: &CopyRow) -> Option<(&'static str, String, String)> {
        self.columns
            .iter()
            .zip(a.iter().zip(b.iter()))
            .find(|(_, (x, y))| !x.same(y))
            .map(|(column, (x, y))| (column.name, x.shown(), y.shown()))
    }
}

/// How far a table of a store goes: its rows and its largest key.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyExtent {
    pub rows: u64,
    pub last: Option<CopyValue>,
}

macro_rules! table {
    ($name:literal: $($column:ident $kind:ident),* $(,)?) => {
        CopyTable {
            name: $name,
            columns: &[$(Column { name: stringify!($column), kind: Kind::$kind }),*],
        }
    };
}

/// Every table parceld keeps, in an order in which every row's references come before it;
/// each with its columns and their kinds, the key first.
#[rustfmt::skip]
pub static TABLES: &[CopyTable] = &[
    table!("accounts": id Int, name Text, disabled Bool, created_at Seconds, rate_limits Json),
    table!("api_keys": id Text, account_id Int, lookup Text, hash Bytes, created_at Seconds, deleted_at Seconds),
    table!("users": id Int, account_id Int, email Text, role Text, password_hash Text, failed_sign_ins Int, locked_until Seconds, created_at Seconds),
    table!("tracking_pages": account_id Int, host Text, settings Json),
    table!("trackings": pk Int, account_id Int, id Bytes, tracking_number Text, courier_code Text, courier_detected Bool, delivery_status Text, substatus Text, status_info Text, latest_event Text, latest_checkpoint_time Seconds, archived Bool, fields Json, shipment Json, created_at Seconds, updated_at Seconds, last_checked_at Seconds, next_check_at Seconds, check_error Text, lease_owner Text, lease_until Seconds, check_failures Int, notfound_since Seconds, delivered_day Int, transit_days Int, first_attempt Bool),
    table!("checkpoints": seq Int, account_id Int, tracking_pk Int, fingerprint Text, leg Int, time Seconds, checkpoint_date Text, status Text, substatus Text, detail Text, location Text, country_iso2 Text, state Text, city Text, zip Text, raw_status Text, raw_time Text),
    table!("checkpoint_lists": tracking_pk Int, account_id Int, list Bytes),
    table!("tracking_changes": id Int, account_id Int, event_id Text, tracking_pk Int, delivery_status Text, substatus Text, new_checkpoints Int, created_at Seconds),
    table!("webhook_endpoints": pk Int, account_id Int, id Text, url Text, description Text, statuses TextList, version Text, enabled Bool, secret Text, disabled_reason Text, failing_since Millis, created_at Millis, updated_at Millis),
    table!("webhook_deliveries": pk Int, account_id Int, id Text, endpoint_pk Int, event Text, event_id Text, tracking_pk Int, state Text, attempts Int, next_attempt_at Millis, lease_owner Text, lease_until Millis, payload Text, created_at Millis, finished_at Millis),
    table!("webhook_attempts": pk Int, account_id Int, delivery_pk Int, attempted_at Millis, http_status Int, latency_ms Int, error Text, response_snippet Text),
    table!("notification_settings": account_id Int, settings Json),
    table!("notifications": pk Int, account_id Int, id Text, tracking_pk Int, event_id Text, trigger Text, channel Text, recipient Text, state Text, attempts Int, next_attempt_at Millis, lease_owner Text, lease_until Millis, response Text, created_at Millis, finished_at Millis, language Text),
    table!("notification_unsubscribes": pk Int, account_id Int, channel Text, address Text, created_at Millis),
    table!("notification_subscribers": pk Int, account_id Int, tracking_pk Int, address Text, language Text, created_at Millis),
];

/// The tables a copy leaves behind on purpose, each with the reason.
pub static NOT_COPIED: &[(&str, &str)] = &[
    (
        "sessions",
        "dashboard sign-ins: people sign in again on the new database",
    ),
    (
        "rate_buckets",
        "token buckets (PostgreSQL): they start full on any new database",
    ),
    (
        "push_receipts",
        "replay receipts of carrier pushes: a push older than the replay window is refused as \
         stale without them, and a newer one merges into what was copied without duplicates",
    ),
    (
        "analytics_status",
        "the dashboard's analytics counters: the destination's triggers count the trackings as \
         they are copied in",
    ),
    (
        "analytics_deliveries",
        "the dashboard's analytics counters: the destination's triggers count the trackings as \
         they are copied in (with the delivery facts copied in their rows)",
    ),
    (
        "analytics_status_all",
        "the dashboard's analytics counters with the countries summed: counted by the \
         destination's triggers like the others",
    ),
    (
        "analytics_deliveries_all",
        "the dashboard's analytics counters with the countries summed: counted by the \
         destination's triggers like the others",
    ),
    (
        "analytics_status_weeks",
        "the dashboard's analytics counters by week: counted by the destination's triggers \
         like the others",
    ),
    (
        "analytics_deliveries_weeks",
        "the dashboard's analytics deliveries by week: counted by the destination's triggers \
         like the others",
    ),
    (
        "analytics_created_days",
        "the dashboard's per-day analytics counters: counted by the destination's triggers \
         like the others",
    ),
    (
        "analytics_delivered_days",
        "the dashboard's per-day delivery counters: counted by the destination's triggers \
         like the others",
    ),
    (
        "analytics_status_pending",
        "counted changes not yet folded into the counters (PostgreSQL): the destination counts \
         the trackings itself as they are copied in",
    ),
    (
        "analytics_deliveries_pending",
        "counted deliveries not yet folded into the counters (PostgreSQL): counted again by the \
         destination like the others",
    ),
    (
        "push_coverage",
        "which trackings a carrier pushes for: a moved tracking is polled as usual until it is \
         subscribed again",
    ),
];

/// The tables among `schema` (a backend's table names) that neither [`TABLES`] copies nor
/// [`NOT_COPIED`] names; the migrations' own bookkeeping and SQLite's internal tables aside.
pub fn uncovered<'a>(schema: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut left: Vec<&str> = schema
        .into_iter()
        .filter(|name| !name.starts_with("_sqlx") && !name.starts_with("sqlite_"))
        .filter(|name| TABLES.iter().all(|table| table.name != *name))
        .filter(|name| NOT_COPIED.iter().all(|(kept, _)| kept != name))
        .collect();
    left.sort_unstable();
    left
}

/// A backend's test of its live schema: `Err` naming every table [`uncovered`] leaves, or one
/// saying the schema looks empty (no `trackings`).
pub fn check_schema(tables: &[String]) -> Result<(), String> {
    if !tables.iter().any(|t| t == "trackings") {
        return Err(format!("no trackings table among {tables:?}"));
    }
    match uncovered(tables.iter().map(String::as_str)).as_slice() {
        [] => Ok(()),
        left => Err(format!(
            "add these to parceld_store::copy::TABLES, or to NOT_COPIED with the reason: {left:?}"
        )),
    }
}

/// How a backend lays out one [`CopyTable`]: its own table (aliased `x`), what it joins to find
/// the columns it does not keep itself, and one select expression per neutral column. An
/// expression without a `.` is the backend's own column `x.NAME` (a `::type` after it is a cast
/// for reading) and is written back to `NAME`; one with a `.` (`t.account_id`) comes from a
/// joined table and is not written.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub table: &'static str,
    pub join: &'static str,
    pub columns: &'static [&'static str],
}

impl Layout {
    pub const fn new(
        table: &'static str,
        join: &'static str,
        columns: &'static [&'static str],
    ) -> Layout {
        Layout {
            table,
            join,
            columns,
        }
    }

    /// The select list, in neutral order.
    pub fn select_list(&self) -> String {
        let list: Vec<String> = self
            .columns
            .iter()
            .map(|column| match column.contains('.') {
                true => column.to_string(),
                false => format!("x.{column}"),
            })
            .collect();
        list.join(", ")
    }

    /// `FROM … x JOIN …`.
    pub fn from(&self) -> String {
        format!("FROM {} x {}", self.table, self.join)
    }

    /// The key's expression (column 0).
    pub fn key(&self) -> String {
        format!("x.{}", self.stored_name(self.columns[0]))
    }

    /// The columns written, as (index in the neutral row, the backend's column name).
    pub fn stored(&self) -> Vec<(usize, &'static str)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, column)| !column.contains('.'))
            .map(|(i, column)| (i, self.stored_name(column)))
            .collect()
    }

    /// The rows in key order (`key` as the backend compares it), after the key bound as
    /// `param` when there is one.
    pub fn select_after(&self, key: &str, param: Option<&str>) -> String {
        let after = param
            .map(|p| format!(" WHERE {key} > {p}"))
            .unwrap_or_default();
        format!(
            "SELECT {} {}{after} ORDER BY {key}",
            self.select_list(),
            self.from()
        )
    }

    /// The rows whose key is among the keys bound as `param`, in key order (`among` is the
    /// backend's test, e.g. `IN (SELECT value FROM json_each(?1))` or `= ANY($1)`).
    pub fn select_among(&self, key: &str, among: &str) -> String {
        let (list, from) = (self.select_list(), self.from());
        format!("SELECT {list} {from} WHERE {key} {among} ORDER BY {key}")
    }

    /// The table's rows and largest key.
    pub fn extent_sql(&self, key: &str) -> String {
        format!("SELECT count(*), max({key}) FROM {} x", self.table)
    }

    /// The rows up to the key bound as `param`.
    pub fn count_through_sql(&self, key: &str, param: &str) -> String {
        format!(
            "SELECT count(*) FROM {} x WHERE {key} <= {param}",
            self.table
        )
    }

    /// Up to `param` keys: the last ones, or in the order of the backend's `random`.
    pub fn keys_sql(&self, key: &str, last: bool, random: &str, param: &str) -> String {
        let order = if last {
            format!("{key} DESC")
        } else {
            random.to_string()
        };
        format!(
            "SELECT {key} FROM {} x ORDER BY {order} LIMIT {param}",
            self.table
        )
    }

    fn stored_name(&self, column: &'static str) -> &'static str {
        column.split("::").next().unwrap_or(column)
    }
}

/// Rows of one table handed over in chunks as a backend reads them
/// ([`CopyStore::copy_stream`]).
pub struct RowChunks {
    table: &'static CopyTable,
    rows: Vec<CopyRow>,
    size: usize,
    sender: mpsc::Sender<Vec<CopyRow>>,
}

impl RowChunks {
    pub fn new(table: &'static CopyTable, size: usize, sender: mpsc::Sender<Vec<CopyRow>>) -> Self {
        RowChunks {
            table,
            rows: Vec::with_capacity(size.clamp(1, 10_000)),
            size: size.max(1),
            sender,
        }
    }

    /// The table whose rows these are.
    pub fn table(&self) -> &'static CopyTable {
        self.table
    }

    /// Reads every row of a backend's result stream with `read` and sends them in chunks,
    /// until the stream ends or nobody receives any more.
    pub async fn send_all<R, E1, E>(
        mut self,
        mut rows: impl futures_util::Stream<Item = Result<R, E1>> + Unpin,
        read: impl Fn(&'static CopyTable, &R) -> Result<CopyRow, E>,
    ) -> Result<(), E>
    where
        E: From<E1>,
    {
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            self.rows.push(read(self.table, &row)?);
            if self.rows.len() >= self.size {
                let full = std::mem::take(&mut self.rows);
                if self.sender.send(full).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !self.rows.is_empty() {
            let _ = self.sender.send(self.rows).await;
        }
        Ok(())
    }
}

/// Implements [`CopyStore`] for a backend's store type (which has `fn pool(&self)`) by handing
/// each call to the function of the same job in `$module`: `stream`, `write`, `extent`,
/// `count_through`, `rows`, `keys` and `finish`, each taking the pool first (`stream` the key to start after and a [`RowChunks`]).
#[macro_export]
macro_rules! impl_copy_store {
    ($store:ty, $module:path) => {
        #[async_trait::async_trait]
        impl $crate::CopyStore for $store {
            async fn copy_stream(
                &self,
                table: &'static $crate::copy::CopyTable,
                after: Option<$crate::copy::CopyValue>,
                chunk: usize,
                chunks: tokio::sync::mpsc::Sender<Vec<$crate::copy::CopyRow>>,
            ) -> $crate::StoreResult<()> {
                use $module as m;
                Ok(m::stream(
                    self.pool(),
                    after,
                    $crate::copy::RowChunks::new(table, chunk, chunks),
                )
                .await?)
            }
            async fn copy_write(
                &self,
                table: &'static $crate::copy::CopyTable,
                rows: &[$crate::copy::CopyRow],
            ) -> $crate::StoreResult<()> {
                use $module as m;
                Ok(m::write(self.pool(), table, rows).await?)
            }
            async fn copy_extent(
                &self,
                table: &'static $crate::copy::CopyTable,
            ) -> $crate::StoreResult<$crate::copy::CopyExtent> {
                use $module as m;
                Ok(m::extent(self.pool(), table).await?)
            }
            async fn copy_count_through(
                &self,
                table: &'static $crate::copy::CopyTable,
                key: &$crate::copy::CopyValue,
            ) -> $crate::StoreResult<u64> {
                use $module as m;
                Ok(m::count_through(self.pool(), table, key).await?)
            }
            async fn copy_rows(
                &self,
                table: &'static $crate::copy::CopyTable,
                keys: &[$crate::copy::CopyValue],
            ) -> $crate::StoreResult<Vec<$crate::copy::CopyRow>> {
                use $module as m;
                Ok(m::rows(self.pool(), table, keys).await?)
            }
            async fn copy_keys(
                &self,
                table: &'static $crate::copy::CopyTable,
                n: usize,
                last: bool,
            ) -> $crate::StoreResult<Vec<$crate::copy::CopyValue>> {
                use $module as m;
                Ok(m::keys(self.pool(), table, n, last).await?)
            }
            async fn copy_finish(&self) -> $crate::StoreResult<()> {
                use $module as m;
                Ok(m::finish(self.pool()).await?)
            }
        }
    };
}

/// Reading and writing whole tables in the neutral form, for `parceld db copy`. Every method
/// is a bounded number of statements whatever the table's size.
#[async_trait]
pub trait CopyStore {
    /// The table's rows with a key greater than `after` (all when `None`), in key order, sent
    /// into `chunks` in chunks of at most `chunk` rows as they are read; a dropped receiver
    /// ends the reading. One statement.
    async fn copy_stream(
        &self,
        table: &'static CopyTable,
        after: Option<CopyValue>,
        chunk: usize,
        chunks: mpsc::Sender<Vec<CopyRow>>,
    ) -> StoreResult<()>;

    /// Writes `rows` (in key order, keys greater than any the table holds) in one transaction.
    async fn copy_write(&self, table: &'static CopyTable, rows: &[CopyRow]) -> StoreResult<()>;

    /// How many rows the table has and its largest key.
    async fn copy_extent(&self, table: &'static CopyTable) -> StoreResult<CopyExtent>;

    /// How many rows have a key up to `key` (inclusive).
    async fn copy_count_through(
        &self,
        table: &'static CopyTable,
        key: &CopyValue,
    ) -> StoreResult<u64>;

    /// The rows with the `keys` given (in key order; keys without a row are left out).
    async fn copy_rows(
        &self,
        table: &'static CopyTable,
        keys: &[CopyValue],
    ) -> StoreResult<Vec<CopyRow>>;

    /// The keys of up to `n` rows: the last ones when `last`, else picked at random.
    async fn copy_keys(
        &self,
        table: &'static CopyTable,
        n: usize,
        last: bool,
    ) -> StoreResult<Vec<CopyValue>>;

    /// After the last batch: whatever hands out new keys (PostgreSQL's identity sequences)
    /// goes on after the copied ones. Safe to repeat.
    async fn copy_finish(&self) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_named_once_and_keys_come_first() {
        for (i, table) in TABLES.iter().enumerate() {
            assert!(std::ptr::eq(CopyTable::named(table.name).unwrap(), table));
            assert!(TABLES[..i].iter().all(|t| t.name != table.name));
            assert!(matches!(table.columns[0].kind, Kind::Int | Kind::Text));
        }
        assert_eq!(
            CopyTable::named("trackings").unwrap().column("fields"),
            Some(12)
        );
    }

    #[test]
    fn a_table_neither_copied_nor_left_behind_by_name_is_uncovered() {
        let schema = [
            "trackings",
            "sessions",
            "_sqlx_migrations",
            "sqlite_sequence",
            "shiny_new_table",
            "another_new_table",
        ];
        assert_eq!(
            uncovered(schema),
            vec!["another_new_table", "shiny_new_table"]
        );
        assert!(TABLES
            .iter()
            .all(|t| NOT_COPIED.iter().all(|(n, _)| *n != t.name)));
    }

    #[test]
    fn a_layout_writes_its_own_columns_and_reads_joined_ones() {
        let layout = Layout {
            table: "checkpoints",
            join: "JOIN trackings t ON t.pk = x.tracking_pk",
            columns: &["pk", "t.account_id", "leg::bigint"],
        };
        assert_eq!(layout.select_list(), "x.pk, t.account_id, x.leg::bigint");
        assert_eq!(layout.key(), "x.pk");
        assert_eq!(layout.stored(), vec![(0, "pk"), (2, "leg")]);
        assert!(layout.from().starts_with("FROM checkpoints x JOIN"));
    }

    #[test]
    fn json_is_compared_by_value_and_differences_name_their_column() {
        let a = CopyValue::Json(r#"{"a":1,"b":[2]}"#.into());
        let b = CopyValue::Json(r#"{"b": [2], "a": 1}"#.into());
        assert!(a.same(&b));
        assert!(!a.same(&CopyValue::Json("{}".into())));
        let table = CopyTable::named("tracking_pages").unwrap();
        let row = vec![CopyValue::Int(1), CopyValue::Null, a];
        let mut other = row.clone();
        other[2] = b;
        assert_eq!(table.difference(&row, &other), None);
        other[1] = CopyValue::Text("track.example".into());
        let (column, ours, theirs) = table.difference(&row, &other).unwrap();
        assert_eq!((column, ours.as_str()), ("host", "NULL"));
        assert_eq!(theirs, "\"track.example\"");
    }
}
