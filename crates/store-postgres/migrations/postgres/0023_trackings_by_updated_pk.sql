-- The dashboard's table sorted by last update pages from a position (updated_at, pk)
-- (parceld_store::sorting). The index on (account_id, updated_at) alone left the primary key of
-- equal times to a sort, and an import gives a whole batch one update time: a page 100 pages
-- deep sorted thousands of rows (p99 521 ms at 64 connections, 1,000,000 trackings). With the
-- primary key in the index the position is one index range, as in SQLite, whose index holds the
-- rowid. The `updated_*` filters use it as they used the old one.
CREATE INDEX trackings_by_updated_pk ON trackings (account_id, updated_at, pk);
DROP INDEX trackings_by_updated;
ALTER INDEX trackings_by_updated_pk RENAME TO trackings_by_updated;
