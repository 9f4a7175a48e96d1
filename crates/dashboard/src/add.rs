//! Adding shipments by hand: one from a form (number, courier — detected from the number when
//! left empty, as the API does — and an order number), or many from an uploaded CSV file
//! ([`crate::upload`]). Both read and validate with the import's rules
//! (`parceld_service::input`, the same as `POST /v4/trackings/create` and `parceld import`),
//! so the dashboard accepts and refuses exactly what they do, in the same words. Agents and
//! admins may add; viewers get the "not allowed" page.

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Redirect, Response};
use parceld_service::ServiceError;
use parceld_store::CreateOutcome;

use crate::render::{self, Frame};
use crate::session::{field, DashboardState, SignedIn};
use crate::shipments::form_of;

/// What an upload did, line by line where a line was refused.
#[derive(Debug, Default)]
pub struct Uploaded {
    pub read: usize,
    pub created: usize,
    pub existed: usize,
    /// (line, reason), at most [`crate::upload::SHOWN_REFUSALS`].
    pub refused: Vec<(u64, String)>,
    /// Refused lines beyond those shown.
    pub more_refused: usize,
}

/// The values of the one-shipment form.
#[derive(Debug, Default)]
pub struct OneForm {
    pub number: String,
    pub courier: String,
    pub order: String,
}

#[derive(Template)]
#[template(path = "add.html")]
pub struct AddPage {
    pub(crate) frame: Frame,
    pub(crate) csrf: String,
    pub(crate) one: OneForm,
    /// Why the one shipment was not added.
    pub(crate) problem: Option<String>,
    /// Why the file could not be read at all.
    pub(crate) file_problem: Option<String>,
    pub(crate) uploaded: Option<Uploaded>,
}

impl AddPage {
    pub fn new(who: &SignedIn) -> AddPage {
        AddPage {
            frame: Frame::new("Add shipments", Some(who), "shipments"),
            csrf: who.session.csrf_token.clone(),
            one: OneForm::default(),
            problem: None,
            file_problem: None,
            uploaded: None,
        }
    }

    /// The page; 422 when it shows a refusal.
    pub fn answer(&self) -> Response {
        render::page_refusing(self.problem.is_some() || self.file_problem.is_some(), self)
    }
}

/// `GET /dashboard/shipments/new`.
pub async fn form(who: SignedIn) -> Response {
    if let Err(refusal) = who.check_may_act() {
        return render::refusal(refusal, Some(&who));
    }
    AddPage::new(&who).answer()
}

/// `POST /dashboard/shipments/new`: adds one shipment and opens it (asked of its carrier at
/// once, like the API's create).
pub async fn add_one(
    State(state): State<DashboardState>,
    who: SignedIn,
    request: Request<Body>,
) -> Response {
    let pairs = match form_of(&who, request, SignedIn::check_may_act).await {
        Ok(pairs) => pairs,
        Err(answer) => return answer,
    };
    let one = OneForm {
        number: field(&pairs, "tracking_number").trim().to_string(),
        courier: field(&pairs, "courier_code").trim().to_ascii_lowercase(),
        order: field(&pairs, "order_number").trim().to_string(),
    };
    let record = parceld_service::input::csv_record(
        &[
            "tracking_number".to_string(),
            "courier_code".to_string(),
            "order_number".to_string(),
        ],
        [
            one.number.as_str(),
            one.courier.as_str(),
            one.order.as_str(),
        ],
    );
    let refuse = |problem: String, one: OneForm| {
        let mut page = AddPage::new(&who);
        page.problem = Some(problem);
        page.one = one;
        page.answer()
    };
    let new = match parceld_service::input::record(record) {
        Ok(new) => new,
        Err(reason) => return refuse(reason, one),
    };
    match state.0.trackings.create(who.account(), new, true).await {
        Ok(CreateOutcome::Created(tracking)) => Redirect::to(&format!(
            "/dashboard/shipments/{}?done=created",
            tracking.id
        ))
        .into_response(),
        Ok(CreateOutcome::AlreadyExists {
            tracking_number,
            courier_code,
        }) => {
            let problem = format!(
                "`{tracking_number}` with courier `{courier_code}` is already tracked: search for it in the table."
            );
            refuse(problem, one)
        }
        Err(error @ (ServiceError::Store(_) | ServiceError::Internal(_))) => {
            render::store_failed(error, Some(&who))
        }
        Err(error) => refuse(error.message(), one),
    }
}
