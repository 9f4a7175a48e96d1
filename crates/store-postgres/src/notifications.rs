//! Notifications in PostgreSQL (migration 0006): the outbox the refresh writes
//! ([`enqueue_changes`], called by `refresh.rs` inside its transaction), claims with a lease
//! (`FOR UPDATE SKIP LOCKED`, so nodes never wait on each other's rows), outcomes recorded in
//! one statement per batch, the per-tracking log, opt-outs and the daily counts (the page's
//! subscriptions are in `subscribers.rs`). The same data and answers as the SQLite backend;
//! batches go in as arrays (`UNNEST`).

use chrono::{DateTime, Utc};
use parceld_model::TrackingId;
use parceld_store::backend::BackendResult as Result;
use parceld_store::notifications::{
    Channel, ClaimedNotification, NotificationInfo, NotificationRecord, NotificationSettings,
    Recipient,
};
use parceld_store::{AccountId, TrackingChange};
use sqlx::{FromRow, PgConnection, PgPool};

use crate::rows::{column, millis};
pub(crate) use crate::subscribers::subscribe;

/// A notification id made by the database: `ntf_` and 24 hex characters, like
/// `parceld_store::notifications::new_notification_id`.
const NEW_NOTIFICATION_ID: &str =
    "'ntf_' || encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 12), 'hex')";

/// Writes the notifications that `changes` (just recorded in `tx`) cause: for each change,
/// each channel of its account's settings (the defaults when it has none), under the change's
/// status when the settings list it, else its sub-status when they list that; to the tracking's
/// recipient field of that channel when it has one and, for email, to each of the tracking's
/// page subscribers (but the customer's own address once); none the tracking already had for
/// that trigger, channel and recipient. One statement.
///
/// The changes come in as arrays, in their order, and the accounts with a channel are found
/// first (`st`); when none of the changes' accounts has one — the default — the statement reads
/// no tracking at all (the `EXISTS` is a one-time gate). Reading the changes back from
/// `tracking_changes` instead let the planner hash every tracking of the table for a batch of
/// 50, on a table whose statistics lag behind the refresh (100 ms a batch at 100,000).
pub(crate) async fn enqueue_changes(
    tx: &mut PgConnection,
    changes: &[TrackingChange],
    now: DateTime<Utc>,
) -> Result<u64> {
    if changes.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(&format!(
        "WITH st AS MATERIALIZED (SELECT a.account_id, \
                 COALESCE(s.settings, $3::jsonb) AS settings \
               FROM (SELECT DISTINCT unnest($4::int8[]) AS account_id) a \
               LEFT JOIN notification_settings s ON s.account_id = a.account_id \
               WHERE jsonb_array_length(COALESCE(s.settings, $3::jsonb) -> 'channels') > 0), \
         x AS (SELECT c.ord AS change_id, c.account_id, c.tracking_pk, c.event_id, ch.channel, \
                 CASE WHEN st.settings -> 'triggers' @> jsonb_build_array(c.status) \
                        THEN c.status \
                      WHEN st.settings -> 'triggers' @> jsonb_build_array(c.substatus) \
                        THEN c.substatus END AS trigger, \
                 btrim(COALESCE(CASE ch.channel WHEN 'email' THEN t.fields ->> 'customer_email' \
                      WHEN 'sms' THEN t.fields ->> 'customer_sms' END, '')) AS recipient \
               FROM UNNEST($1::text[], $5::int8[], $4::int8[], $6::text[], $7::text[]) \
                 WITH ORDINALITY AS c (event_id, tracking_pk, account_id, status, substatus, ord) \
               JOIN st ON st.account_id = c.account_id \
               JOIN trackings t ON t.pk = c.tracking_pk AND t.account_id = c.account_id \
               CROSS JOIN LATERAL jsonb_array_elements_text(st.settings -> 'channels') \
                 AS ch (channel) \
               WHERE EXISTS (SELECT 1 FROM st)) \
         INSERT INTO notifications (account_id, id, tracking_pk, event_id, trigger, channel, \
           recipient, language, state, attempts, next_attempt_at, created_at) \
         SELECT y.account_id, {NEW_NOTIFICATION_ID}, y.tracking_pk, y.event_id, y.trigger, \
           y.channel, y.recipient, y.language, 'pending', 0, $2, $2 \
         FROM (SELECT x.*, NULL::text AS language FROM x WHERE x.recipient <> '' \
               UNION ALL \
               SELECT x.change_id, x.account_id, x.tracking_pk, x.event_id, x.channel, \
                 x.trigger, sub.address, sub.language \
               FROM x JOIN notification_subscribers sub \
                 ON sub.tracking_pk = x.tracking_pk AND sub.account_id = x.account_id \
               WHERE x.channel = 'email' AND sub.address <> lower(x.recipient)) y \
         WHERE y.trigger IS NOT NULL \
         ORDER BY y.change_id, y.channel, y.language IS NOT NULL, y.recipient \
         ON CONFLICT (account_id, tracking_pk, trigger, channel, recipient) DO NOTHING"
    ))
    .bind(column(changes, |c| c.event_id.as_str()))
    .bind(millis(now))
    .bind(NotificationSettings::default().to_stored())
    .bind(column(changes, |c| c.account_id))
    .bind(column(changes, |c| c.tracking_pk))
    .bind(column(changes, |c| c.delivery_status.as_str()))
    .bind(column(changes, |c| c.substatus.map(|s| s.as_str())))
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

pub(crate) async fn settings(pool: &PgPool, account: AccountId) -> Result<NotificationSettings> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT settings::text FROM notification_settings WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(pool)
    .await?;
    Ok(NotificationSettings::from_stored(stored.as_deref())?)
}

