//! The overview: what needs a human (the problems queue's counts: exceptions, failed delivery
//! attempts, returned, expired and stuck trackings), and the account's shipments by status —
//! three statements in all ([`crate::problems::counts`]).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use parceld_model::DeliveryStatus;

use crate::problems::{self, Kind};
use crate::render::{self, Frame};
use crate::session::{DashboardState, SignedIn};

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
    let counts = match problems::counts(&state, &who).await {
        Ok(counts) => counts,
        Err(answer) => return answer,
    };
    let page = OverviewPage {
        frame: Frame::new("Overview", Some(&who), "overview"),
        sections: [
            Section {
                id: "problems",
                heading: "Needs a human",
                counts: Kind::ALL
                    .iter()
                    .zip(counts.kinds)
                    .map(|(kind, count)| Count {
                        label: kind.label(),
                        count,
                        link: format!("/dashboard/problems?kind={}", kind.name()),
                    })
                    .collect(),
            },
            Section {
                id: "by-status",
                heading: "Shipments by status (not archived)",
                counts: DeliveryStatus::ALL
                    .iter()
                    .map(|s| count(*s, s.as_str(), &counts.by_status))
                    .collect(),
            },
        ],
    };
    render::page(StatusCode::OK, &page)
}
