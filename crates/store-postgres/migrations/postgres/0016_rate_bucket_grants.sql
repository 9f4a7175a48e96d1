-- How many tokens the last take granted: a node takes several at once when its own traffic uses
-- them up quickly (crates/api/src/ratelimit.rs), so a yes/no no longer says enough.
ALTER TABLE rate_buckets ADD COLUMN granted integer NOT NULL DEFAULT 0;
