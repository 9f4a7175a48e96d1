//! The dashboard's users and sessions in SQLite (`users`, `sessions`: migration 0017).
//!
//! Sign-ins are rare next to API traffic, so these go through the pool rather than the inline
//! reader. Every call is one statement, except a password change, which also ends the user's
//! sessions in the same transaction so that no old browser outlives a reset. Times are unix
//! seconds, like the accounts table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_store::users::stored_role;
use parceld_store::{
    AccountId, Entity, LockOut, NewSession, NewUser, SessionUser, StoreError, StoreResult, User,
    UserChange, UserEdit, UserStore,
};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::rows::from_ts;
use crate::SqliteStore;

/// A user's columns in the order [`user_at`] reads them.
const USER_COLUMNS: &str =
    "id, account_id, email, role, password_hash, failed_sign_ins, locked_until, created_at";

/// [`USER_COLUMNS`] of the table named `u` in a join.
fn joined_user_columns() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|column| format!("u.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_at(row: &SqliteRow, first: usize) -> StoreResult<User> {
    let role: String = row.get(first + 3);
    let failed: i64 = row.get(first + 5);
    let locked: Option<i64> = row.get(first + 6);
    Ok(User {
        id: row.get(first),
        account_id: row.get(first + 1),
        email: row.get(first + 2),
        role: stored_role(&role)?,
        password_hash: row.get(first + 4),
        failed_sign_ins: u32::try_from(failed).unwrap_or(0),
        locked_until: locked.map(from_ts),
        created_at: from_ts(row.get(first + 7)),
    })
}

fn one_user(row: Option<SqliteRow>) -> StoreResult<Option<User>> {
    row.as_ref().map(|row| user_at(row, 0)).transpose()
}

fn backend(error: sqlx::Error) -> StoreError {
    StoreError::backend(error)
}

/// The guard of a role change or a removal of user `?2` of account `?1`: the user is no admin,
/// or the account has another admin. SQLite has one writer at a time, so the count cannot
/// change between the guard and the write.
const KEEPS_AN_ADMIN: &str = "(role <> 'admin' OR (SELECT count(*) FROM users \
     WHERE account_id = ?1 AND role = 'admin') > 1)";

impl SqliteStore {
    /// Whether the account has the user (after a guarded statement changed nothing).
    async fn has_user(
        &self,
        tx: &mut sqlx::SqliteConnection,
        account: AccountId,
        user_id: i64,
    ) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE account_id = ?1 AND id = ?2")
                .bind(account)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        Ok(found.is_some())
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: &NewUser<'_>) -> StoreResult<Option<User>> {
        let sql = format!(
            "INSERT INTO users (account_id, email, role, password_hash, created_at) \
             SELECT id, lower(?2), ?3, ?4, ?5 FROM accounts WHERE id = ?1 \
             ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.account)
            .bind(new.email)
            .bind(new.role.as_str())
            .bind(new.password_hash)
            .bind(Utc::now().timestamp())
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        if row.is_none() {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = ?1")
                .bind(new.account)
                .fetch_optional(self.pool())
                .await
                .map_err(backend)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(Entity::Account));
            }
        }
        one_user(row)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = lower(?1)");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        one_user(row)
    }

    async fn users(&self, account: Option<AccountId>) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ?1 IS NULL OR account_id = ?1 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(account)
            .fetch_all(self.pool())
            .await
            .map_err(backend)?;
        rows.iter().map(|row| user_at(row, 0)).collect()
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<Option<User>> {
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        let sql = format!(
            "UPDATE users SET password_hash = ?2, failed_sign_ins = 0, locked_until = NULL \
             WHERE email = lower(?1) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(email)
            .bind(password_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let user = one_user(row)?;
        if let Some(user) = &user {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?1")
                .bind(user.id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(user)
    }

    async fn sign_in_failed(&self, user_id: i64, lock: LockOut) -> StoreResult<Option<User>> {
        let sql = format!(
            "UPDATE users SET \
             failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= ?2 THEN 0 \
                               ELSE failed_sign_ins + 1 END, \
             locked_until = CASE WHEN failed_sign_ins + 1 >= ?2 THEN ?3 ELSE locked_until END \
             WHERE id = ?1 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(i64::from(lock.after.max(1)))
            .bind(lock.until.timestamp())
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        one_user(row)
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        // The session, and the user's failed count cleared, in one transaction.
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE users SET failed_sign_ins = 0 WHERE id = ?1")
            .bind(session.user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(&session.csrf_token)
        .bind(Utc::now().timestamp())
        .bind(session.expires_at.timestamp())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionUser>> {
        let sql = format!(
            "SELECT s.csrf_token, s.expires_at, {} FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            joined_user_columns()
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now.timestamp())
            .fetch_optional(self.pool())
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(SessionUser {
            csrf_token: row.get(0),
            expires_at: from_ts(row.get(1)),
            user: user_at(&row, 2)?,
        }))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?1")
            .bind(token_hash)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = ?1")
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn prune_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1")
            .bind(now.timestamp())
            .execute(self.pool())
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn edit_user(&self, edit: UserEdit) -> StoreResult<UserChange> {
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        // `?3` is the role after the edit (`""` for a removal); a removal ends the user's
        // sessions first (their foreign key does not cascade here), then the last statement
        // returns the changed row.
        let guarded = format!("account_id = ?1 AND id = ?2 AND (?3 = 'admin' OR {KEEPS_AN_ADMIN})");
        let returning = format!("RETURNING {USER_COLUMNS}");
        let statements = match edit.role {
            Some(_) => vec![format!(
                "UPDATE users SET role = ?3 WHERE {guarded} {returning}"
            )],
            None => vec![
                format!(
                    "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE {guarded})"
                ),
                format!("DELETE FROM users WHERE {guarded} {returning}"),
            ],
        };
        let mut row = None;
        for sql in statements {
            let query = sqlx::query(&sql).bind(edit.account).bind(edit.user_id);
            row = query
                .bind(edit.role_after())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let changed = one_user(row)?;
        let exists =
            changed.is_some() || self.has_user(&mut tx, edit.account, edit.user_id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(UserChange::of(changed, exists))
    }
}
