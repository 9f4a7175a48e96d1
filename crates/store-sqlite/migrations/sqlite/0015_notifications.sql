-- Notifications to a shop's customers (email, SMS): each account's settings, the outbox the
-- refresh writes in its transaction, and the recipients who opted out.

-- One row per account that changed its settings; an account without one gets the defaults.
CREATE TABLE notification_settings (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id),
    settings    TEXT    NOT NULL  -- NotificationSettings, JSON
);

-- The outbox and the log in one: a row per notification, pending until sent, failed or
-- suppressed. At most one per tracking, trigger (status or sub-status) and channel: the unique
-- key is what makes "in transit" notify only the first time. The tracking's deletion takes its
-- notifications (and the customer's address in them) along.
CREATE TABLE notifications (
    pk               INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,  -- ntf_<hex>; the email's Message-ID
    account_id       INTEGER NOT NULL,
    tracking_pk      INTEGER NOT NULL REFERENCES trackings(pk) ON DELETE CASCADE,
    event_id         TEXT    NOT NULL,         -- the change that caused it
    trigger          TEXT    NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'suppressed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until_ms   INTEGER,
    response         TEXT,                     -- the server's last answer, or why not sent
    created_ms       INTEGER NOT NULL,
    finished_ms      INTEGER,
    UNIQUE (tracking_pk, trigger, channel)
);
CREATE INDEX notifications_due ON notifications (next_attempt_ms, pk) WHERE state = 'pending';
-- The daily caps count each account's notifications sent since midnight.
CREATE INDEX notifications_sent ON notifications (account_id, finished_ms) WHERE state = 'sent';

-- Opt-outs, honoured forever for that address (or number) and account.
CREATE TABLE notification_unsubscribes (
    pk          INTEGER PRIMARY KEY,  -- the key `parceld db copy` goes by
    account_id  INTEGER NOT NULL,
    channel     TEXT    NOT NULL,
    address     TEXT    NOT NULL,  -- parceld_store::notifications::recipient_key
    created_ms  INTEGER NOT NULL,
    UNIQUE (account_id, channel, address)
);
