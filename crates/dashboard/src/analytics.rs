//! The analytics page (`/dashboard/analytics`): shipments created and delivered per day, the
//! status mix, and per courier the transit time from first scan to delivery (median, 90th
//! percentile, distribution in day buckets), the share delivered on the first attempt, the
//! exception rate and the courier's API health — of the signed-in user's account, for a date
//! range, a courier and a destination country chosen in a plain GET form.
//!
//! Every figure comes from the store's analytics counters (`parceld_store::analytics`): two
//! statements over counter rows, whatever the number of trackings, so every chart answers
//! within its budget on a million shipments. Status counts are by the day a shipment was
//! created, deliveries by the day it was delivered. The API health is this server's recent
//! calls to the courier (the same figures as `couriers/all`'s `health`). Each chart's data is
//! also a CSV download with the same filters (`/dashboard/analytics/<chart>.csv`), and every
//! chart is drawn as inline SVG beside its data table ([`crate::charts`]).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use parceld_store::analytics::{day_of, start_of, CourierFigures};
use parceld_store::{AnalyticsFilter, Counters};

use crate::charts::{self, Bar, Labels, Series};
use crate::render::{self, Frame, Refusal};
use crate::session::{field, form_pairs, DashboardState, SignedIn};
use crate::shipments::day;

/// The days shown when the form names none: the last 30, today included.
const DEFAULT_DAYS: i64 = 30;
/// The longest range one page covers.
const MAX_DAYS: i64 = 366;

/// The filters of the page, as read from its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// A courier code, or empty for every courier.
    pub courier: String,
    /// An ISO 3166 alpha-2 code in upper case, or empty for every country.
    pub country: String,
}

