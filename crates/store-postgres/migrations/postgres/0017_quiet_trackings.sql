-- The dashboard's problems queue finds "stuck" trackings: in flight, with no new event for
-- longer than usual (parceld_store::quiet). This index reads them per account and status, in
-- the range of their latest event's time, whatever the account's size (as SQLite's 0018).
CREATE INDEX trackings_by_latest_event ON trackings (account_id, delivery_status, latest_checkpoint_time);
