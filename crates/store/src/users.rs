//! The dashboard's people and their sign-ins: users of an account, and the sessions their
//! browsers hold.
//!
//! The dashboard is a separate face from the API: API keys belong to programs, users to the
//! people of a shop's team, each with a role. The store keeps only what it is given — a password
//! *hash* (argon2id, made by the dashboard), and a session's token *hash* (SHA-256 of the random
//! token in the cookie), so neither a database dump nor a backup signs anyone in. A user's failed
//! sign-ins are counted in the user's row, so a lock-out holds on every node and across restarts.
//! Every method is one statement (or one short transaction), whatever the number of rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{AccountId, StoreResult};

/// What a user may do in the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including keys, webhooks and users.
    Admin,
    /// Shipments: read, refresh, archive.
    Agent,
    /// Reads only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Agent, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether the role may change shipments (refresh, archive).
    pub fn can_act(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

/// A dashboard user. E-mail addresses are unique on the server (stored lower case), so
/// signing in needs only the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub account_id: AccountId,
    pub email: String,
    pub role: Role,
    /// An argon2id hash in the PHC string format.
    pub password_hash: String,
    /// Failed sign-ins since the last successful one (or the last lock-out).
    pub failed_sign_ins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A new session, as the dashboard makes it at sign-in.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie's token, hex.
    pub token_hash: String,
    pub user_id: i64,
    /// The token every form of this session carries (CSRF).
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// When a failed sign-in locks the user out.
#[derive(Debug, Clone, Copy)]
pub struct LockOut {
    /// Failures in a row that lock the user.
    pub after: u32,
    /// Until when this failure locks the user, if it is the `after`-th.
    pub until: DateTime<Utc>,
}

/// A user to create.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub account: AccountId,
    pub email: &'a str,
    pub role: Role,
    /// An argon2id hash in the PHC string format.
    pub password_hash: &'a str,
}

/// The outcome of changing a user's role or removing a user: an account never loses its last
/// admin, so nobody is left who could manage its keys, webhooks and users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// Done; the user as it is now (as it was, when removed).
    Done(User),
    /// The account has no such user.
    NotFound,
    /// Refused: the user is the account's last admin.
    LastAdmin,
}

impl UserChange {
    /// The outcome of a guarded statement: the row it changed, else whether the user exists
    /// (then only the last-admin guard can have refused).
    pub fn of(changed: Option<User>, exists: bool) -> UserChange {
        match (changed, exists) {
            (Some(user), _) => UserChange::Done(user),
            (None, true) => UserChange::LastAdmin,
            (None, false) => UserChange::NotFound,
        }
    }
}

/// Users and sessions (the dashboard's sign-in).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `None` when the e-mail address is taken. `NotFound(Entity::Account)`
    /// when there is no such account.
    async fn create_user(&self, user: &NewUser<'_>) -> StoreResult<Option<User>>;
    /// The user with this address (any case).
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// An account's users (every account's with `None`), oldest first.
    async fn users(&self, account: Option<AccountId>) -> StoreResult<Vec<User>>;
    /// Replaces a user's password, lifts a lock-out and ends every session of the user, in one
    /// transaction; `None` when there is no such user.
    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<Option<User>>;
    /// Counts a failed sign-in of the user: the `lock.after`-th in a row locks the user until
    /// `lock.until` and starts the count again. Returns the user as it is now.
    async fn sign_in_failed(&self, user_id: i64, lock: LockOut) -> StoreResult<Option<User>>;
    /// Stores a session after a successful sign-in and clears the user's failed count.
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session whose token hashes to `token_hash`, if it has not expired by `now`.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionUser>>;
    /// Ends one session; `false` when there was none.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool>;
    /// Ends every session of a user ("sign out everywhere"); returns how many.
    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64>;
    /// Deletes sessions that expired before `now`.
    async fn prune_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Changes the role of a user or removes them (with their sessions), unless that leaves
    /// the account without an admin. The guard and the change are one statement (under a lock
    /// of the account where the backend has concurrent writers), so two admins demoting each
    /// other at once cannot both succeed.
    async fn edit_user(&self, edit: UserEdit) -> StoreResult<UserChange>;

    /// Gives the account's user `user_id` the role `role`, unless that demotes the account's
    /// last admin ([`UserStore::edit_user`]).
    async fn set_user_role(
        &self,
        account: AccountId,
        user_id: i64,
        role: Role,
    ) -> StoreResult<UserChange> {
        let role = Some(role);
        self.edit_user(UserEdit {
            account,
            user_id,
            role,
        })
        .await
    }

    /// Removes the account's user `user_id` with their sessions, unless they are the account's
    /// last admin ([`UserStore::edit_user`]).
    async fn delete_user(&self, account: AccountId, user_id: i64) -> StoreResult<UserChange> {
        let role = None;
        self.edit_user(UserEdit {
            account,
            user_id,
            role,
        })
        .await
    }
}

/// A guarded change of a user ([`UserStore::edit_user`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserEdit {
    pub account: AccountId,
    pub user_id: i64,
    /// The new role; `None` removes the user.
    pub role: Option<Role>,
}

impl UserEdit {
    /// The role the user has after the edit, as the guard reads it: `""` for a removal (no
    /// admin any more, like a demotion).
    pub fn role_after(&self) -> &'static str {
        self.role.map_or("", Role::as_str)
    }
}

/// A role as a backend reads it back; an unknown text means the row was not written by parceld.
pub fn stored_role(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| crate::StoreError::Corrupt(format!("unknown role {text:?}")))
}
