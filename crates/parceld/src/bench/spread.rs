//! The dashboard scenario's analytics data: the imported trackings spread over half a year,
//! eight couriers, ten destination countries and the statuses a shop's history has, so the
//! charts read as many counter rows as such a history leaves.
//!
//! The import stores trackings of one courier created in one moment, which would leave the
//! analytics counters a handful of rows. No path of parceld gives a tracking an earlier
//! creation time, so this is the one place the bench writes a table directly: one `UPDATE` of
//! the still pending trackings (those the refresh path did not touch), which goes through the
//! counters' triggers like every write of parceld's, so the counters are kept as they are in
//! service. Delivered ones get their delivery facts in the same statement (delivered 1 to 9
//! days after creation, 0 to 8 days in transit, one in eleven after a failed attempt). Day,
//! courier, country and status vary independently (every combination recurs every 288,000
//! trackings), so a million trackings fill every counter a shop of this size can have: the
//! most rows a chart can read.
//!
//! On PostgreSQL the update is followed by `VACUUM ANALYZE trackings`, as autovacuum would
//! follow it in service: without it the tables keep a million dead row versions and the planner
//! has no statistics of the new values.

use std::path::Path;

use chrono::Utc;

use super::backend::Backend;

/// Days the creation times are spread over.
pub(super) const DAYS: i64 = 180;

const SQLITE: &str = "UPDATE trackings SET \
    created_at = ?1 - (pk % 180) * 86400 - (pk % 86400), \
    courier_code = CASE (pk / 180) % 8 WHEN 0 THEN 'ups' WHEN 1 THEN 'fedex' WHEN 2 THEN 'dhl' \
        WHEN 3 THEN 'usps' WHEN 4 THEN 'postnl' WHEN 5 THEN 'royal-mail' WHEN 6 THEN 'dpd' \
        ELSE 'gls' END, \
    fields = json_set(fields, '$.destination_country_iso2', \
        substr('USDEGBFRNLCAAUESITSE', 1 + 2 * ((pk / 1440) % 10), 2)), \
    delivery_status = CASE WHEN (pk / 14400) % 20 < 14 THEN 'delivered' WHEN (pk / 14400) % 20 = 14 THEN 'pickup' \
        WHEN (pk / 14400) % 20 = 15 THEN 'undelivered' WHEN (pk / 14400) % 20 = 16 THEN 'exception' \
        WHEN (pk / 14400) % 20 = 17 THEN 'expired' ELSE 'pending' END, \
    delivered_day = CASE WHEN (pk / 14400) % 20 < 14 \
        THEN (?1 - (pk % 180) * 86400 - (pk % 86400)) / 86400 + 1 + (pk / 7) % 9 END, \
    transit_days = CASE WHEN (pk / 14400) % 20 < 14 THEN (pk / 7) % 9 END, \
    first_attempt = CASE WHEN (pk / 14400) % 20 < 14 THEN pk % 11 <> 0 END \
  WHERE delivery_status = 'pending'";

const POSTGRES: &str = "UPDATE trackings SET \
    created_at = to_timestamp($1 - (pk % 180) * 86400 - (pk % 86400)), \
    courier_code = CASE (pk / 180) % 8 WHEN 0 THEN 'ups' WHEN 1 THEN 'fedex' WHEN 2 THEN 'dhl' \
        WHEN 3 THEN 'usps' WHEN 4 THEN 'postnl' WHEN 5 THEN 'royal-mail' WHEN 6 THEN 'dpd' \
        ELSE 'gls' END, \
    fields = jsonb_set(fields, '{destination_country_iso2}', \
        to_jsonb(substr('USDEGBFRNLCAAUESITSE', (1 + 2 * ((pk / 1440) % 10))::int, 2))), \
    delivery_status = CASE WHEN (pk / 14400) % 20 < 14 THEN 'delivered' WHEN (pk / 14400) % 20 = 14 THEN 'pickup' \
        WHEN (pk / 14400) % 20 = 15 THEN 'undelivered' WHEN (pk / 14400) % 20 = 16 THEN 'exception' \
        WHEN (pk / 14400) % 20 = 17 THEN 'expired' ELSE 'pending' END, \
    delivered_day = CASE WHEN (pk / 14400) % 20 < 14 \
        THEN ($1 - (pk % 180) * 86400 - (pk % 86400)) / 86400 + 1 + (pk / 7) % 9 END, \
    transit_days = CASE WHEN (pk / 14400) % 20 < 14 THEN ((pk / 7) % 9)::int END, \
    first_attempt = CASE WHEN (pk / 14400) % 20 < 14 THEN pk % 11 <> 0 END \
  WHERE delivery_status = 'pending'";

/// Spreads the pending trackings of `dir`'s database (see the module's text); returns how many.
pub(super) async fn spread(backend: &Backend, dir: &Path) -> anyhow::Result<u64> {
    let now = Utc::now().timestamp();
    let url = backend.url(dir);
    Ok(match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await?;
            let done = sqlx::query(SQLITE).bind(now).execute(&pool).await?;
            pool.close().await;
            done.rows_affected()
        }
        Backend::Postgres(_) => {
            let pool = sqlx::PgPool::connect(&url).await?;
            let done = sqlx::query(POSTGRES).bind(now).execute(&pool).await?;
            // What autovacuum does after such an update, done now: this machine's server runs
            // without it, and a million dead row versions without statistics are not the
            // state a served database is in.
            sqlx::query("VACUUM ANALYZE trackings")
                .execute(&pool)
                .await?;
            pool.close().await;
            done.rows_affected()
        }
    })
}
