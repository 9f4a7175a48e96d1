-- Counters a half-year chart reads a few thousand rows of (parceld_store::analytics): every
-- day's rows of 180 days were about 22,000 for eight couriers, about 8 ms of CPU a page.
--
-- - `analytics_status_weeks` and `analytics_deliveries_weeks`: the status and delivery counters
--   by seven-day block since 1970-01-01 instead of day. A range's whole weeks come from them,
--   the few days around them from the daily counters.
-- - `analytics_created_days` and `analytics_delivered_days`: trackings created, and delivered,
--   per day and courier, for the per-day chart, which read every status and transit row of
--   every day before. Two tables, not one with two columns: on PostgreSQL each belongs with the
--   counters its changes come with (a refresh moves the delivery counters, then the status
--   ones; a create moves only the status ones), so no two transactions take them in opposite
--   orders. SQLite keeps the same tables.
--
-- Both hold a row per destination country and one under '*' with the countries summed. The
-- trigger beside the one that moves the counters (`analytics_count_weeks`, beside
-- `analytics_count`) moves these.

CREATE TABLE analytics_status_weeks (
    account_id    INTEGER NOT NULL,
    country       TEXT    NOT NULL,
    week          INTEGER NOT NULL,
    courier_code  TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trackings     INTEGER NOT NULL,
    PRIMARY KEY (account_id, country, week, courier_code, status)
) WITHOUT ROWID;

CREATE TABLE analytics_deliveries_weeks (
    account_id     INTEGER NOT NULL,
    country        TEXT    NOT NULL,
    week           INTEGER NOT NULL,
    courier_code   TEXT    NOT NULL,
    transit_days   INTEGER NOT NULL,
    delivered      INTEGER NOT NULL,
    first_attempt  INTEGER NOT NULL,
    PRIMARY KEY (account_id, country, week, courier_code, transit_days)
) WITHOUT ROWID;

CREATE TABLE analytics_created_days (
    account_id INTEGER NOT NULL, country TEXT NOT NULL, day INTEGER NOT NULL,
    courier_code TEXT NOT NULL, trackings INTEGER NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code)
) WITHOUT ROWID;

CREATE TABLE analytics_delivered_days (
    account_id INTEGER NOT NULL, delivered INTEGER NOT NULL, country TEXT NOT NULL,
    day INTEGER NOT NULL, courier_code TEXT NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code)
) WITHOUT ROWID;

-- What is counted already, per country and summed. A week is (day - ((day % 7) + 7) % 7) / 7.
INSERT INTO analytics_status_weeks (account_id, country, week, courier_code, status, trackings)
SELECT account_id, place, (day - ((day % 7) + 7) % 7) / 7, courier_code, status, sum(trackings)
  FROM (SELECT *, country AS place FROM analytics_status
        UNION ALL SELECT *, '*' FROM analytics_status)
 GROUP BY 1, 2, 3, 4, 5 HAVING sum(trackings) <> 0;

INSERT INTO analytics_deliveries_weeks
       (account_id, country, week, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, place, (day - ((day % 7) + 7) % 7) / 7, courier_code, transit_days,
       sum(delivered), sum(first_attempt)
  FROM (SELECT *, country AS place FROM analytics_deliveries
        UNION ALL SELECT *, '*' FROM analytics_deliveries)
 GROUP BY 1, 2, 3, 4, 5 HAVING sum(delivered) <> 0 OR sum(first_attempt) <> 0;

INSERT INTO analytics_created_days (account_id, country, day, courier_code, trackings)
SELECT account_id, place, day, courier_code, sum(trackings)
  FROM (SELECT *, country AS place FROM analytics_status
        UNION ALL SELECT *, '*' FROM analytics_status)
 GROUP BY 1, 2, 3, 4 HAVING sum(trackings) <> 0;

INSERT INTO analytics_delivered_days (account_id, country, day, courier_code, delivered)
SELECT account_id, place, day, courier_code, sum(delivered)
  FROM (SELECT *, country AS place FROM analytics_deliveries
        UNION ALL SELECT *, '*' FROM analytics_deliveries)
 GROUP BY 1, 2, 3, 4 HAVING sum(delivered) <> 0;

-- A second trigger on the view the counters' trigger (`analytics_count`, 0022) reads: SQLite
-- fires both for each change.
CREATE TRIGGER analytics_count_weeks INSTEAD OF INSERT ON analytics_delta BEGIN
    INSERT INTO analytics_status_weeks (account_id, country, week, courier_code, status, trackings)
    SELECT NEW.account_id, place,
           (NEW.created_at / 86400 - ((NEW.created_at / 86400 % 7) + 7) % 7) / 7,
           NEW.courier_code, NEW.status, NEW.sign
      FROM (SELECT upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')) AS place
            UNION ALL SELECT '*')
     WHERE true
    ON CONFLICT DO UPDATE SET trackings = trackings + excluded.trackings;
    INSERT INTO analytics_created_days (account_id, country, day, courier_code, trackings)
    SELECT NEW.account_id, place, NEW.created_at / 86400, NEW.courier_code, NEW.sign
      FROM (SELECT upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')) AS place
            UNION ALL SELECT '*')
     WHERE true
    ON CONFLICT DO UPDATE SET trackings = trackings + excluded.trackings;
    INSERT INTO analytics_deliveries_weeks
           (account_id, country, week, courier_code, transit_days, delivered, first_attempt)
    SELECT NEW.account_id, place,
           (NEW.delivered_day - ((NEW.delivered_day % 7) + 7) % 7) / 7,
           NEW.courier_code, NEW.transit_days, NEW.sign, NEW.sign * COALESCE(NEW.first_attempt, 0)
      FROM (SELECT upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')) AS place
            UNION ALL SELECT '*')
     WHERE NEW.delivered_day IS NOT NULL
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
                              first_attempt = first_attempt + excluded.first_attempt;
    INSERT INTO analytics_delivered_days (account_id, country, day, courier_code, delivered)
    SELECT NEW.account_id, place, NEW.delivered_day, NEW.courier_code, NEW.sign
      FROM (SELECT upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')) AS place
            UNION ALL SELECT '*')
     WHERE NEW.delivered_day IS NOT NULL
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered;
END;
