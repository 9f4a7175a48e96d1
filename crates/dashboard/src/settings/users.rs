//! `/dashboard/settings/users`: the account's dashboard users — listed with their role and
//! whether they are locked out, added with a role and a generated password shown once (as
//! `parceld user create` prints it), given another role, and removed (their sessions end with
//! them). The store refuses to demote or remove the account's last admin, in the same
//! statement as the change, so an account always keeps someone who can manage it.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use parceld_store::{NewUser, Role, User, UserChange};

use super::{notice, refused, Admin, AdminForm};
use crate::password;
use crate::render::{self, Frame, Refusal};
use crate::session::{field, DashboardState, SignedIn};
use crate::shipments::when;

/// Users an account may have before the page refuses to add another.
pub const MAX_USERS: usize = 200;

/// Whether `email` can be a user's address: something `@` something, without spaces, at most
/// 254 characters (the CLI's rule too).
pub fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// A user as the table shows them.
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: &'static str,
    pub created: String,
    pub locked: String,
    /// The signed-in admin themself.
    pub me: bool,
}

impl UserRow {
    fn of(user: &User, me: i64) -> UserRow {
        let locked = user
            .locked_until
            .filter(|until| *until > Utc::now())
            .map_or_else(String::new, |until| {
                format!("locked until {}", when(Some(until)))
            });
        UserRow {
            id: user.id,
            email: user.email.clone(),
            role: user.role.as_str(),
            created: when(Some(user.created_at)),
            locked,
            me: user.id == me,
        }
    }
}

/// A user just added, with the password shown this once.
pub struct Added {
    pub email: String,
    pub password: String,
}

#[derive(Template)]
#[template(path = "settings_users.html")]
struct UsersPage<'a> {
    frame: Frame,
    tab: &'static str,
    users: Vec<UserRow>,
    roles: [&'static str; 3],
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    added: Option<Added>,
    /// The add form's values after a refusal.
    email: &'a str,
    role: &'a str,
    csrf: String,
}

/// What the page shows besides the users.
#[derive(Default)]
struct Outcome<'a> {
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    added: Option<Added>,
    email: &'a str,
    role: &'a str,
}

async fn users_page(state: &DashboardState, who: &SignedIn, outcome: Outcome<'_>) -> Response {
    let users = match state.0.store.users(Some(who.account())).await {
        Ok(users) => users,
        Err(error) => return render::store_failed(error, Some(who)),
    };
    let refusing = outcome.problem.is_some();
    let page = UsersPage {
        frame: Frame::new("Users", Some(who), "settings"),
        tab: "users",
        users: users
            .iter()
            .map(|u| UserRow::of(u, who.session.user.id))
            .collect(),
        roles: Role::ALL.map(Role::as_str),
        notice: outcome.notice,
        problem: outcome.problem,
        added: outcome.added,
        email: outcome.email,
        role: if outcome.role.is_empty() {
            Role::Agent.as_str()
        } else {
            outcome.role
        },
        csrf: who.session.csrf_token.clone(),
    };
    render::page_refusing(refusing, &page)
}

/// `GET /dashboard/settings/users`.
pub async fn list(State(state): State<DashboardState>, q: RawQuery, Admin(who): Admin) -> Response {
    let query = q.0;
    let done = notice(
        query.as_deref(),
        &[("role", "Role changed."), ("removed", "User removed.")],
    );
    let outcome = Outcome {
        notice: done,
        ..Outcome::default()
    };
    users_page(&state, &who, outcome).await
}

/// A generated password and its hash, hashed on a blocking thread in the sign-in's turn.
async fn new_password(state: &DashboardState) -> Option<(String, String)> {
    let _permit = state.0.hashing.acquire().await.ok()?;
    let generated = password::generate();
    let plain = generated.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&plain))
        .await
        .ok()?
        .ok()?;
    Some((generated, hash))
}

/// `POST /dashboard/settings/users`: adds a user and shows their password once.
pub async fn create(State(state): State<DashboardState>, form: AdminForm) -> Response {
    let (who, pairs) = (form.who, form.fields);
    let email = field(&pairs, "email").trim();
    let role_text = field(&pairs, "role");
    let refuse = |problem| Outcome {
        problem: Some(problem),
        email,
        role: role_text,
        ..Outcome::default()
    };
    let Some(role) = Role::parse(role_text) else {
        return users_page(
            &state,
            &who,
            refuse("Choose a role: admin, agent or viewer."),
        )
        .await;
    };
    if !valid_email(email) {
        return users_page(&state, &who, refuse("Enter an e-mail address.")).await;
    }
    match state.0.store.users(Some(who.account())).await {
        Ok(users) if users.len() >= MAX_USERS => {
            let problem = "This account has as many users as it may have; remove one first.";
            return users_page(&state, &who, refuse(problem)).await;
        }
        Ok(_) => {}
        Err(error) => return render::store_failed(error, Some(&who)),
    }
    let Some((generated, hash)) = new_password(&state).await else {
        return refused(Refusal::Unavailable, &who);
    };
    let new = NewUser {
        account: who.account(),
        email,
        role,
        password_hash: &hash,
    };
    match state.0.store.create_user(&new).await {
        Ok(Some(user)) => {
            let added = Added {
                email: user.email,
                password: generated,
            };
            let outcome = Outcome {
                added: Some(added),
                ..Outcome::default()
            };
            users_page(&state, &who, outcome).await
        }
        Ok(None) => {
            let problem = "A user with this address exists already.";
            users_page(&state, &who, refuse(problem)).await
        }
        Err(error) => render::store_failed(error, Some(&who)),
    }
}

/// `POST /dashboard/settings/users/{id}/role` (field `role`) and `…/remove`.
pub async fn act(
    State(state): State<DashboardState>,
    to: Path<(String, String)>,
    form: AdminForm,
) -> Response {
    let (who, pairs, (id, action)) = (form.who, form.fields, to.0);
    let Ok(id) = id.parse::<i64>() else {
        return refused(Refusal::Missing, &who);
    };
    if action != "role" && action != "remove" {
        return refused(Refusal::Missing, &who);
    }
    let store = &state.0.store;
    let (changed, done) = if action == "role" {
        let Some(role) = Role::parse(field(&pairs, "role")) else {
            return refused(Refusal::BadRequest, &who);
        };
        (store.set_user_role(who.account(), id, role).await, "role")
    } else {
        (store.delete_user(who.account(), id).await, "removed")
    };
    match changed {
        Ok(UserChange::Done(_)) => {
            Redirect::to(&format!("/dashboard/settings/users?done={done}")).into_response()
        }
        Ok(UserChange::LastAdmin) => {
            let problem = "This is the account's last admin: make another user an admin first.";
            let outcome = Outcome {
                problem: Some(problem),
                ..Outcome::default()
            };
            users_page(&state, &who, outcome).await
        }
        Ok(UserChange::NotFound) => refused(Refusal::Missing, &who),
        Err(error) => render::store_failed(error, Some(&who)),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn addresses_need_both_sides_of_an_at_and_no_spaces() {
        assert!(valid_email("ann@example.com"));
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a nn@example.com",
            "a\n@b",
        ] {
            assert!(!valid_email(bad), "{bad:?}");
        }
        assert!(!valid_email(&format!("{}@example.com", "a".repeat(250))));
    }
}
