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
//!   delivered on the first attempt, and `analytics_deliveries_all` with the countries summed.
//!
//! A page without a country filter reads the summed tables, a page for one country that
//! country's rows (its key comes first): either way a range's rows lie together, and each
//! [`Read`] sums them in the database into the few rows its chart draws.
//!
//! A tracking's delivery facts are fixed when it is first seen delivered (from its checkpoints:
//! the first delivered event, the first event past pending/notfound/inforeceived as the first
//! scan, and whether an `undelivered` event came before) and kept in its row, so what it adds
//! to the counters is exactly what it takes away when it changes or goes. A day is whole days
//! since 1970-01-01 in UTC; the destination country is the merchant's
//! `destination_country_iso2` in upper case ('' when unset).
//!
//! The reads are written here once ([`Read::sql`]) in SQL both backends speak; the folding of
//! their rows into charts is plain code ([`Counters`]).

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

/// The four reads of a filter's counters, each summing the counter rows of the filter's days
/// into the few rows a chart needs (a few hundred at most, whatever the number of days), so
/// that no backend hands a chart thousands of rows to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Rows: day, trackings created.
    Created,
    /// Rows: courier, status, trackings.
    Statuses,
    /// Rows: day, trackings delivered.
    Delivered,
    /// Rows: courier, transit days, delivered, first attempt.
    Transit,
}

impl Read {
    /// All four, in the order [`Counters::from_rows`] takes their rows.
    pub const ALL: [Read; 4] = [
        Read::Created,
        Read::Statuses,
        Read::Delivered,
        Read::Transit,
    ];

    /// The read's SQL (the same in both backends). It binds `$1` account, `$2` first day, `$3`
    /// last day, `$4` courier or NULL, and with `by_country` `$5` the country: then it reads
    /// the counters keyed by country first, else the ones with the countries summed.
    pub fn sql(self, by_country: bool) -> String {
        let (table, columns, keys, counted) = match self {
            Read::Created => (
                "analytics_status",
                "day, CAST(sum(trackings) AS BIGINT)",
                "day",
                "trackings",
            ),
            Read::Statuses => (
                "analytics_status",
                "courier_code, status, CAST(sum(trackings) AS BIGINT)",
                "courier_code, status",
                "trackings",
            ),
            Read::Delivered => (
                "analytics_deliveries",
                "day, CAST(sum(delivered) AS BIGINT)",
                "day",
                "delivered",
            ),
            Read::Transit => (
                "analytics_deliveries",
                "courier_code, CAST(transit_days AS BIGINT), CAST(sum(delivered) AS BIGINT), \
                 CAST(sum(first_attempt) AS BIGINT)",
                "courier_code, transit_days",
                "delivered",
            ),
        };
        format!(
            "SELECT {columns} {} GROUP BY {keys} HAVING sum({counted}) <> 0 ORDER BY {keys}",
            rows_of_days(table, by_country)
        )
    }
}

/// `FROM … WHERE …` of a filter's counter rows in `table` (or its sum over every country),
/// bound as [`Read::sql`] says.
fn rows_of_days(table: &str, by_country: bool) -> String {
    let (table_suffix, country) = if by_country {
        ("", " AND country = $5")
    } else {
        ("_all", "")
    };
    format!(
        "FROM {table}{table_suffix} WHERE account_id = $1 AND day BETWEEN $2 AND $3 \
           AND ($4 IS NULL OR courier_code = $4){country}"
    )
}

/// The counter rows of a filter's days as they lie, day first, for a backend that sums them
/// itself with a [`Fold`] instead of asking for [`Read::sql`]'s sums: SQLite sorts to group by
/// courier, which cost several times the reading of the rows. Binds as [`Read::sql`]. Rows:
/// day, courier, status, trackings; or with `deliveries` day, courier, transit days, delivered,
/// first attempt.
pub fn rows_sql(deliveries: bool, by_country: bool) -> String {
    let (table, columns) = if deliveries {
        (
            "analytics_deliveries",
            "day, courier_code, transit_days, delivered, first_attempt",
        )
    } else {
        ("analytics_status", "day, courier_code, status, trackings")
    };
    format!("SELECT {columns} {}", rows_of_days(table, by_country))
}

