//! The problems queue: what needs a human, one tab per kind — exceptions, failed delivery
//! attempts, returned parcels, expired trackings, and "stuck" ones (in flight with no new event
//! for longer than is usual for their kind of courier) — each with its count, not archived.
//!
//! Every count and every page is one statement of the store's list or count, whatever the
//! number of trackings: the three status counts share one `GROUP BY`, the returned and the
//! stuck counts are one each, and a page is one list read on an index of the account (the
//! status index, or for the stuck ones the (account, status, latest event) index). Express and
//! postal couriers are told apart as the engine's schedule tells them apart, by the courier
//! registry's type; an unknown courier counts as express, as there.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use parceld_model::{CourierType, DeliveryStatus, SubStatus, Tracking};
use parceld_store::{Page, Quiet, TrackingFilter};

use crate::render::{self, Frame, Refusal};
use crate::session::{field, form_pairs, DashboardState, SignedIn};
use crate::shipments::{when, PAGE_SIZE};

/// The sub-statuses of a parcel on its way back to the sender, or back there.
pub const RETURNED: [SubStatus; 2] = [SubStatus::Exception010, SubStatus::Exception011];

/// A kind of problem: its name in addresses, its label, and what selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Exception,
    FailedAttempt,
    Returned,
    Expired,
    Stuck,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Exception,
        Kind::FailedAttempt,
        Kind::Returned,
        Kind::Expired,
        Kind::Stuck,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Exception => "exception",
            Kind::FailedAttempt => "failed-attempt",
            Kind::Returned => "returned",
            Kind::Expired => "expired",
            Kind::Stuck => "stuck",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Exception => "Exceptions",
            Kind::FailedAttempt => "Failed attempts",
            Kind::Returned => "Returned",
            Kind::Expired => "Expired",
            Kind::Stuck => "Stuck",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }

    /// The status a kind is, for the kinds that are one status.
    fn status(self) -> Option<DeliveryStatus> {
        match self {
            Kind::Exception => Some(DeliveryStatus::Exception),
            Kind::FailedAttempt => Some(DeliveryStatus::Undelivered),
            Kind::Expired => Some(DeliveryStatus::Expired),
            Kind::Returned | Kind::Stuck => None,
        }
    }

    /// The list filter of this kind's (not archived) trackings.
    fn filter(self, stuck: &Stuck) -> TrackingFilter {
        let mut filter = TrackingFilter {
            archived: Some(false),
            delivery_status: self.status(),
            ..TrackingFilter::default()
        };
        match self {
            Kind::Returned => filter.substatuses = RETURNED.to_vec(),
            Kind::Stuck => filter.quiet = Some(stuck.quiet()),
            _ => {}
        }
        filter
    }
}

/// How long a tracking in flight may go without a new event before it is stuck.
#[derive(Debug, Clone)]
pub struct Stuck {
    pub express: Duration,
    pub postal: Duration,
    /// The codes of the postal couriers of the registry.
    pub postal_couriers: Vec<String>,
}

impl Stuck {
    pub fn new(express_days: u32, postal_days: u32) -> Stuck {
        Stuck {
            express: Duration::days(i64::from(express_days.max(1))),
            postal: Duration::days(i64::from(postal_days.max(1))),
            postal_couriers: parceld_detect::couriers()
                .iter()
                .filter(|c| c.courier_type == CourierType::Postal)
                .map(|c| c.code.to_string())
                .collect(),
        }
    }

    fn quiet(&self) -> Quiet {
        let now = Utc::now();
        Quiet {
            express_before: now - self.express,
            postal_before: now - self.postal,
            postal_couriers: self.postal_couriers.clone(),
        }
    }
}

/// What the queue counts: the number of not archived trackings of every kind, in
/// [`Kind::ALL`]'s order, and of every status (the overview shows both).
pub struct Counts {
    pub kinds: [u64; 5],
    pub by_status: Vec<(DeliveryStatus, u64)>,
}

