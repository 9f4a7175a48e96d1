//! The dashboard's users and sessions in PostgreSQL (`users`, `sessions`: migration 0008).
//!
//! Each call is one statement: a password change ends the user's sessions in the same statement
//! (a data-modifying CTE), a successful sign-in clears the failed count beside inserting the
//! session. Times are whole seconds, as the SQLite backend keeps them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_store::users::stored_role;
use parceld_store::{
    AccountId, Entity, LockOut, NewSession, NewUser, SessionUser, StoreError, StoreResult, User,
    UserChange, UserEdit, UserStore,
};
use sqlx::FromRow;

use crate::rows::seconds;
use crate::PostgresStore;

#[derive(FromRow)]
struct UserRow {
    id: i64,
    account_id: i64,
    email: String,
    role: String,
    password_hash: String,
    failed_sign_ins: i32,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn read(self) -> StoreResult<User> {
        Ok(User {
            role: stored_role(&self.role)?,
            failed_sign_ins: u32::try_from(self.failed_sign_ins).unwrap_or(0),
            id: self.id,
            account_id: self.account_id,
            email: self.email,
            password_hash: self.password_hash,
            locked_until: self.locked_until,
            created_at: self.created_at,
        })
    }
}

#[derive(FromRow)]
struct SessionRow {
    csrf_token: String,
    expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    user: UserRow,
}

fn read_one(row: Option<UserRow>) -> StoreResult<Option<User>> {
    row.map(UserRow::read).transpose()
}

fn failed(error: sqlx::Error) -> StoreError {
    StoreError::backend(error)
}

/// The guard of a role change or a removal of user `$2` of account `$1`: the user is no admin,
/// or the account has another admin.
const KEEPS_AN_ADMIN: &str = "(role <> 'admin' OR (SELECT count(*) FROM users \
     WHERE account_id = $1 AND role = 'admin') > 1)";

/// Runs a guarded change of user `$2` of account `$1` to role `$3` (`sql` returns the user's
/// row) under a lock on the account's admins, so two guarded changes in one account never pass
/// the guard on the same count; tells a refusal from a missing user.
async fn guarded_change(
    store: &PostgresStore,
    sql: &str,
    edit: UserEdit,
) -> StoreResult<UserChange> {
    let mut tx = store.pool.begin().await.map_err(failed)?;
    let lock = "SELECT pg_advisory_xact_lock(hashtextextended('admins:' || $1::text, 0))";
    sqlx::query(lock)
        .bind(edit.account)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    let query = sqlx::query_as::<_, UserRow>(sql).bind(edit.account);
    let changed = query
        .bind(edit.user_id)
        .bind(edit.role_after())
        .fetch_optional(&mut *tx);
    let changed = changed.await.map_err(failed)?;
    let changed = read_one(changed)?;
    let exists = match changed {
        Some(_) => true,
        None => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE account_id = $1 AND id = $2")
                .bind(edit.account)
                .bind(edit.user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(failed)?
                .is_some()
        }
    };
    tx.commit().await.map_err(failed)?;
    Ok(UserChange::of(changed, exists))
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, new: &NewUser<'_>) -> StoreResult<Option<User>> {
        // Addresses are unique on the server, but the table's unique index holds them unique per
        // account only (every key carries the account): the other accounts are checked under a
        // lock on the address, so two creations of one address cannot both pass the check. In
        // the insert, `known` tells a missing account (no row at all) from a taken address.
        let mut tx = self.pool.begin().await.map_err(failed)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('users:' || lower($1), 0))")
            .bind(new.email)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        let row: Option<(bool, Option<i64>)> = sqlx::query_as(
            "WITH account AS (SELECT id FROM accounts WHERE id = $1), \
             inserted AS (INSERT INTO users (account_id, email, role, password_hash, created_at) \
               SELECT id, lower($2), $3, $4, $5 FROM account \
               WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = lower($2)) \
               ON CONFLICT (account_id, email) DO NOTHING RETURNING id) \
             SELECT true, (SELECT id FROM inserted) FROM account",
        )
        .bind(new.account)
        .bind(new.email)
        .bind(new.role.as_str())
        .bind(new.password_hash)
        .bind(seconds(Utc::now()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        match row {
            None => Err(StoreError::NotFound(Entity::Account)),
            Some((_, None)) => Ok(None),
            Some((_, Some(_))) => self.user_by_email(new.email).await,
        }
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE email = lower($1)")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        read_one(row)
    }

    async fn users(&self, account: Option<AccountId>) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT * FROM users WHERE $1::bigint IS NULL OR account_id = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(failed)?;
        rows.into_iter().map(UserRow::read).collect()
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "WITH changed AS (UPDATE users SET password_hash = $2, failed_sign_ins = 0, \
               locked_until = NULL WHERE email = lower($1) RETURNING *), \
             ended AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM changed)) \
             SELECT * FROM changed",
        )
        .bind(email)
        .bind(password_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        read_one(row)
    }

    async fn sign_in_failed(&self, user_id: i64, lock: LockOut) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "UPDATE users SET \
               failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 \
                                 ELSE failed_sign_ins + 1 END, \
               locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3 ELSE locked_until END \
             WHERE id = $1 RETURNING *",
        )
        .bind(user_id)
        .bind(i32::try_from(lock.after.max(1)).unwrap_or(i32::MAX))
        .bind(seconds(lock.until))
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        read_one(row)
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        sqlx::query(
            "WITH cleared AS (UPDATE users SET failed_sign_ins = 0 WHERE id = $2) \
             INSERT INTO sessions (account_id, token_hash, user_id, csrf_token, created_at, \
               expires_at) SELECT account_id, $1, id, $3, $4, $5 FROM users WHERE id = $2",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(&session.csrf_token)
        .bind(seconds(Utc::now()))
        .bind(seconds(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionUser>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.csrf_token, s.expires_at, u.* FROM sessions s \
             JOIN users u ON u.account_id = s.account_id AND u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        row.map(|row| {
            Ok(SessionUser {
                csrf_token: row.csrf_token,
                expires_at: row.expires_at,
                user: row.user.read()?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(failed)?
            .rows_affected())
    }

    async fn prune_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let pruned: i64 = sqlx::query_scalar(
            "WITH gone AS (DELETE FROM sessions WHERE expires_at <= $1 RETURNING 1) \
             SELECT count(*) FROM gone",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(failed)?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }

    async fn edit_user(&self, edit: UserEdit) -> StoreResult<UserChange> {
        // `$3` is the role after the edit (`""` for a removal); the user's sessions go with a
        // removed row (the foreign key cascades).
        let guarded = format!("account_id = $1 AND id = $2 AND ($3 = 'admin' OR {KEEPS_AN_ADMIN})");
        let sql = match edit.role {
            Some(_) => format!("UPDATE users SET role = $3 WHERE {guarded} RETURNING *"),
            None => format!("DELETE FROM users WHERE {guarded} RETURNING *"),
        };
        guarded_change(self, &sql, edit).await
    }
}
