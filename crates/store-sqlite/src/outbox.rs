//! The webhook delivery outbox and its attempt log in SQLite.
//!
//! The outbox rows are written by `apply_refresh` (refresh.rs) inside the refresh
//! transaction (see [`enqueue_changes`]); everything here keeps to a bounded number of statements
//! per call whatever the batch size: one `UPDATE … RETURNING` claims a batch of due deliveries
//! (respecting per-endpoint concurrency and per-(endpoint, tracking) order), and one transaction of
//! four statements records a whole batch of attempts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parceld_store::stored::webhook_version;
use parceld_store::webhooks::{disabled_reason, endpoint_health, new_delivery_id};
use parceld_store::{AttemptInfo, AttemptRecord, ClaimedDelivery, DeliveryInfo, WebhookEndpoint};
use serde_json::json;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::error::Result;
use crate::rows::{from_ms, ms};
use crate::statements::keep_prepared;

/// Writes the outbox rows for `event_ids` (change records just inserted in `conn`'s
/// transaction): one per enabled endpoint of the change's account whose filter matches the
/// change's status; returns how many each tracking queued. One statement.
pub(crate) async fn enqueue_changes(
    conn: &mut SqliteConnection,
    event_ids: &[&str],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, u64>> {
    let mut queued = HashMap::new();
    if event_ids.is_empty() {
        return Ok(queued);
    }
    let now = ms(now);
    let trackings: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (id, endpoint_pk, account_id, event, event_id, \
           tracking_pk, state, attempts, next_attempt_ms, created_ms) \
         SELECT 'dlv_' || lower(hex(randomblob(12))), e.pk, e.account_id, 'TRACKING_UPDATED', \
           c.event_id, c.tracking_pk, 'pending', 0, ?2, ?2 \
         FROM tracking_changes c JOIN webhook_endpoints e ON e.account_id = c.account_id \
         WHERE c.event_id IN (SELECT value FROM json_each(?1)) AND e.enabled = 1 \
           AND (e.statuses = '[]' \
                OR EXISTS (SELECT 1 FROM json_each(e.statuses) s WHERE s.value = c.delivery_status)) \
         ORDER BY c.id, e.pk \
         RETURNING tracking_pk",
    )
    .bind(serde_json::to_string(event_ids).expect("strings serialise"))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for pk in trackings {
        *queued.entry(pk).or_default() += 1;
    }
    Ok(queued)
}

/// Inserts one delivery outside the refresh path (the test event), due at once.
pub(crate) async fn insert_delivery(
    pool: &SqlitePool,
    endpoint: &WebhookEndpoint,
    event: &str,
    event_id: &str,
    payload: Option<&str>,
    due: bool,
) -> Result<(i64, String)> {
    let id = new_delivery_id();
    let now = ms(Utc::now());
    let pk: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (id, endpoint_pk, account_id, event, event_id, state, \
         attempts, next_attempt_ms, payload, created_ms) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) \
         RETURNING pk",
    )
    .bind(&id)
    .bind(endpoint.pk)
    .bind(endpoint.account_id)
    .bind(event)
    .bind(event_id)
    .bind(due.then_some(now))
    .bind(payload)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok((pk, id))
}

const CLAIMED_COLUMNS: &str = "d.pk, d.id, d.event, d.event_id, d.tracking_pk, d.attempts, \
    d.payload, d.created_ms, e.pk AS endpoint_pk, e.id AS endpoint_id, e.url, e.secret, e.version";

/// Attempts recorded per insert statement.
const ATTEMPT_CHUNK: usize = 400;
/// A claim looks at the earliest `limit × CLAIM_WINDOW_FACTOR` (at least `CLAIM_WINDOW_MIN`)
/// due deliveries first.
const CLAIM_WINDOW_FACTOR: usize = 8;
const CLAIM_WINDOW_MIN: usize = 256;

