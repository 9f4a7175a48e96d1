//! The webhook delivery outbox and its attempt log in PostgreSQL.
//!
//! Deliveries of changes are written by the refresh, in its transaction, by [`record_changes`]:
//! the change records and their deliveries in one statement. Claims are one statement ranking
//! due deliveries (per-(endpoint, tracking) order, the per-endpoint cap), run under a
//! transaction-level advisory lock: the cap counts every node's deliveries in flight, so two
//! nodes claiming at the same moment would each see room for the same slots; one claim at a time
//! keeps the cap exact, and a claim takes milliseconds. Recording a batch of attempts is one
//! transaction of a few statements whatever its size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parceld_store::backend::BackendResult as Result;
use parceld_store::stored::webhook_version;
use parceld_store::webhooks::{disabled_reason, endpoint_health, new_delivery_id};
use parceld_store::{
    AttemptInfo, AttemptRecord, ClaimedDelivery, DeliveryInfo, TrackingChange, WebhookEndpoint,
};
use sqlx::{FromRow, PgConnection, PgPool};

use crate::rows::{column, millis, seconds, Lease};

/// The advisory lock a delivery claim holds for its transaction (see the module comment).
const CLAIM_LOCK: i64 = 0x7061_7263_656c_6402; // "parceld" and 2

/// A delivery id made by the database: `dlv_` and 24 hex characters, like
/// `parceld_store::webhooks::new_delivery_id`.
const NEW_DELIVERY_ID: &str =
    "'dlv_' || encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 12), 'hex')";

/// Writes the change records of a refresh and, for each, one delivery per enabled endpoint of
/// its account whose status filter matches; returns how many deliveries each tracking queued.
/// One statement, in the refresh's transaction.
pub(crate) async fn record_changes(
    tx: &mut PgConnection,
    changes: &[TrackingChange],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, u64>> {
    let mut queued = HashMap::new();
    if changes.is_empty() {
        return Ok(queued);
    }
    let trackings: Vec<i64> = sqlx::query_scalar(&format!(
        "WITH changes AS ( \
           INSERT INTO tracking_changes (event_id, tracking_pk, account_id, delivery_status, \
             substatus, new_checkpoints, created_at) \
           SELECT c.event_id, c.tracking_pk, c.account_id, c.status, c.substatus, c.added, $1 \
           FROM UNNEST($2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::int4[]) \
             WITH ORDINALITY AS c (event_id, tracking_pk, account_id, status, substatus, added, ord) \
           ORDER BY c.ord \
           RETURNING id, event_id, tracking_pk, account_id, delivery_status) \
         INSERT INTO webhook_deliveries (id, endpoint_pk, account_id, event, event_id, \
           tracking_pk, state, attempts, next_attempt_at, created_at) \
         SELECT {NEW_DELIVERY_ID}, e.pk, e.account_id, 'TRACKING_UPDATED', c.event_id, \
           c.tracking_pk, 'pending', 0, $8, $8 \
         FROM changes c JOIN webhook_endpoints e ON e.account_id = c.account_id \
         WHERE e.enabled AND (cardinality(e.statuses) = 0 OR c.delivery_status = ANY(e.statuses)) \
         ORDER BY c.id, e.pk \
         RETURNING tracking_pk"
    ))
    .bind(seconds(now))
    .bind(column(changes, |c| c.event_id.as_str()))
    .bind(column(changes, |c| c.tracking_pk))
    .bind(column(changes, |c| c.account_id))
    .bind(column(changes, |c| c.delivery_status.as_str()))
    .bind(column(changes, |c| c.substatus.map(|s| s.as_str())))
    .bind(column(changes, |c| c.new_checkpoints as i32))
    .bind(millis(now))
    .fetch_all(&mut *tx)
    .await?;
    for pk in trackings {
        *queued.entry(pk).or_default() += 1;
    }
    Ok(queued)
}

/// The event a delivery carries: its name (`TRACKING_UPDATED`, `TEST`), its id (the
/// `webhook-id` header, the same for every retry) and the body, when it is fixed already.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event<'a> {
    pub(crate) name: &'a str,
    pub(crate) id: &'a str,
    pub(crate) payload: Option<&'a str>,
}

