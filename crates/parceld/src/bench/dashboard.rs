//! The dashboard scenario: a signed-in user's shipments table, its first page, a filtered page
//! (p99 < 50 ms each) and a deep page sorted by last update, reached by following the table's
//! "next" links (a cursor: it costs what the first page does), the table's CSV export streamed (≥ 50,000 rows/s over its first
//! 100,000 rows), and the analytics page and each chart's CSV (p99 < 200 ms each), with the
//! import scenario's trackings stored (1,000,000 in the full run), spread over half a year of
//! history for the charts ([`super::spread`]).
//!
//! The user and the session are written straight into the store, as the sign-in would write
//! them, so the figures are the table's and the export's, not argon2's (a sign-in hashes on
//! purpose slowly). The filtered page asks for what few trackings have: `transit` (given to a
//! hundred of them through the refresh path first) of one courier, not archived.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::Utc;
use parceld_dashboard::{password, session};
use parceld_store::{NewSession, NewUser, Role};
use serde::Serialize;

use super::data::{open, with_checkpoints};
use super::harness::{load, Caller, Load, ServerProcess};
use super::Options;

/// How many "next" links the deep sorted page is from the first.
pub(super) const DEEP_PAGES: usize = 100;

/// Rows of the export the scenario reads before it stops the download.
pub(super) const EXPORT_ROWS: usize = 100_000;

/// What the dashboard scenario measured.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardResult {
    pub trackings_stored: usize,
    /// `GET /dashboard/shipments`, no filter.
    pub first_page: Load,
    /// `GET /dashboard/shipments?status=transit&courier=ups&archived=no`.
    pub filtered_page: Load,
    /// `GET /dashboard/shipments?sort=updated&after=…`, [`DEEP_PAGES`] pages in.
    pub deep_sorted_page: Load,
    /// Rows read from `GET /dashboard/shipments.csv` (at most [`EXPORT_ROWS`]), and how fast.
    pub export_rows: usize,
    pub export_rows_per_second: f64,
    /// Trackings the analytics history was spread over.
    pub analytics_trackings: u64,
    /// Each of [`CHARTS`], in its order.
    pub charts: Vec<Load>,
}

/// The analytics addresses measured: (report label, path after `/dashboard/analytics`, more
/// query, whether over the whole spread history rather than the page's default 30 days).
pub(super) const CHARTS: [(&str, &str, &str, bool); 7] = [
    ("dashboard, analytics page (30 days)", "", "", false),
    ("dashboard, analytics page (180 days)", "", "", true),
    (
        "  one courier and country (180 days)",
        "",
        "&courier=dhl&country=DE",
        true,
    ),
    ("  daily.csv (180 days)", "/daily.csv", "", true),
    ("  status.csv (180 days)", "/status.csv", "", true),
    ("  transit.csv (180 days)", "/transit.csv", "", true),
    ("  couriers.csv (180 days)", "/couriers.csv", "", true),
];

/// The address of a chart of [`CHARTS`] on the server at `base`.
fn chart_url(base: &str, (_, path, more, whole): (&str, &str, &str, bool)) -> String {
    let today = Utc::now().date_naive();
    let days = if whole { super::spread::DAYS } else { 30 };
    let from = today - chrono::Duration::days(days - 1);
    format!("{base}/dashboard/analytics{path}?from={from}&to={today}{more}")
}

