//! Webhook endpoints in SQLite (the types are `parceld_store::webhooks`); their deliveries and
//! attempt log are in outbox.rs.

use chrono::Utc;
use parceld_model::DeliveryStatus;
use parceld_store::stored::webhook_version;
use parceld_store::webhooks::new_endpoint_id;
use parceld_store::{
    AccountId, CreateWebhook, NewWebhook, StoreResult, WebhookEndpoint, WebhookGauges, WebhookPatch,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::error::Result;
use crate::rows::{from_ms, ms, parse_json, parse_status};

fn statuses_json(statuses: &[DeliveryStatus]) -> String {
    serde_json::to_string(&statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        .expect("strings serialise")
}

const ENDPOINT_COLUMNS: &str = "pk, id, account_id, url, description, statuses, version, enabled, \
    secret, disabled_reason, failing_since_ms, created_ms, updated_ms";

fn endpoint_from_row(row: &SqliteRow) -> Result<WebhookEndpoint> {
    let statuses: Vec<String> = parse_json(row.get("statuses"), "statuses")?;
    let version: String = row.get("version");
    Ok(WebhookEndpoint {
        pk: row.get("pk"),
        id: row.get("id"),
        account_id: row.get("account_id"),
        url: row.get("url"),
        description: row.get("description"),
        statuses: statuses
            .iter()
            .map(|s| parse_status(s))
            .collect::<StoreResult<_>>()?,
        version: webhook_version(&version)?,
        enabled: row.get("enabled"),
        secret: row.get("secret"),
        disabled_reason: row.get("disabled_reason"),
        failing_since: row.get::<Option<i64>, _>("failing_since_ms").map(from_ms),
        created_at: from_ms(row.get("created_ms")),
        updated_at: from_ms(row.get("updated_ms")),
    })
}

pub(crate) async fn create(
    pool: &SqlitePool,
    account: AccountId,
    new: &NewWebhook,
    max: usize,
) -> Result<CreateWebhook> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = ?")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
    if count as usize >= max {
        return Ok(CreateWebhook::LimitReached { max });
    }
    let now = ms(Utc::now());
    let row = sqlx::query(&format!(
        "INSERT INTO webhook_endpoints (id, account_id, url, description, statuses, version, \
         enabled, secret, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(new_endpoint_id())
    .bind(account)
    .bind(&new.url)
    .bind(&new.description)
    .bind(statuses_json(&new.statuses))
    .bind(new.version.as_str())
    .bind(new.enabled)
    .bind(&new.secret)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let endpoint = endpoint_from_row(&row)?;
    tx.commit().await?;
    Ok(CreateWebhook::Created(Box::new(endpoint)))
}

pub(crate) async fn list(
    pool: &SqlitePool,
    account: Option<AccountId>,
) -> Result<Vec<WebhookEndpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE ?1 IS NULL OR account_id = ?1 ORDER BY account_id, pk"
    ))
    .bind(account)
    .fetch_all(pool)
    .await?;
    rows.iter().map(endpoint_from_row).collect()
}

pub(crate) async fn get(
    pool: &SqlitePool,
    account: Option<AccountId>,
    id: &str,
) -> Result<Option<WebhookEndpoint>> {
    sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2)"
    ))
    .bind(id)
    .bind(account)
    .fetch_optional(pool)
    .await?
    .map(|row| endpoint_from_row(&row))
    .transpose()
}

pub(crate) async fn update(
    pool: &SqlitePool,
    account: Option<AccountId>,
    id: &str,
    patch: &WebhookPatch,
) -> Result<Option<WebhookEndpoint>> {
    // Enabling an endpoint again clears what parceld recorded when it disabled it.
    let row = sqlx::query(&format!(
        "UPDATE webhook_endpoints SET \
           url = COALESCE(?3, url), \
           description = COALESCE(?4, description), \
           statuses = COALESCE(?5, statuses), \
           version = COALESCE(?6, version), \
           secret = COALESCE(?7, secret), \
           disabled_reason = CASE WHEN ?8 = 1 THEN NULL ELSE disabled_reason END, \
           failing_since_ms = CASE WHEN ?8 = 1 AND enabled = 0 THEN NULL ELSE failing_since_ms END, \
           enabled = COALESCE(?8, enabled), \
           updated_ms = ?9 \
         WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2) RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(id)
    .bind(account)
    .bind(&patch.url)
    .bind(&patch.description)
    .bind(patch.statuses.as_deref().map(statuses_json))
    .bind(patch.version.map(|v| v.as_str()))
    .bind(&patch.secret)
    .bind(patch.enabled)
    .bind(ms(Utc::now()))
    .fetch_optional(pool)
    .await?;
    row.map(|row| endpoint_from_row(&row)).transpose()
}

pub(crate) async fn delete(
    pool: &SqlitePool,
    account: Option<AccountId>,
    id: &str,
) -> Result<Option<WebhookEndpoint>> {
    let row = sqlx::query(&format!(
        "DELETE FROM webhook_endpoints WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2) \
         RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(id)
    .bind(account)
    .fetch_optional(pool)
    .await?;
    row.map(|row| endpoint_from_row(&row)).transpose()
}

pub(crate) async fn gauges(pool: &SqlitePool) -> Result<WebhookGauges> {
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'")
            .fetch_one(pool)
            .await?;
    let endpoints: Vec<(String, i64)> = sqlx::query_as(
        "SELECT CASE WHEN enabled = 1 THEN 'enabled' \
                     WHEN disabled_reason IS NOT NULL THEN 'disabled_failing' \
                     ELSE 'disabled' END AS state, COUNT(*) \
         FROM webhook_endpoints GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    Ok(WebhookGauges {
        pending_deliveries: pending,
        endpoints_by_state: endpoints,
    })
}
