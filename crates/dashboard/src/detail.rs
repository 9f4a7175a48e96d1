//! One shipment's page: its state (status, the carrier's raw codes, when it was checked and
//! will be checked next, the last check's error), its timeline, and — for roles that may act —
//! the refresh and archive buttons.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use parceld_model::Tracking;

use crate::render::{self, Frame};
use crate::session::{field, form_pairs, DashboardState, SignedIn};
use crate::shipments::{own, when};

/// One event of the timeline.
pub struct Event {
    pub time: String,
    pub detail: String,
    pub place: String,
    pub status: &'static str,
    /// The carrier's own code for the event.
    pub raw: String,
}

/// What the page shows of a tracking.
pub struct Shipment {
    pub id: String,
    pub is_archived: bool,
    pub number: String,
    pub status: &'static str,
    pub courier: String,
    pub substatus: &'static str,
    pub archived: &'static str,
    pub order: String,
    pub created: String,
    pub last_checked: String,
    pub next_check: String,
    pub check_error: String,
    pub events: Vec<Event>,
}

impl Shipment {
    fn of(t: &Tracking) -> Shipment {
        Shipment {
            id: t.id.to_string(),
            number: t.tracking_number.clone(),
            courier: t.courier_code.clone(),
            status: t.delivery_status.as_str(),
            substatus: t.substatus.map_or("—", |s| s.as_str()),
            order: t.fields.order_number.clone().unwrap_or_else(|| "—".into()),
            archived: if t.archived { "yes" } else { "no" },
            is_archived: t.archived,
            created: when(Some(t.created_at)),
            last_checked: when(t.last_checked_at),
            next_check: when(t.next_check_at),
            check_error: t.check_error.clone().unwrap_or_else(|| "—".into()),
            events: t
                .checkpoints
                .iter()
                .map(|c| Event {
                    time: when(Some(c.time)),
                    detail: c.detail.clone(),
                    place: c.location.clone(),
                    status: c.status.as_str(),
                    raw: c.raw_status.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "shipment.html")]
struct ShipmentPage {
    frame: Frame,
    s: Shipment,
    notice: Option<&'static str>,
    can_act: bool,
    csrf: String,
}

/// `GET /dashboard/shipments/{id}`.
pub async fn show(
    State(state): State<DashboardState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    who: SignedIn,
) -> Response {
    let tracking = match own(&state, &who, &id).await {
        Ok(tracking) => tracking,
        Err(answer) => return answer,
    };
    let notice = match field(&form_pairs(query.unwrap_or_default().as_bytes()), "done") {
        "refreshed" => Some("Asked the carrier just now."),
        "refresh-failed" => Some("The carrier could not be asked just now; try again later."),
        "archived" => Some("Archived."),
        "created" => Some("Added: parceld asks the carrier about it from now on."),
        _ => None,
    };
    let page = ShipmentPage {
        frame: Frame::new(tracking.tracking_number.clone(), Some(&who), "shipments"),
        s: Shipment::of(&tracking),
        notice,
        can_act: who.role().can_act(),
        csrf: who.session.csrf_token.clone(),
    };
    render::page(StatusCode::OK, &page)
}