/// Inserts one delivery outside the refresh path (a test event); `due` queues it for the
/// dispatcher, otherwise the caller sends it and records the attempt.
pub(crate) async fn insert(
    pool: &PgPool,
    endpoint: &WebhookEndpoint,
    event: Event<'_>,
    due: bool,
) -> Result<(i64, String)> {
    let (id, now) = (new_delivery_id(), millis(Utc::now()));
    let pk: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (account_id, endpoint_pk, id, event, event_id, payload, \
           state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8) RETURNING pk",
    )
    .bind(endpoint.account_id)
    .bind(endpoint.pk)
    .bind(&id)
    .bind(event.name)
    .bind(event.id)
    .bind(event.payload)
    .bind(due.then_some(now))
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok((pk, id))
}

/// A claim first ranks the earliest `limit × CLAIM_WINDOW_FACTOR` (at least `CLAIM_WINDOW_MIN`)
/// due deliveries, as the SQLite backend does: ranking the whole queue each time made the claim
/// most of the dispatcher's time under a backlog.
const CLAIM_WINDOW_FACTOR: usize = 8;
const CLAIM_WINDOW_MIN: usize = 256;

/// Due, and not leased to a live dispatcher (`$3` is now).
const DUE: &str = "d.state = 'pending' AND d.next_attempt_at <= $3 \
    AND (d.lease_until IS NULL OR d.lease_until < $3)";

/// Leases up to `limit` due deliveries to `owner`: the earliest first, at most `per_endpoint`
/// in flight per endpoint, none while an older delivery of its (endpoint, tracking) pair is
/// pending, only for enabled endpoints. With `window`, only the `window` earliest due
/// deliveries are ranked, and those another transaction holds are skipped. Returns their keys.
async fn claim_ranked(
    tx: &mut PgConnection,
    lease: Lease<'_>,
    limit: usize,
    per_endpoint: usize,
    window: Option<usize>,
) -> Result<Vec<i64>> {
    let from = match window {
        Some(_) => format!(
            "(SELECT * FROM webhook_deliveries d WHERE {DUE} \
              ORDER BY d.next_attempt_at, d.pk LIMIT $6 FOR UPDATE SKIP LOCKED) AS d"
        ),
        None => "webhook_deliveries d".to_string(),
    };
    let sql = format!(
        "WITH busy AS ( \
           SELECT endpoint_pk, count(*) AS n FROM webhook_deliveries \
           WHERE state = 'pending' AND lease_until IS NOT NULL AND lease_until >= $3 \
           GROUP BY endpoint_pk), \
         candidates AS ( \
           SELECT d.pk, d.account_id, d.endpoint_pk, d.next_attempt_at, \
             row_number() OVER (PARTITION BY d.endpoint_pk ORDER BY d.next_attempt_at, d.pk) AS rn \
           FROM {from} JOIN webhook_endpoints e ON e.pk = d.endpoint_pk AND e.account_id = d.account_id \
           WHERE {DUE} AND e.enabled \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
               WHERE p.state = 'pending' AND p.endpoint_pk = d.endpoint_pk \
                 AND p.tracking_pk = d.tracking_pk AND p.pk < d.pk)), \
         chosen AS ( \
           SELECT c.pk, c.account_id FROM candidates c LEFT JOIN busy b ON b.endpoint_pk = c.endpoint_pk \
           WHERE c.rn + COALESCE(b.n, 0) <= $5 \
           ORDER BY c.next_attempt_at, c.pk LIMIT $4) \
         UPDATE webhook_deliveries d SET lease_owner = $1, lease_until = $2 FROM chosen \
         WHERE d.pk = chosen.pk AND d.account_id = chosen.account_id AND {DUE} \
         RETURNING d.pk"
    );
    let mut query = sqlx::query_scalar(&sql)
        .bind(lease.owner)
        .bind(lease.until)
        .bind(lease.now)
        .bind(count(limit))
        .bind(count(per_endpoint));
    if let Some(window) = window {
        query = query.bind(count(window));
    }
    Ok(query.fetch_all(&mut *tx).await?)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A claimed delivery with its endpoint.
