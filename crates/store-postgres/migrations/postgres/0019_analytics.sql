-- The dashboard's analytics (parceld_store::analytics): counters kept as trackings change, so a
-- chart over a million trackings reads a few thousand counter rows instead of the trackings.
-- The same tables and rules as the SQLite backend's (migrations/sqlite/0020_analytics.sql).
--
-- The counters are kept by statement triggers on `trackings` with transition tables: whatever
-- statement writes trackings (create, import, refresh, push, update, retrack, delete,
-- retention, `db copy`), the counters move in the same transaction by one grouped
-- `INSERT … ON CONFLICT` per table for the whole statement, never a statement per row. The
-- grouped rows are written in key order, so two transactions meet on counter rows in the same
-- order. Every key starts with `account_id` (docs/scaling.md).
--
-- A day is whole days since 1970-01-01 UTC; a destination country is the merchant's
-- `destination_country_iso2`, upper case, '' when unset.

-- What a tracking's delivery was, set once when it is first seen delivered and kept after.
ALTER TABLE trackings
    ADD COLUMN delivered_day bigint,
    ADD COLUMN transit_days  integer,
    ADD COLUMN first_attempt boolean;

-- Trackings by the day they were created, courier, destination country and current status.
CREATE TABLE analytics_status (
    account_id    bigint NOT NULL,
    day           bigint NOT NULL,
    courier_code  text   NOT NULL,
    country       text   NOT NULL,
    status        text   NOT NULL,
    trackings     bigint NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, country, status)
);

-- Delivered trackings by the day of delivery, courier, destination country and whole days from
-- the first scan to delivery; how many of them on the first attempt.
CREATE TABLE analytics_deliveries (
    account_id     bigint  NOT NULL,
    day            bigint  NOT NULL,
    courier_code   text    NOT NULL,
    country        text    NOT NULL,
    transit_days   integer NOT NULL,
    delivered      bigint  NOT NULL,
    first_attempt  bigint  NOT NULL,
    PRIMARY KEY (account_id, day, courier_code, country, transit_days)
);

CREATE FUNCTION parceld_day(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM t) / 86400)::bigint $$;

CREATE FUNCTION parceld_country(fields jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT upper(COALESCE(fields ->> 'destination_country_iso2', '')) $$;

-- A delivered tracking's facts from its checkpoints: delivered at its first delivered event
-- (else its latest event, else its last change), first scanned at its first event past
-- pending/notfound/inforeceived, and whether a failed attempt came before.
CREATE FUNCTION parceld_delivery_facts(
    account bigint, tracking bigint, latest timestamptz, updated timestamptz,
    OUT delivered_day bigint, OUT transit_days integer, OUT first_attempt boolean)
    LANGUAGE sql STABLE
    AS $$
    SELECT parceld_day(d),
           greatest(0, floor(extract(epoch FROM d - COALESCE(s, d)) / 86400))::integer,
           NOT attempted
      FROM (SELECT COALESCE(
                     (SELECT min(c.time) FROM checkpoints c WHERE c.account_id = account
                         AND c.tracking_pk = tracking AND c.status = 'delivered'),
                     latest, updated) AS d,
                   (SELECT min(c.time) FROM checkpoints c WHERE c.account_id = account
                       AND c.tracking_pk = tracking
                       AND c.status NOT IN ('pending', 'notfound', 'inforeceived')) AS s,
                   EXISTS (SELECT 1 FROM checkpoints c WHERE c.account_id = account
                       AND c.tracking_pk = tracking AND c.status = 'undelivered') AS attempted) x
    $$;

-- The counters of the trackings stored before this migration (before the triggers exist, so
-- nothing is counted twice), their facts first.
UPDATE trackings t
   SET (delivered_day, transit_days, first_attempt) = (SELECT * FROM
        parceld_delivery_facts(t.account_id, t.pk, t.latest_checkpoint_time, t.updated_at))
 WHERE delivery_status = 'delivered';
INSERT INTO analytics_status (account_id, day, courier_code, country, status, trackings)
SELECT account_id, parceld_day(created_at), courier_code, parceld_country(fields),
       delivery_status, count(*)
  FROM trackings GROUP BY 1, 2, 3, 4, 5;
INSERT INTO analytics_deliveries
       (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
SELECT account_id, delivered_day, courier_code, parceld_country(fields), transit_days,
       count(*), count(*) FILTER (WHERE first_attempt)
  FROM trackings WHERE delivered_day IS NOT NULL GROUP BY 1, 2, 3, 4, 5;

-- Moves the counters for the rows one statement changed: each row of `source` (over the
-- statement's transition tables, which only the trigger's own function sees) counts with its
-- `sign`, 1 entering and -1 leaving.
CREATE FUNCTION parceld_analytics_trigger() RETURNS trigger
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
        -- query (planned once per session) says so before the two dynamic ones are planned.
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
        'INSERT INTO analytics_status AS a (account_id, day, courier_code, country, status, trackings)
         SELECT account_id, parceld_day(created_at), courier_code, parceld_country(fields),
                delivery_status, sum(sign)
           FROM (%s) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
         ON CONFLICT (account_id, day, courier_code, country, status)
         DO UPDATE SET trackings = a.trackings + excluded.trackings', source);
    EXECUTE format(
        'INSERT INTO analytics_deliveries AS a
                (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
         SELECT account_id, delivered_day, courier_code, parceld_country(fields), transit_days,
                sum(sign), sum(sign * first_attempt::int)
           FROM (%s) d WHERE delivered_day IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2, 3, 4, 5
         ON CONFLICT (account_id, day, courier_code, country, transit_days)
         DO UPDATE SET delivered = a.delivered + excluded.delivered,
                       first_attempt = a.first_attempt + excluded.first_attempt', source);
    RETURN NULL;
END
$$;

CREATE TRIGGER analytics_tracking_added AFTER INSERT ON trackings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_trigger();
CREATE TRIGGER analytics_tracking_removed AFTER DELETE ON trackings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_trigger();
CREATE TRIGGER analytics_tracking_moved AFTER UPDATE ON trackings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parceld_analytics_trigger();
