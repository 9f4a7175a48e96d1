-- The analytics counters in the shapes the charts read (parceld_store::analytics), as the
-- SQLite backend's (migrations/sqlite/0022_analytics_rollups.sql):
--
-- - `analytics_status_all` and `analytics_deliveries_all` hold the same counts with the
--   countries summed: what a page without a country filter reads, ten times fewer rows than
--   summing the countries at every read;
-- - `analytics_status` and `analytics_deliveries` are keyed by country first, so a page for one
--   country reads that country's rows only.
--
-- The statement trigger moves all four, two statements per statement of `trackings` that
-- changed something counted (each writes a table and its every-country sum from one reading
-- of the changed rows).

ALTER TABLE analytics_status DROP CONSTRAINT analytics_status_pkey,
    ADD PRIMARY KEY (account_id, country, day, courier_code, status);
ALTER TABLE analytics_deliveries DROP CONSTRAINT analytics_deliveries_pkey,
    ADD PRIMARY KEY (account_id, country, day, courier_code, transit_days);

-- Trackings by the day they were created, courier and current status, every country.
CREATE TABLE analytics_status_all (
    account_id    bigint NOT NULL,
    day           bigint NOT NULL,
    courier_code  text   NOT NULL,
    status        text   NOT NULL,
    trackings     bigint NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, status)
);
INSERT INTO analytics_status_all (account_id, day, courier_code, status, trackings)
SELECT account_id, day, courier_code, status, sum(trackings) FROM analytics_status
 GROUP BY 1, 2, 3, 4 HAVING sum(trackings) <> 0;

-- Delivered trackings by the day of delivery, courier and transit days, every country.
CREATE TABLE analytics_deliveries_all (
    account_id     bigint  NOT NULL,
    day            bigint  NOT NULL,
    courier_code   text    NOT NULL,
    transit_days   integer NOT NULL,
    delivered      bigint  NOT NULL,
    first_attempt  bigint  NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, transit_days)
);
INSERT INTO analytics_deliveries_all
       (account_id, day, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, day, courier_code, transit_days, sum(delivered), sum(first_attempt)
  FROM analytics_deliveries GROUP BY 1, 2, 3, 4 HAVING sum(delivered) <> 0;

-- As in 0019, with each grouped insert followed by its every-country sum in the same
-- statement.
CREATE OR REPLACE FUNCTION parceld_analytics_trigger() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    source text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        source := 'SELECT 1 AS sign, * FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        source := 'SELECT -1 AS sign, * FROM old_rows';
    ELSE
        -- Trackings seen delivered for the first time get their facts (this update fires the
        -- trigger again, which counts them among the deliveries; a statement trigger fires for
        -- no rows too, hence the test first).
        IF EXISTS (SELECT 1 FROM new_rows
                    WHERE delivery_status = 'delivered' AND delivered_day IS NULL) THEN
        UPDATE trackings t
           SET (delivered_day, transit_days, first_attempt) = (SELECT * FROM
                parceld_delivery_facts(t.account_id, t.pk, t.latest_checkpoint_time, t.updated_at))
          FROM new_rows n
         WHERE t.pk = n.pk AND t.account_id = n.account_id
           AND n.delivery_status = 'delivered' AND n.delivered_day IS NULL;
        END IF;
        -- Most updates (claims, leases, refresh times) change nothing counted: a static
        -- query (planned once per session) says so before the dynamic ones are planned.
        IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (pk, account_id)
                        WHERE (o.delivery_status, o.courier_code, parceld_country(o.fields),
                               o.delivered_day, parceld_day(o.created_at))
                              IS DISTINCT FROM
                              (n.delivery_status, n.courier_code, parceld_country(n.fields),
                               n.delivered_day, parceld_day(n.created_at))) THEN
            RETURN NULL;
        END IF;
        -- Rows whose counted keys changed leave their old counters for their new ones.
        source := 'SELECT m.* FROM old_rows o JOIN new_rows n USING (pk, account_id)
               CROSS JOIN LATERAL (SELECT -1 AS sign, o.* UNION ALL SELECT 1, n.*) m
              WHERE (o.delivery_status, o.courier_code, parceld_country(o.fields), o.delivered_day,
                     parceld_day(o.created_at))
                    IS DISTINCT FROM
                    (n.delivery_status, n.courier_code, parceld_country(n.fields), n.delivered_day,
                     parceld_day(n.created_at))';
    END IF;
    EXECUTE format(
        'WITH d AS MATERIALIZED (
             SELECT account_id, parceld_country(fields) AS country, parceld_day(created_at) AS day,
                    courier_code, delivery_status AS status, sign FROM (%s) x),
         by_country AS (
             INSERT INTO analytics_status AS a
                    (account_id, country, day, courier_code, status, trackings)
             SELECT account_id, country, day, courier_code, status, sum(sign) FROM d
              GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
             ON CONFLICT (account_id, country, day, courier_code, status)
             DO UPDATE SET trackings = a.trackings + excluded.trackings)
         INSERT INTO analytics_status_all AS a (account_id, day, courier_code, status, trackings)
         SELECT account_id, day, courier_code, status, sum(sign) FROM d
          GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4
         ON CONFLICT (account_id, day, courier_code, status)
         DO UPDATE SET trackings = a.trackings + excluded.trackings', source);
    EXECUTE format(
        'WITH d AS MATERIALIZED (
             SELECT account_id, parceld_country(fields) AS country, delivered_day AS day,
                    courier_code, transit_days, sign, sign * first_attempt::int AS first
               FROM (%s) x WHERE delivered_day IS NOT NULL),
         by_country AS (
             INSERT INTO analytics_deliveries AS a
                    (account_id, country, day, courier_code, transit_days, delivered, first_attempt)
             SELECT account_id, country, day, courier_code, transit_days, sum(sign), sum(first)
               FROM d GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
             ON CONFLICT (account_id, country, day, courier_code, transit_days)
             DO UPDATE SET delivered = a.delivered + excluded.delivered,
                           first_attempt = a.first_attempt + excluded.first_attempt)
         INSERT INTO analytics_deliveries_all AS a
                (account_id, day, courier_code, transit_days, delivered, first_attempt)
         SELECT account_id, day, courier_code, transit_days, sum(sign), sum(first)
           FROM d GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4
         ON CONFLICT (account_id, day, courier_code, transit_days)
         DO UPDATE SET delivered = a.delivered + excluded.delivered,
                       first_attempt = a.first_attempt + excluded.first_attempt', source);
    RETURN NULL;
END
$$;
