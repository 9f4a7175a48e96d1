//! Signing in and out.
//!
//! A sign-in is limited twice: per client address (a token bucket of a fixed size, as the
//! tracking page's, so guessing is slow from any one place) and per user (the store counts
//! failures in a row and locks the user for a while, so guessing one user's password is slow
//! from everywhere). An unknown address costs the same hashing as a wrong password, so the
//! answer's timing does not tell which addresses have users. A successful sign-in ends the
//! session the browser presented, if any, and makes a new one with a fresh token.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use parceld_store::{LockOut, NewSession, User};

use crate::password;
use crate::render::{self, Frame, Refusal, SignInPage};
use crate::session::{
    cookie, field, form_pairs, random_token, same_token, token_hash, DashboardState, Parts,
    SESSION_COOKIE, SIGN_IN_COOKIE,
};

/// Largest sign-in form accepted.
const MAX_FORM_BYTES: usize = 4096;
/// How long a sign-in form stays usable, in seconds.
const FORM_SECONDS: i64 = 3600;

const WRONG: &str = "Wrong e-mail address or password.";
const LOCKED: &str = "Too many failed sign-ins for this address: it is locked for a while. Try again later, or ask an admin to reset the password.";
const TOO_MANY: &str = "Too many sign-ins from here; wait a minute and try again.";

/// The sign-in form with a fresh CSRF token (in its cookie and in the form).
fn form(
    parts: &Parts,
    headers: &HeaderMap,
    status: StatusCode,
    problem: Option<&str>,
    email: &str,
) -> Response {
    let csrf = random_token();
    let page = SignInPage {
        frame: Frame::new("Sign in", None, ""),
        problem,
        email,
        csrf: &csrf,
    };
    let mut response = render::page(status, &page);
    let value = parts.set_cookie(headers, SIGN_IN_COOKIE, &csrf, FORM_SECONDS);
    response.headers_mut().append(header::SET_COOKIE, value);
    response
}

/// `GET /dashboard/sign-in` (also for a browser that is signed in: signing in as someone
/// else ends its session).
pub async fn sign_in_form(State(state): State<DashboardState>, headers: HeaderMap) -> Response {
    form(&state.0, &headers, StatusCode::OK, None, "")
}

/// Whether `password` is `user`'s, hashing on a blocking thread, a few at a time; an unknown
/// user is checked against a decoy so that it takes as long.
async fn password_matches(parts: &Parts, user: Option<&User>, password: &str) -> bool {
    let Ok(_permit) = parts.hashing.acquire().await else {
        return false;
    };
    let hash = user.map_or_else(
        || password::decoy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let password = password.to_string();
    tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}

/// `POST /dashboard/sign-in`.
pub async fn sign_in(State(state): State<DashboardState>, request: Request<Body>) -> Response {
    let parts = &*state.0;
    if let Err(retry) = parts.limiter.check(parts.client(&request), 1.0) {
        let headers = request.headers().clone();
        let mut response = form(
            parts,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(TOO_MANY),
            "",
        );
        if let Ok(value) = HeaderValue::from_str(&retry.0.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let (head, body) = request.into_parts();
    let headers = head.headers;
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return render::refusal(Refusal::BadRequest, None);
    };
    let pairs = form_pairs(&body);
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if !same_token(field(&pairs, "csrf"), expected) {
        return render::refusal(Refusal::Csrf, None);
    }
    let email = field(&pairs, "email").trim();
    let password = field(&pairs, "password");
    let user = match parts.store.user_by_email(email).await {
        Ok(user) => user,
        Err(error) => return render::store_failed(error, None),
    };
    let now = Utc::now();
    if let Some(user) = &user {
        if user.locked_until.is_some_and(|until| until > now) {
            return form(
                parts,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                Some(LOCKED),
                email,
            );
        }
    }
    let matches = password.len() <= 1024 && password_matches(parts, user.as_ref(), password).await;
    let user = match (user, matches) {
        (Some(user), true) => user,
        (Some(user), false) => {
            let lock = LockOut {
                after: parts.lock_after,
                until: now + parts.lock_for,
            };
            let locked = match parts.store.sign_in_failed(user.id, lock).await {
                Ok(after) => after.is_some_and(|u| u.locked_until.is_some_and(|t| t > now)),
                Err(error) => return render::store_failed(error, None),
            };
            let (status, text) = if locked {
                (StatusCode::TOO_MANY_REQUESTS, LOCKED)
            } else {
                (StatusCode::UNAUTHORIZED, WRONG)
            };
            return form(parts, &headers, status, Some(text), email);
        }
        (None, _) => {
            return form(
                parts,
                &headers,
                StatusCode::UNAUTHORIZED,
                Some(WRONG),
                email,
            )
        }
    };
    // No fixation: whatever session the browser brought ends, and the new one has a new token.
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        if let Err(error) = parts.store.delete_session(&token_hash(old)).await {
            return render::store_failed(error, None);
        }
    }
    let token = random_token();
    let session = NewSession {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_token(),
        expires_at: now + parts.session_length,
    };
    if let Err(error) = parts.store.create_session(&session).await {
        return render::store_failed(error, None);
    }
    let mut response = Redirect::to("/dashboard").into_response();
    let cookies = response.headers_mut();
    let lifetime = parts.session_length.num_seconds();
    cookies.append(
        header::SET_COOKIE,
        parts.set_cookie(&headers, SESSION_COOKIE, &token, lifetime),
    );
    cookies.append(
        header::SET_COOKIE,
        parts.set_cookie(&headers, SIGN_IN_COOKIE, "", 0),
    );
    response
}

/// Ends this browser's session (`everywhere`: every session of the user) after checking the
/// form, and leads to the sign-in page.
async fn end(state: DashboardState, request: Request<Body>, everywhere: bool) -> Response {
    let parts = &*state.0;
    let (head, body) = request.into_parts();
    let who = match parts.signed_in(&head.headers).await {
        Ok(who) => who,
        Err(answer) => return answer,
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return render::refusal(Refusal::BadRequest, Some(&who));
    };
    if let Err(refusal) = who.check_form(field(&form_pairs(&body), "csrf")) {
        return render::refusal(refusal, Some(&who));
    }
    let ended = if everywhere {
        parts
            .store
            .delete_user_sessions(who.session.user.id)
            .await
            .map(|_| ())
    } else {
        let token = cookie(&head.headers, SESSION_COOKIE).unwrap_or("");
        parts
            .store
            .delete_session(&token_hash(token))
            .await
            .map(|_| ())
    };
    if let Err(error) = ended {
        return render::store_failed(error, Some(&who));
    }
    let mut response = Redirect::to("/dashboard/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        parts.set_cookie(&head.headers, SESSION_COOKIE, "", 0),
    );
    response
}

/// `POST /dashboard/sign-out`.
pub async fn sign_out(State(state): State<DashboardState>, request: Request<Body>) -> Response {
    end(state, request, false).await
}

/// `POST /dashboard/sign-out-everywhere`.
pub async fn sign_out_everywhere(
    State(state): State<DashboardState>,
    request: Request<Body>,
) -> Response {
    end(state, request, true).await
}
