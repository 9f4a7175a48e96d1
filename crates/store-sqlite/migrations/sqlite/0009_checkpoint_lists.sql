-- Each tracking's checkpoints, newest first, as one value (layout in src/checkpoint_list.rs), so a
-- read of a tracking is one row of one statement instead of a second statement over its
-- checkpoint rows. `checkpoints` stays the record; the refresh rewrites a tracking's list in the
-- transaction that adds to its checkpoints, so a tracking without a list has no checkpoints.
CREATE TABLE checkpoint_lists (
    tracking_pk INTEGER PRIMARY KEY REFERENCES trackings(pk) ON DELETE CASCADE,
    list        BLOB    NOT NULL
);

-- The lists of the checkpoints stored so far: checkpoint_list::REWRITE_ALL_CHECKPOINT_LISTS.
INSERT INTO checkpoint_lists (tracking_pk, list)
SELECT tracking_pk, unhex('01' || printf('%08X', count(*)) || group_concat(
    printf('%02X%016X%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s', leg, time,
        length(CAST(checkpoint_date AS BLOB)), hex(checkpoint_date),
        length(CAST(status AS BLOB)), hex(status),
        length(CAST(COALESCE(substatus, '') AS BLOB)), hex(COALESCE(substatus, '')),
        length(CAST(detail AS BLOB)), hex(detail),
        length(CAST(location AS BLOB)), hex(location),
        length(CAST(country_iso2 AS BLOB)), hex(country_iso2),
        length(CAST(state AS BLOB)), hex(state),
        length(CAST(city AS BLOB)), hex(city),
        length(CAST(zip AS BLOB)), hex(zip),
        length(CAST(raw_status AS BLOB)), hex(raw_status),
        length(CAST(raw_time AS BLOB)), hex(raw_time)),
    '' ORDER BY time DESC, pk DESC))
FROM checkpoints WHERE true GROUP BY tracking_pk
ON CONFLICT (tracking_pk) DO UPDATE SET list = excluded.list;
