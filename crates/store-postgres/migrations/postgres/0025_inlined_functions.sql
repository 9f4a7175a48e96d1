-- Two SQL functions rewritten so that PostgreSQL inlines them into the statements that call
-- them, with the same results.
--
-- PostgreSQL inlines a SQL function only when nothing in its body is more volatile than the
-- function is declared. Both bodies below called a function that is only stable
-- (`extract(epoch FROM timestamptz)`, `convert_to`) from a function declared immutable, so each
-- call ran as a function call of its own, with its own executor. In a refresh by two worker
-- nodes those calls were a seventh of PostgreSQL's CPU (`perf`: `fmgr_sql` under the refresh's
-- statements and the analytics trigger): eleven calls a checkpoint every time a tracking's
-- checkpoint list is written, four a tracking in the analytics trigger.

-- The day number of 0019, from the difference of two timestamps and that interval's epoch,
-- which are immutable. Checked against 0019's over four million instants on both sides of 1970
-- and in another time zone.
CREATE OR REPLACE FUNCTION parceld_day(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM t - timestamptz '1970-01-01 00:00:00+00') / 86400)::bigint $$;

-- 0001's string of a checkpoint list, declared stable as `convert_to` is (no index uses it).
CREATE OR REPLACE FUNCTION parceld_list_text(value text) RETURNS bytea
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8') $$;
