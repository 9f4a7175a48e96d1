//! `/dashboard/settings/keys`: the account's API keys — listed by their id and prefix with the
//! day they were made, created (the key is shown once, then only its hash is kept) and
//! deleted (programs using it are refused from then on, on every node).
//!
//! The store lists keys of every account (for the operator's `parceld key list`); the page
//! keeps the admin's account's live keys. An account holds at most [`MAX_KEYS`] live keys made
//! here, so a signed-in admin cannot grow the table without bound.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use parceld_store::ApiKeyInfo;

use super::{notice, refused, Admin, AdminForm};
use crate::render::{self, Frame, Refusal};
use crate::session::{DashboardState, SignedIn};
use crate::shipments::when;

/// Live keys an account may have before the page refuses to make another.
pub const MAX_KEYS: usize = 100;

/// A key as the table shows it.
pub struct KeyRow {
    pub id: String,
    pub prefix: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "settings_keys.html")]
struct KeysPage {
    frame: Frame,
    tab: &'static str,
    keys: Vec<KeyRow>,
    notice: Option<&'static str>,
    /// A key just made, shown this once.
    created: Option<String>,
    problem: Option<&'static str>,
    csrf: String,
}

/// The account's live keys, oldest first.
async fn live_keys(state: &DashboardState, who: &SignedIn) -> Result<Vec<ApiKeyInfo>, Response> {
    match state.0.store.api_keys().await {
        Ok(keys) => Ok(keys
            .into_iter()
            .filter(|k| k.account_id == who.account() && k.deleted_at.is_none())
            .collect()),
        Err(error) => Err(render::store_failed(error, Some(who))),
    }
}

/// The page with the account's keys, and what the last action made or refused.
async fn keys_page(
    state: &DashboardState,
    who: &SignedIn,
    notice: Option<&'static str>,
    created: Option<String>,
    problem: Option<&'static str>,
) -> Response {
    let keys = match live_keys(state, who).await {
        Ok(keys) => keys,
        Err(answer) => return answer,
    };
    let page = KeysPage {
        frame: Frame::new("API keys", Some(who), "settings"),
        tab: "keys",
        keys: keys
            .iter()
            .map(|k| KeyRow {
                id: k.id.clone(),
                prefix: k.prefix.clone(),
                created: when(Some(k.created_at)),
            })
            .collect(),
        notice,
        created,
        problem,
        csrf: who.session.csrf_token.clone(),
    };
    render::page_refusing(problem.is_some(), &page)
}

/// `GET /dashboard/settings/keys`.
pub async fn list(State(state): State<DashboardState>, q: RawQuery, Admin(who): Admin) -> Response {
    let done = notice(q.0.as_deref(), &[("deleted", "Key deleted.")]);
    keys_page(&state, &who, done, None, None).await
}

/// `POST /dashboard/settings/keys`: makes a key and shows it once.
pub async fn create(State(state): State<DashboardState>, form: AdminForm) -> Response {
    let who = form.who;
    match live_keys(&state, &who).await {
        Ok(keys) if keys.len() >= MAX_KEYS => {
            let problem = "This account has as many keys as it may have; delete one first.";
            return keys_page(&state, &who, None, None, Some(problem)).await;
        }
        Ok(_) => {}
        Err(answer) => return answer,
    }
    let store = &state.0.store;
    let account = match store.accounts().await {
        Ok(accounts) => accounts.into_iter().find(|a| a.id == who.account()),
        Err(error) => return render::store_failed(error, Some(&who)),
    };
    let Some(account) = account else {
        return refused(Refusal::Missing, &who);
    };
    match store.create_api_key(&account.name).await {
        Ok(new) => keys_page(&state, &who, None, Some(new.key), None).await,
        Err(error) => render::store_failed(error, Some(&who)),
    }
}

/// `POST /dashboard/settings/keys/{id}/delete`.
pub async fn delete(
    State(state): State<DashboardState>,
    id: Path<String>,
    form: AdminForm,
) -> Response {
    let (who, id) = (form.who, id.0);
    let ours = match live_keys(&state, &who).await {
        Ok(keys) => keys.iter().any(|k| k.id == id),
        Err(answer) => return answer,
    };
    if !ours {
        return refused(Refusal::Missing, &who);
    }
    match state.0.store.delete_api_key(&id).await {
        Ok(true) => Redirect::to("/dashboard/settings/keys?done=deleted").into_response(),
        Ok(false) => refused(Refusal::Missing, &who),
        Err(error) => render::store_failed(error, Some(&who)),
    }
}