/// A viewer of the imported trackings' account and a live session of theirs: its token.
async fn signed_in_viewer(options: &Options, dir: &Path) -> anyhow::Result<String> {
    let store = open(&options.backend, dir).await?;
    with_checkpoints(store.as_ref(), "ups", 100, 3).await?;
    let account = store
        .accounts()
        .await?
        .first()
        .context("the imported database has an account")?
        .id;
    let hash = password::hash(&password::generate()).context("hashing a password")?;
    let user = store
        .create_user(&NewUser {
            account,
            email: "bench-viewer@bench.test",
            role: Role::Viewer,
            password_hash: &hash,
        })
        .await?
        .context("a new user")?;
    let token = session::random_token();
    store
        .create_session(&NewSession {
            token_hash: session::token_hash(&token),
            user_id: user.id,
            csrf_token: session::random_token(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
        })
        .await?;
    Ok(token)
}

/// The address [`DEEP_PAGES`] "next" links from `url` (or the last page, if fewer follow).
async fn deep_page(url: &str, base: &str, token: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    let mut url = url.to_string();
    for _ in 0..DEEP_PAGES {
        let answer = Caller::Session(token).get(&client, &url).send().await?;
        if !answer.status().is_success() {
            bail!("{url} answered {}", answer.status());
        }
        let page = answer.text().await?;
        let next = page.split("href=\"").find_map(|s| {
            s.split_once("\" rel=\"next\"")
                .map(|(link, _)| link.replace("&#38;", "&").replace("&amp;", "&"))
        });
        match next {
            Some(link) => url = format!("{base}{link}"),
            None => break,
        }
    }
    Ok(url)
}

/// Rows of the CSV export at `url` read until [`EXPORT_ROWS`] or its end, and rows a second.
async fn export(url: &str, token: &str) -> anyhow::Result<(usize, f64)> {
    let started = Instant::now();
    let response = Caller::Session(token)
        .get(&reqwest::Client::new(), url)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("the CSV export answered {}", response.status());
    }
    let mut response = response;
    let mut lines = 0usize;
    while let Some(chunk) = response.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        if lines > EXPORT_ROWS {
            break;
        }
    }
    let rows = lines.saturating_sub(1).min(EXPORT_ROWS);
    Ok((
        rows,
        rows as f64 / started.elapsed().as_secs_f64().max(1e-9),
    ))
}

/// Serves the database in `dir`, which the import scenario has filled.
pub(super) async fn run(options: &Options, dir: &Path) -> anyhow::Result<DashboardResult> {
    let token = signed_in_viewer(options, dir).await?;
    let analytics_trackings = super::spread::spread(&options.backend, dir).await?;
    let server = ServerProcess::start(
        &options.backend,
        dir,
        &[("PARCELD_SERVER__WORKER".into(), "false".into())],
    )?;
    let caller = Caller::Session(&token);
    let seconds = options.seconds as f64;
    let first_url = format!("{}/dashboard/shipments", server.base);
    let filtered_url = format!("{first_url}?status=transit&courier=ups&archived=no");
    for url in [&first_url, &filtered_url] {
        let answer = caller.get(&reqwest::Client::new(), url).send().await?;
        let (status, page) = (answer.status(), answer.text().await?);
        if !status.is_success() || !page.contains("<table") {
            bail!("{url} answered {status} without the table");
        }
    }
    let first_page = load(&first_url, caller, options.connections, seconds).await;
    let filtered_page = load(&filtered_url, caller, options.connections, seconds).await;
    let sorted_url = format!("{first_url}?sort=updated");
    let deep_url = deep_page(&sorted_url, &server.base, &token).await?;
    let deep_sorted_page = load(&deep_url, caller, options.connections, seconds).await;
    let (export_rows, export_rows_per_second) =
        export(&format!("{}/dashboard/shipments.csv", server.base), &token).await?;
    let mut charts = Vec::new();
    for chart in CHARTS {
        let url = chart_url(&server.base, chart);
        let answer = caller.get(&reqwest::Client::new(), &url).send().await?;
        if !answer.status().is_success() {
            bail!("{url} answered {}", answer.status());
        }
        charts.push(load(&url, caller, options.connections, seconds).await);
    }
    Ok(DashboardResult {
        trackings_stored: options.trackings,
        first_page,
        filtered_page,
        deep_sorted_page,
        export_rows,
        export_rows_per_second,
        analytics_trackings,
        charts,
    })
}
