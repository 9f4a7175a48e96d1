-- Per-account rate-limit overrides (JSON object of requests per second by limit class;
-- empty means the server's configured defaults).
ALTER TABLE accounts ADD COLUMN rate_limits TEXT NOT NULL DEFAULT '{}';
