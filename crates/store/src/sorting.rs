//! The dashboard's sorted listing: an account's trackings in the order of one column, read a
//! page at a time from a position (keyset paging), never by an offset.
//!
//! A page starts after (or, going back, before) the last row the reader saw, named by that
//! row's sort value and primary key, so a deep page costs what the first costs (one index range
//! from the position) and rows arriving meanwhile never push rows from one page onto the next.
//! Equal sort values are ordered by primary key, which makes the order total. Creation order
//! is primary-key order — a tracking's key is given when it is created, as the list API's
//! "newest first" has always read it — so a position in it is its key alone, and every
//! (account, filter column, pk) index walks it without a sort.
//!
//! A tracking with no event yet sorts by last event as [`NO_EVENT_SECONDS`] (before every real
//! event), the same in every backend: SQLite and PostgreSQL put NULLs at opposite ends, so the
//! backends sort by the column with that value in place of NULL (and index that expression).
//!
//! The SQL of the order, and of the position's condition as one row-value comparison, is
//! written here once, as [`Part`]s a backend turns into its own placeholders and bound values
//! (PostgreSQL searches an index by it; SQLite, which does not, writes the same condition as two
//! index ranges of its own).

use chrono::{DateTime, Utc};
use parceld_model::Tracking;

/// The last-event time that stands for "no event yet": 0001-01-01T00:00:00Z, earlier than any
/// event a carrier reports.
pub const NO_EVENT_SECONDS: i64 = -62_135_596_800;

/// A column the dashboard's table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Creation (primary-key) order.
    #[default]
    Created,
    /// `updated_at`.
    Updated,
    /// `latest_checkpoint_time`, [`NO_EVENT_SECONDS`] when there is none.
    LastEvent,
    /// `tracking_number`.
    Number,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Created,
        SortKey::Updated,
        SortKey::LastEvent,
        SortKey::Number,
    ];

    /// Its name in a query string.
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::LastEvent => "event",
            SortKey::Number => "number",
        }
    }

    /// The key named `name`, `None` for any other text.
    pub fn parse(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|key| key.name() == name)
    }
}

/// An order of the listing: a column and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest first.
    fn default() -> Self {
        Sort {
            key: SortKey::Created,
            descending: true,
        }
    }
}

/// The sort value of a row, as a position names it; values of one key compare as it sorts
/// (text as bytes, as the tests' numbers sort in any collation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortValue {
    /// Creation order: the primary key is the whole position.
    Key,
    /// Microseconds since the Unix epoch.
    Time(i64),
    Text(String),
}

impl SortValue {
    /// A time value as a time (`None` for a value no time has: only a forged position).
    pub fn time(micros: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(micros)
    }
}

/// A row's place in a sorted listing: its sort value and primary key (compared in that order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub value: SortValue,
    pub pk: i64,
}

impl Position {
    /// The position of the tracking `tracking` (primary key `pk`) in the order of `key`.
    pub fn of(key: SortKey, pk: i64, tracking: &Tracking) -> Position {
        let no_event = || NO_EVENT_SECONDS * 1_000_000;
        let value = match key {
            SortKey::Created => SortValue::Key,
            SortKey::Updated => SortValue::Time(tracking.updated_at.timestamp_micros()),
            SortKey::LastEvent => SortValue::Time(
                tracking
                    .latest_checkpoint_time
                    .map_or_else(no_event, |t| t.timestamp_micros()),
            ),
            SortKey::Number => SortValue::Text(tracking.tracking_number.clone()),
        };
        Position { value, pk }
    }
}

/// Which side of a position a page lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// The rows after it in the sort's order (the next page).
    Later,
    /// The rows before it (the previous page).
    Earlier,
}

/// One page of a sorted listing: up to `size` rows of `sort`'s order, after or before `from`
/// (from the start when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seek {
    pub sort: Sort,
    pub from: Option<(Position, Toward)>,
    pub size: u32,
}

/// A piece of a backend's statement: SQL text, or a value to bind in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    Sql(String),
    Value(&'a SortValue),
    Pk(i64),
}

