-- The refresh engine's bookkeeping: claims with a lease (so a crashed worker's claims come back),
-- consecutive carrier failures (for back-off), when a tracking was first "not found" (for expiry),
-- and the change records that webhooks are derived from.

ALTER TABLE trackings ADD COLUMN lease_owner TEXT;
ALTER TABLE trackings ADD COLUMN lease_until INTEGER;
ALTER TABLE trackings ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trackings ADD COLUMN notfound_since INTEGER;

-- One row per real change of a tracking (a new checkpoint or a new status), written in the same
-- transaction as the change itself. `event_id` is the stable id webhook deliveries carry.
CREATE TABLE tracking_changes (
    id               INTEGER PRIMARY KEY,
    event_id         TEXT    NOT NULL UNIQUE,
    tracking_pk      INTEGER NOT NULL REFERENCES trackings(pk) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL,
    delivery_status  TEXT    NOT NULL,
    substatus        TEXT,
    new_checkpoints  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX tracking_changes_by_tracking ON tracking_changes (tracking_pk, id);
