//! The dashboard's analytics: how many shipments an account created and delivered, their
//! status mix, and how each courier performs (transit time, first-attempt deliveries,
//! exceptions), read from counters instead of the trackings.
//!
//! A chart over a million trackings cannot read them all within its budget, so each backend
//! keeps counter tables that move in the same transaction as the trackings they count
//! (triggers on `trackings` in its migrations: whatever path writes a tracking, its counters
//! follow, and no backend code has to remember them):
//!
//! - `analytics_status`: trackings by (account, destination country, day created, courier,
//!   current status), and `analytics_status_all` the same with the countries summed;
//! - `analytics_deliveries`: delivered trackings by (account, destination country, day
//!   delivered, courier, whole days from the first scan to delivery), with how many were
//!   delivered on the first attempt, and `analytics_deliveries_all` with the countries summed;
//! - `analytics_status_weeks` and `analytics_deliveries_weeks`: the same by seven-day block
//!   ([`week_of`]) instead of day, per country and under [`EVERY_COUNTRY`] summed;
//! - `analytics_created_days` and `analytics_delivered_days`: trackings created, and delivered,
//!   by (account, country or [`EVERY_COUNTRY`], day, courier), for the per-day chart. Two
//!   tables, so that on PostgreSQL each is locked with the counters its changes come with
//!   (status, or delivery) and no two transactions take them in opposite orders.
//!
//! Each [`Read`] reads the rows of one key range and sums them into the few rows its chart
//! draws. Half a year is about 26 weekly rows and up to 12 daily rows per courier and key, so a
//! chart reads a few thousand rows, not the tens of thousands of every day's (it cost SQLite
//! about 8 ms of CPU a page: at 64 pages at once on two cores, p99 near 400 ms).
//!
//! A tracking's delivery facts are fixed when it is first seen delivered (from its checkpoints:
//! the first delivered event, the first event past pending/notfound/inforeceived as the first
//! scan, and whether an `undelivered` event came before) and kept in its row, so what it adds
//! to the counters is exactly what it takes away when it changes or goes. A day is whole days
//! since 1970-01-01 in UTC; the destination country is the merchant's
//! `destination_country_iso2` in upper case ('' when unset).
//!
//! The reads are written here once ([`Read::sql`], [`Read::rows_sql`]) in SQL both backends
//! speak; the folding of their rows into charts is plain code ([`Fold`], [`Counters`]).

use chrono::{DateTime, Utc};
use parceld_model::DeliveryStatus;

use crate::{StoreError, StoreResult};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The day (since 1970-01-01, UTC) of an instant.
pub fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(DAY)
}

/// The first instant of a day.
pub fn start_of(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(day.saturating_mul(DAY), 0).unwrap_or_default()
}

/// The seven-day block (since 1970-01-01, a Thursday) a day falls in: the weekly counters'
/// key. The migrations write it `(day - ((day % 7) + 7) % 7) / 7`: SQL's `/` and `%` truncate
/// toward zero, so a day before 1970 is moved to its block's start first.
pub fn week_of(day: i64) -> i64 {
    day.div_euclid(7)
}

/// The country key of the counters summed over every country (the per-day and the weekly
/// counters hold a row per country and one under this key); no ISO 3166 code is `*`.
pub const EVERY_COUNTRY: &str = "*";

/// Which counters a chart reads: the `days` (created, for the status counts; delivered, for the
/// delivery counts), and one courier and one destination country if set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsFilter {
    pub days: std::ops::RangeInclusive<i64>,
    /// One courier, or every one with `None`; the same for the destination country (upper
    /// case ISO 3166 alpha-2; `Some("")` selects trackings without one).
    pub courier_code: Option<String>,
    pub country: Option<String>,
}

impl AnalyticsFilter {
    /// The first and the last day.
    pub fn bounds(&self) -> (i64, i64) {
        (*self.days.start(), *self.days.end())
    }

    /// The filter's days as the per-courier reads take them: whole weeks from the weekly
    /// counters, the days before and after them from the daily ones.
    pub fn span(&self) -> Span {
        let (first, last) = self.bounds();
        let (first_week, last_week) = (week_of(first + 6), week_of(last + 1) - 1);
        if first_week > last_week {
            // No whole week: every day from the daily counters (the tail is empty).
            return Span {
                weeks: (first_week, last_week),
                head: (first, last),
                tail: (last + 1, last),
            };
        }
        Span {
            weeks: (first_week, last_week),
            head: (first, first_week * 7 - 1),
            tail: ((last_week + 1) * 7, last),
        }
    }
}