pub(crate) async fn set_settings(
    pool: &PgPool,
    account: AccountId,
    settings: &NotificationSettings,
) -> Result<NotificationSettings> {
    let done = sqlx::query(
        "INSERT INTO notification_settings (account_id, settings) \
         SELECT id, $2::jsonb FROM accounts WHERE id = $1 \
         ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings",
    )
    .bind(account)
    .bind(settings.to_stored())
    .execute(pool)
    .await?;
    Ok(settings.written(done.rows_affected())?)
}

#[derive(FromRow)]
struct ClaimedRow {
    pk: i64,
    id: String,
    account_id: i64,
    tracking_pk: i64,
    event_id: String,
    trigger: String,
    channel: String,
    recipient: String,
    language: Option<String>,
    attempts: i64,
    created_at: DateTime<Utc>,
}

pub(crate) async fn claim(
    pool: &PgPool,
    limit: usize,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<ClaimedNotification>> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(
        "UPDATE notifications n SET lease_owner = $1, lease_until = $2 \
         FROM (SELECT pk, account_id FROM notifications \
               WHERE state = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
               ORDER BY next_attempt_at, pk LIMIT $4 FOR UPDATE SKIP LOCKED) due \
         WHERE n.pk = due.pk AND n.account_id = due.account_id \
         RETURNING n.pk, n.id, n.account_id, n.tracking_pk, n.event_id, n.trigger, n.channel, \
           n.recipient, n.language, n.attempts, n.created_at",
    )
    .bind(owner)
    .bind(millis(lease_until))
    .bind(millis(now))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let mut claimed = rows
        .into_iter()
        .map(|row| {
            Ok(ClaimedNotification {
                channel: Channel::from_stored(&row.channel)?,
                pk: row.pk,
                id: row.id,
                account_id: row.account_id,
                tracking_pk: row.tracking_pk,
                event_id: row.event_id,
                trigger: row.trigger,
                recipient: row.recipient,
                language: row.language,
                attempts: row.attempts,
                created_at: row.created_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    claimed.sort_by_key(|c| (c.created_at, c.pk));
    Ok(claimed)
}

pub(crate) async fn record(
    pool: &PgPool,
    owner: &str,
    records: &[NotificationRecord],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE notifications n SET state = r.state, attempts = n.attempts + r.attempt, \
           next_attempt_at = COALESCE(r.next, n.next_attempt_at), response = r.response, \
           finished_at = r.finished, lease_owner = NULL, lease_until = NULL \
         FROM UNNEST($2::int8[], $3::text[], $4::int8[], $5::timestamptz[], $6::text[], \
           $7::timestamptz[]) AS r (pk, state, attempt, next, response, finished) \
         WHERE n.pk = r.pk AND n.lease_owner = $1",
    )
    .bind(owner)
    .bind(column(records, |r| r.pk))
    .bind(column(records, |r| r.outcome.state()))
    .bind(column(records, |r| i64::from(r.outcome.is_attempt())))
    .bind(column(records, |r| r.outcome.next_attempt().map(millis)))
    .bind(column(records, |r| r.outcome.response()))
    .bind(column(records, |r| {
        r.outcome.next_attempt().is_none().then(|| millis(r.at))
    }))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn release(pool: &PgPool, owner: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notifications SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
    )
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected())
}

pub(crate) async fn sent_since(
    pool: &PgPool,
    accounts: &[AccountId],
    since: DateTime<Utc>,
) -> Result<Vec<(AccountId, u64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, count(*) FROM notifications \
         WHERE state = 'sent' AND account_id = ANY($1) AND finished_at >= $2 \
         GROUP BY account_id ORDER BY account_id",
    )
    .bind(accounts)
    .bind(millis(since))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, n)| (a, u64::try_from(n).unwrap_or(0)))
        .collect())
}