#[derive(FromRow)]
struct ClaimedRow {
    pk: i64,
    id: String,
    event: String,
    event_id: String,
    tracking_pk: Option<i64>,
    attempts: i64,
    payload: Option<String>,
    created_at: DateTime<Utc>,
    endpoint_pk: i64,
    endpoint_id: String,
    url: String,
    secret: String,
    version: String,
}

/// Claims up to `limit` due deliveries of enabled endpoints for `owner` until `lease_until`
/// (see [`claim_ranked`]), under the claim lock.
pub(crate) async fn claim(
    pool: &PgPool,
    lease: Lease<'_>,
    limit: usize,
    per_endpoint: usize,
) -> Result<Vec<ClaimedDelivery>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CLAIM_LOCK)
        .execute(&mut *tx)
        .await?;
    // First among the earliest due deliveries only; when that window holds fewer claimable
    // deliveries than wanted and more are due beyond it (deliveries waiting for an earlier one
    // of their pair, endpoints at their limit or disabled), the whole queue is ranked, so
    // nothing behind them starves.
    let window = limit
        .saturating_mul(CLAIM_WINDOW_FACTOR)
        .max(CLAIM_WINDOW_MIN);
    let mut claimed = claim_ranked(&mut tx, lease, limit, per_endpoint, Some(window)).await?;
    if claimed.len() < limit {
        let due: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries \
             WHERE state = 'pending' AND next_attempt_at <= $1 \
               AND (lease_until IS NULL OR lease_until < $1) LIMIT $2) due",
        )
        .bind(lease.now)
        .bind(count(window))
        .fetch_one(&mut *tx)
        .await?;
        if claimed.len() + usize::try_from(due).unwrap_or(0) >= window {
            let rest = limit - claimed.len();
            claimed.extend(claim_ranked(&mut tx, lease, rest, per_endpoint, None).await?);
        }
    }
    let rows: Vec<ClaimedRow> = if claimed.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(
            "SELECT d.pk, d.id, d.event, d.event_id, d.tracking_pk, d.attempts, d.payload, \
               d.created_at, e.pk AS endpoint_pk, e.id AS endpoint_id, e.url, e.secret, e.version \
             FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.pk = d.endpoint_pk AND e.account_id = d.account_id \
             WHERE d.pk = ANY($1) AND d.lease_owner = $2 ORDER BY d.next_attempt_at, d.pk",
        )
        .bind(&claimed)
        .bind(lease.owner)
        .fetch_all(&mut *tx)
        .await?
    };
    tx.commit().await?;
    rows.into_iter()
        .map(|row| {
            Ok(ClaimedDelivery {
                version: webhook_version(&row.version)?,
                pk: row.pk,
                id: row.id,
                event: row.event,
                event_id: row.event_id,
                tracking_pk: row.tracking_pk,
                attempts: row.attempts,
                payload: row.payload,
                created_at: row.created_at,
                endpoint_pk: row.endpoint_pk,
                endpoint_id: row.endpoint_id,
                url: row.url,
                secret: row.secret,
            })
        })
        .collect()
}

/// Records a batch of attempts in one transaction: the attempt log, each delivery's new state
/// (only where `owner` still holds the lease, or the delivery was never leased), and each
/// endpoint's health — a success ends a failing run, and an endpoint failing for at least
/// `disable_after` is disabled with the reason recorded. Returns the ids of endpoints disabled.
/// Releases every delivery lease `owner` holds (graceful shutdown).
pub(crate) async fn release(pool: &PgPool, owner: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1",
    )
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected())
}

/// A delivery as the log shows it, before its attempts are added.
#[derive(FromRow)]
struct LoggedRow {
    pk: i64,
    id: String,
    event: String,
    event_id: String,
    tracking_id: Option<String>,
    state: String,
    attempts: i64,
    next_attempt_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    payload: Option<String>,
}

/// One attempt of the log, with its delivery's key.
#[derive(FromRow)]
struct AttemptRow {
    delivery_pk: i64,
    attempted_at: DateTime<Utc>,
    http_status: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
    response_snippet: Option<String>,
}