/// A filter's days cut in three ([`AnalyticsFilter::span`]): the whole weeks inside and the
/// days before and after them, each an inclusive range that may be empty (first > last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub weeks: (i64, i64),
    pub head: (i64, i64),
    pub tail: (i64, i64),
}

/// Trackings of `courier_code` created in a filter's days, now in `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub courier_code: String,
    pub status: DeliveryStatus,
    pub trackings: u64,
}

/// Trackings of `courier_code` delivered in a filter's days, `transit_days` after their first
/// scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCount {
    pub courier_code: String,
    pub transit_days: i64,
    pub delivered: u64,
    /// Of `delivered`, those without a failed attempt before.
    pub first_attempt: u64,
}

/// Trackings created, or delivered, on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: i64,
    pub trackings: u64,
}

/// What the counters hold for a filter, summed as the charts read them: per day, and per
/// courier over all the days. Every list is in the order of its keys and leaves out what is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Trackings created per day.
    pub created: Vec<DayCount>,
    /// Trackings delivered per day.
    pub delivered: Vec<DayCount>,
    /// Trackings created in the days, by courier and current status.
    pub statuses: Vec<StatusCount>,
    /// Trackings delivered in the days, by courier and transit days.
    pub deliveries: Vec<DeliveryCount>,
}

/// The four reads of a filter's counters. Each reads a few thousand counter rows at most,
/// whatever the number of days: the per-day chart reads `analytics_created_days` and
/// `analytics_delivered_days` (one row per day and courier), the per-courier ones read the
/// weekly counters for the whole weeks of the range and the daily ones for the few days around
/// them ([`Span`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Rows: day, trackings created.
    Created,
    /// Rows: day, trackings delivered.
    Delivered,
    /// Rows: courier, status, trackings.
    Statuses,
    /// Rows: courier, transit days, delivered, first attempt.
    Transit,
}

/// A value a read binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Int(i64),
    Text(String),
}

/// The tables and columns of a per-courier read: the weekly table, the daily one (the country's
/// or the one summed over every country), the columns, and the counted column.
struct CourierRead {
    weekly: &'static str,
    daily: &'static str,
    columns: &'static str,
    keys: &'static str,
    counted: &'static str,
    sums: &'static str,
}

impl Read {
    /// All four, in the order [`Counters::from_rows`] takes their rows.
    pub const ALL: [Read; 4] = [
        Read::Created,
        Read::Delivered,
        Read::Statuses,
        Read::Transit,
    ];

    fn courier_read(self) -> Option<CourierRead> {
        match self {
            Read::Created | Read::Delivered => None,
            Read::Statuses => Some(CourierRead {
                weekly: "analytics_status_weeks",
                daily: "analytics_status",
                columns: "courier_code, status, trackings",
                keys: "courier_code, status",
                counted: "trackings",
                sums: "CAST(sum(trackings) AS BIGINT)",
            }),
            Read::Transit => Some(CourierRead {
                weekly: "analytics_deliveries_weeks",
                daily: "analytics_deliveries",
                columns: "courier_code, CAST(transit_days AS BIGINT) AS transit_days, delivered, \
                          first_attempt",
                keys: "courier_code, transit_days",
                counted: "delivered",
                sums: "CAST(sum(delivered) AS BIGINT), CAST(sum(first_attempt) AS BIGINT)",
            }),
        }
    }