/// [`Counts`] in three statements: the statuses' `GROUP BY`, the returned, the stuck.
pub async fn counts(state: &DashboardState, who: &SignedIn) -> Result<Counts, Response> {
    let store = &state.0.store;
    let stuck = &state.0.stuck;
    let failed = |e| render::store_failed(e, Some(who));
    let open = TrackingFilter {
        archived: Some(false),
        ..TrackingFilter::default()
    };
    let by_status = store
        .count_by_status(who.account(), &open)
        .await
        .map_err(failed)?;
    let total = |filter: TrackingFilter| async move {
        let counts = store.count_by_status(who.account(), &filter).await?;
        Ok::<u64, parceld_store::StoreError>(counts.iter().map(|(_, n)| n).sum())
    };
    let returned = total(Kind::Returned.filter(stuck)).await.map_err(failed)?;
    let quiet = total(Kind::Stuck.filter(stuck)).await.map_err(failed)?;
    let kinds = Kind::ALL.map(|kind| match kind {
        Kind::Returned => returned,
        Kind::Stuck => quiet,
        _ => by_status
            .iter()
            .find(|(s, _)| Some(*s) == kind.status())
            .map_or(0, |(_, n)| *n),
    });
    Ok(Counts { kinds, by_status })
}

/// A tab of the queue.
pub struct Tab {
    pub name: &'static str,
    pub label: &'static str,
    pub count: u64,
    pub current: bool,
}

/// A row of the queue.
pub struct Row {
    pub id: String,
    pub number: String,
    pub courier: String,
    pub status: &'static str,
    pub substatus: &'static str,
    pub latest: String,
    pub event: String,
}

impl Row {
    fn of(t: &Tracking) -> Row {
        Row {
            id: t.id.to_string(),
            number: t.tracking_number.clone(),
            courier: t.courier_code.clone(),
            status: t.delivery_status.as_str(),
            substatus: t.substatus.map_or("—", |s| s.as_str()),
            latest: when(t.latest_checkpoint_time),
            event: t.latest_event.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    frame: Frame,
    tabs: Vec<Tab>,
    heading: &'static str,
    explain: String,
    rows: Vec<Row>,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /dashboard/problems?kind=…&page=…`.
pub async fn queue(
    State(state): State<DashboardState>,
    RawQuery(query): RawQuery,
    who: SignedIn,
) -> Response {
    let pairs = form_pairs(query.unwrap_or_default().as_bytes());
    let kind = match field(&pairs, "kind") {
        "" => Some(Kind::Exception),
        name => Kind::parse(name),
    };
    let page = match field(&pairs, "page") {
        "" => Some(1),
        text => text
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=10_000).contains(p)),
    };
    let (Some(kind), Some(page)) = (kind, page) else {
        return render::refusal(Refusal::BadRequest, Some(&who));
    };
    let counts = match counts(&state, &who).await {
        Ok(counts) => counts,
        Err(answer) => return answer,
    };
    let stuck = &state.0.stuck;
    let at = Page {
        number: page,
        size: PAGE_SIZE,
    };
    let trackings = match state
        .0
        .store
        .list_trackings(who.account(), &kind.filter(stuck), at)
        .await
    {
        Ok(trackings) => trackings,
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let link = |page: u32| format!("/dashboard/problems?kind={}&page={page}", kind.name());
    let explain = match kind {
        Kind::Exception => "The carrier reported a problem: held, lost, refused, returned …".into(),
        Kind::FailedAttempt => "A delivery attempt failed; the carrier usually tries again.".into(),
        Kind::Returned => "On the way back to you, or back already.".into(),
        Kind::Expired => "The carrier stopped telling anything about these parcels.".into(),
        Kind::Stuck => format!(
            "On their way, but no new event for more than {} days (express couriers) or {} days (postal services).",
            stuck.express.num_days(),
            stuck.postal.num_days()
        ),
    };
    let tabs = Kind::ALL
        .iter()
        .zip(counts.kinds)
        .map(|(k, count)| Tab {
            name: k.name(),
            label: k.label(),
            count,
            current: *k == kind,
        })
        .collect();
    let full = trackings.len() >= PAGE_SIZE as usize;
    let page = ProblemsPage {
        frame: Frame::new(kind.label(), Some(&who), "problems"),
        tabs,
        heading: kind.label(),
        explain,
        rows: trackings.iter().map(Row::of).collect(),
        previous: (page > 1).then(|| link(page - 1)),
        next: full.then(|| link(page + 1)),
    };
    render::page(StatusCode::OK, &page)
}
