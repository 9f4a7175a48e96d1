-- parceld's first schema: accounts, API keys, trackings and their checkpoints.
-- Times are unix seconds (UTC).

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- A key is `pk_<lookup><secret>`; only its SHA-256 is stored. `lookup` finds the row, the hash is
-- then compared in constant time. Deleted keys keep their row so they can be told apart from
-- keys that never existed.
CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    lookup      TEXT    NOT NULL UNIQUE,
    hash        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);

CREATE TABLE trackings (
    pk                      INTEGER PRIMARY KEY,
    id                      TEXT    NOT NULL UNIQUE,
    account_id              INTEGER NOT NULL REFERENCES accounts(id),
    tracking_number         TEXT    NOT NULL,
    courier_code            TEXT    NOT NULL,
    delivery_status         TEXT    NOT NULL,
    substatus               TEXT,
    status_info             TEXT,
    latest_event            TEXT,
    latest_checkpoint_time  INTEGER,
    archived                INTEGER NOT NULL DEFAULT 0,
    fields                  TEXT    NOT NULL DEFAULT '{}',  -- merchant fields, JSON
    shipment                TEXT    NOT NULL DEFAULT '{}',  -- carrier-given shipment facts, JSON
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    last_checked_at         INTEGER,
    next_check_at           INTEGER,
    check_error             TEXT,
    UNIQUE (account_id, tracking_number, courier_code)
);

-- Listing is newest first (pk descending) within an account; one index per list filter.
CREATE INDEX trackings_by_account        ON trackings (account_id, pk);
CREATE INDEX trackings_by_status         ON trackings (account_id, delivery_status, pk);
CREATE INDEX trackings_by_courier        ON trackings (account_id, courier_code, pk);
CREATE INDEX trackings_by_archived       ON trackings (account_id, archived, pk);
CREATE INDEX trackings_by_created        ON trackings (account_id, created_at);
CREATE INDEX trackings_by_updated        ON trackings (account_id, updated_at);
CREATE INDEX trackings_by_number         ON trackings (account_id, tracking_number);
CREATE INDEX trackings_due               ON trackings (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE checkpoints (
    pk               INTEGER PRIMARY KEY,
    tracking_pk      INTEGER NOT NULL REFERENCES trackings(pk) ON DELETE CASCADE,
    leg              INTEGER NOT NULL,              -- 0 origin, 1 destination
    time             INTEGER NOT NULL,              -- UTC instant
    checkpoint_date  TEXT    NOT NULL,              -- as shown: local time with offset
    status           TEXT    NOT NULL,
    substatus        TEXT,
    detail           TEXT    NOT NULL DEFAULT '',
    location         TEXT    NOT NULL DEFAULT '',
    country_iso2     TEXT    NOT NULL DEFAULT '',
    state            TEXT    NOT NULL DEFAULT '',
    city             TEXT    NOT NULL DEFAULT '',
    zip              TEXT    NOT NULL DEFAULT '',
    raw_status       TEXT    NOT NULL DEFAULT '',
    fingerprint      TEXT    NOT NULL,
    UNIQUE (tracking_pk, fingerprint)
);
