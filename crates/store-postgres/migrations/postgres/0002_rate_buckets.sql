-- Each account's token bucket per limit class, so that its rate limit is one total across every
-- node on this database (see src/rate_buckets.rs). Unlogged: a bucket is worth nothing after a
-- crash (it starts full again), and skipping the write-ahead log keeps the one write per request
-- cheap. One row per account and class.
CREATE UNLOGGED TABLE rate_buckets (
    account_id   bigint           NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    class        text             NOT NULL,
    -- Tokens left after the last request, and when (seconds since the epoch, the server's clock).
    tokens       double precision NOT NULL,
    refilled_at  double precision NOT NULL,
    -- Whether the last request found a token.
    allowed      boolean          NOT NULL,
    PRIMARY KEY (account_id, class)
);
