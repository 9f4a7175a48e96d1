//! Webhook endpoints in PostgreSQL (the types are `parceld_store::webhooks`); their deliveries
//! and attempt log are in outbox.rs.

use chrono::Utc;
use parceld_store::backend::BackendResult as Result;
use parceld_store::webhooks::new_endpoint_id;
use parceld_store::{
    AccountId, CreateWebhook, NewWebhook, WebhookEndpoint, WebhookGauges, WebhookPatch,
};
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::rows::{column, millis, EndpointRow, ENDPOINT_COLUMNS};

/// Creates an endpoint unless the account already has `max`. The account's row is locked
/// first, so two nodes creating at once cannot both pass the limit; the count and the insert
/// are then one statement.
pub(crate) async fn create(
    pool: &PgPool,
    account: AccountId,
    new: &NewWebhook,
    max: usize,
) -> Result<CreateWebhook> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
        .bind(account)
        .execute(&mut *tx)
        .await?;
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (account_id, id, created_at, updated_at, url, \
           description, statuses, version, enabled, secret) \
         SELECT $1, $2, $4, $4, $5, $6, $7, $8, $9, $10 \
         WHERE (SELECT count(*) FROM webhook_endpoints WHERE account_id = $1) < $3 \
         RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(account)
    .bind(new_endpoint_id())
    .bind(i64::try_from(max).unwrap_or(i64::MAX))
    .bind(millis(Utc::now()))
    .bind(&new.url)
    .bind(&new.description)
    .bind(column(&new.statuses, |status| status.as_str()))
    .bind(new.version.as_str())
    .bind(new.enabled)
    .bind(&new.secret)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(match row {
        Some(row) => CreateWebhook::Created(Box::new(row.read()?)),
        None => CreateWebhook::LimitReached { max },
    })
}

pub(crate) async fn list(
    pool: &PgPool,
    account: Option<AccountId>,
) -> Result<Vec<WebhookEndpoint>> {
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE $1::int8 IS NULL OR account_id = $1 ORDER BY account_id, pk"
    ))
    .bind(account)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(EndpointRow::read).collect()
}

/// What to do with one endpoint named by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ById {
    Read,
    /// Delete it; its deliveries and their attempts go with it (`ON DELETE CASCADE`).
    Delete,
}

/// Reads or deletes the endpoint `id` of `account` (any account for `None`: the operator's
/// CLI); returns it as it was, or `None` when there is no such endpoint.
pub(crate) async fn by_id(
    pool: &PgPool,
    account: Option<AccountId>,
    id: &str,
    action: ById,
) -> Result<Option<WebhookEndpoint>> {
    let named = "id = $1 AND ($2::int8 IS NULL OR account_id = $2)";
    let sql = match action {
        ById::Read => format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {named}"),
        ById::Delete => {
            format!("DELETE FROM webhook_endpoints WHERE {named} RETURNING {ENDPOINT_COLUMNS}")
        }
    };
    let row: Option<EndpointRow> = sqlx::query_as(&sql)
        .bind(id)
        .bind(account)
        .fetch_optional(pool)
        .await?;
    row.map(EndpointRow::read).transpose()
}

/// Sets what the patch sets, and nothing else. Enabling a disabled endpoint again clears what
/// parceld recorded when it disabled it.
pub(crate) async fn update(
    pool: &PgPool,
    account: Option<AccountId>,
    id: &str,
    patch: &WebhookPatch,
) -> Result<Option<WebhookEndpoint>> {
    let mut query = QueryBuilder::<Postgres>::new("UPDATE webhook_endpoints SET updated_at = ");
    query.push_bind(millis(Utc::now()));
    for (column, text) in [
        (", url = ", &patch.url),
        (", description = ", &patch.description),
        (", secret = ", &patch.secret),
    ] {
        if let Some(text) = text {
            query.push(column).push_bind(text.clone());
        }
    }
    if let Some(statuses) = &patch.statuses {
        query
            .push(", statuses = ")
            .push_bind(column(statuses, |s| s.as_str()));
    }
    if let Some(version) = patch.version {
        query.push(", version = ").push_bind(version.as_str());
    }
    match patch.enabled {
        Some(true) => query.push(
            ", disabled_reason = NULL, failing_since = CASE WHEN enabled THEN failing_since END, \
             enabled = true",
        ),
        Some(false) => query.push(", enabled = false"),
        None => &mut query,
    };
    query.push(" WHERE id = ").push_bind(id.to_string());
    if let Some(account) = account {
        query.push(" AND account_id = ").push_bind(account);
    }
    query.push(format!(" RETURNING {ENDPOINT_COLUMNS}"));
    let row: Option<EndpointRow> = query.build_query_as().fetch_optional(pool).await?;
    row.map(EndpointRow::read).transpose()
}

/// For metrics: pending deliveries and endpoints by state, in one statement.
pub(crate) async fn gauges(pool: &PgPool) -> Result<WebhookGauges> {
    let (pending_deliveries, disabled, disabled_failing, enabled): (i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'), \
               count(*) FILTER (WHERE NOT enabled AND disabled_reason IS NULL), \
               count(*) FILTER (WHERE NOT enabled AND disabled_reason IS NOT NULL), \
               count(*) FILTER (WHERE enabled) \
             FROM webhook_endpoints",
        )
        .fetch_one(pool)
        .await?;
    let by_state = [
        ("disabled", disabled),
        ("disabled_failing", disabled_failing),
        ("enabled", enabled),
    ];
    Ok(WebhookGauges {
        pending_deliveries,
        endpoints_by_state: by_state
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(state, n)| (state.to_string(), n))
            .collect(),
    })
}