/// An endpoint's newest deliveries (or the one named), at most `limit`, newest first, with
/// their attempts. Two statements.
pub(crate) async fn log(
    pool: &PgPool,
    endpoint_pk: i64,
    delivery_id: Option<&str>,
    limit: u32,
) -> Result<Vec<DeliveryInfo>> {
    let rows: Vec<LoggedRow> = sqlx::query_as(
        "SELECT d.pk, d.id, d.event, d.event_id, encode(t.id, 'hex') AS tracking_id, d.state, \
           d.attempts, d.next_attempt_at, d.created_at, d.finished_at, d.payload \
         FROM webhook_deliveries d \
         LEFT JOIN trackings t ON t.pk = d.tracking_pk AND t.account_id = d.account_id \
         WHERE d.endpoint_pk = $1 AND ($2::text IS NULL OR d.id = $2) \
         ORDER BY d.pk DESC LIMIT $3",
    )
    .bind(endpoint_pk)
    .bind(delivery_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut log: HashMap<i64, Vec<AttemptInfo>> = HashMap::new();
    if !rows.is_empty() {
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT delivery_pk, attempted_at, http_status, latency_ms, error, response_snippet \
             FROM webhook_attempts WHERE delivery_pk = ANY($1) ORDER BY delivery_pk, pk",
        )
        .bind(column(&rows, |r| r.pk))
        .fetch_all(pool)
        .await?;
        for a in attempts {
            log.entry(a.delivery_pk).or_default().push(AttemptInfo {
                http_status: a.http_status.and_then(|s| u16::try_from(s).ok()),
                attempted_at: a.attempted_at,
                latency_ms: a.latency_ms,
                error: a.error,
                response_snippet: a.response_snippet,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| DeliveryInfo {
            attempt_log: log.remove(&r.pk).unwrap_or_default(),
            id: r.id,
            event: r.event,
            event_id: r.event_id,
            tracking_id: r.tracking_id,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            finished_at: r.finished_at,
            payload: r.payload,
        })
        .collect())
}

/// When an endpoint that keeps failing is disabled: once it has failed for `after`, as of `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Disabling {
    pub(crate) after: chrono::Duration,
    pub(crate) now: DateTime<Utc>,
}

pub(crate) async fn record(
    pool: &PgPool,
    owner: &str,
    attempts: &[AttemptRecord],
    disabling: Disabling,
) -> Result<Vec<String>> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let health = endpoint_health(attempts);
    let mut tx = pool.begin().await?;
    // The endpoints first, in key order: deleting an endpoint takes it and then its deliveries,
    // so taking them in the same order never deadlocks with a deletion, and a deletion waits
    // until this batch is recorded. Deliveries of an endpoint deleted before are gone; their
    // attempts are dropped below rather than failing the batch.
    let mut endpoints: Vec<i64> = health.iter().map(|h| h.endpoint_pk).collect();
    endpoints.sort_unstable();
    sqlx::query(
        "SELECT pk FROM webhook_endpoints WHERE pk = ANY($1) ORDER BY pk FOR NO KEY UPDATE",
    )
    .bind(&endpoints)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (account_id, delivery_pk, attempted_at, http_status, \
           latency_ms, error, response_snippet) \
         SELECT d.account_id, a.delivery_pk, a.attempted_at, a.http_status, a.latency_ms, \
           a.error, a.response_snippet \
         FROM UNNEST($1::int8[], $2::timestamptz[], $3::int4[], $4::int8[], $5::text[], \
           $6::text[]) WITH ORDINALITY \
           AS a (delivery_pk, attempted_at, http_status, latency_ms, error, response_snippet, ord) \
         JOIN webhook_deliveries d ON d.pk = a.delivery_pk \
         ORDER BY a.ord",
    )
    .bind(column(attempts, |a| a.delivery_pk))
    .bind(column(attempts, |a| millis(a.attempted_at)))
    .bind(column(attempts, |a| a.http_status.map(i32::from)))
    .bind(column(attempts, |a| a.latency_ms))
    .bind(column(attempts, |a| a.error.as_deref()))
    .bind(column(attempts, |a| a.response_snippet.as_deref()))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries d SET state = u.state, attempts = d.attempts + 1, \
           next_attempt_at = u.next, payload = COALESCE(d.payload, u.payload), \
           finished_at = CASE WHEN u.state = 'pending' THEN NULL ELSE u.at END, \
           lease_owner = NULL, lease_until = NULL \
         FROM UNNEST($2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[]) \
           AS u (pk, state, next, payload, at) \
         WHERE d.pk = u.pk AND (d.lease_owner = $1 OR d.lease_owner IS NULL)",
    )
    .bind(owner)
    .bind(column(attempts, |a| a.delivery_pk))
    .bind(column(attempts, |a| a.outcome.state()))
    .bind(column(attempts, |a| a.outcome.next_attempt().map(millis)))
    .bind(column(attempts, |a| a.payload.as_deref()))
    .bind(column(attempts, |a| millis(a.attempted_at)))
    .execute(&mut *tx)
    .await?;
    // Health: the earliest failure of this batch starts a failing run; any success ends it.
    // Only endpoints that failed just now can be disabled: a failure is what shows an endpoint
    // is still down.
    let failing: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE webhook_endpoints e SET failing_since = CASE WHEN h.ok THEN NULL \
           ELSE COALESCE(e.failing_since, h.first) END \
         FROM UNNEST($1::int8[], $2::bool[], $3::timestamptz[]) AS h (pk, ok, first) \
         WHERE e.pk = h.pk \
         RETURNING e.pk, e.failing_since",
    )
    .bind(column(&health, |h| h.endpoint_pk))
    .bind(column(&health, |h| h.succeeded))
    .bind(column(&health, |h| millis(h.first_attempt)))
    .fetch_all(&mut *tx)
    .await
    .map(|rows: Vec<(i64, Option<DateTime<Utc>>)>| {
        let cutoff = millis(disabling.now - disabling.after);
        rows.into_iter()
            .filter_map(|(pk, since)| since.filter(|since| *since <= cutoff).map(|s| (pk, s)))
            .collect()
    })?;
    let mut disabled = Vec::new();
    if !failing.is_empty() {
        disabled = sqlx::query_scalar(
            "UPDATE webhook_endpoints e SET enabled = false, updated_at = $1, \
               disabled_reason = r.reason \
             FROM UNNEST($2::int8[], $3::text[]) AS r (pk, reason) \
             WHERE e.pk = r.pk AND e.enabled RETURNING e.id",
        )
        .bind(millis(disabling.now))
        .bind(column(&failing, |(pk, _)| *pk))
        .bind(column(&failing, |(_, since)| {
            disabled_reason(*since, disabling.after)
        }))
        .fetch_all(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(disabled)
}

/// Prunes the log: deletes the deliveries (and their attempts) that finished, delivered or
/// failed, and were created before `before`. Pending ones stay, however old.
pub(crate) async fn prune(pool: &PgPool, before: DateTime<Utc>) -> Result<u64> {
    let pruned =
        sqlx::query("DELETE FROM webhook_deliveries WHERE created_at < $1 AND state <> 'pending'")
            .bind(millis(before))
            .execute(pool)
            .await?;
    Ok(pruned.rows_affected())
}

/// Queues a delivery again, due now, with the same event id and body; its attempt count
/// starts over (the log keeps the earlier attempts). A delivery being sent right now keeps its
/// lease, so it is not sent twice at once. `false` when there is no such delivery.
pub(crate) async fn redeliver(pool: &PgPool, endpoint_pk: i64, delivery_id: &str) -> Result<bool> {
    let queued: Option<i64> = sqlx::query_scalar(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, \
           finished_at = NULL, \
           lease_owner = CASE WHEN lease_until >= $3 THEN lease_owner END, \
           lease_until = CASE WHEN lease_until >= $3 THEN lease_until END \
         WHERE endpoint_pk = $1 AND id = $2 RETURNING pk",
    )
    .bind(endpoint_pk)
    .bind(delivery_id)
    .bind(millis(Utc::now()))
    .fetch_optional(pool)
    .await?;
    Ok(queued.is_some())
}
