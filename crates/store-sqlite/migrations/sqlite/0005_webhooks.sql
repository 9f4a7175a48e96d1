-- Webhooks: per-account endpoints, the outbox of deliveries and the log of their attempts.
--
-- Deliveries are written by the refresh engine in the same transaction as the tracking change
-- they announce (one per enabled endpoint whose status filter matches), so a change is never
-- announced without being stored nor stored without being announced. The dispatcher claims due
-- deliveries with a lease, like the scheduler claims trackings, so a worker that dies loses
-- nothing: its leases expire and another round sends again, with the same event id.
--
-- Times in these tables are unix milliseconds (`_ms`): retry delays and latencies need more than
-- whole seconds.

CREATE TABLE webhook_endpoints (
    pk               INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,          -- wh_<hex>
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    url              TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    statuses         TEXT    NOT NULL DEFAULT '[]',    -- JSON array of statuses; [] means all
    version          TEXT    NOT NULL DEFAULT 'v4',    -- payload format: v4 or v2
    enabled          INTEGER NOT NULL DEFAULT 1,
    secret           TEXT    NOT NULL,                 -- whsec_<base64>
    disabled_reason  TEXT,                             -- why parceld disabled it, if it did
    failing_since_ms INTEGER,                          -- first failure of the current failing run
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_id, pk);

CREATE TABLE webhook_deliveries (
    pk               INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,          -- dlv_<hex>
    endpoint_pk      INTEGER NOT NULL REFERENCES webhook_endpoints(pk) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL,
    event            TEXT    NOT NULL,                 -- TRACKING_UPDATED or TEST
    event_id         TEXT    NOT NULL,                 -- the change's id; webhook-id header
    tracking_pk      INTEGER,                          -- no cascade: the log outlives the tracking
    state            TEXT    NOT NULL,                 -- pending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,       -- attempts since (re)queued
    next_attempt_ms  INTEGER,
    lease_owner      TEXT,
    lease_until_ms   INTEGER,
    payload          TEXT,                             -- the body, fixed at the first attempt
    created_ms       INTEGER NOT NULL,
    finished_ms      INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms) WHERE state = 'pending';
-- Per (endpoint, tracking) order: a delivery waits while an older one of the pair is pending.
CREATE INDEX webhook_deliveries_pair ON webhook_deliveries (endpoint_pk, tracking_pk, pk)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_pk, pk);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_ms);

CREATE TABLE webhook_attempts (
    pk               INTEGER PRIMARY KEY,
    delivery_pk      INTEGER NOT NULL REFERENCES webhook_deliveries(pk) ON DELETE CASCADE,
    attempted_ms     INTEGER NOT NULL,
    http_status      INTEGER,                          -- none when no response came
    latency_ms       INTEGER NOT NULL,
    error            TEXT,
    response_snippet TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_pk, pk);
