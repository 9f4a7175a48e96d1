//! The overview: what needs a human (exceptions, failed delivery attempts, expired trackings),
//! and the account's shipments by status — one `GROUP BY` statement for both.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use parceld_model::DeliveryStatus;
use parceld_store::TrackingFilter;

use crate::render::{self, Frame};
use crate::session::{DashboardState, SignedIn};

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

/// A card of counts.
pub struct Section {
    pub id: &'static str,
    pub heading: &'static str,
    pub counts: Vec<Count>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    frame: Frame,
    sections: [Section; 2],
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
pub async fn overview(State(state): State<DashboardState>, who: SignedIn) -> Response {
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
        sections: [
            Section {
                id: "problems",
                heading: "Needs a human",
                counts: PROBLEMS
                    .iter()
                    .map(|(s, l)| count(*s, l, &counts))
                    .collect(),
            },
            Section {
                id: "by-status",
                heading: "Shipments by status (not archived)",
                counts: DeliveryStatus::ALL
                    .iter()
                    .map(|s| count(*s, s.as_str(), &counts))
                    .collect(),
            },
        ],
    };
    render::page(StatusCode::OK, &page)
}
