//! The dashboard's analytics reads (`parceld_store::analytics`) on PostgreSQL: its four reads,
//! each summed by the database, binding what `Read::params` lists, once the pending changes
//! are folded into the counters.

use parceld_store::analytics::{Param, Read};
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
    let sql = read.sql(filter);
    let mut query = sqlx::query_as::<_, O>(&sql);
    for param in read.params(account, filter) {
        query = match param {
            Param::Int(n) => query.bind(n),
            Param::Text(text) => query.bind(text),
        };
    }
    query.fetch_all(pool).await
}

/// The analytics counters of `account` for `filter`, after folding what writers left pending
/// (`fold.rs`), so every change committed before the call counts.
pub(crate) async fn analytics(
    pool: &PgPool,
    account: AccountId,
    filter: &AnalyticsFilter,
) -> BackendResult<Counters> {
    crate::fold::fold(pool, true).await?;
    Ok(Counters::from_rows(
        rows(pool, Read::Created, account, filter).await?,
        rows(pool, Read::Delivered, account, filter).await?,
        rows(pool, Read::Statuses, account, filter).await?,
        rows(pool, Read::Transit, account, filter).await?,
    )?)
}
