//! Notifications in SQLite (migration 0015): the outbox the refresh writes ([`enqueue_changes`],
//! called by `refresh.rs` inside its transaction), claims with a lease, outcomes recorded in
//! one statement per batch, the per-tracking log, opt-outs and the daily counts; the page's
//! subscriptions are in `subscribers.rs`.
//!
//! Times are unix milliseconds, like the webhook tables. Every call is a bounded number of
//! statements whatever the batch size: batches go in as one JSON array read with `json_each`.

use chrono::{DateTime, Utc};
use parceld_model::TrackingId;
use parceld_store::notifications::{
    Channel, ClaimedNotification, NotificationInfo, NotificationRecord, NotificationSettings,
    Recipient,
};
use parceld_store::AccountId;
use serde_json::json;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::Result;
use crate::rows::{from_ms, ms};
pub(crate) use crate::subscribers::subscribe;

/// Writes the notifications that the changes (their event ids as a JSON array, just inserted
/// in `tx`) cause, created `now` (unix milliseconds): for each change, each channel of its
/// account's settings (the defaults when the account has none), under the change's status when
/// the settings list it, else its sub-status when they list that; to the tracking's recipient
/// field of that channel when it has one and, for email, to each of the tracking's page
/// subscribers (but the customer's own address once). A notification the tracking already had
/// for that trigger, channel and recipient is not written again. One statement.
pub(crate) async fn enqueue_changes(
    tx: &mut SqliteConnection,
    changes: &str,
    now: i64,
) -> Result<u64> {
    let listed = |column: &str| {
        format!(
            "EXISTS (SELECT 1 FROM json_each(COALESCE(s.settings, ?3), '$.triggers') g \
             WHERE g.value = c.{column})"
        )
    };
    let sql = format!(
        "WITH x AS (SELECT c.id AS change_id, c.account_id, c.tracking_pk, c.event_id, \
                 ch.value AS channel, \
                 CASE WHEN {status} THEN c.delivery_status \
                      WHEN {substatus} THEN c.substatus END AS trigger, \
                 trim(COALESCE(CASE ch.value WHEN 'email' THEN t.fields ->> '$.customer_email' \
                      WHEN 'sms' THEN t.fields ->> '$.customer_sms' END, '')) AS recipient \
               FROM tracking_changes c \
               JOIN trackings t ON t.pk = c.tracking_pk \
               LEFT JOIN notification_settings s ON s.account_id = c.account_id \
               JOIN json_each(COALESCE(s.settings, ?3), '$.channels') ch \
               WHERE c.event_id IN (SELECT value FROM json_each(?1))) \
         INSERT INTO notifications (id, account_id, tracking_pk, event_id, trigger, channel, \
           recipient, language, state, attempts, next_attempt_ms, created_ms) \
         SELECT 'ntf_' || lower(hex(randomblob(12))), y.account_id, y.tracking_pk, y.event_id, \
           y.trigger, y.channel, y.recipient, y.language, 'pending', 0, ?2, ?2 \
         FROM (SELECT x.*, NULL AS language FROM x WHERE x.recipient <> '' \
               UNION ALL \
               SELECT x.change_id, x.account_id, x.tracking_pk, x.event_id, x.channel, \
                 x.trigger, sub.address, sub.language \
               FROM x JOIN notification_subscribers sub ON sub.tracking_pk = x.tracking_pk \
               WHERE x.channel = 'email' AND sub.address <> lower(x.recipient)) AS y \
         WHERE y.trigger IS NOT NULL \
         ORDER BY y.change_id, y.channel, y.language IS NOT NULL, y.recipient \
         ON CONFLICT (tracking_pk, trigger, channel, recipient) DO NOTHING",
        status = listed("delivery_status"),
        substatus = listed("substatus"),
    );
    Ok(sqlx::query(&sql)
        .bind(changes)
        .bind(now)
        .bind(NotificationSettings::default().to_stored())
        .execute(&mut *tx)
        .await?
        .rows_affected())
}

pub(crate) async fn settings(
    pool: &SqlitePool,
    account: AccountId,
) -> Result<NotificationSettings> {
    let select = "SELECT settings FROM notification_settings WHERE account_id = ?";
    let query = sqlx::query_scalar::<_, String>(select).bind(account);
    let stored = query.fetch_optional(pool).await?;
    Ok(NotificationSettings::from_stored(stored.as_deref())?)
}

pub(crate) async fn set_settings(
    pool: &SqlitePool,
    account: AccountId,
    settings: &NotificationSettings,
) -> Result<NotificationSettings> {
    let upsert = "INSERT INTO notification_settings (account_id, settings) \
         SELECT id, ?2 FROM accounts WHERE id = ?1 \
         ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings";
    let query = sqlx::query(upsert).bind(account).bind(settings.to_stored());
    Ok(settings.written(query.execute(pool).await?.rows_affected())?)
}

