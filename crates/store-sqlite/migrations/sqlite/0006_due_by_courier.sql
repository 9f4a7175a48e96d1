-- The scheduler claims due trackings one courier at a time (so each carrier's work in flight
-- stays within what it can answer before a lease runs out); this index serves that claim.
CREATE INDEX trackings_due_by_courier ON trackings (courier_code, next_check_at)
    WHERE next_check_at IS NOT NULL;