/// Sums counter rows ([`rows_sql`]) into the rows of the four [`Read`]s, as the database would:
/// per day (the rows come in day order), per courier and status, per courier and transit days;
/// sums of 0 left out, each list in its read's order.
#[derive(Debug, Default)]
pub struct Fold {
    created: Vec<DayRow>,
    statuses: Vec<StatusRow>,
    delivered: Vec<DayRow>,
    transit: Vec<TransitRow>,
    /// Where the next status and delivery key is likely to be: each day's rows come in the
    /// same key order as the day before's, so the search starts after the last one found.
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

/// Adds `n` to the last day's sum, or starts the day.
fn add_day(days: &mut Vec<DayRow>, day: i64, n: i64) {
    match days.last_mut() {
        Some((last, sum)) if *last == day => *sum += n,
        _ => days.push((day, n)),
    }
}

impl Fold {
    /// One row of the status counters.
    pub fn status(&mut self, day: i64, courier: &str, status: &str, trackings: i64) {
        add_day(&mut self.created, day, trackings);
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
    pub fn delivery(
        &mut self,
        day: i64,
        courier: &str,
        transit_days: i64,
        delivered: i64,
        first: i64,
    ) {
        add_day(&mut self.delivered, day, delivered);
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

    /// The counters.
    pub fn finish(mut self) -> StoreResult<Counters> {
        self.created.retain(|(_, n)| *n != 0);
        self.delivered.retain(|(_, n)| *n != 0);
        self.statuses.retain(|(_, _, n)| *n != 0);
        self.transit.retain(|(_, _, n, _)| *n != 0);
        self.statuses
            .sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        self.transit
            .sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Counters::from_rows(self.created, self.statuses, self.delivered, self.transit)
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
        statuses: Vec<StatusRow>,
        delivered: Vec<DayRow>,
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
    fn rows_become_counters_and_bad_rows_are_corrupt() {
        let counters = Counters::from_rows(
            vec![(3, 2)],
            vec![("ups".into(), "delivered".into(), 2)],
            vec![(5, 2)],
            vec![("ups".into(), 2, 2, 1)],
        )
        .unwrap();
        assert_eq!(counters.statuses[0].status, DeliveryStatus::Delivered);
        assert_eq!(counters.deliveries[0].first_attempt, 1);
        assert_eq!(
            counters.delivered,
            vec![DayCount {
                day: 5,
                trackings: 2
            }]
        );
        let lost = vec![("ups".into(), "lost".into(), 2)];
        assert!(Counters::from_rows(vec![], lost, vec![], vec![]).is_err());
        let negative = vec![("ups".into(), 2, -1, 0)];
        assert!(Counters::from_rows(vec![], vec![], vec![], negative).is_err());
        assert!(Counters::from_rows(vec![(3, -2)], vec![], vec![], vec![]).is_err());
    }

    #[test]
    fn a_fold_sums_as_the_reads_do() {
        // (day, courier, status, trackings) and (day, courier, transit days, delivered, first).
        let fold = |statuses: &[(i64, &str, &str, i64)]| {
            let mut fold = Fold::default();
            for (day, courier, status, n) in statuses {
                fold.status(*day, courier, status, *n);
            }
            for (day, courier, transit, n, first) in [
                (11, "ups", 2, 2, 1),
                (11, "dhl", 1, 1, 1),
                (12, "ups", 2, 1, 0),
            ] {
                fold.delivery(day, courier, transit, n, first);
            }
            fold.finish()
        };
        let mut statuses = vec![
            (10, "ups", "transit", 2),
            (10, "dhl", "delivered", 1),
            (11, "ups", "transit", 3),
            (11, "ups", "exception", 1),
            (11, "ups", "exception", -1),
        ];
        let expected = Counters::from_rows(
            vec![(10, 3), (11, 3)],
            vec![
                ("dhl".into(), "delivered".into(), 1),
                ("ups".into(), "transit".into(), 5),
            ],
            vec![(11, 3), (12, 1)],
            vec![("dhl".into(), 1, 1, 1), ("ups".into(), 2, 3, 1)],
        );
        assert_eq!(fold(&statuses).unwrap(), expected.unwrap());
        // A day whose sum is negative is as corrupt from a fold as from the database.
        statuses.push((12, "ups", "exception", -1));
        assert!(fold(&statuses).is_err());
    }

    #[test]
    fn reads_sum_the_summed_tables_unless_a_country_is_chosen() {
        for read in Read::ALL {
            let everywhere = read.sql(false);
            assert!(everywhere.contains("_all WHERE"), "{everywhere}");
            assert!(!everywhere.contains("$5"), "{everywhere}");
            let one = read.sql(true);
            assert!(!one.contains("_all"), "{one}");
            assert!(one.contains("country = $5"), "{one}");
        }
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
