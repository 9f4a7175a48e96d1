//! Which multi-row statements stay prepared on their connection.
//!
//! sqlx keeps every statement it runs prepared on the connection that ran it, up to 100 per
//! connection (the least recently used is dropped). A multi-row `INSERT` built for N rows is a
//! different statement for every N, and a prepared one holds its whole program and a cell per
//! parameter: about 0.6 MiB for a 450-row checkpoint insert. The refresh, the outbox and the
//! creates write groups of every size, so each write connection slowly filled its cache with a
//! hundred such statements: in the soak the server's memory grew by about 0.25 MiB a second and
//! was on its way to several hundred MiB across the eight write connections
//! (docs/benchmarks.md, "A 10-minute soak").
//!
//! Two shapes recur: one row (a single create, one change) and a full chunk (bulk loads and big
//! refresh groups). Those stay prepared, at most two per builder and connection (about 1.5 MiB a
//! connection for the full chunks of all four builders); every other shape is prepared for its
//! one use and finalized after.

/// Whether a statement built for `rows` rows, of a builder that writes at most `chunk` rows at
/// once, should stay in the connection's statement cache.
pub(crate) fn keep_prepared(rows: usize, chunk: usize) -> bool {
    rows == 1 || rows == chunk
}

/// Releases every lease `owner` holds on the rows of `table` (the webhook deliveries, the
/// notifications: tables that keep `lease_owner` and `lease_until_ms`), as a graceful shutdown
/// does; returns how many. One statement.
pub(crate) async fn release_leases(
    pool: &sqlx::SqlitePool,
    table: &str,
    owner: &str,
) -> crate::error::Result<u64> {
    let sql = format!(
        "UPDATE {table} SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = ?"
    );
    let done = sqlx::query(&sql).bind(owner).execute(pool).await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recurring_shapes_are_kept() {
        assert!(keep_prepared(1, 500));
        assert!(keep_prepared(500, 500));
        assert!(!keep_prepared(2, 500));
        assert!(!keep_prepared(499, 500));
    }
}
