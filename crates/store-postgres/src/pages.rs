//! The public tracking page in PostgreSQL: each account's page settings (`tracking_pages`, and
//! the host name on `accounts.page_host`, where it can be unique across accounts: migration
//! 0003) and the look-ups a visitor makes, each one statement: by number on the
//! unique (account, number, courier) index, by order number on the partial expression index of
//! `fields ->> 'order_number'`, at most [`MAX_PAGE_TRACKINGS`] rows.

use parceld_model::Tracking;
use parceld_store::backend::BackendResult as Result;
use parceld_store::pages::SettingsWrite;
use parceld_store::{
    AccountId, PageAccount, PageAccountKey, PageLookup, PageSettings, MAX_PAGE_TRACKINGS,
};
use sqlx::{FromRow, PgPool};

use crate::accounts::{AccountRow, ACCOUNT_COLUMNS};
use crate::rows::{TrackingRow, TRACKING_COLUMNS};

pub(crate) async fn settings(pool: &PgPool, account: AccountId) -> Result<PageSettings> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT settings::text FROM tracking_pages WHERE account_id = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?;
    Ok(PageSettings::from_stored(stored.as_deref())?)
}

pub(crate) async fn set_settings(
    pool: &PgPool,
    account: AccountId,
    settings: &PageSettings,
) -> Result<PageSettings> {
    // One statement: the host name on the account (unique there), the rest beside it.
    let result = sqlx::query(
        "WITH account AS (UPDATE accounts SET page_host = $2 WHERE id = $1 RETURNING id) \
         INSERT INTO tracking_pages (account_id, settings) SELECT id, $3::jsonb FROM account \
         ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings",
    )
    .bind(account)
    .bind(&settings.host)
    .bind(settings.to_stored())
    .execute(pool)
    .await;
    let outcome = match result {
        Ok(done) => SettingsWrite::Rows(done.rows_affected()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            SettingsWrite::UniqueViolation
        }
        Err(other) => return Err(other.into()),
    };
    Ok(settings.written(outcome)?)
}

#[derive(FromRow)]
struct PageAccountRow {
    #[sqlx(flatten)]
    account: AccountRow,
    settings: Option<String>,
}

pub(crate) async fn account(pool: &PgPool, key: PageAccountKey<'_>) -> Result<Option<PageAccount>> {
    let (condition, value) = match key {
        PageAccountKey::Name(name) => ("a.name = $1", name),
        PageAccountKey::Host(host) => ("a.page_host = $1", host),
    };
    // The account's column names are its own: tracking_pages has none of them.
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, p.settings::text AS settings FROM accounts a \
         LEFT JOIN tracking_pages p ON p.account_id = a.id WHERE {condition}"
    );
    let row: Option<PageAccountRow> = sqlx::query_as(&sql)
        .bind(value)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(PageAccount {
        account: row.account.read()?,
        settings: PageSettings::from_stored(row.settings.as_deref())?,
    }))
}

pub(crate) async fn trackings(
    pool: &PgPool,
    account: AccountId,
    lookup: PageLookup<'_>,
) -> Result<Vec<Tracking>> {
    let limit = i64::from(MAX_PAGE_TRACKINGS);
    let mut rows: Vec<TrackingRow> = match lookup {
        PageLookup::Number(number) => {
            let sql = format!(
                "SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.account_id = $1 \
                 AND t.tracking_number IN ($2, $3) LIMIT $4"
            );
            sqlx::query_as(&sql)
                .bind(account)
                .bind(number)
                .bind(number.to_ascii_uppercase())
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
        PageLookup::OrderNumber(order) => {
            let sql = format!(
                "SELECT {TRACKING_COLUMNS} FROM trackings t WHERE t.account_id = $1 \
                 AND (t.fields ->> 'order_number') = $2 \
                 AND (t.fields ->> 'order_number') IS NOT NULL ORDER BY t.pk DESC LIMIT $3"
            );
            sqlx::query_as(&sql)
                .bind(account)
                .bind(order)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
    };
    rows.sort_by_key(|row| std::cmp::Reverse(row.pk));
    rows.into_iter().map(TrackingRow::read).collect()
}