pub(crate) async fn claim(
    pool: &SqlitePool,
    limit: usize,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<ClaimedNotification>> {
    let rows = sqlx::query(
        "UPDATE notifications SET lease_owner = ?1, lease_until_ms = ?2 \
         WHERE pk IN (SELECT pk FROM notifications \
             WHERE state = 'pending' AND next_attempt_ms <= ?3 \
               AND (lease_until_ms IS NULL OR lease_until_ms < ?3) \
             ORDER BY next_attempt_ms, pk LIMIT ?4) \
         RETURNING pk, id, account_id, tracking_pk, event_id, trigger, channel, recipient, \
           language, attempts, created_ms",
    )
    .bind(owner)
    .bind(ms(lease_until))
    .bind(ms(now))
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(ClaimedNotification {
                pk: row.get("pk"),
                id: row.get("id"),
                account_id: row.get("account_id"),
                tracking_pk: row.get("tracking_pk"),
                event_id: row.get("event_id"),
                trigger: row.get("trigger"),
                channel: Channel::from_stored(row.get("channel"))?,
                recipient: row.get("recipient"),
                language: row.get("language"),
                attempts: row.get("attempts"),
                created_at: from_ms(row.get("created_ms")),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // RETURNING comes in no promised order; the dispatcher sends the earliest first.
    claimed.sort_by_key(|c| (c.created_at, c.pk));
    Ok(claimed)
}

pub(crate) async fn record(
    pool: &SqlitePool,
    owner: &str,
    records: &[NotificationRecord],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let next = r.outcome.next_attempt().map(ms);
            json!({
                "pk": r.pk,
                "state": r.outcome.state(),
                "attempt": i64::from(r.outcome.is_attempt()),
                "next": next,
                "response": r.outcome.response(),
                "finished": next.is_none().then(|| ms(r.at)),
            })
        })
        .collect();
    sqlx::query(
        "UPDATE notifications SET state = r.value ->> 'state', \
           attempts = attempts + (r.value ->> 'attempt'), \
           next_attempt_ms = COALESCE(r.value ->> 'next', next_attempt_ms), \
           response = r.value ->> 'response', finished_ms = r.value ->> 'finished', \
           lease_owner = NULL, lease_until_ms = NULL \
         FROM json_each(?1) AS r \
         WHERE notifications.pk = r.value ->> 'pk' AND notifications.lease_owner = ?2",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn release(pool: &SqlitePool, owner: &str) -> Result<u64> {
    crate::statements::release_leases(pool, "notifications", owner).await
}

pub(crate) async fn sent_since(
    pool: &SqlitePool,
    accounts: &[AccountId],
    since: DateTime<Utc>,
) -> Result<Vec<(AccountId, u64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, COUNT(*) FROM notifications \
         WHERE state = 'sent' AND account_id IN (SELECT value FROM json_each(?1)) \
           AND finished_ms >= ?2 \
         GROUP BY account_id ORDER BY account_id",
    )
    .bind(serde_json::to_string(accounts).expect("integers serialise"))
    .bind(ms(since))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(a, n)| (a, n as u64)).collect())
}

pub(crate) async fn log(
    pool: &SqlitePool,
    account: AccountId,
    tracking: &TrackingId,
) -> Result<Option<Vec<NotificationInfo>>> {
    let pk: Option<i64> =
        sqlx::query_scalar("SELECT pk FROM trackings WHERE id = ? AND account_id = ?")
            .bind(tracking.to_bytes().to_vec())
            .bind(account)
            .fetch_optional(pool)
            .await?;
    let Some(pk) = pk else { return Ok(None) };
    let rows = sqlx::query(
        "SELECT id, trigger, channel, recipient, state, attempts, response, created_ms, \
           finished_ms FROM notifications WHERE tracking_pk = ? ORDER BY pk",
    )
    .bind(pk)
    .fetch_all(pool)
    .await?;
    let infos = rows
        .iter()
        .map(|row| {
            Ok(NotificationInfo {
                id: row.get("id"),
                trigger: row.get("trigger"),
                channel: Channel::from_stored(row.get("channel"))?,
                recipient: row.get("recipient"),
                state: row.get("state"),
                attempts: row.get("attempts"),
                response: row.get("response"),
                created_at: from_ms(row.get("created_ms")),
                finished_at: row.get::<Option<i64>, _>("finished_ms").map(from_ms),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(infos))
}

pub(crate) async fn unsubscribe(
    pool: &SqlitePool,
    recipient: &Recipient,
    at: DateTime<Utc>,
) -> Result<()> {
    // One JSON array, read like the batches of `unsubscribed`.
    let row = json!([
        recipient.account_id,
        recipient.channel.as_str(),
        recipient.address,
        ms(at)
    ]);
    let insert =
        "INSERT INTO notification_unsubscribes (account_id, channel, address, created_ms) \
         SELECT ?1 ->> 0, ?1 ->> 1, ?1 ->> 2, ?1 ->> 3 WHERE true ON CONFLICT DO NOTHING";
    sqlx::query(insert)
        .bind(row.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn unsubscribed(
    pool: &SqlitePool,
    recipients: &[Recipient],
) -> Result<Vec<Recipient>> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let asked: Vec<serde_json::Value> = recipients
        .iter()
        .map(|r| json!([r.account_id, r.channel.as_str(), r.address]))
        .collect();
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT u.account_id, u.channel, u.address FROM json_each(?1) AS r \
         JOIN notification_unsubscribes u ON u.account_id = r.value ->> 0 \
           AND u.channel = r.value ->> 1 AND u.address = r.value ->> 2",
    )
    .bind(serde_json::Value::Array(asked).to_string())
    .fetch_all(pool)
    .await?;
    Ok(Recipient::all_from_stored(rows)?)
}