#[derive(FromRow)]
struct LoggedRow {
    id: String,
    trigger: String,
    channel: String,
    recipient: String,
    state: String,
    attempts: i64,
    response: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

pub(crate) async fn log(
    pool: &PgPool,
    account: AccountId,
    tracking: &TrackingId,
) -> Result<Option<Vec<NotificationInfo>>> {
    let pk: Option<i64> =
        sqlx::query_scalar("SELECT pk FROM trackings WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(tracking.to_bytes().to_vec())
            .fetch_optional(pool)
            .await?;
    let Some(pk) = pk else { return Ok(None) };
    let rows: Vec<LoggedRow> = sqlx::query_as(
        "SELECT id, trigger, channel, recipient, state, attempts, response, created_at, \
           finished_at FROM notifications WHERE account_id = $1 AND tracking_pk = $2 ORDER BY pk",
    )
    .bind(account)
    .bind(pk)
    .fetch_all(pool)
    .await?;
    let infos = rows
        .into_iter()
        .map(|row| {
            Ok(NotificationInfo {
                channel: Channel::from_stored(&row.channel)?,
                id: row.id,
                trigger: row.trigger,
                recipient: row.recipient,
                state: row.state,
                attempts: row.attempts,
                response: row.response,
                created_at: row.created_at,
                finished_at: row.finished_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(infos))
}

pub(crate) async fn unsubscribe(
    pool: &PgPool,
    recipient: &Recipient,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_unsubscribes (account_id, channel, address, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(recipient.account_id)
    .bind(recipient.channel.as_str())
    .bind(&recipient.address)
    .bind(millis(at))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn unsubscribed(
    pool: &PgPool,
    recipients: &[Recipient],
) -> Result<Vec<Recipient>> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT u.account_id, u.channel, u.address \
         FROM UNNEST($1::int8[], $2::text[], $3::text[]) AS r (account_id, channel, address) \
         JOIN notification_unsubscribes u ON u.account_id = r.account_id \
           AND u.channel = r.channel AND u.address = r.address",
    )
    .bind(column(recipients, |r| r.account_id))
    .bind(column(recipients, |r| r.channel.as_str()))
    .bind(column(recipients, |r| r.address.as_str()))
    .fetch_all(pool)
    .await?;
    Ok(Recipient::all_from_stored(rows)?)
}
