//! "Get email updates" on a shipment's page: a shopper (the customer, or anyone else following
//! the parcel) leaves an email address and is told of the parcel's changes like the tracking's
//! own customer, in the page's language.
//!
//! A plain HTML form posted to `<number>/updates`, so it works with JavaScript off; the answer is
//! the page again with a confirmation or the reason it was refused next to the field. The form
//! is only shown, and only accepted, when the shop sends email notifications. The page is
//! anonymous, so what a visitor can write is bounded: each post costs the page's rate limit
//! (like an order look-up), and the store keeps at most a few addresses per tracking
//! (`parceld_store::subscribers`). A number that does not exist and one of another account get
//! the same answer as on the page itself. Addresses are never written to the process log.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use parceld_model::{path_segment, Tracking};
use parceld_store::subscribers::{is_email_address, NewSubscriber, SubscribeOutcome};

use super::{find_number, not_found, pairs, value, Parts, Visit, MAX_FORM_BYTES};
use crate::render::{Notice, UpdatesForm};
use crate::view::Access;

/// The form on the page of `found` (one number's trackings) when the shop sends email, with
/// `answer` (what was typed, and the notice's text and whether it confirms) after a post.
pub(super) fn form<'a>(
    visit: &Visit<'a>,
    found: &[Tracking],
    answer: Option<(String, bool, &'a str)>,
) -> Option<UpdatesForm<'a>> {
    let number = &found.first()?.tracking_number;
    if !visit.shop.email_updates || visit.widget {
        return None;
    }
    let lang_query = match visit.lang_explicit {
        true => format!("?lang={}", visit.lang.code()),
        false => String::new(),
    };
    let (email, notice) = match answer {
        Some((email, ok, text)) => (email, Some(Notice { ok, text })),
        None => (String::new(), None),
    };
    Some(UpdatesForm {
        action: format!(
            "{}/{}/updates{lang_query}",
            visit.home,
            path_segment(number)
        ),
        email,
        notice,
    })
}

/// `POST <number>/updates`: subscribes the address to each of the number's trackings.
pub(super) async fn subscribe(
    parts: &Parts,
    visit: &Visit<'_>,
    typed: &str,
    request: Request,
) -> Response {
    let found = match find_number(parts, visit, typed).await {
        Ok(found) if visit.shop.email_updates => found,
        Ok(_) => {
            return visit.message(
                StatusCode::NOT_FOUND,
                "no-page-heading",
                "no-page-text",
                true,
            )
        }
        Err(problem) => return not_found(visit, typed, problem),
    };
    let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .unwrap_or_default();
    let fields = pairs(std::str::from_utf8(&body).unwrap_or(""));
    let email = value(&fields, "email").trim();
    let answer = |status, ok, key: &str| {
        // A refused address is shown back to be corrected; an accepted one is not kept on
        // the page.
        let shown = if ok { String::new() } else { email.to_string() };
        let updates = form(visit, &found, Some((shown, ok, visit.texts.get(key))));
        visit.shipments(status, &found, Access::Journey, updates)
    };
    if !is_email_address(email) {
        return answer(StatusCode::BAD_REQUEST, false, "updates-invalid");
    }
    let mut added = false;
    for tracking in &found {
        let new = NewSubscriber::new(
            visit.shop.page.account.id,
            tracking.id.clone(),
            email,
            visit.lang,
            Utc::now(),
        );
        match parts.store.subscribe_to_tracking(&new).await {
            Ok(SubscribeOutcome::Added | SubscribeOutcome::AlreadySubscribed) => added = true,
            Ok(SubscribeOutcome::Full) => {}
            Err(error) => {
                tracing::warn!(%error, "the tracking page could not store a subscription");
                return visit.unavailable();
            }
        }
    }
    match added {
        true => answer(StatusCode::OK, true, "updates-done"),
        false => answer(StatusCode::CONFLICT, false, "updates-full"),
    }
}
