-- The analytics counters in the shapes the charts read (parceld_store::analytics), as the
-- SQLite backend's (migrations/sqlite/0022_analytics_rollups.sql):
--
-- - `analytics_status_all` and `analytics_deliveries_all` hold the same counts with the
--   countries summed: what a page without a country filter reads, ten times fewer rows than
--   summing the countries at every read;
-- - `analytics_status` and `analytics_deliveries` are keyed by country first, so a page for one
--   country reads that country's rows only.
--
-- The sums follow the per-country counters: statement triggers on the two counter tables add
-- what each of their statements added (the rows it inserted, and the updated rows' new counts
-- less their old ones), so the triggers on `trackings` (0019) stay as they are, and statements
-- that change nothing counted (claims, leases) cost nothing more.

ALTER TABLE analytics_status DROP CONSTRAINT analytics_status_pkey,
    ADD PRIMARY KEY (account_id, country, day, courier_code, status);
ALTER TABLE analytics_deliveries DROP CONSTRAINT analytics_deliveries_pkey,
    ADD PRIMARY KEY (account_id, country, day, courier_code, transit_days);

-- Trackings by the day they were created, courier and current status, every country.
CREATE TABLE analytics_status_all (
    account_id    bigint NOT NULL,
    trackings     bigint NOT NULL,
    day           bigint NOT NULL,
    courier_code  text   NOT NULL,
    status        text   NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, status)
);
INSERT INTO analytics_status_all
SELECT account_id, sum(trackings), day, courier_code, status FROM analytics_status
 GROUP BY account_id, day, courier_code, status HAVING sum(trackings) <> 0;

-- Delivered trackings by the day of delivery, courier and days in transit, all countries.
CREATE TABLE analytics_deliveries_all (
    account_id     bigint  NOT NULL,
    delivered      bigint  NOT NULL,
    first_attempt  bigint  NOT NULL,
    day            bigint  NOT NULL,
    courier_code   text    NOT NULL,
    transit_days   integer NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, transit_days)
);
INSERT INTO analytics_deliveries_all
       (account_id, day, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, day, courier_code, transit_days, sum(delivered), sum(first_attempt)
  FROM analytics_deliveries GROUP BY 1, 2, 3, 4 HAVING sum(delivered) <> 0;

CREATE FUNCTION parceld_analytics_sum() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    -- What the statement added, each row with its sign.
    added text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM new_rows'
        ELSE 'SELECT *, 1 AS sign FROM new_rows UNION ALL SELECT *, -1 FROM old_rows' END;
BEGIN
    IF TG_TABLE_NAME = 'analytics_status' THEN
        EXECUTE format(
            'INSERT INTO analytics_status_all AS a (account_id, day, courier_code, status, trackings)
             SELECT account_id, day, courier_code, status, sum(sign * trackings) FROM (%s) d
              GROUP BY 1, 2, 3, 4 HAVING sum(sign * trackings) <> 0 ORDER BY 1, 2, 3, 4
             ON CONFLICT (account_id, day, courier_code, status)
             DO UPDATE SET trackings = a.trackings + excluded.trackings', added);
    ELSE
        EXECUTE format(
            'INSERT INTO analytics_deliveries_all AS a
                    (account_id, day, courier_code, transit_days, delivered, first_attempt)
             SELECT account_id, day, courier_code, transit_days, sum(sign * delivered),
                    sum(sign * first_attempt)
               FROM (%s) d GROUP BY 1, 2, 3, 4
             HAVING sum(sign * delivered) <> 0 OR sum(sign * first_attempt) <> 0
              ORDER BY 1, 2, 3, 4
             ON CONFLICT (account_id, day, courier_code, transit_days)
             DO UPDATE SET delivered = a.delivered + excluded.delivered,
                           first_attempt = a.first_attempt + excluded.first_attempt', added);
    END IF;
    RETURN NULL;
END
$$;

-- Each counter table's statements: the rows an INSERT (or the insert of an upsert) added, and
-- what an UPDATE (or the update of an upsert) changed.
DO $$
DECLARE
    counted text;
BEGIN
    FOREACH counted IN ARRAY ARRAY['analytics_status', 'analytics_deliveries'] LOOP
        EXECUTE format('CREATE TRIGGER %1$s_added AFTER INSERT ON %1$s
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_sum()', counted);
        EXECUTE format('CREATE TRIGGER %1$s_changed AFTER UPDATE ON %1$s
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_sum()', counted);
    END LOOP;
END
$$;