    /// The read's rows before summing, for a backend that sums them itself ([`Fold`]): SQLite
    /// sorts to group by courier, which costs more than reading the rows. The per-day reads are
    /// summed by the database all the same (their rows lie in day order, so grouping by day
    /// needs no sort). Binds [`Read::params`] of the same filter.
    pub fn rows_sql(self, filter: &AnalyticsFilter) -> String {
        let Some(read) = self.courier_read() else {
            return self.sql(filter);
        };
        let (courier, ranges) = numbered(filter);
        let (daily_table, country) = match filter.country {
            Some(_) => (read.daily.to_string(), " AND country = $2"),
            None => (format!("{}_all", read.daily), ""),
        };
        let part = |table: &str, country: &str, range: String| {
            format!(
                "SELECT {} FROM {table} WHERE account_id = $1{country}{courier} AND {range}",
                read.columns
            )
        };
        let between = |column: &str, at: usize| format!("{column} BETWEEN ${at} AND ${}", at + 1);
        [
            part(read.weekly, " AND country = $2", between("week", ranges)),
            part(&daily_table, country, between("day", ranges + 2)),
            part(&daily_table, country, between("day", ranges + 4)),
        ]
        .join(" UNION ALL ")
    }

    /// The read's SQL, summed by the database (the same in both backends). Binds
    /// [`Read::params`] of the same filter: with a country the daily counters read are the
    /// country's, else the ones summed over every country.
    pub fn sql(self, filter: &AnalyticsFilter) -> String {
        let (courier, ranges) = numbered(filter);
        match self.courier_read() {
            None => {
                let (table, counted) = match self {
                    Read::Created => ("analytics_created_days", "trackings"),
                    _ => ("analytics_delivered_days", "delivered"),
                };
                format!(
                    "SELECT day, CAST(sum({counted}) AS BIGINT) FROM {table} \
                      WHERE account_id = $1 AND country = $2{courier} \
                        AND day BETWEEN ${ranges} AND ${} \
                      GROUP BY day HAVING sum({counted}) <> 0 ORDER BY day",
                    ranges + 1
                )
            }
            Some(read) => format!(
                "SELECT {keys}, {sums} FROM ({rows}) counted GROUP BY {keys} \
                 HAVING sum({counted}) <> 0 ORDER BY {keys}",
                keys = read.keys,
                sums = read.sums,
                counted = read.counted,
                rows = self.rows_sql(filter),
            ),
        }
    }

    /// What the read binds, `$1` on: the account, the country (or [`EVERY_COUNTRY`]), the
    /// courier if the filter names one; then the first and last day, or for a per-courier read
    /// the [`Span`]'s weeks, head and tail.
    pub fn params(self, account: crate::AccountId, filter: &AnalyticsFilter) -> Vec<Param> {
        let country = filter.country.as_deref().unwrap_or(EVERY_COUNTRY);
        let mut params = vec![Param::Int(account), Param::Text(country.to_string())];
        params.extend(filter.courier_code.clone().map(Param::Text));
        let ranges = match self {
            Read::Created | Read::Delivered => vec![filter.bounds()],
            _ => {
                let span = filter.span();
                vec![span.weeks, span.head, span.tail]
            }
        };
        for (first, last) in ranges {
            params.extend([Param::Int(first), Param::Int(last)]);
        }
        params
    }
}

/// The courier's condition (`$3`) if the filter names one, and the number of the first range's
/// parameter after it. Without a courier the statement has no courier condition at all, rather
/// than a `($3 IS NULL OR …)` the database checks on every row.
fn numbered(filter: &AnalyticsFilter) -> (&'static str, usize) {
    match filter.courier_code {
        Some(_) => (" AND courier_code = $3", 4),
        None => ("", 3),
    }
}

/// Sums the rows of [`Read::rows_sql`] as the database would ([`Read::sql`]): per courier and
/// status, per courier and transit days; sums of 0 left out, each list in its read's order.
#[derive(Debug, Default)]
pub struct Fold {
    statuses: Vec<StatusRow>,
    transit: Vec<TransitRow>,
    /// Where the next key is likely to be: each week's and each day's rows come in the same
    /// key order, so the search starts after the last one found.
    next_status: usize,
    next_transit: usize,
}

/// The index of the first of `items` from `start` on (then from the beginning) that `is`
/// accepts.
fn find_from<T>(items: &[T], start: usize, is: impl Fn(&T) -> bool) -> Option<usize> {
    let start = start.min(items.len());
    (start..items.len())
        .chain(0..start)
        .find(|&i| is(&items[i]))
}

