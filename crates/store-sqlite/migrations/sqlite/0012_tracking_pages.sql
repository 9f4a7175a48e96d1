-- The public tracking page: each account's branding, and finding trackings by order number.

-- One row per account that changed its page; an account without one gets the defaults. The
-- host name is its own column so that two accounts cannot claim the same one and a request's
-- Host finds its account on an index.
CREATE TABLE tracking_pages (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id),
    host        TEXT    UNIQUE,
    settings    TEXT    NOT NULL  -- PageSettings, JSON
);

-- Customers look their parcels up by order number: an index on the merchant field inside the
-- JSON column, only over the trackings that have one.
CREATE INDEX trackings_by_order_number
    ON trackings (account_id, json_extract(fields, '$.order_number'), pk)
    WHERE json_extract(fields, '$.order_number') IS NOT NULL;
