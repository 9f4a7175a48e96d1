-- The dashboard's table sorts by the time of the last event (parceld_store::sorting), over
-- every tracking: trackings_by_latest_event (0018) holds only those in flight. A tracking with
-- no event sorts as 0001-01-01 (parceld_store::sorting::NO_EVENT_SECONDS), as in SQLite, which
-- puts NULLs at the other end; the statement sorts by this same expression, and the primary
-- key orders equal times.
CREATE INDEX trackings_by_last_event
  ON trackings (account_id, COALESCE(latest_checkpoint_time, '0001-01-01 00:00:00+00'::timestamptz), pk);
