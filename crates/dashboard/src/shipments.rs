//! The shipments table, one shipment's view, and the actions on them.
//!
//! The table takes the list API's filters (status, courier, creation dates, archived) and a
//! search on the tracking or order number. It sorts by creation, last update, last event or
//! number, either way (the column headers link to each order, [`crate::order`]), and reads one
//! page with the store's sorted listing: one statement from an index range at the page's
//! position (`parceld_store::sorting`). Paging is by cursor, the last (or, going back, the
//! first) row's sort value and key, so a deep page costs what the first does and shipments
//! arriving meanwhile never push rows onto the next page twice or hide one. The search reads
//! at most a bounded number of trackings (by number on the unique index, by order number on
//! its index), newest first. Acting (refresh, archive, bulk archive) needs a role that may act
//! and the session's CSRF token; everything names the user's account, so another account's
//! shipment is not found.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use parceld_model::{DeliveryStatus, Tracking, TrackingId};
use parceld_service::RealtimeTarget;
use parceld_store::{
    NumberKey, Page, PageLookup, Position, Seek, Sort, Toward, TrackingFilter, TrackingPatch,
};

use crate::order::{self, Header};
use crate::render::{self, Frame, Refusal};
use crate::session::{field, form_pairs, DashboardState, SignedIn};

/// Rows on a page of the table.
pub const PAGE_SIZE: u32 = 50;
/// Shipments one bulk action may name.
pub const MAX_BULK: usize = 500;
/// Largest action form accepted (a bulk action names up to [`MAX_BULK`] shipments).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The table's filters as the query string has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub q: String,
    pub status: String,
    pub courier: String,
    pub from: String,
    pub to: String,
    /// `yes`, `no`, or empty (both).
    pub archived: String,
    pub sort: Sort,
    /// Where the page starts: after or before a row (from the start when `None`).
    pub position: Option<(Position, Toward)>,
}

/// A `YYYY-MM-DD` date of a form, `None` when empty (also the analytics' filters).
pub(crate) fn day(text: &str) -> Result<Option<NaiveDate>, Refusal> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Refusal::BadRequest)
}

impl Filters {
    /// Reads a query string; a value that cannot be a filter is a bad request.
    pub fn parse(query: &str) -> Result<Filters, Refusal> {
        let pairs = form_pairs(query.as_bytes());
        let text = |key: &str| field(&pairs, key).trim().to_string();
        let sort = order::parse_sort(field(&pairs, "sort"), field(&pairs, "dir"))?;
        let filters = Filters {
            q: text("q"),
            status: text("status"),
            courier: text("courier").to_ascii_lowercase(),
            from: text("from"),
            to: text("to"),
            archived: text("archived"),
            sort,
            position: order::parse_from(sort.key, field(&pairs, "after"), field(&pairs, "before"))?,
        };
        filters.store_filter()?;
        if filters.q.len() > 100 || filters.courier.len() > 50 {
            return Err(Refusal::BadRequest);
        }
        Ok(filters)
    }

    /// The store's filter of these (without the search, which is not a list filter).
    pub fn store_filter(&self) -> Result<TrackingFilter, Refusal> {
        let status = match self.status.as_str() {
            "" => None,
            text => Some(
                text.parse::<DeliveryStatus>()
                    .map_err(|_| Refusal::BadRequest)?,
            ),
        };
        let archived = match self.archived.as_str() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            _ => return Err(Refusal::BadRequest),
        };
        let start = day(&self.from)?
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
        let end = day(&self.to)?
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|t| t.and_utc());
        Ok(TrackingFilter {
            courier_code: (!self.courier.is_empty()).then(|| self.courier.clone()),
            delivery_status: status,
            archived,
            created_min: start,
            created_max: end,
            ..TrackingFilter::default()
        })
    }

    /// The tracking numbers a search may mean: as typed, in capitals, and as parceld stores
    /// numbers (without separators).
    pub fn numbers(&self) -> Vec<String> {
        let mut numbers = vec![self.q.clone(), self.q.to_ascii_uppercase()];
        if let Ok(number) = parceld_model::TrackingNumber::parse(&self.q) {
            numbers.push(number.as_str().to_string());
        }
        numbers
    }

    /// The query string of these filters in `sort`'s order from `from` (from the start when
    /// `None`).
    pub fn query(&self, sort: Sort, from: Option<&(Position, Toward)>) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("status", &self.status),
            ("courier", &self.courier),
            ("from", &self.from),
            ("to", &self.to),
            ("archived", &self.archived),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        pairs.extend(order::pairs(sort, from));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A time as the dashboard shows it.
