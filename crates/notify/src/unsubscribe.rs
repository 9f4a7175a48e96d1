//! The unsubscribe page, served beside the tracking page: `GET /unsubscribe/<token>` asks to
//! confirm (a link scanner that follows every link must not unsubscribe anyone), and `POST`
//! to the same address unsubscribes — which is also what a mail client's one-click
//! unsubscribe does (RFC 8058, `List-Unsubscribe-Post`). The token is signed
//! ([`crate::token`]); an invalid one gets a 404 that says nothing about any address. The
//! opt-out is recorded for the address and account, forever.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parceld_store::Store;

use crate::token;

#[derive(Clone)]
struct Unsubscribe {
    store: Arc<dyn Store>,
    secret: Arc<[u8]>,
}

/// The routes, to merge into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>(store: Arc<dyn Store>, secret: &[u8]) -> Router<S> {
    let state = Unsubscribe {
        store,
        secret: secret.into(),
    };
    Router::new()
        .route("/unsubscribe/{token}", get(confirm).post(unsubscribe))
        .with_state(state)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body style=\"font-family:Arial,Helvetica,sans-serif;max-width:36rem;margin:3rem auto;\
         padding:0 1rem;color:#111827\"><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not valid",
        "<p>This unsubscribe link is not valid. Use the link from the message you received.</p>",
    )
}

async fn confirm(State(state): State<Unsubscribe>, Path(token): Path<String>) -> Response {
    if token::verify(&state.secret, &token).is_none() {
        return not_found();
    }
    page(
        StatusCode::OK,
        "Unsubscribe",
        "<p>Stop receiving shipment notifications from this shop?</p>\
         <form method=\"post\"><button type=\"submit\" style=\"padding:.6rem 1.2rem;\
         font-size:1rem\">Unsubscribe</button></form>",
    )
}

async fn unsubscribe(State(state): State<Unsubscribe>, Path(token): Path<String>) -> Response {
    let Some(recipient) = token::verify(&state.secret, &token) else {
        return not_found();
    };
    match state
        .store
        .unsubscribe(&recipient, chrono::Utc::now())
        .await
    {
        Ok(()) => page(
            StatusCode::OK,
            "Unsubscribed",
            "<p>You will receive no more shipment notifications from this shop.</p>",
        ),
        Err(error) => {
            tracing::error!(%error, "could not record an unsubscribe");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "<p>Your request could not be recorded just now. Please try again later.</p>",
            )
        }
    }
}