impl Fold {
    /// One row of the status counters.
    pub fn status(&mut self, courier: &str, status: &str, trackings: i64) {
        // A few dozen (courier, status) pairs, found where the last one was, or added.
        let found = find_from(&self.statuses, self.next_status, |(c, s, _)| {
            c == courier && s == status
        });
        let at = found.unwrap_or_else(|| {
            self.statuses
                .push((courier.to_string(), status.to_string(), 0));
            self.statuses.len() - 1
        });
        self.statuses[at].2 += trackings;
        self.next_status = at + 1;
    }

    /// One row of the delivery counters.
    pub fn delivery(&mut self, courier: &str, transit_days: i64, delivered: i64, first: i64) {
        let found = find_from(&self.transit, self.next_transit, |(c, d, _, _)| {
            *d == transit_days && c == courier
        });
        let at = found.unwrap_or_else(|| {
            self.transit.push((courier.to_string(), transit_days, 0, 0));
            self.transit.len() - 1
        });
        let (_, _, sum, firsts) = &mut self.transit[at];
        *sum += delivered;
        *firsts += first;
        self.next_transit = at + 1;
    }

    /// The counters, with the rows of [`Read::Created`] and [`Read::Delivered`].
    pub fn finish(mut self, created: Vec<DayRow>, delivered: Vec<DayRow>) -> StoreResult<Counters> {
        self.statuses.retain(|(_, _, n)| *n != 0);
        self.transit.retain(|(_, _, n, _)| *n != 0);
        self.statuses
            .sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        self.transit
            .sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Counters::from_rows(created, delivered, self.statuses, self.transit)
    }
}

/// A row of [`Read::Created`] or [`Read::Delivered`].
pub type DayRow = (i64, i64);
/// A row of [`Read::Statuses`].
pub type StatusRow = (String, String, i64);
/// A row of [`Read::Transit`].
pub type TransitRow = (String, i64, i64, i64);

fn count(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative analytics counter {n}")))
}

fn days(rows: Vec<DayRow>) -> StoreResult<Vec<DayCount>> {
    rows.into_iter()
        .map(|(day, n)| {
            Ok(DayCount {
                day,
                trackings: count(n)?,
            })
        })
        .collect()
}