pub fn when(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "—".into(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// A time as the table shows it: the date and the time apart, so that a narrow screen (a
/// tablet) breaks the cell between them and never inside either.
fn stamp(time: Option<DateTime<Utc>>) -> (String, String) {
    time.map_or_else(
        || ("—".into(), String::new()),
        |t| {
            (
                t.format("%Y-%m-%d").to_string(),
                t.format("%H:%M UTC").to_string(),
            )
        },
    )
}

/// One row of the table.
pub struct Row {
    pub id: String,
    /// `courier:number`, what a bulk action names.
    pub key: String,
    pub number: String,
    pub courier: String,
    pub status: &'static str,
    pub order: String,
    pub created: (String, String),
    pub updated: (String, String),
    pub event: (String, String),
    pub archived: bool,
}

impl Row {
    /// Created, updated and last event, in the table's order.
    pub fn times(&self) -> [&(String, String); 3] {
        [&self.created, &self.updated, &self.event]
    }

    fn of(t: &Tracking) -> Row {
        Row {
            id: t.id.to_string(),
            key: format!("{}:{}", t.courier_code, t.tracking_number),
            number: t.tracking_number.clone(),
            courier: t.courier_code.clone(),
            status: t.delivery_status.as_str(),
            order: t.fields.order_number.clone().unwrap_or_default(),
            created: stamp(Some(t.created_at)),
            updated: stamp(Some(t.updated_at)),
            event: stamp(t.latest_checkpoint_time),
            archived: t.archived,
        }
    }
}

#[derive(Template)]
#[template(path = "shipments.html")]
struct ListPage {
    frame: Frame,
    filters: Filters,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    headers: Vec<Header>,
    /// The order's query-string pairs, which the filter form keeps.
    order_fields: Vec<(&'static str, String)>,
    caption: String,
    summary: String,
    notice: Option<String>,
    export_link: String,
    back: String,
    previous: Option<String>,
    next: Option<String>,
    can_act: bool,
    csrf: String,
}

/// A page of the table: its trackings in order, and whether rows lie before and after it.
struct Rows {
    trackings: Vec<(i64, Tracking)>,
    earlier: bool,
    later: bool,
}

/// The trackings a page of the table shows: a search's (bounded) matches, else one page of
/// the order from the position, read with one row more than a page to know whether more
/// follow in the reading's direction.
async fn rows_of(
    state: &DashboardState,
    who: &SignedIn,
    filters: &Filters,
) -> Result<Rows, Response> {
    let store = &state.0.store;
    let filter = filters
        .store_filter()
        .map_err(|r| render::refusal(r, Some(who)))?;
    let failed = |e| render::store_failed(e, Some(who));
    if !filters.q.is_empty() {
        let found = search(state, who, filters, filter).await?;
        return Ok(Rows {
            trackings: found.into_iter().map(|t| (0, t)).collect(),
            earlier: false,
            later: false,
        });
    }
    let seek = Seek {
        sort: filters.sort,
        from: filters.position.clone(),
        size: PAGE_SIZE + 1,
    };
    let mut trackings = store
        .list_sorted(who.account(), &filter, &seek)
        .await
        .map_err(failed)?;
    let more = trackings.len() > PAGE_SIZE as usize;
    let back = matches!(filters.position, Some((_, Toward::Earlier)));
    if more && back {
        trackings.remove(0);
    }
    trackings.truncate(PAGE_SIZE as usize);
    Ok(Rows {
        trackings,
        earlier: if back {
            more
        } else {
            filters.position.is_some()
        },
        later: back || more,
    })
}

/// A search's matches: by tracking number and by order number, within the other filters.
async fn search(
    state: &DashboardState,
    who: &SignedIn,
    filters: &Filters,
    mut filter: TrackingFilter,
) -> Result<Vec<Tracking>, Response> {
    let store = &state.0.store;
    let failed = |e| render::store_failed(e, Some(who));
    filter.tracking_numbers = filters.numbers();
    let page = Page {
        number: 1,
        size: PAGE_SIZE,
    };
    let mut found = store
        .list_trackings(who.account(), &filter, page)
        .await
        .map_err(failed)?;
    let by_order = store
        .page_trackings(who.account(), PageLookup::OrderNumber(&filters.q))
        .await
        .map_err(failed)?;
    filter.tracking_numbers.clear();
    for tracking in by_order {
        if !found.iter().any(|t| t.id == tracking.id) && matches_filter(&tracking, &filter) {
            found.push(tracking);
        }
    }
    Ok(found)
}

/// Whether a tracking found by order number also passes the table's other filters.
fn matches_filter(t: &Tracking, f: &TrackingFilter) -> bool {
    f.courier_code.as_ref().is_none_or(|c| *c == t.courier_code)
        && f.delivery_status.is_none_or(|s| s == t.delivery_status)
        && f.archived.is_none_or(|a| a == t.archived)
        && f.created_min.is_none_or(|m| t.created_at >= m)
        && f.created_max.is_none_or(|m| t.created_at <= m)
}

/// `GET /dashboard/shipments`.
pub async fn list(
    State(state): State<DashboardState>,
    RawQuery(query): RawQuery,
    who: SignedIn,
) -> Response {
    let query = query.unwrap_or_default();
    let filters = match Filters::parse(&query) {
        Ok(filters) => filters,
        Err(refusal) => return render::refusal(refusal, Some(&who)),
    };
    let rows = match rows_of(&state, &who, &filters).await {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    let searching = !filters.q.is_empty();
    let sort = filters.sort;
    let link = |sort: Sort, from: Option<(Position, Toward)>| {
        format!(
            "/dashboard/shipments?{}",
            filters.query(sort, from.as_ref())
        )
    };
    // Each link names the row it continues from; a page left empty (its rows deleted) leads
    // back to the start.
    let at = |(pk, tracking): &(i64, Tracking), toward| {
        Some((Position::of(sort.key, *pk, tracking), toward))
    };
    let first = rows
        .trackings
        .first()
        .and_then(|row| at(row, Toward::Earlier));
    let last = rows.trackings.last().and_then(|row| at(row, Toward::Later));
    let previous = match (rows.earlier, first) {
        (false, _) => None,
        (true, first) => Some(link(sort, first)),
    };
    let next = rows
        .later
        .then(|| link(sort, last))
        .filter(|_| !rows.trackings.is_empty());
    let done = form_pairs(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let described = order::describe(sort);
    let summary = match rows.trackings.len() {
        0 => "No shipments match".to_string(),
        n if searching => format!("{n} found"),
        n => format!("{n} shipments, {described}"),
    };
    let page = ListPage {
        frame: Frame::new("Shipments", Some(&who), "shipments"),
        statuses: DeliveryStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.as_str()))
            .collect(),
        rows: rows.trackings.iter().map(|(_, t)| Row::of(t)).collect(),
        headers: order::headers(sort, !searching, |sort| link(sort, None)),
        order_fields: order::pairs(sort, None),
        caption: format!(
            "Shipments, {}",
            if searching { "newest first" } else { described }
        ),
        summary,
        notice: done.map(|n| format!("Archived {n} shipment(s).")),
        export_link: format!("/dashboard/shipments.csv?{}", filters.query(sort, None)),
        back: filters.query(sort, filters.position.as_ref()),
        previous,
        next,
        can_act: who.role().can_act(),
        csrf: who.session.csrf_token.clone(),
        filters,
    };
    render::page(StatusCode::OK, &page)
}

/// The fields of a form post of `who`, if its CSRF token is the session's and `allowed` lets
/// the user's role send it; else the answer to give.
pub(crate) async fn form_of(
    who: &SignedIn,
    request: Request<Body>,
    allowed: impl Fn(&SignedIn) -> Result<(), Refusal>,
) -> Result<Vec<(String, String)>, Response> {
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return Err(render::refusal(Refusal::BadRequest, Some(who)));
    };
    let pairs = form_pairs(&body);
    match who
        .check_form(field(&pairs, "csrf"))
        .and_then(|()| allowed(who))
    {
        Ok(()) => Ok(pairs),
        Err(refusal) => Err(render::refusal(refusal, Some(who))),
    }
}

/// The fields of a form post of `who`, if its CSRF token is the session's and the user's role
/// may act; else the answer to give.
async fn acting(who: &SignedIn, request: Request<Body>) -> Result<Vec<(String, String)>, Response> {
    form_of(who, request, SignedIn::check_may_act).await
}

/// An action of `who` on one of the account's shipments: the shipment, or the answer to give.
async fn acting_on(
    state: &DashboardState,
    who: &SignedIn,
    id: &str,
    request: Request<Body>,
) -> Result<Tracking, Response> {
    acting(who, request).await?;
    own(state, who, id).await
}

/// `POST /dashboard/shipments/archive`: archives the checked shipments (one statement).
pub async fn archive_many(
    State(state): State<DashboardState>,
    who: SignedIn,
    request: Request<Body>,
) -> Response {
    let pairs = match acting(&who, request).await {
        Ok(pairs) => pairs,
        Err(answer) => return answer,
    };
    let keys: Vec<NumberKey> = pairs
        .iter()
        .filter(|(k, _)| k == "key")
        .filter_map(|(_, v)| v.split_once(':'))
        .map(|(courier, number)| NumberKey {
            tracking_number: number.to_string(),
            courier_code: courier.to_string(),
        })
        .collect();
    if keys.len() > MAX_BULK {
        return render::refusal(Refusal::BadRequest, Some(&who));
    }
    let back = Filters::parse(field(&pairs, "back")).unwrap_or_default();
    let archived = match state.0.store.archive_many(who.account(), &keys).await {
        Ok(found) => found.len(),
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let mut query = back.query(back.sort, back.position.as_ref());
    if !query.is_empty() {
        query.push('&');
    }
    Redirect::to(&format!("/dashboard/shipments?{query}done={archived}")).into_response()
}

/// The signed-in user's tracking with this id, or the answer to give instead (not found for
/// an id that is not one, or not the account's).
pub(crate) async fn own(
    state: &DashboardState,
    who: &SignedIn,
    id: &str,
) -> Result<Tracking, Response> {
    let not_found = || render::refusal(Refusal::NotFound, Some(who));
    let id = TrackingId::parse(id).ok_or_else(not_found)?;
    match state.0.store.tracking(who.account(), &id).await {
        Ok(Some(tracking)) => Ok(tracking),
        Ok(None) => Err(not_found()),
        Err(error) => Err(render::store_failed(error, Some(who))),
    }
}

/// `POST /dashboard/shipments/{id}/refresh` (asks the carrier now, through the engine) and
/// `…/archive`.
pub async fn act(
    State(state): State<DashboardState>,
    Path((id, action)): Path<(String, String)>,
    who: SignedIn,
    request: Request<Body>,
) -> Response {
    if action != "refresh" && action != "archive" {
        return render::refusal(Refusal::NotFound, Some(&who));
    }
    let tracking = match acting_on(&state, &who, &id, request).await {
        Ok(tracking) => tracking,
        Err(answer) => return answer,
    };
    if action == "refresh" {
        return refresh(&state, &who, tracking).await;
    }
    let patch = TrackingPatch {
        archived: Some(true),
        ..TrackingPatch::default()
    };
    match state
        .0
        .store
        .update_tracking(who.account(), &tracking.id, &patch)
        .await
    {
        Ok(Some(_)) => Redirect::to(&format!(
            "/dashboard/shipments/{}?done=archived",
            tracking.id
        ))
        .into_response(),
        Ok(None) => render::refusal(Refusal::NotFound, Some(&who)),
        Err(error) => render::store_failed(error, Some(&who)),
    }
}

/// Asks the carrier about `tracking` now, through the engine, and leads back to its page.
async fn refresh(state: &DashboardState, who: &SignedIn, tracking: Tracking) -> Response {
    let target = RealtimeTarget::Id(tracking.id.clone());
    let done = match state.0.trackings.realtime(who.account(), target).await {
        Ok(_) => "refreshed",
        Err(error) => {
            tracing::info!(%error, "a dashboard refresh failed");
            "refresh-failed"
        }
    };
    Redirect::to(&format!("/dashboard/shipments/{}?done={done}", tracking.id)).into_response()
}