impl Query {
    /// Reads a query string as of the day `today`; a value that cannot be a filter, a range
    /// backwards or longer than [`MAX_DAYS`] is a bad request.
    pub fn parse(query: &str, today: NaiveDate) -> Result<Query, Refusal> {
        let pairs = form_pairs(query.as_bytes());
        let to = day(field(&pairs, "to").trim())?.unwrap_or(today);
        let from =
            day(field(&pairs, "from").trim())?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        let days = (to - from).num_days();
        if !(0..MAX_DAYS).contains(&days) {
            return Err(Refusal::BadRequest);
        }
        let courier = field(&pairs, "courier").trim().to_ascii_lowercase();
        let courier_ok = courier.len() <= 64
            && courier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let country = field(&pairs, "country").trim().to_ascii_uppercase();
        let country_ok = country.is_empty()
            || (country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()));
        if !courier_ok || !country_ok {
            return Err(Refusal::BadRequest);
        }
        Ok(Query {
            from,
            to,
            courier,
            country,
        })
    }

    /// The store's filter of these days, courier and country.
    pub fn filter(&self) -> AnalyticsFilter {
        let number = |d: NaiveDate| day_of(d.and_time(chrono::NaiveTime::MIN).and_utc());
        AnalyticsFilter {
            days: number(self.from)..=number(self.to),
            courier_code: (!self.courier.is_empty()).then(|| self.courier.clone()),
            country: (!self.country.is_empty()).then(|| self.country.clone()),
        }
    }

    /// The query string that selects the same (for the CSV links).
    pub fn encoded(&self) -> String {
        serde_urlencoded::to_string([
            ("from", self.from.to_string()),
            ("to", self.to.to_string()),
            ("courier", self.courier.clone()),
            ("country", self.country.clone()),
        ])
        .unwrap_or_default()
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn days(value: Option<i64>) -> String {
    value.map_or_else(|| "–".into(), |d| d.to_string())
}

fn date_of(day: i64) -> String {
    start_of(day).format("%Y-%m-%d").to_string()
}

/// A courier's recent API health on this server, as `couriers/all` shows it.
pub struct Health {
    pub calls: usize,
    pub success: String,
    pub latency_ms: u64,
}

/// One courier's row of the couriers' table.
pub struct CourierRow {
    pub figures: CourierFigures,
    pub exception_rate: String,
    pub first_attempt_rate: String,
    pub median: String,
    pub p90: String,
    pub health: Option<Health>,
    /// The distribution of transit days, drawn.
    pub histogram: String,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    frame: Frame,
    query: Query,
    csv_query: String,
    daily_svg: String,
    daily: Vec<(String, u64, u64)>,
    created_total: u64,
    delivered_total: u64,
    status_svg: String,
    statuses: Vec<(&'static str, u64)>,
    couriers_svg: String,
    couriers: Vec<CourierRow>,
}

/// The counters of the signed-in user's account for the page's filters.
async fn counters(
    state: &DashboardState,
    who: &SignedIn,
    query: &RawQuery,
) -> Result<(Query, Counters), Response> {
    let today = Utc::now().date_naive();
    let text = query.0.as_deref().unwrap_or_default();
    let parsed = Query::parse(text, today).map_err(|r| render::refusal(r, Some(who)))?;
    let counters = state
        .0
        .store
        .analytics(who.account(), &parsed.filter())
        .await
        .map_err(|e| render::store_failed(e, Some(who)))?;
    Ok((parsed, counters))
}

fn courier_rows(state: &DashboardState, counters: &Counters) -> Vec<CourierRow> {
    let carriers = state.0.trackings.engine.carriers();
    counters
        .couriers()
        .into_iter()
        .map(|figures| {
            let code = figures.courier_code.clone();
            let histogram = charts::columns(
                &Labels {
                    id: &format!("transit-{code}"),
                    title: &format!("Transit time of {code}"),
                    desc: &format!(
                        "Deliveries of {code} by whole days from the first scan to delivery, \
                         0 to {} days.",
                        figures.histogram.len().saturating_sub(1)
                    ),
                },
                &(0..figures.histogram.len())
                    .map(|d| format!("{d} d"))
                    .collect::<Vec<_>>(),
                &[Series {
                    name: "deliveries",
                    class: "s2",
                    values: figures.histogram.clone(),
                }],
                figures.histogram.len().div_ceil(12).max(1),
            );
            CourierRow {
                exception_rate: percent(figures.exceptions.rate()),
                first_attempt_rate: percent(figures.first_attempts.rate()),
                median: days(figures.median_days()),
                p90: days(figures.p90_days()),
                health: carriers.health(&code).map(|h| Health {
                    calls: h.calls,
                    success: percent(h.success_rate),
                    latency_ms: h.latency_ms,
                }),
                histogram,
                figures,
            }
        })
        .collect()
}

/// `GET /dashboard/analytics`.
pub async fn page(State(state): State<DashboardState>, query: RawQuery, who: SignedIn) -> Response {
    let (query, counters) = match counters(&state, &who, &query).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let filter = query.filter();
    let (first, last) = filter.bounds();
    let per_day = counters.per_day(first, last);
    let daily: Vec<(String, u64, u64)> = per_day
        .iter()
        .map(|d| (date_of(d.day), d.created, d.delivered))
        .collect();
    let names: Vec<String> = daily.iter().map(|d| d.0.clone()).collect();
    let daily_svg = charts::columns(
        &Labels {
            id: "daily-chart",
            title: "Shipments created and delivered per day",
            desc: &format!(
                "{} days from {} to {}: {} shipments created, {} delivered.",
                daily.len(),
                query.from,
                query.to,
                per_day.iter().map(|d| d.created).sum::<u64>(),
                per_day.iter().map(|d| d.delivered).sum::<u64>()
            ),
        },
        &names,
        &[
            Series {
                name: "created",
                class: "s1",
                values: per_day.iter().map(|d| d.created).collect(),
            },
            Series {
                name: "delivered",
                class: "s2",
                values: per_day.iter().map(|d| d.delivered).collect(),
            },
        ],
        daily.len().div_ceil(6).max(1),
    );
    let statuses: Vec<(&'static str, u64)> = counters
        .status_mix()
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect();
    let most = statuses.iter().map(|s| s.1).max().unwrap_or(0).max(1);
    let status_svg = charts::bars(
        &Labels {
            id: "status-chart",
            title: "Status mix",
            desc: "Shipments created in the range, by their delivery status now.",
        },
        &statuses
            .iter()
            .map(|(s, n)| Bar {
                label: (*s).to_string(),
                share: *n as f64 / most as f64,
                shown: n.to_string(),
            })
            .collect::<Vec<_>>(),
        "s1",
    );
    let couriers = courier_rows(&state, &counters);
    let couriers_svg = charts::bars(
        &Labels {
            id: "couriers-chart",
            title: "First-attempt deliveries and exceptions per courier",
            desc: "For each courier, the share of its deliveries made on the first attempt, \
                   then the share of its shipments that are exceptions.",
        },
        &couriers
            .iter()
            .flat_map(|c| {
                [
                    Bar {
                        label: format!("{} first attempt", c.figures.courier_code),
                        share: c.figures.first_attempts.rate(),
                        shown: c.first_attempt_rate.clone(),
                    },
                    Bar {
                        label: format!("{} exceptions", c.figures.courier_code),
                        share: c.figures.exceptions.rate(),
                        shown: c.exception_rate.clone(),
                    },
                ]
            })
            .collect::<Vec<_>>(),
        "s3",
    );
    let page = AnalyticsPage {
        frame: Frame::new("Analytics", Some(&who), "analytics"),
        csv_query: query.encoded(),
        created_total: per_day.iter().map(|d| d.created).sum(),
        delivered_total: per_day.iter().map(|d| d.delivered).sum(),
        query,
        daily_svg,
        daily,
        status_svg,
        statuses,
        couriers_svg,
        couriers,
    };
    render::page(StatusCode::OK, &page)
}

/// The charts whose data downloads as CSV, by file name.
pub const CHARTS: [&str; 4] = ["daily.csv", "status.csv", "transit.csv", "couriers.csv"];

/// One chart's data as CSV records, the header first.
fn records(
    chart: &str,
    state: &DashboardState,
    query: &Query,
    counters: &Counters,
) -> Option<Vec<Vec<String>>> {
    let header = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let mut rows = Vec::new();
    match chart {
        "daily.csv" => {
            rows.push(header(&["day", "created", "delivered"]));
            let (first, last) = query.filter().bounds();
            for d in counters.per_day(first, last) {
                rows.push(vec![
                    date_of(d.day),
                    d.created.to_string(),
                    d.delivered.to_string(),
                ]);
            }
        }
        "status.csv" => {
            rows.push(header(&["delivery_status", "shipments"]));
            for (status, n) in counters.status_mix() {
                rows.push(vec![status.as_str().into(), n.to_string()]);
            }
        }
        "transit.csv" => {
            rows.push(header(&["courier_code", "transit_days", "delivered"]));
            for c in counters.couriers() {
                for (d, n) in c.histogram.iter().enumerate() {
                    rows.push(vec![c.courier_code.clone(), d.to_string(), n.to_string()]);
                }
            }
        }
        "couriers.csv" => {
            rows.push(header(&[
                "courier_code",
                "shipments",
                "exceptions",
                "exception_rate",
                "delivered",
                "first_attempt",
                "first_attempt_rate",
                "median_transit_days",
                "p90_transit_days",
                "api_calls",
                "api_success_rate",
                "api_latency_ms",
            ]));
            for row in courier_rows(state, counters) {
                let c = &row.figures;
                let health = row.health.as_ref();
                let (exceptions, first) = (c.exceptions, c.first_attempts);
                rows.push(vec![
                    c.courier_code.clone(),
                    exceptions.whole.to_string(),
                    exceptions.part.to_string(),
                    format!("{:.4}", exceptions.rate()),
                    first.whole.to_string(),
                    first.part.to_string(),
                    format!("{:.4}", first.rate()),
                    c.median_days().map(|d| d.to_string()).unwrap_or_default(),
                    c.p90_days().map(|d| d.to_string()).unwrap_or_default(),
                    health.map(|h| h.calls.to_string()).unwrap_or_default(),
                    health.map(|h| h.success.clone()).unwrap_or_default(),
                    health.map(|h| h.latency_ms.to_string()).unwrap_or_default(),
                ]);
            }
        }
        _ => return None,
    }
    Some(rows)
}

/// `GET /dashboard/analytics/{chart}.csv`.
pub async fn csv(
    State(state): State<DashboardState>,
    Path(chart): Path<String>,
    query: RawQuery,
    who: SignedIn,
) -> Response {
    if !CHARTS.contains(&chart.as_str()) {
        return render::refusal(Refusal::Missing, Some(&who));
    }
    let (query, counters) = match counters(&state, &who, &query).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let Some(rows) = records(&chart, &state, &query, &counters) else {
        return render::refusal(Refusal::Missing, Some(&who));
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let _ = writer.write_record(row);
    }
    let body = writer.into_inner().unwrap_or_default();
    let disposition = format!("attachment; filename=\"{chart}\"");
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
    }

    #[test]
    fn the_default_is_the_last_thirty_days_of_every_courier_and_country() {
        let q = Query::parse("", today()).unwrap();
        assert_eq!(q.to, today());
        assert_eq!((q.to - q.from).num_days(), 29);
        let filter = q.filter();
        let (first, last) = filter.bounds();
        assert_eq!(last - first, 29);
        assert_eq!((filter.courier_code, filter.country), (None, None));
    }

    #[test]
    fn filters_are_read_normalised_and_written_back() {
        let q = Query::parse(
            "from=2026-01-01&to=2026-01-31&courier=UPS&country=de",
            today(),
        );
        let q = q.unwrap();
        assert_eq!((q.courier.as_str(), q.country.as_str()), ("ups", "DE"));
        assert_eq!(q.filter().courier_code.as_deref(), Some("ups"));
        assert_eq!(Query::parse(&q.encoded(), today()).unwrap(), q);
    }

    #[test]
    fn bad_values_and_ranges_are_refused() {
        for query in [
            "from=yesterday",
            "from=2026-02-01&to=2026-01-01",
            "from=2024-01-01&to=2026-01-01",
            "country=DEU",
            "country=1x",
            "courier=a%20b",
        ] {
            assert_eq!(
                Query::parse(query, today()),
                Err(Refusal::BadRequest),
                "{query}"
            );
        }
    }
}
