-- Counted changes wait in two append-only tables and are folded into the analytics counters
-- (0019, 0021, 0022) in batches, instead of being added to the counters by every statement that
-- writes trackings.
--
-- Why: every refresh, push or create of the same day, courier, country and status adds to the
-- same counter row, and `INSERT … ON CONFLICT DO UPDATE` keeps that row locked until the
-- writer commits. With many writers at once (a node's refresh batches, and worse, several
-- nodes) each waited for the one before it to commit: sampled in `pg_stat_activity`, nearly
-- every refresh was waiting on `Lock:transactionid` in its `UPDATE trackings`, and two worker
-- nodes refreshed less than one. An insert into a table without a key locks nothing another
-- writer wants.
--
-- `parceld_analytics_fold` moves what is pending into the counters in one transaction (the
-- triggers of 0021 and 0022 then move the sums, the weeks and the days as before); one fold at
-- a time, under an advisory lock. Each node folds every second (store-postgres/src/fold.rs),
-- and the analytics reads fold first, so a chart counts every change committed before it.

CREATE TABLE analytics_status_pending (
    account_id    bigint NOT NULL,
    trackings     bigint NOT NULL,
    day           bigint NOT NULL,
    courier_code  text   NOT NULL,
    country       text   NOT NULL,
    status        text   NOT NULL
);

CREATE TABLE analytics_deliveries_pending (
    account_id     bigint  NOT NULL,
    delivered      bigint  NOT NULL,
    first_attempt  bigint  NOT NULL,
    day            bigint  NOT NULL,
    courier_code   text    NOT NULL,
    country        text    NOT NULL,
    transit_days   integer NOT NULL
);

-- The trigger of 0019 with its writes going to the pending tables: the same rows with their
-- signs, grouped per statement, without a conflict to wait on. An update (every refresh and
-- push) is counted by one static statement, which PL/pgSQL plans once per session, where 0019
-- planned two dynamic ones each time; it inserts nothing when no counted key moved (claims,
-- leases, refresh times). Creates and deletes, a statement per batch, stay dynamic.
CREATE OR REPLACE FUNCTION parceld_analytics_trigger() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    source text := 'SELECT 1 AS sign, * FROM new_rows';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- First delivery: the facts, in a nested update that fires this trigger again.
        IF EXISTS (SELECT 1 FROM new_rows
                    WHERE delivery_status = 'delivered' AND delivered_day IS NULL) THEN
            UPDATE trackings t SET (delivered_day, transit_days, first_attempt) = (SELECT * FROM
                    parceld_delivery_facts(t.account_id, t.pk, t.latest_checkpoint_time,
                                           t.updated_at))
              FROM new_rows n
             WHERE t.pk = n.pk AND t.account_id = n.account_id
               AND n.delivery_status = 'delivered' AND n.delivered_day IS NULL;
        END IF;
        WITH m AS MATERIALIZED (
            SELECT m.account_id, parceld_day(m.created_at) AS day, m.courier_code,
                   parceld_country(m.fields) AS country, m.delivery_status, m.delivered_day,
                   m.transit_days, m.first_attempt, m.sign
              FROM old_rows o JOIN new_rows n USING (pk, account_id)
             CROSS JOIN LATERAL (SELECT -1 AS sign, o.* UNION ALL SELECT 1, n.*) m
             WHERE (o.delivery_status, o.courier_code, parceld_country(o.fields),
                    o.delivered_day, parceld_day(o.created_at))
                   IS DISTINCT FROM
                   (n.delivery_status, n.courier_code, parceld_country(n.fields),
                    n.delivered_day, parceld_day(n.created_at))),
        statuses AS (
            INSERT INTO analytics_status_pending
                   (account_id, day, courier_code, country, status, trackings)
            SELECT account_id, day, courier_code, country, delivery_status, sum(sign) FROM m
             GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0)
        INSERT INTO analytics_deliveries_pending
               (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
        SELECT account_id, delivered_day, courier_code, country, transit_days, sum(sign),
               sum(sign * first_attempt::int)
          FROM m WHERE delivered_day IS NOT NULL GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        source := 'SELECT -1 AS sign, * FROM old_rows';
    END IF;
    EXECUTE format(
        'INSERT INTO analytics_status_pending
                (account_id, day, courier_code, country, status, trackings)
         SELECT account_id, parceld_day(created_at), courier_code, parceld_country(fields),
                delivery_status, sum(sign)
           FROM (%s) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0', source);
    EXECUTE format(
        'INSERT INTO analytics_deliveries_pending
                (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
         SELECT account_id, delivered_day, courier_code, parceld_country(fields), transit_days,
                sum(sign), sum(sign * first_attempt::int)
           FROM (%s) d WHERE delivered_day IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0', source);
    RETURN NULL;
END
$$;

-- Folds every pending change into the counters; true when it did. With `wait` it waits for a
-- fold running elsewhere and then folds what is left (a read that must count everything);
-- without, it leaves at once when another fold runs or nothing is pending (the nodes' timer).
-- Rows are written in the counters' key order (account, country, day, courier, status).
CREATE FUNCTION parceld_analytics_fold(wait boolean) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM analytics_status_pending)
       AND NOT EXISTS (SELECT 1 FROM analytics_deliveries_pending) THEN
        RETURN false;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(7064991460245781073);
    ELSIF NOT pg_try_advisory_xact_lock(7064991460245781073) THEN
        RETURN false;
    END IF;
    WITH folded AS (DELETE FROM analytics_status_pending RETURNING *)
    INSERT INTO analytics_status AS a (account_id, day, courier_code, country, status, trackings)
    SELECT account_id, day, courier_code, country, status, sum(trackings) FROM folded
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(trackings) <> 0 ORDER BY 1, 4, 2, 3, 5
    ON CONFLICT (account_id, country, day, courier_code, status)
    DO UPDATE SET trackings = a.trackings + excluded.trackings;
    WITH folded AS (DELETE FROM analytics_deliveries_pending RETURNING *)
    INSERT INTO analytics_deliveries AS a
           (account_id, day, courier_code, country, transit_days, delivered, first_attempt)
    SELECT account_id, day, courier_code, country, transit_days, sum(delivered),
           sum(first_attempt)
      FROM folded GROUP BY 1, 2, 3, 4, 5
    HAVING sum(delivered) <> 0 OR sum(first_attempt) <> 0 ORDER BY 1, 4, 2, 3, 5
    ON CONFLICT (account_id, country, day, courier_code, transit_days)
    DO UPDATE SET delivered = a.delivered + excluded.delivered,
                  first_attempt = a.first_attempt + excluded.first_attempt;
    RETURN true;
END
$$;
