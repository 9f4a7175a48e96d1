-- The dashboard's problems queue finds "stuck" trackings: in flight, with no new event for
-- longer than usual (parceld_store::quiet). This index reads them per account in the range of
-- their latest event's time. It is partial, on the statuses in flight only (the term the
-- filter writes, parceld_store::quiet::IN_FLIGHT_SQL), so delivered and pending trackings,
-- most of a database, cost it nothing.
CREATE INDEX trackings_by_latest_event ON trackings (account_id, latest_checkpoint_time)
  WHERE delivery_status IN ('inforeceived', 'transit', 'pickup');