/// Leases up to `limit` due deliveries to `owner`: the earliest first, at most `per_endpoint`
/// in flight per endpoint, none while an older delivery of its (endpoint, tracking) pair is
/// pending, only for enabled endpoints. With `window`, only the `window` earliest due
/// deliveries are considered. Returns their primary keys.
async fn claim_ranked(
    conn: &mut sqlx::SqliteConnection,
    owner: &str,
    now: i64,
    lease_until: DateTime<Utc>,
    limit: usize,
    per_endpoint: usize,
    window: Option<usize>,
) -> Result<Vec<i64>> {
    let due = "d.state = 'pending' AND d.next_attempt_ms <= ?3 \
               AND (d.lease_until_ms IS NULL OR d.lease_until_ms < ?3)";
    let from = match window {
        Some(_) => format!(
            "(SELECT * FROM webhook_deliveries d WHERE {due} \
              ORDER BY d.next_attempt_ms, d.pk LIMIT ?6) AS d"
        ),
        None => "webhook_deliveries d".to_string(),
    };
    let sql = format!(
        "WITH busy AS ( \
             SELECT endpoint_pk, COUNT(*) AS n FROM webhook_deliveries \
             INDEXED BY webhook_deliveries_leased \
             WHERE state = 'pending' AND lease_until_ms IS NOT NULL AND lease_until_ms >= ?3 \
             GROUP BY endpoint_pk), \
         candidates AS ( \
             SELECT d.pk, d.endpoint_pk, d.next_attempt_ms, \
               ROW_NUMBER() OVER (PARTITION BY d.endpoint_pk ORDER BY d.next_attempt_ms, d.pk) AS rn \
             FROM {from} JOIN webhook_endpoints e ON e.pk = d.endpoint_pk \
             WHERE {due} AND e.enabled = 1 \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                   WHERE p.state = 'pending' AND p.endpoint_pk = d.endpoint_pk \
                     AND p.tracking_pk = d.tracking_pk AND p.pk < d.pk)) \
         UPDATE webhook_deliveries SET lease_owner = ?1, lease_until_ms = ?2 \
         WHERE pk IN ( \
             SELECT c.pk FROM candidates c LEFT JOIN busy b ON b.endpoint_pk = c.endpoint_pk \
             WHERE c.rn + COALESCE(b.n, 0) <= ?5 \
             ORDER BY c.next_attempt_ms, c.pk LIMIT ?4) \
         RETURNING pk"
    );
    let mut query = sqlx::query_scalar(&sql)
        .bind(owner)
        .bind(ms(lease_until))
        .bind(now)
        .bind(limit as i64)
        .bind(per_endpoint as i64);
    if let Some(window) = window {
        query = query.bind(window as i64);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// Claims up to `limit` due deliveries of enabled endpoints for `owner` until `lease_until`.
/// A delivery is skipped while an older delivery for the same (endpoint, tracking) is pending
/// (order), and no endpoint gets more than `per_endpoint` leased deliveries at once. One
/// statement (plus the read of the claimed rows' endpoints).
pub(crate) async fn claim(
    pool: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
    per_endpoint: usize,
) -> Result<Vec<ClaimedDelivery>> {
    let now = ms(now);
    let mut conn = pool.acquire().await?;
    // First among the earliest due deliveries only: ranking every due delivery (20,000 in the
    // bench) each round made the claim most of the dispatcher's time. When that window holds
    // fewer claimable deliveries than wanted and there is more beyond it (deliveries waiting
    // for an earlier one of their pair, endpoints at their limit or disabled), the whole queue
    // is ranked, so nothing behind them starves.
    let window = limit
        .saturating_mul(CLAIM_WINDOW_FACTOR)
        .max(CLAIM_WINDOW_MIN);
    let mut claimed = claim_ranked(
        &mut conn,
        owner,
        now,
        lease_until,
        limit,
        per_endpoint,
        Some(window),
    )
    .await?;
    if claimed.len() < limit {
        let due_beyond: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries \
             WHERE state = 'pending' AND next_attempt_ms <= ?1 \
               AND (lease_until_ms IS NULL OR lease_until_ms < ?1) LIMIT ?2)",
        )
        .bind(now)
        .bind(window as i64)
        .fetch_one(&mut *conn)
        .await?;
        if claimed.len() + due_beyond as usize >= window {
            claimed.extend(
                claim_ranked(
                    &mut conn,
                    owner,
                    now,
                    lease_until,
                    limit - claimed.len(),
                    per_endpoint,
                    None,
                )
                .await?,
            );
        }
    }
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT {CLAIMED_COLUMNS} FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.pk = d.endpoint_pk \
         WHERE d.pk IN (SELECT value FROM json_each(?1)) AND d.lease_owner = ?2 \
         ORDER BY d.next_attempt_ms, d.pk"
    ))
    .bind(serde_json::to_string(&claimed).expect("integers serialise"))
    .bind(owner)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let version: String = row.get("version");
            Ok(ClaimedDelivery {
                pk: row.get("pk"),
                id: row.get("id"),
                event: row.get("event"),
                event_id: row.get("event_id"),
                tracking_pk: row.get("tracking_pk"),
                attempts: row.get("attempts"),
                payload: row.get("payload"),
                created_at: from_ms(row.get("created_ms")),
                endpoint_pk: row.get("endpoint_pk"),
                endpoint_id: row.get("endpoint_id"),
                url: row.get("url"),
                secret: row.get("secret"),
                version: webhook_version(&version)?,
            })
        })
        .collect()
}

