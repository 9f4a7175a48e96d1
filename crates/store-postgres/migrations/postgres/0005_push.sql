-- Carrier push. A verified push's receipt (its source and the SHA-256 of its body), kept until
-- it expires so that a replay is refused; pruned and capped by parceld.
CREATE TABLE push_receipts (
    source      text        NOT NULL,
    digest      bytea       NOT NULL,
    received_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (source, digest)
);
CREATE INDEX push_receipts_by_expiry ON push_receipts (expires_at);
CREATE INDEX push_receipts_by_received ON push_receipts (received_at);

-- Which trackings a push source covers: subscribed until `covered_until` (or pushed lately),
-- or refused by the source (`refused`, never asked again). Gone with its tracking.
CREATE TABLE push_coverage (
    tracking_pk   bigint      NOT NULL,
    account_id    bigint      NOT NULL,
    source        text        NOT NULL,
    covered_until timestamptz,
    refused       boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tracking_pk, account_id),
    FOREIGN KEY (tracking_pk, account_id) REFERENCES trackings (pk, account_id) ON DELETE CASCADE
);

-- Pushes name a tracking by its number and courier, whatever the account.
CREATE INDEX trackings_by_number ON trackings (tracking_number, courier_code);
