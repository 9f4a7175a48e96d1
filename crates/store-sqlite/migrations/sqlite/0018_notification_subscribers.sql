-- Email updates asked for on the tracking page (parceld_store::subscribers), and the outbox
-- keyed by recipient too: a tracking's customer and its subscribers each get their own
-- notification of a change, still at most one per tracking, trigger, channel and recipient.

-- At most five per tracking (checked by the store when it writes); the tracking's deletion
-- takes its subscribers' addresses along.
CREATE TABLE notification_subscribers (
    pk           INTEGER PRIMARY KEY,  -- the key `parceld db copy` goes by
    account_id   INTEGER NOT NULL,
    tracking_pk  INTEGER NOT NULL REFERENCES trackings(pk) ON DELETE CASCADE,
    address      TEXT    NOT NULL,  -- parceld_store::notifications::recipient_key
    language     TEXT    NOT NULL,  -- the page's language when they subscribed
    created_ms   INTEGER NOT NULL,
    UNIQUE (tracking_pk, address)
);

-- SQLite cannot change a table's unique key in place: the outbox is rebuilt with the wider key
-- and a language column (set for a subscriber's notification, NULL for the customer's).
-- Its columns as in migration 0015, then the language.
CREATE TABLE notifications_keyed (
    pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id INTEGER NOT NULL,
    tracking_pk INTEGER NOT NULL REFERENCES trackings(pk) ON DELETE CASCADE,
    event_id TEXT NOT NULL, trigger TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')), recipient TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL,
    lease_owner TEXT, lease_until_ms INTEGER, response TEXT,
    created_ms INTEGER NOT NULL, finished_ms INTEGER,
    language TEXT,  -- a subscriber's; NULL: the tracking's
    UNIQUE (tracking_pk, trigger, channel, recipient)
);
INSERT INTO notifications_keyed (pk, id, account_id, tracking_pk, event_id, trigger, channel,
    recipient, state, attempts, next_attempt_ms, lease_owner, lease_until_ms, response,
    created_ms, finished_ms)
SELECT pk, id, account_id, tracking_pk, event_id, trigger, channel, recipient, state, attempts,
    next_attempt_ms, lease_owner, lease_until_ms, response, created_ms, finished_ms
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_keyed RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (next_attempt_ms, pk) WHERE state = 'pending';
CREATE INDEX notifications_sent ON notifications (account_id, finished_ms) WHERE state = 'sent';
