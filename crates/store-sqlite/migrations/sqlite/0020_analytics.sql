-- The dashboard's analytics (parceld_store::analytics): counters kept as trackings change, so a
-- chart over a million trackings reads a few thousand counter rows instead of the trackings.
--
-- The counters are kept by triggers on `trackings`, inside the statement that changes it, so
-- every path that writes trackings (create, import, refresh, push, update, retrack, delete,
-- retention, `db copy`) keeps them true without a line of its own. SQLite has row triggers
-- only; each is a few B-tree steps inside the statement that fired it (no statement of the
-- application's), and fires only when what a counter is keyed by changed, so claims, lease
-- releases and checks that change nothing cost nothing more.
--
-- A day is whole days since 1970-01-01 UTC; a destination country is the merchant's
-- `destination_country_iso2`, upper case, '' when unset.

-- What a tracking's delivery was, set once when it is first seen delivered (from its
-- checkpoints: the first delivered event; the first scan, that is the first event past
-- pending/notfound/inforeceived; whether a failed attempt came before) and kept after.
ALTER TABLE trackings ADD COLUMN delivered_day INTEGER;
ALTER TABLE trackings ADD COLUMN transit_days INTEGER;
ALTER TABLE trackings ADD COLUMN first_attempt INTEGER;

-- Trackings by the day they were created, courier, destination country and current status.
CREATE TABLE analytics_status (
    account_id    INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    courier_code  TEXT    NOT NULL,
    country       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trackings     INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, country, status)
) WITHOUT ROWID;

-- Delivered trackings by the day of delivery, courier, destination country and whole days from
-- the first scan to delivery; how many of them on the first attempt.
CREATE TABLE analytics_deliveries (
    account_id     INTEGER NOT NULL,
    day            INTEGER NOT NULL,
    courier_code   TEXT    NOT NULL,
    country        TEXT    NOT NULL,
    transit_days   INTEGER NOT NULL,
    delivered      INTEGER NOT NULL,
    first_attempt  INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, country, transit_days)
) WITHOUT ROWID;

-- When a tracking was delivered (its first delivered event, else its latest event, else its
-- last change) and first scanned (its first event past pending/notfound/inforeceived), in unix
-- seconds: what the facts above are made of.
CREATE VIEW analytics_delivery_times AS
SELECT t.pk AS pk,
       COALESCE((SELECT min(time) FROM checkpoints c WHERE c.tracking_pk = t.pk AND c.status = 'delivered'),
                t.latest_checkpoint_time, t.updated_at) AS d,
       (SELECT min(time) FROM checkpoints c WHERE c.tracking_pk = t.pk
           AND c.status NOT IN ('pending', 'notfound', 'inforeceived')) AS s
  FROM trackings t;

-- The facts of the trackings already delivered, then the counters of what is stored.
UPDATE trackings SET
    delivered_day = (SELECT d / 86400 FROM analytics_delivery_times v WHERE v.pk = trackings.pk),
    transit_days = (SELECT max(0, (d - COALESCE(s, d)) / 86400) FROM analytics_delivery_times v
                     WHERE v.pk = trackings.pk),
    first_attempt = NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.tracking_pk = trackings.pk
                                  AND c.status = 'undelivered')
  WHERE delivery_status = 'delivered';

INSERT INTO analytics_status (account_id, day, courier_code, country, status, trackings)
SELECT account_id, created_at / 86400, courier_code,
       upper(COALESCE(fields ->> '$.destination_country_iso2', '')), delivery_status, count(*)
  FROM trackings GROUP BY 1, 2, 3, 4, 5;