impl Seek {
    /// Whether the statement reads the rows in descending order: the sort's direction,
    /// reversed when reading back towards the start.
    pub fn reads_descending(&self) -> bool {
        let back = matches!(self.from, Some((_, Toward::Earlier)));
        self.sort.descending != back
    }

    /// `DESC` or `ASC`: the statement's reading order.
    pub fn direction(&self) -> &'static str {
        if self.reads_descending() {
            "DESC"
        } else {
            "ASC"
        }
    }

    /// `<` or `>`: the comparison that holds of a row beyond a value in reading order.
    pub fn beyond(&self) -> &'static str {
        if self.reads_descending() {
            "<"
        } else {
            ">"
        }
    }

    /// ` ORDER BY …` of the statement, `expr` being the backend's sort expression of this key
    /// (unused for [`SortKey::Created`]) and `pk` its primary-key column.
    pub fn order_sql(&self, expr: &str, pk: &str) -> String {
        let dir = self.direction();
        match self.sort.key {
            SortKey::Created => format!(" ORDER BY {pk} {dir}"),
            _ => format!(" ORDER BY {expr} {dir}, {pk} {dir}"),
        }
    }

    /// ` AND …`: the condition of the rows beyond the position, in reading order; nothing from
    /// the start. It is a row-value comparison, `(expr, pk) < (value, pk)`, which PostgreSQL
    /// searches as one range of an index on (account, expr, pk): a bound on the value alone,
    /// the key checked beside it, would read a whole group of equal values (a million
    /// trackings without an event) to pass the part of it already seen.
    pub fn position_sql<'a>(&'a self, expr: &str, pk: &str) -> Vec<Part<'a>> {
        let Some((position, _)) = &self.from else {
            return Vec::new();
        };
        let beyond = self.beyond();
        let sql = |text: String| Part::Sql(text);
        if self.sort.key == SortKey::Created || position.value == SortValue::Key {
            return vec![sql(format!(" AND {pk} {beyond} ")), Part::Pk(position.pk)];
        }
        vec![
            sql(format!(" AND ({expr}, {pk}) {beyond} (")),
            Part::Value(&position.value),
            sql(", ".into()),
            Part::Pk(position.pk),
            sql(")".into()),
        ]
    }

    /// The rows as read (reading order) in the sort's order.
    pub fn in_order<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if matches!(self.from, Some((_, Toward::Earlier))) {
            rows.reverse();
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seek(descending: bool, toward: Toward) -> Seek {
        Seek {
            sort: Sort {
                key: SortKey::Updated,
                descending,
            },
            from: Some((
                Position {
                    value: SortValue::Time(5),
                    pk: 9,
                },
                toward,
            )),
            size: 10,
        }
    }

    fn text(parts: &[Part<'_>]) -> String {
        parts
            .iter()
            .map(|p| match p {
                Part::Sql(s) => s.clone(),
                Part::Value(_) => "V".into(),
                Part::Pk(_) => "P".into(),
            })
            .collect()
    }

    #[test]
    fn reading_back_reverses_the_direction_and_the_rows() {
        let back = seek(true, Toward::Earlier);
        assert!(!back.reads_descending());
        assert_eq!(back.order_sql("u", "pk"), " ORDER BY u ASC, pk ASC");
        assert_eq!(text(&back.position_sql("u", "pk")), " AND (u, pk) > (V, P)");
        assert_eq!(back.in_order(vec![1, 2, 3]), vec![3, 2, 1]);
        let next = seek(true, Toward::Later);
        assert_eq!(text(&next.position_sql("u", "pk")), " AND (u, pk) < (V, P)");
        assert_eq!(next.in_order(vec![1, 2]), vec![1, 2]);
    }

    #[test]
    fn sort_keys_are_named_and_only_their_names_parse() {
        for key in SortKey::ALL {
            assert_eq!(SortKey::parse(key.name()), Some(key));
        }
        assert_eq!(SortKey::parse("pk"), None);
        assert_eq!(SortKey::parse("Created"), None);
    }
}
