-- The dashboard's table sorts by the time of the last event (parceld_store::sorting), over
-- every tracking: trackings_by_latest_event (0019) holds only those in flight. A tracking with
-- no event sorts as 0001-01-01 (parceld_store::sorting::NO_EVENT_SECONDS), as in PostgreSQL,
-- which puts NULLs at the other end; the statement sorts by this same expression. SQLite keeps
-- the primary key after the columns, which orders equal times.
CREATE INDEX trackings_by_last_event
  ON trackings (account_id, coalesce(latest_checkpoint_time, -62135596800));
