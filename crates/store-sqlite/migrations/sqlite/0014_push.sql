-- Carrier push. A verified push's receipt (its source and the SHA-256 of its body), kept until
-- it expires so that a replay is refused; pruned and capped by parceld.
CREATE TABLE push_receipts (
    source      TEXT    NOT NULL,
    digest      BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (source, digest)
) WITHOUT ROWID;
CREATE INDEX push_receipts_by_expiry ON push_receipts (expires_at);
CREATE INDEX push_receipts_by_received ON push_receipts (received_at);

-- Which trackings a push source covers: subscribed until `covered_until` (or pushed lately),
-- or refused by the source (`refused` = 1, never asked again). Gone with its tracking.
CREATE TABLE push_coverage (
    tracking_pk   INTEGER PRIMARY KEY REFERENCES trackings(pk) ON DELETE CASCADE,
    source        TEXT    NOT NULL,
    covered_until INTEGER,
    refused       INTEGER NOT NULL DEFAULT 0
);

-- Pushes name a tracking by its number and courier, whatever the account: the look-up goes
-- through the unique (account_id, tracking_number, courier_code) index one account at a time
-- (store-sqlite/src/push.rs), so no index is added (each costs every tracking's row again).
