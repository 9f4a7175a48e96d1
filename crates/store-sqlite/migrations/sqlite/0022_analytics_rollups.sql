-- The analytics counters in the shapes the charts read (parceld_store::analytics): a chart over
-- half a year read every counter row of its days, country by country, and sorted them (about
-- 216,000 rows over 180 days for eight couriers and ten countries), which took SQLite tens of
-- milliseconds a page.
--
-- - `analytics_status_all` and `analytics_deliveries_all` hold the same counts with the
--   countries summed: what a page without a country filter reads, ten times fewer rows here.
-- - `analytics_status` and `analytics_deliveries` are keyed by country first, so a page for one
--   country reads that country's rows only.
--
-- The one trigger that moves counters (`analytics_count`, on the view `analytics_delta`) moves
-- all four; the triggers on `trackings` (0020) are unchanged.

DROP TRIGGER analytics_count;

CREATE TABLE analytics_status_by_country (
    account_id    INTEGER NOT NULL,
    country       TEXT    NOT NULL,
    day           INTEGER NOT NULL,
    courier_code  TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trackings     INTEGER NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code, status)
) WITHOUT ROWID;
INSERT INTO analytics_status_by_country (account_id, country, day, courier_code, status, trackings)
SELECT account_id, country, day, courier_code, status, trackings FROM analytics_status
 WHERE trackings <> 0;
DROP TABLE analytics_status;
ALTER TABLE analytics_status_by_country RENAME TO analytics_status;

CREATE TABLE analytics_deliveries_by_country (
    account_id     INTEGER NOT NULL,
    country        TEXT    NOT NULL,
    day            INTEGER NOT NULL,
    courier_code   TEXT    NOT NULL,
    transit_days   INTEGER NOT NULL,
    delivered      INTEGER NOT NULL,
    first_attempt  INTEGER NOT NULL,
    PRIMARY KEY (account_id, country, day, courier_code, transit_days)
) WITHOUT ROWID;
INSERT INTO analytics_deliveries_by_country
       (account_id, country, day, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, country, day, courier_code, transit_days, delivered, first_attempt
  FROM analytics_deliveries WHERE delivered <> 0;
DROP TABLE analytics_deliveries;
ALTER TABLE analytics_deliveries_by_country RENAME TO analytics_deliveries;

-- Trackings by the day they were created, courier and current status, every country.
CREATE TABLE analytics_status_all (
    account_id    INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    courier_code  TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trackings     INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, status)
) WITHOUT ROWID;
INSERT INTO analytics_status_all (account_id, day, courier_code, status, trackings)
SELECT account_id, day, courier_code, status, sum(trackings) FROM analytics_status
 GROUP BY 1, 2, 3, 4 HAVING sum(trackings) <> 0;

-- Delivered trackings by the day of delivery, courier and transit days, every country.
CREATE TABLE analytics_deliveries_all (
    account_id     INTEGER NOT NULL,
    day            INTEGER NOT NULL,
    courier_code   TEXT    NOT NULL,
    transit_days   INTEGER NOT NULL,
    delivered      INTEGER NOT NULL,
    first_attempt  INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, transit_days)
) WITHOUT ROWID;
INSERT INTO analytics_deliveries_all (account_id, day, courier_code, transit_days, delivered, first_attempt)
SELECT account_id, day, courier_code, transit_days, sum(delivered), sum(first_attempt)
  FROM analytics_deliveries GROUP BY 1, 2, 3, 4 HAVING sum(delivered) <> 0;

CREATE TRIGGER analytics_count INSTEAD OF INSERT ON analytics_delta BEGIN
    INSERT INTO analytics_status (account_id, country, day, courier_code, status, trackings)
    VALUES (NEW.account_id, upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')),
            NEW.created_at / 86400, NEW.courier_code, NEW.status, NEW.sign)
    ON CONFLICT DO UPDATE SET trackings = trackings + excluded.trackings;
    INSERT INTO analytics_status_all (account_id, day, courier_code, status, trackings)
    VALUES (NEW.account_id, NEW.created_at / 86400, NEW.courier_code, NEW.status, NEW.sign)
    ON CONFLICT DO UPDATE SET trackings = trackings + excluded.trackings;
    INSERT INTO analytics_deliveries
           (account_id, country, day, courier_code, transit_days, delivered, first_attempt)
    SELECT NEW.account_id, upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')),
           NEW.delivered_day, NEW.courier_code, NEW.transit_days,
           NEW.sign, NEW.sign * COALESCE(NEW.first_attempt, 0)
     WHERE NEW.delivered_day IS NOT NULL
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
                              first_attempt = first_attempt + excluded.first_attempt;
    INSERT INTO analytics_deliveries_all
           (account_id, day, courier_code, transit_days, delivered, first_attempt)
    SELECT NEW.account_id, NEW.delivered_day, NEW.courier_code, NEW.transit_days,
           NEW.sign, NEW.sign * COALESCE(NEW.first_attempt, 0)
     WHERE NEW.delivered_day IS NOT NULL
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
                              first_attempt = first_attempt + excluded.first_attempt;
END;