/// Records a batch of attempts in one transaction: the attempt log, each delivery's new state
/// (only where `owner` still holds the lease, or the delivery was never leased), and each
/// endpoint's health — a success ends a failing run, and an endpoint failing for at least
/// `disable_after` is disabled with the reason recorded.
pub(crate) async fn record(
    pool: &SqlitePool,
    owner: &str,
    attempts: &[AttemptRecord],
    disable_after: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // A delivery whose endpoint was deleted while it was in flight is gone: skip its record
    // rather than fail the whole batch on the foreign key.
    let pks: Vec<i64> = attempts.iter().map(|a| a.delivery_pk).collect();
    let existing: std::collections::HashSet<i64> = sqlx::query_scalar(
        "SELECT pk FROM webhook_deliveries WHERE pk IN (SELECT value FROM json_each(?))",
    )
    .bind(serde_json::to_string(&pks).expect("integers serialise"))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let attempts: Vec<&AttemptRecord> = attempts
        .iter()
        .filter(|a| existing.contains(&a.delivery_pk))
        .collect();
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    for chunk in attempts.chunks(ATTEMPT_CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO webhook_attempts (delivery_pk, attempted_ms, http_status, latency_ms, \
             error, response_snippet) ",
        );
        insert.push_values(chunk, |mut row, a| {
            row.push_bind(a.delivery_pk)
                .push_bind(ms(a.attempted_at))
                .push_bind(a.http_status.map(i64::from))
                .push_bind(a.latency_ms)
                .push_bind(&a.error)
                .push_bind(&a.response_snippet);
        });
        insert
            .build()
            .persistent(keep_prepared(chunk.len(), ATTEMPT_CHUNK))
            .execute(&mut *tx)
            .await?;
    }
    let updates: Vec<serde_json::Value> = attempts
        .iter()
        .map(|a| {
            json!({"pk": a.delivery_pk, "state": a.outcome.state(),
                   "next": a.outcome.next_attempt().map(ms), "payload": a.payload,
                   "at": ms(a.attempted_at)})
        })
        .collect();
    sqlx::query(
        "UPDATE webhook_deliveries SET \
           state = u.value ->> 'state', \
           attempts = attempts + 1, \
           next_attempt_ms = u.value ->> 'next', \
           payload = COALESCE(payload, u.value ->> 'payload'), \
           finished_ms = CASE WHEN u.value ->> 'state' = 'pending' THEN NULL ELSE u.value ->> 'at' END, \
           lease_owner = NULL, lease_until_ms = NULL \
         FROM json_each(?1) AS u \
         WHERE webhook_deliveries.pk = u.value ->> 'pk' \
           AND (webhook_deliveries.lease_owner = ?2 OR webhook_deliveries.lease_owner IS NULL)",
    )
    .bind(serde_json::Value::Array(updates).to_string())
    .bind(owner)
    .execute(&mut *tx)
    .await?;

    // Endpoint health: the earliest failure of this batch starts a failing run; any success ends it.
    let health = endpoint_health(attempts.iter().copied());
    // Only endpoints that failed just now can be disabled: a failure is what shows an endpoint
    // is still down.
    let failed_now: Vec<i64> = health
        .iter()
        .filter(|h| !h.succeeded)
        .map(|h| h.endpoint_pk)
        .collect();
    let health: Vec<serde_json::Value> = health
        .into_iter()
        .map(|h| json!({"pk": h.endpoint_pk, "ok": h.succeeded, "first": ms(h.first_attempt)}))
        .collect();
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since_ms = CASE \
             WHEN h.value ->> 'ok' THEN NULL \
             ELSE COALESCE(failing_since_ms, h.value ->> 'first') END \
         FROM json_each(?1) AS h WHERE webhook_endpoints.pk = h.value ->> 'pk'",
    )
    .bind(serde_json::Value::Array(health).to_string())
    .execute(&mut *tx)
    .await?;
    // Endpoints failing since at least `disable_after` are disabled, with the reason recorded.
    let cutoff = ms(now - disable_after);
    let failing: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT pk, failing_since_ms FROM webhook_endpoints \
         WHERE enabled = 1 AND failing_since_ms IS NOT NULL AND failing_since_ms <= ?1 \
           AND pk IN (SELECT value FROM json_each(?2))",
    )
    .bind(cutoff)
    .bind(serde_json::to_string(&failed_now).expect("integers serialise"))
    .fetch_all(&mut *tx)
    .await?;
    let mut disabled = Vec::new();
    if !failing.is_empty() {
        let reasons: Vec<serde_json::Value> = failing
            .iter()
            .map(|(pk, since)| json!({"pk": pk, "reason": disabled_reason(from_ms(*since), disable_after)}))
            .collect();
        disabled = sqlx::query_scalar(
            "UPDATE webhook_endpoints SET enabled = 0, updated_ms = ?2, \
               disabled_reason = r.value ->> 'reason' \
             FROM json_each(?1) AS r WHERE webhook_endpoints.pk = r.value ->> 'pk' RETURNING id",
        )
        .bind(serde_json::Value::Array(reasons).to_string())
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(disabled)
}

