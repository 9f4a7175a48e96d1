-- Counters a half-year chart reads a few thousand rows of (parceld_store::analytics), as the
-- SQLite backend's (migrations/sqlite/0023_analytics_weeks.sql):
--
-- - `analytics_status_weeks` and `analytics_deliveries_weeks`: the status and delivery counters
--   by seven-day block since 1970-01-01 instead of day. A range's whole weeks come from them,
--   the few days around them from the daily counters.
-- - `analytics_created_days` and `analytics_delivered_days`: trackings created, and delivered,
--   per day and courier, for the per-day chart. Two tables, not one with two columns: each
--   moves with the counters its changes come with. A refresh moves the delivery counters (in
--   the nested update that fixes delivery facts), then the status ones; a create moves only
--   the status ones. One shared table would have been taken in opposite orders by the two, and
--   they deadlocked.
--
-- Both hold a row per destination country and one under '*' with the countries summed. They
-- follow the per-country counters as the summed tables do (0021): statement triggers of their
-- own on the two counter tables add what each of their statements added, grouped, in key order.

CREATE FUNCTION parceld_week(day bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (day - ((day % 7) + 7) % 7) / 7 $$;

CREATE TABLE analytics_status_weeks (
    account_id    bigint NOT NULL,
    week          bigint NOT NULL,
    country       text   NOT NULL,
    trackings     bigint NOT NULL,
    courier_code  text   NOT NULL,
    status        text   NOT NULL,
    PRIMARY KEY (account_id, country, week, courier_code, status)
);

CREATE TABLE analytics_deliveries_weeks (
    account_id     bigint  NOT NULL,
    week           bigint  NOT NULL,
    country        text    NOT NULL,
    delivered      bigint  NOT NULL,
    first_attempt  bigint  NOT NULL,
    courier_code   text    NOT NULL,
    transit_days   integer NOT NULL,
    PRIMARY KEY (account_id, country, week, courier_code, transit_days)
);

CREATE TABLE analytics_created_days (
    account_id bigint NOT NULL, country text NOT NULL, day bigint NOT NULL,
    courier_code text NOT NULL, trackings bigint NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code)
);

CREATE TABLE analytics_delivered_days (
    account_id bigint NOT NULL, delivered bigint NOT NULL, country text NOT NULL,
    day bigint NOT NULL, courier_code text NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code)
);

-- What is counted already, per country and summed.
INSERT INTO analytics_status_weeks (account_id, country, week, courier_code, status, trackings)
SELECT account_id, place, parceld_week(day), courier_code, status, sum(trackings)
  FROM analytics_status CROSS JOIN LATERAL (VALUES (country), ('*')) p(place)
 GROUP BY 1, 2, 3, 4, 5 HAVING sum(trackings) <> 0;

INSERT INTO analytics_deliveries_weeks
       (account_id, country, week, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, place, parceld_week(day), courier_code, transit_days, sum(delivered),
       sum(first_attempt)
  FROM analytics_deliveries CROSS JOIN LATERAL (VALUES (country), ('*')) p(place)
 GROUP BY 1, 2, 3, 4, 5 HAVING sum(delivered) <> 0 OR sum(first_attempt) <> 0;

INSERT INTO analytics_created_days (account_id, country, day, courier_code, trackings)
SELECT account_id, place, day, courier_code, sum(trackings)
  FROM analytics_status CROSS JOIN LATERAL (VALUES (country), ('*')) p(place)
 GROUP BY 1, 2, 3, 4 HAVING sum(trackings) <> 0;

INSERT INTO analytics_delivered_days (account_id, country, day, courier_code, delivered)
SELECT account_id, place, day, courier_code, sum(delivered)
  FROM analytics_deliveries CROSS JOIN LATERAL (VALUES (country), ('*')) p(place)
 GROUP BY 1, 2, 3, 4 HAVING sum(delivered) <> 0;

-- Beside `parceld_analytics_sum` (0021), on the same statements of the counter tables.
CREATE FUNCTION parceld_analytics_weeks() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    -- What the statement added, each row with its sign, once under its country and once
    -- under '*' (every country).
    placed text := format(
        'SELECT d.*, p.place FROM (%s) d CROSS JOIN LATERAL (VALUES (d.country), (''*'')) p(place)',
        CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM new_rows'
            ELSE 'SELECT *, 1 AS sign FROM new_rows UNION ALL SELECT *, -1 FROM old_rows' END);
BEGIN
    IF TG_TABLE_NAME = 'analytics_deliveries' THEN
        EXECUTE format(
            'INSERT INTO analytics_deliveries_weeks AS w
                    (account_id, country, week, courier_code, transit_days, delivered, first_attempt)
             SELECT account_id, place, parceld_week(day), courier_code, transit_days,
                    sum(sign * delivered), sum(sign * first_attempt) FROM (%s) d
              GROUP BY 1, 2, 3, 4, 5
             HAVING sum(sign * delivered) <> 0 OR sum(sign * first_attempt) <> 0
              ORDER BY 1, 2, 3, 4, 5
             ON CONFLICT (account_id, country, week, courier_code, transit_days)
             DO UPDATE SET delivered = w.delivered + excluded.delivered,
                           first_attempt = w.first_attempt + excluded.first_attempt', placed);
    ELSE
        EXECUTE format(
            'INSERT INTO analytics_status_weeks AS w
                    (account_id, country, week, courier_code, status, trackings)
             SELECT account_id, place, parceld_week(day), courier_code, status,
                    sum(sign * trackings) FROM (%s) d
              GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign * trackings) <> 0 ORDER BY 1, 2, 3, 4, 5
             ON CONFLICT (account_id, country, week, courier_code, status)
             DO UPDATE SET trackings = w.trackings + excluded.trackings', placed);
    END IF;
    -- The per-day table of the same kind: trackings created with the status counters,
    -- deliveries with the delivery counters (the counted column has one name in both tables).
    EXECUTE format(
        'INSERT INTO %1$s AS t (account_id, country, day, courier_code, %2$s)
         SELECT account_id, place, day, courier_code, sum(sign * %2$s)
           FROM (%3$s) d GROUP BY 1, 2, 3, 4 HAVING sum(sign * %2$s) <> 0 ORDER BY 1, 2, 3, 4
         ON CONFLICT (account_id, country, day, courier_code) DO UPDATE
            SET %2$s = t.%2$s + excluded.%2$s',
        CASE TG_TABLE_NAME WHEN 'analytics_status' THEN 'analytics_created_days'
            ELSE 'analytics_delivered_days' END,
        CASE TG_TABLE_NAME WHEN 'analytics_status' THEN 'trackings' ELSE 'delivered' END,
        placed);
    RETURN NULL;
END
$$;

CREATE TRIGGER analytics_status_weeks_added AFTER INSERT ON analytics_status REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_weeks();
CREATE TRIGGER analytics_status_weeks_changed AFTER UPDATE ON analytics_status REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_weeks();
CREATE TRIGGER analytics_deliveries_weeks_added AFTER INSERT ON analytics_deliveries REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_weeks();
CREATE TRIGGER analytics_deliveries_weeks_changed AFTER UPDATE ON analytics_deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_weeks();
