-- The public tracking page: each account's branding, and finding trackings by order number
-- (the same as SQLite's migration 0012).

-- A shop's own host name for its page: unique among accounts, so it lives on `accounts` (the
-- one table keyed by the account alone, which a distributed setup keeps whole on every node),
-- and a request's Host finds its account on this index.
ALTER TABLE accounts ADD COLUMN page_host text UNIQUE;

-- The rest of the settings, one row per account that changed its page; an account without one
-- gets the defaults.
CREATE TABLE tracking_pages (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    settings    jsonb  NOT NULL  -- PageSettings
);

-- Customers look their parcels up by order number: an index on the merchant field inside the
-- JSON column, only over the trackings that have one.
CREATE INDEX trackings_by_order_number
    ON trackings (account_id, (fields ->> 'order_number'), pk)
    WHERE (fields ->> 'order_number') IS NOT NULL;
