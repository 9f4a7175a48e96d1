-- Requests counted per account, limit class and fixed window, so that an account's rate limit
-- is one total across every node on this database (see src/rate_windows.rs). Unlogged: counts
-- of the current second are worth nothing after a crash, and skipping the write-ahead log keeps
-- the one write per request cheap. Each count forgets the account's older windows of its
-- class, so the table holds about one row per account and class.
CREATE UNLOGGED TABLE rate_windows (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    class       text   NOT NULL,
    window_no   bigint NOT NULL,
    used        bigint NOT NULL,
    PRIMARY KEY (account_id, class, window_no)
);