impl Counters {
    /// The counters from the rows of the four [`Read`]s.
    pub fn from_rows(
        created: Vec<DayRow>,
        delivered: Vec<DayRow>,
        statuses: Vec<StatusRow>,
        transit: Vec<TransitRow>,
    ) -> StoreResult<Self> {
        let statuses = statuses
            .into_iter()
            .map(|(courier_code, status, n)| {
                Ok(StatusCount {
                    courier_code,
                    status: crate::stored::parse_status(&status)?,
                    trackings: count(n)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        let deliveries = transit
            .into_iter()
            .map(|(courier_code, transit_days, delivered, first)| {
                Ok(DeliveryCount {
                    courier_code,
                    transit_days,
                    delivered: count(delivered)?,
                    first_attempt: count(first)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Counters {
            created: days(created)?,
            delivered: days(delivered)?,
            statuses,
            deliveries,
        })
    }
}

/// One day of the "created and delivered" chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    pub day: i64,
    /// Trackings created that day.
    pub created: u64,
    /// Trackings delivered that day.
    pub delivered: u64,
}

/// A part of a whole (first-attempt deliveries of deliveries, exceptions of shipments).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub part: u64,
    pub whole: u64,
}

impl Share {
    /// The part over the whole, 0 to 1 (0 of nothing).
    pub fn rate(self) -> f64 {
        ratio(self.part, self.whole)
    }
}

/// How one courier performs over a filter's days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierFigures {
    pub courier_code: String,
    /// Of the trackings created in the days, those that are now exceptions.
    pub exceptions: Share,
    /// Of the trackings delivered in the days, those delivered on the first attempt.
    pub first_attempts: Share,
    /// Deliveries per whole day from the first scan, every day from 0 to the longest.
    pub histogram: Vec<u64>,
}

impl CourierFigures {
    /// Median days from the first scan to delivery (nearest rank); `None` without deliveries.
    pub fn median_days(&self) -> Option<i64> {
        percentile(&self.histogram, self.first_attempts.whole, 0.5)
    }

    /// The 90th percentile of the same.
    pub fn p90_days(&self) -> Option<i64> {
        percentile(&self.histogram, self.first_attempts.whole, 0.9)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The smallest bucket whose running count reaches `share` of `total` (nearest rank).
fn percentile(histogram: &[u64], total: u64, share: f64) -> Option<i64> {
    if total == 0 {
        return None;
    }
    let rank = ((total as f64 * share).ceil() as u64).max(1);
    let mut seen = 0;
    histogram.iter().enumerate().find_map(|(days, n)| {
        seen += n;
        (seen >= rank).then_some(days as i64)
    })
}

impl Counters {
    /// Created and delivered per day, for every day of `first_day..=last_day`.
    pub fn per_day(&self, first_day: i64, last_day: i64) -> Vec<DayCounts> {
        let mut days: Vec<DayCounts> = (first_day..=last_day)
            .map(|day| DayCounts {
                day,
                created: 0,
                delivered: 0,
            })
            .collect();
        let index = |day: i64| usize::try_from(day - first_day).ok();
        for c in &self.created {
            if let Some(d) = index(c.day).and_then(|i| days.get_mut(i)) {
                d.created += c.trackings;
            }
        }
        for c in &self.delivered {
            if let Some(d) = index(c.day).and_then(|i| days.get_mut(i)) {
                d.delivered += c.trackings;
            }
        }
        days
    }

    /// Trackings per delivery status, every status in [`DeliveryStatus::ALL`]'s order.
    pub fn status_mix(&self) -> Vec<(DeliveryStatus, u64)> {
        DeliveryStatus::ALL
            .iter()
            .map(|status| {
                let n = self.statuses.iter().filter(|s| s.status == *status);
                (*status, n.map(|s| s.trackings).sum())
            })
            .collect()
    }

    /// Every courier that has trackings or deliveries in the counters, by code.
    pub fn couriers(&self) -> Vec<CourierFigures> {
        let mut codes: Vec<&str> = self
            .statuses
            .iter()
            .map(|s| s.courier_code.as_str())
            .chain(self.deliveries.iter().map(|d| d.courier_code.as_str()))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes.into_iter().map(|code| self.courier(code)).collect()
    }

    fn courier(&self, code: &str) -> CourierFigures {
        let mut exceptions = Share::default();
        for s in self.statuses.iter().filter(|s| s.courier_code == code) {
            exceptions.whole += s.trackings;
            if s.status == DeliveryStatus::Exception {
                exceptions.part += s.trackings;
            }
        }
        let mut histogram: Vec<u64> = Vec::new();
        let mut first_attempts = Share::default();
        for d in self.deliveries.iter().filter(|d| d.courier_code == code) {
            let days = usize::try_from(d.transit_days).unwrap_or(0);
            if histogram.len() <= days {
                histogram.resize(days + 1, 0);
            }
            histogram[days] += d.delivered;
            first_attempts.whole += d.delivered;
            first_attempts.part += d.first_attempt;
        }
        CourierFigures {
            courier_code: code.to_string(),
            exceptions,
            first_attempts,
            histogram,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_days_since_the_epoch() {
        let at: DateTime<Utc> = "1970-01-02T23:59:59Z".parse().unwrap();
        assert_eq!(day_of(at), 1);
        assert_eq!(
            start_of(1),
            "1970-01-02T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let before: DateTime<Utc> = "1969-12-31T12:00:00Z".parse().unwrap();
        assert_eq!(day_of(before), -1);
    }

    #[test]
    fn weeks_are_seven_day_blocks_since_the_epoch_in_rust_and_in_sql() {
        assert_eq!((week_of(0), week_of(6), week_of(7)), (0, 0, 1));
        assert_eq!((week_of(-1), week_of(-7), week_of(-8)), (-1, -1, -2));
        // The migrations' expression, written as they write it: Rust's `/` and `%` truncate
        // toward zero as SQL's do.
        #[allow(clippy::manual_rem_euclid)]
        let sql_week = |day: i64| (day - ((day % 7) + 7) % 7) / 7;
        for day in -30..30 {
            assert_eq!(sql_week(day), week_of(day), "day {day}");
        }
    }

    fn span(first: i64, last: i64) -> Span {
        AnalyticsFilter {
            days: first..=last,
            courier_code: None,
            country: None,
        }
        .span()
    }

    /// Every day of the range, counted once: in a whole week, the head or the tail.
    fn days_of(span: Span) -> Vec<i64> {
        let mut days: Vec<i64> = (span.weeks.0..=span.weeks.1)
            .flat_map(|week| week * 7..week * 7 + 7)
            .chain(span.head.0..=span.head.1)
            .chain(span.tail.0..=span.tail.1)
            .collect();
        days.sort_unstable();
        days
    }

    #[test]
    fn a_span_is_whole_weeks_and_the_days_around_them() {
        // Days 3 to 30: weeks 1 to 3 (days 7 to 27), head 3 to 6, tail 28 to 30.
        assert_eq!(
            span(3, 30),
            Span {
                weeks: (1, 3),
                head: (3, 6),
                tail: (28, 30)
            }
        );
        // Exactly weeks 1 and 2: no day around them.
        let exact = span(7, 20);
        assert_eq!(exact.weeks, (1, 2));
        assert!(exact.head.0 > exact.head.1 && exact.tail.0 > exact.tail.1);
        // Less than a whole week: all from the days.
        let short = span(8, 13);
        assert!(short.weeks.0 > short.weeks.1);
        assert_eq!(short.head, (8, 13));
        for (first, last) in [(3, 30), (7, 20), (8, 13), (-20, 5), (0, 0), (5, 186)] {
            assert_eq!(
                days_of(span(first, last)),
                (first..=last).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn rows_become_counters_and_bad_rows_are_corrupt() {
        let counters = Counters::from_rows(
            vec![(3, 2)],
            vec![(5, 2)],
            vec![("ups".into(), "delivered".into(), 2)],
            vec![("ups".into(), 2, 2, 1)],
        )
        .unwrap();
        assert_eq!(counters.statuses[0].status, DeliveryStatus::Delivered);
        assert_eq!(counters.deliveries[0].first_attempt, 1);
        assert_eq!(counters.created, vec![on(3, 2)]);
        assert_eq!(counters.delivered, vec![on(5, 2)]);
        let lost = vec![("ups".into(), "lost".into(), 2)];
        assert!(Counters::from_rows(vec![], vec![], lost, vec![]).is_err());
        let negative = vec![("ups".into(), 2, -1, 0)];
        assert!(Counters::from_rows(vec![], vec![], vec![], negative).is_err());
        assert!(Counters::from_rows(vec![(3, -2)], vec![], vec![], vec![]).is_err());
    }

    #[test]
    fn a_fold_sums_as_the_reads_do() {
        // (courier, status, trackings) and (courier, transit days, delivered, first).
        let fold = |statuses: &[(&str, &str, i64)]| {
            let mut fold = Fold::default();
            for (courier, status, n) in statuses {
                fold.status(courier, status, *n);
            }
            for (courier, transit, n, first) in
                [("ups", 2, 2, 1), ("dhl", 1, 1, 1), ("ups", 2, 1, 0)]
            {
                fold.delivery(courier, transit, n, first);
            }
            fold.finish(vec![(10, 3)], vec![])
        };
        let mut statuses = vec![
            ("ups", "transit", 2),
            ("dhl", "delivered", 1),
            ("ups", "transit", 3),
            ("ups", "exception", 1),
            ("ups", "exception", -1),
        ];
        let expected = Counters::from_rows(
            vec![(10, 3)],
            vec![],
            vec![
                ("dhl".into(), "delivered".into(), 1),
                ("ups".into(), "transit".into(), 5),
            ],
            vec![("dhl".into(), 1, 1, 1), ("ups".into(), 2, 3, 1)],
        );
        assert_eq!(fold(&statuses).unwrap(), expected.unwrap());
        // A negative sum is as corrupt from a fold as from the database.
        statuses.push(("ups", "exception", -1));
        assert!(fold(&statuses).is_err());
    }

    #[test]
    fn reads_bind_what_their_sql_names_in_order() {
        let days = 3..=30;
        for (courier, country) in [(None, None), (Some("ups"), None), (None, Some("DE"))] {
            let filter = AnalyticsFilter {
                days: days.clone(),
                courier_code: courier.map(String::from),
                country: country.map(String::from),
            };
            for read in Read::ALL {
                let params = read.params(7, &filter);
                let place = country.unwrap_or(EVERY_COUNTRY).to_string();
                assert_eq!(params[1], Param::Text(place));
                for sql in [read.sql(&filter), read.rows_sql(&filter)] {
                    // SQLite numbers `$N` by first appearance: they must come in order.
                    let mut seen = Vec::new();
                    for (i, _) in sql.match_indices('$') {
                        let n: usize = sql[i + 1..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect::<String>()
                            .parse()
                            .unwrap();
                        if !seen.contains(&n) {
                            seen.push(n);
                        }
                    }
                    assert_eq!(seen, (1..=params.len()).collect::<Vec<_>>(), "{sql}");
                    assert_eq!(
                        sql.contains("_all WHERE"),
                        country.is_none() && matches!(read, Read::Statuses | Read::Transit)
                    );
                    assert_eq!(sql.contains("courier_code = $3"), courier.is_some());
                    assert!(!sql.contains("IS NULL"), "{sql}");
                }
            }
        }
        let with_courier = AnalyticsFilter {
            days,
            courier_code: Some("ups".into()),
            country: None,
        };
        let params = Read::Statuses.params(7, &with_courier);
        assert_eq!(params[2], Param::Text("ups".into()));
        assert_eq!(params[3..5], [Param::Int(1), Param::Int(3)]);
    }

    fn delivered(courier: &str, transit_days: i64, n: u64, first: u64) -> DeliveryCount {
        DeliveryCount {
            courier_code: courier.into(),
            transit_days,
            delivered: n,
            first_attempt: first,
        }
    }

    fn made(courier: &str, status: DeliveryStatus, n: u64) -> StatusCount {
        StatusCount {
            courier_code: courier.into(),
            status,
            trackings: n,
        }
    }

    fn on(day: i64, trackings: u64) -> DayCount {
        DayCount { day, trackings }
    }

    #[test]
    fn charts_fold_the_counters() {
        let counters = Counters {
            created: vec![on(10, 4), on(12, 3)],
            delivered: vec![on(11, 2), on(12, 4), on(13, 9)],
            statuses: vec![
                made("dhl", DeliveryStatus::Delivered, 3),
                made("ups", DeliveryStatus::Delivered, 3),
                made("ups", DeliveryStatus::Exception, 1),
            ],
            deliveries: vec![
                delivered("dhl", 1, 2, 2),
                delivered("dhl", 4, 1, 0),
                delivered("ups", 2, 3, 2),
            ],
        };
        let days = counters.per_day(10, 12);
        let created: Vec<u64> = days.iter().map(|d| d.created).collect();
        let delivered_: Vec<u64> = days.iter().map(|d| d.delivered).collect();
        assert_eq!((created, delivered_), (vec![4, 0, 3], vec![0, 2, 4]));
        let mix = counters.status_mix();
        assert_eq!(mix.len(), DeliveryStatus::ALL.len());
        assert!(mix.contains(&(DeliveryStatus::Delivered, 6)));
        assert!(mix.contains(&(DeliveryStatus::Exception, 1)));
        let couriers = counters.couriers();
        let dhl = &couriers[0];
        assert_eq!(dhl.courier_code, "dhl");
        assert_eq!(dhl.histogram, vec![0, 2, 0, 0, 1]);
        assert_eq!((dhl.median_days(), dhl.p90_days()), (Some(1), Some(4)));
        assert_eq!(dhl.first_attempts, Share { part: 2, whole: 3 });
        let ups = &couriers[1];
        assert_eq!(ups.exceptions, Share { part: 1, whole: 4 });
        assert!((ups.exceptions.rate() - 0.25).abs() < 1e-9);
        assert_eq!((ups.median_days(), ups.p90_days()), (Some(2), Some(2)));
        assert_eq!(Counters::default().couriers(), vec![]);
    }

    #[test]
    fn percentiles_are_nearest_rank_and_none_without_deliveries() {
        assert_eq!(percentile(&[], 0, 0.5), None);
        // Ten deliveries: 1 day ×5, 2 days ×4, 9 days ×1.
        let mut histogram = vec![0, 5, 4];
        histogram.resize(10, 0);
        histogram[9] = 1;
        assert_eq!(percentile(&histogram, 10, 0.5), Some(1));
        assert_eq!(percentile(&histogram, 10, 0.9), Some(2));
        assert_eq!(percentile(&histogram, 10, 1.0), Some(9));
    }
}
