-- Trackings' pages keep a tenth free, so that a claim (which sets only `lease_owner` and
-- `lease_until`, in no index) can write the row's new version in the same page: a heap-only
-- update, which touches none of the table's fourteen indexes. In a full page (the default
-- fillfactor of 100, and every page of a bulk load) each claim wrote a new entry into every
-- index, and index insertion was a fifth of PostgreSQL's CPU in a refresh by two worker nodes
-- (`perf`: `btinsert` under `ExecInsertIndexTuples`). Pages written from now on follow it;
-- existing ones as they are rewritten.
ALTER TABLE trackings SET (fillfactor = 90);