/// Releases every delivery lease `owner` holds (graceful shutdown).
pub(crate) async fn release(pool: &SqlitePool, owner: &str) -> Result<u64> {
    crate::statements::release_leases(pool, "webhook_deliveries", owner).await
}

/// Deletes finished deliveries (and their attempts) created before `before`. Pending ones stay.
pub(crate) async fn prune(pool: &SqlitePool, before: DateTime<Utc>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM webhook_deliveries WHERE created_ms < ? AND state <> 'pending'")
            .bind(ms(before))
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// An endpoint's deliveries, newest first, with their attempts. Two statements.
pub(crate) async fn deliveries(
    pool: &SqlitePool,
    endpoint_pk: i64,
    limit: u32,
    delivery_id: Option<&str>,
) -> Result<Vec<DeliveryInfo>> {
    let rows = sqlx::query(
        "SELECT d.pk, d.id, d.event, d.event_id, lower(hex(t.id)) AS tracking_id, d.state, d.attempts, \
           d.next_attempt_ms, d.created_ms, d.finished_ms, d.payload \
         FROM webhook_deliveries d LEFT JOIN trackings t ON t.pk = d.tracking_pk \
         WHERE d.endpoint_pk = ?1 AND (?2 IS NULL OR d.id = ?2) ORDER BY d.pk DESC LIMIT ?3",
    )
    .bind(endpoint_pk)
    .bind(delivery_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let pks: Vec<i64> = rows.iter().map(|r| r.get("pk")).collect();
    let mut log: HashMap<i64, Vec<AttemptInfo>> = HashMap::new();
    if !pks.is_empty() {
        let attempts = sqlx::query(
            "SELECT delivery_pk, attempted_ms, http_status, latency_ms, error, response_snippet \
             FROM webhook_attempts WHERE delivery_pk IN (SELECT value FROM json_each(?)) \
             ORDER BY delivery_pk, pk",
        )
        .bind(serde_json::to_string(&pks).expect("integers serialise"))
        .fetch_all(pool)
        .await?;
        for a in &attempts {
            log.entry(a.get("delivery_pk"))
                .or_default()
                .push(AttemptInfo {
                    attempted_at: from_ms(a.get("attempted_ms")),
                    http_status: a
                        .get::<Option<i64>, _>("http_status")
                        .and_then(|s| u16::try_from(s).ok()),
                    latency_ms: a.get("latency_ms"),
                    error: a.get("error"),
                    response_snippet: a.get("response_snippet"),
                });
        }
    }
    Ok(rows
        .iter()
        .map(|r| DeliveryInfo {
            id: r.get("id"),
            event: r.get("event"),
            event_id: r.get("event_id"),
            tracking_id: r.get("tracking_id"),
            state: r.get("state"),
            attempts: r.get("attempts"),
            next_attempt_at: r.get::<Option<i64>, _>("next_attempt_ms").map(from_ms),
            created_at: from_ms(r.get("created_ms")),
            finished_at: r.get::<Option<i64>, _>("finished_ms").map(from_ms),
            payload: r.get("payload"),
            attempt_log: log.remove(&r.get::<i64, _>("pk")).unwrap_or_default(),
        })
        .collect())
}

/// Queues a delivery again, due now, with the same event id and body; its attempt count
/// starts over (the log keeps the earlier attempts). A delivery being sent right now keeps its
/// lease, so it is not sent twice at once. `false` when there is no such delivery.
pub(crate) async fn redeliver(
    pool: &SqlitePool,
    endpoint_pk: i64,
    delivery_id: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_ms = ?1, \
           finished_ms = NULL, \
           lease_owner = CASE WHEN lease_until_ms >= ?1 THEN lease_owner END, \
           lease_until_ms = CASE WHEN lease_until_ms >= ?1 THEN lease_until_ms END \
         WHERE endpoint_pk = ?2 AND id = ?3",
    )
    .bind(ms(Utc::now()))
    .bind(endpoint_pk)
    .bind(delivery_id)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}
