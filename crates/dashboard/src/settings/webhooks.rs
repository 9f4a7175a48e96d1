//! `/dashboard/settings/webhooks`: the account's webhook endpoints, each endpoint's delivery
//! log (its newest [`LOG_SIZE`] deliveries with their attempts), and redelivering one — queued
//! again now with the same event id and body, for the dispatcher to send like any delivery.
//!
//! Endpoints are made and changed through the API (`/v4/webhooks`); here an admin sees what
//! was sent, what failed and why, and sends it again.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use parceld_store::{DeliveryInfo, WebhookEndpoint};

use super::{notice, refused, Admin, AdminForm};
use crate::render::{self, Frame, Refusal};
use crate::session::{DashboardState, SignedIn};
use crate::shipments::when;

/// Deliveries an endpoint's log shows, newest first.
pub const LOG_SIZE: u32 = 50;

/// An endpoint as the pages show it.
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    /// `enabled`, `disabled`, or why parceld disabled it.
    pub state: String,
    /// The statuses it receives, or "all".
    pub statuses: String,
    pub version: &'static str,
    pub created: String,
}

impl Endpoint {
    fn of(e: &WebhookEndpoint) -> Endpoint {
        let state = match (&e.disabled_reason, e.enabled) {
            (Some(reason), _) => format!("disabled by parceld: {reason}"),
            (None, true) => "enabled".into(),
            (None, false) => "disabled".into(),
        };
        let statuses = if e.statuses.is_empty() {
            "all".to_string()
        } else {
            let names: Vec<&str> = e.statuses.iter().map(|s| s.as_str()).collect();
            names.join(", ")
        };
        Endpoint {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            state,
            statuses,
            version: e.version.as_str(),
            created: when(Some(e.created_at)),
        }
    }
}

/// A delivery as the log shows it.
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub tracking: String,
    pub state: String,
    pub attempts: i64,
    /// The last attempt's answer: its HTTP status or error.
    pub last: String,
    pub created: String,
    pub next: String,
}

impl Delivery {
    fn of(d: &DeliveryInfo) -> Delivery {
        let last = d.attempt_log.last().map_or_else(
            || "—".to_string(),
            |a| match (a.http_status, &a.error) {
                (Some(status), _) => format!("HTTP {status} in {} ms", a.latency_ms),
                (None, Some(error)) => error.clone(),
                (None, None) => "no answer".into(),
            },
        );
        Delivery {
            id: d.id.clone(),
            event: d.event.clone(),
            tracking: d.tracking_id.clone().unwrap_or_default(),
            state: d.state.clone(),
            attempts: d.attempts,
            last,
            created: when(Some(d.created_at)),
            next: when(d.next_attempt_at),
        }
    }
}

#[derive(Template)]
#[template(path = "settings_webhooks.html")]
struct EndpointsPage {
    frame: Frame,
    tab: &'static str,
    endpoints: Vec<Endpoint>,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "settings_webhook.html")]
struct EndpointPage {
    frame: Frame,
    tab: &'static str,
    e: Endpoint,
    deliveries: Vec<Delivery>,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    csrf: String,
}

/// `GET /dashboard/settings/webhooks`.
pub async fn list(State(state): State<DashboardState>, Admin(who): Admin) -> Response {
    let endpoints = match state.0.store.webhooks(Some(who.account())).await {
        Ok(endpoints) => endpoints,
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let page = EndpointsPage {
        frame: Frame::new("Webhooks", Some(&who), "settings"),
        tab: "webhooks",
        endpoints: endpoints.iter().map(Endpoint::of).collect(),
        notice: None,
        problem: None,
    };
    render::page(StatusCode::OK, &page)
}

/// The account's endpoint `id`, or the answer to give.
async fn endpoint(
    state: &DashboardState,
    who: &SignedIn,
    id: &str,
) -> Result<WebhookEndpoint, Response> {
    match state.0.store.webhook(Some(who.account()), id).await {
        Ok(Some(endpoint)) => Ok(endpoint),
        Ok(None) => Err(refused(Refusal::Missing, who)),
        Err(error) => Err(render::store_failed(error, Some(who))),
    }
}

/// `GET /dashboard/settings/webhooks/{id}`: the endpoint and its delivery log.
pub async fn show(
    State(state): State<DashboardState>,
    id: Path<String>,
    q: RawQuery,
    Admin(who): Admin,
) -> Response {
    let (id, query) = (id.0, q.0);
    let endpoint = match endpoint(&state, &who, &id).await {
        Ok(endpoint) => endpoint,
        Err(answer) => return answer,
    };
    let deliveries = match state.0.store.deliveries(endpoint.pk, LOG_SIZE, None).await {
        Ok(deliveries) => deliveries,
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let done = [("redelivered", "Queued again: it goes out within seconds.")];
    let page = EndpointPage {
        frame: Frame::new("Webhook endpoint", Some(&who), "settings"),
        tab: "webhooks",
        e: Endpoint::of(&endpoint),
        deliveries: deliveries.iter().map(Delivery::of).collect(),
        notice: notice(query.as_deref(), &done),
        problem: None,
        csrf: who.session.csrf_token.clone(),
    };
    render::page(StatusCode::OK, &page)
}

/// `POST /dashboard/settings/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<DashboardState>,
    ids: Path<(String, String)>,
    form: AdminForm,
) -> Response {
    let (who, (id, delivery)) = (form.who, ids.0);
    let endpoint = match endpoint(&state, &who, &id).await {
        Ok(endpoint) => endpoint,
        Err(answer) => return answer,
    };
    match state.0.store.redeliver(endpoint.pk, &delivery).await {
        Ok(true) => Redirect::to(&format!(
            "/dashboard/settings/webhooks/{}?done=redelivered",
            endpoint.id
        ))
        .into_response(),
        Ok(false) => refused(Refusal::Missing, &who),
        Err(error) => render::store_failed(error, Some(&who)),
    }
}
