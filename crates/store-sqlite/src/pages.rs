//! The public tracking page in SQLite: each account's page settings (`tracking_pages`, migration
//! 0012) and the look-ups a visitor makes.
//!
//! Page reads go through the inline reader ([`crate::reader`]) like the API's tracking reads:
//! the shipment page is served to anyone, as fast as a one-tracking `GET`. A look-up by number
//! uses the unique number index, a look-up by order number the partial expression index on
//! `fields.order_number`; both are one statement returning at most [`MAX_PAGE_TRACKINGS`] rows.

use parceld_model::Tracking;
use parceld_store::pages::SettingsWrite;
use parceld_store::{
    AccountId, PageAccount, PageAccountKey, PageLookup, PageSettings, MAX_PAGE_TRACKINGS,
};
use rusqlite::types::Value;
use sqlx::SqlitePool;

use crate::error::Result;
use crate::reader::{self, Readers};
use crate::rows::account_at;
use crate::trackings::{BY_NUMBER, SELECT_TRACKINGS};

pub(crate) async fn page_settings(readers: &Readers, account: AccountId) -> Result<PageSettings> {
    let stored: Option<String> = readers.with(|conn| {
        let mut statement =
            conn.prepare_cached("SELECT settings FROM tracking_pages WHERE account_id = ?1")?;
        let mut rows = statement.query([account])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    })?;
    Ok(PageSettings::from_stored(stored.as_deref())?)
}

/// Writes an account's settings and host name (`?1` account, `?2` settings, `?3` host): no row
/// when there is no such account; the unique index on `host` refuses a host that is taken.
const SET_SETTINGS: &str = "INSERT INTO tracking_pages (account_id, settings, host) \
     SELECT id, ?2, ?3 FROM accounts WHERE id = ?1 \
     ON CONFLICT (account_id) DO UPDATE SET host = excluded.host, settings = excluded.settings";

pub(crate) async fn set_page_settings(
    pool: &SqlitePool,
    account: AccountId,
    settings: &PageSettings,
) -> Result<PageSettings> {
    let result = sqlx::query(SET_SETTINGS)
        .bind(account)
        .bind(settings.to_stored())
        .bind(&settings.host)
        .execute(pool)
        .await;
    Ok(settings.written(match result {
        Ok(done) => SettingsWrite::Rows(done.rows_affected()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            SettingsWrite::UniqueViolation
        }
        Err(other) => return Err(other.into()),
    })?)
}

pub(crate) async fn page_account(
    readers: &Readers,
    key: PageAccountKey<'_>,
) -> Result<Option<PageAccount>> {
    let (sql, value) = match key {
        PageAccountKey::Name(name) => (
            "SELECT a.id, a.name, a.disabled, a.created_at, a.rate_limits, p.settings \
             FROM accounts a LEFT JOIN tracking_pages p ON p.account_id = a.id WHERE a.name = ?1",
            name,
        ),
        PageAccountKey::Host(host) => (
            "SELECT a.id, a.name, a.disabled, a.created_at, a.rate_limits, p.settings \
             FROM tracking_pages p JOIN accounts a ON a.id = p.account_id WHERE p.host = ?1",
            host,
        ),
    };
    let row: Option<(parceld_store::Account, Option<String>)> = readers.with(|conn| {
        let mut statement = conn.prepare_cached(sql)?;
        let mut rows = statement.query([value])?;
        Ok(match rows.next()? {
            Some(row) => Some((account_at(row, 0)?, row.get(5)?)),
            None => None,
        })
    })?;
    let Some((account, settings)) = row else {
        return Ok(None);
    };
    Ok(Some(PageAccount {
        account,
        settings: PageSettings::from_stored(settings.as_deref())?,
    }))
}

pub(crate) async fn page_trackings(
    readers: &Readers,
    account: AccountId,
    lookup: PageLookup<'_>,
) -> Result<Vec<Tracking>> {
    let limit = Value::Integer(i64::from(MAX_PAGE_TRACKINGS));
    // No ORDER BY in SQL: sorting made SQLite copy every column (the checkpoint list too) into
    // a temporary B-tree for the one or two rows a look-up finds. The rows are ordered here.
    let (sql, params) = match lookup {
        PageLookup::Number(number) => {
            let upper = number.to_ascii_uppercase();
            let sql = format!(
                "{SELECT_TRACKINGS} INDEXED BY {BY_NUMBER} WHERE account_id = ?1 \
                 AND tracking_number IN (?2, ?3) LIMIT ?4"
            );
            let typed = Value::Text(number.to_string());
            (
                sql,
                vec![Value::Integer(account), typed, Value::Text(upper), limit],
            )
        }
        PageLookup::OrderNumber(order) => (
            format!(
                "{SELECT_TRACKINGS} INDEXED BY trackings_by_order_number WHERE account_id = ?1 \
                 AND json_extract(fields, '$.order_number') = ?2 \
                 AND json_extract(fields, '$.order_number') IS NOT NULL \
                 ORDER BY pk DESC LIMIT ?3"
            ),
            vec![
                Value::Integer(account),
                Value::Text(order.to_string()),
                limit,
            ],
        ),
    };
    let mut rows = readers.with(|conn| reader::trackings(conn, &sql, &params))?;
    rows.sort_by_key(|(pk, _)| std::cmp::Reverse(*pk));
    Ok(rows.into_iter().map(|(_, tracking)| tracking).collect())
}
