//! PostgreSQL's half of a tracking's checkpoint list: the SQL that writes each tracking's
//! checkpoints, newest first, as one value in `checkpoint_lists`, so reading a tracking is one
//! row of one statement.
//!
//! The layout and its decoder are backend-neutral (`parceld_store::checkpoint_list`, which also
//! says why the lists exist); this is how PostgreSQL writes them, from the checkpoint rows, in
//! the transaction that adds to them: `int4send`/`int8send` give the big-endian numbers, and
//! `parceld_list_text` (migration 0001) a string's UTF-8 length and bytes. One statement per
//! batch of trackings.

/// Rewrites the lists of the trackings whose (primary keys, accounts) are the arrays `$1` and
/// `$2` from all their checkpoint rows: newest first, ties broken by the later stored first.
pub(crate) const REWRITE_LISTS_OF: &str =
    "INSERT INTO checkpoint_lists (tracking_pk, account_id, list) \
    SELECT c.tracking_pk, c.account_id, \
      decode('01', 'hex') || int4send(count(*)::int4) || string_agg( \
        set_byte(decode('00', 'hex'), 0, c.leg) \
        || int8send(floor(extract(epoch FROM c.time))::int8) \
        || parceld_list_text(c.checkpoint_date) || parceld_list_text(c.status) \
        || parceld_list_text(COALESCE(c.substatus, '')) || parceld_list_text(c.detail) \
        || parceld_list_text(c.location) || parceld_list_text(c.country_iso2) \
        || parceld_list_text(c.state) || parceld_list_text(c.city) \
        || parceld_list_text(c.zip) || parceld_list_text(c.raw_status) \
        || parceld_list_text(c.raw_time), \
        ''::bytea ORDER BY c.time DESC, c.seq DESC) \
    FROM checkpoints c \
    WHERE (c.tracking_pk, c.account_id) IN (SELECT * FROM UNNEST($1::int8[], $2::int8[])) \
    GROUP BY c.account_id, c.tracking_pk \
    ON CONFLICT (tracking_pk, account_id) DO UPDATE SET list = excluded.list";