INSERT INTO analytics_deliveries (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
SELECT account_id, delivered_day, courier_code,
       upper(COALESCE(fields ->> '$.destination_country_iso2', '')), transit_days, count(*), sum(first_attempt)
  FROM trackings WHERE delivered_day IS NOT NULL GROUP BY 1, 2, 3, 4, 5;

-- One tracking entering (sign 1) or leaving (sign -1) the counters: the triggers on `trackings`
-- insert into this view, whose one trigger moves the counters, so what a counter is keyed by is
-- written once.
CREATE VIEW analytics_delta AS
SELECT 0 AS sign, 0 AS account_id, 0 AS created_at, '' AS courier_code, '{}' AS fields,
       '' AS status, NULL AS delivered_day, NULL AS transit_days, NULL AS first_attempt
 WHERE 0;

CREATE TRIGGER analytics_count INSTEAD OF INSERT ON analytics_delta BEGIN
    INSERT INTO analytics_status (account_id, day, courier_code, country, status, trackings)
    VALUES (NEW.account_id, NEW.created_at / 86400, NEW.courier_code,
            upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')), NEW.status, NEW.sign)
    ON CONFLICT DO UPDATE SET trackings = trackings + excluded.trackings;
    INSERT INTO analytics_deliveries (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
    SELECT NEW.account_id, NEW.delivered_day, NEW.courier_code,
           upper(COALESCE(NEW.fields ->> '$.destination_country_iso2', '')), NEW.transit_days,
           NEW.sign, NEW.sign * COALESCE(NEW.first_attempt, 0)
     WHERE NEW.delivered_day IS NOT NULL
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
                              first_attempt = first_attempt + excluded.first_attempt;
END;

CREATE TRIGGER analytics_tracking_added AFTER INSERT ON trackings BEGIN
    INSERT INTO analytics_delta VALUES (1, NEW.account_id, NEW.created_at, NEW.courier_code,
        NEW.fields, NEW.delivery_status, NEW.delivered_day, NEW.transit_days, NEW.first_attempt);
END;

CREATE TRIGGER analytics_tracking_removed AFTER DELETE ON trackings BEGIN
    INSERT INTO analytics_delta VALUES (-1, OLD.account_id, OLD.created_at, OLD.courier_code,
        OLD.fields, OLD.delivery_status, OLD.delivered_day, OLD.transit_days, OLD.first_attempt);
END;

-- A tracking whose counted keys changed leaves its old counters for its new ones.
CREATE TRIGGER analytics_tracking_moved
AFTER UPDATE OF delivery_status, courier_code, fields, delivered_day, created_at ON trackings
WHEN OLD.delivery_status IS NOT NEW.delivery_status
  OR OLD.created_at / 86400 IS NOT NEW.created_at / 86400
  OR OLD.courier_code IS NOT NEW.courier_code
  OR OLD.delivered_day IS NOT NEW.delivered_day
  OR OLD.fields ->> '$.destination_country_iso2' IS NOT NEW.fields ->> '$.destination_country_iso2'
BEGIN
    INSERT INTO analytics_delta VALUES
        (-1, OLD.account_id, OLD.created_at, OLD.courier_code, OLD.fields, OLD.delivery_status,
         OLD.delivered_day, OLD.transit_days, OLD.first_attempt),
        (1, NEW.account_id, NEW.created_at, NEW.courier_code, NEW.fields, NEW.delivery_status,
         NEW.delivered_day, NEW.transit_days, NEW.first_attempt);
END;

-- A tracking seen delivered for the first time gets its delivery's facts from its checkpoints
-- (stored before the tracking's new state, in the same transaction); the change of
-- `delivered_day` then moves it into the deliveries' counters (the trigger above).
CREATE TRIGGER analytics_tracking_delivered
AFTER UPDATE OF delivery_status ON trackings
WHEN NEW.delivery_status = 'delivered' AND NEW.delivered_day IS NULL
BEGIN
    UPDATE trackings SET
        delivered_day = (SELECT d / 86400 FROM analytics_delivery_times WHERE pk = NEW.pk),
        transit_days = (SELECT max(0, (d - COALESCE(s, d)) / 86400) FROM analytics_delivery_times
                         WHERE pk = NEW.pk),
        first_attempt = NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.tracking_pk = NEW.pk
                                      AND c.status = 'undelivered')
     WHERE pk = NEW.pk;
END;
