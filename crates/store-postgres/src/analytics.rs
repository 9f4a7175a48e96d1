//! The dashboard's analytics reads (`parceld_store::analytics`) on PostgreSQL: its four reads,
//! each binding the same values in the same order, the country only when the filter names one.

use parceld_store::analytics::Read;
use parceld_store::backend::BackendResult;
use parceld_store::{AccountId, AnalyticsFilter, Counters};
use sqlx::postgres::PgRow;
use sqlx::PgPool;

/// One read's rows.
async fn rows<O>(
    pool: &PgPool,
    read: Read,
    account: AccountId,
    filter: &AnalyticsFilter,
) -> Result<Vec<O>, sqlx::Error>
where
    O: Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow>,
{
    let (first, last) = filter.bounds();
    let country = filter.country.as_deref();
    let sql = read.sql(country.is_some());
    #[rustfmt::skip]
    let query = sqlx::query_as::<_, O>(&sql)
        .bind(account).bind(first).bind(last).bind(filter.courier_code.as_deref());
    match country {
        Some(country) => query.bind(country).fetch_all(pool).await,
        None => query.fetch_all(pool).await,
    }
}

/// The analytics counters of `account` for `filter`.
pub(crate) async fn analytics(
    pool: &PgPool,
    account: AccountId,
    filter: &AnalyticsFilter,
) -> BackendResult<Counters> {
    Ok(Counters::from_rows(
        rows(pool, Read::Created, account, filter).await?,
        rows(pool, Read::Statuses, account, filter).await?,
        rows(pool, Read::Delivered, account, filter).await?,
        rows(pool, Read::Transit, account, filter).await?,
    )?)
}
