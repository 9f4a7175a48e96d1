-- The delivery claim counts each endpoint's deliveries in flight (leased and pending); this index
-- makes that a scan of the deliveries in flight instead of every pending one.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until_ms, endpoint_pk)
    WHERE state = 'pending' AND lease_until_ms IS NOT NULL;
