//! The overview: what needs a human (exceptions, failed delivery attempts, expired trackings),
//! and the account's shipments by status — one `GROUP BY` statement for both.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use parceld_model::DeliveryStatus;
use parceld_store::TrackingFilter;

use crate::render::{self, Frame};
use crate::session::DashboardState;

/// The statuses that need someone to look: the carrier reported a problem, a delivery attempt
/// failed, or the carrier stopped answering about the parcel.
pub const PROBLEMS: [(DeliveryStatus, &str); 3] = [
    (DeliveryStatus::Exception, "Exceptions"),
    (DeliveryStatus::Undelivered, "Failed attempts"),
    (DeliveryStatus::Expired, "Expired"),
];

/// One count with the table's link to what it counts.
pub struct Count {
    pub label: &'static str,
    pub count: u64,
    pub link: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    frame: Frame,
    problems: Vec<Count>,
    statuses: Vec<Count>,
}

fn count(status: DeliveryStatus, label: &'static str, counts: &[(DeliveryStatus, u64)]) -> Count {
    Count {
        label,
        count: counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n),
        link: format!(
            "/dashboard/shipments?status={}&archived=no",
            status.as_str()
        ),
    }
}

/// `GET /dashboard`.
pub async fn overview(State(state): State<DashboardState>, headers: HeaderMap) -> Response {
    let who = match state.0.signed_in(&headers).await {
        Ok(who) => who,
        Err(answer) => return answer,
    };
    let filter = TrackingFilter {
        archived: Some(false),
        ..TrackingFilter::default()
    };
    let counts = match state.0.store.count_by_status(who.account(), &filter).await {
        Ok(counts) => counts,
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let page = OverviewPage {
        frame: Frame::new("Overview", Some(&who), "overview"),
        problems: PROBLEMS
            .iter()
            .map(|(s, label)| count(*s, label, &counts))
            .collect(),
        statuses: DeliveryStatus::ALL
            .iter()
            .map(|s| count(*s, s.as_str(), &counts))
            .collect(),
    };
    render::page(StatusCode::OK, &page)
}
