//! SQLite's half of a tracking's checkpoint list: the SQL that writes each tracking's
//! checkpoints, newest first, as one value in its own row, so reading a tracking is one row of
//! one statement.
//!
//! The layout and its decoder are backend-neutral (`parceld_store::checkpoint_list`, which also
//! says why the lists exist); here is how SQLite writes them. The `checkpoints` table stays the
//! record (the refresh merge deduplicates against its unique fingerprint index);
//! `checkpoint_lists` holds, per tracking that has checkpoints, all of them, rewritten by SQL
//! ([`REWRITE_LISTS_OF`]) in the transaction that adds to them. Reading ten checkpoints as rows
//! cost a second statement, ten table seeks and about 140 typed column reads: about half of the
//! store's time for a one-tracking `GET`. The fixed-width numbers of the layout are what let
//! `printf('%08X%s')`, `hex` and `unhex` write it: one statement per batch, the same one the
//! migration ran.

pub(crate) use parceld_store::checkpoint_list::decode;
#[cfg(test)]
use parceld_store::checkpoint_list::FORMAT;

/// The `INSERT … SELECT` that writes checkpoint lists from checkpoint rows, up to its `WHERE`
/// (which picks the rows) and its tail (`upsert_tail!`). One `printf` per checkpoint: a `printf`
/// and a concatenation per field took a third longer.
macro_rules! write_lists_select {
    () => {
        "INSERT INTO checkpoint_lists (tracking_pk, list) \
         SELECT tracking_pk, unhex('01' || printf('%08X', count(*)) || group_concat( \
             printf('%02X%016X%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s%08X%s', leg, time, \
                 length(CAST(checkpoint_date AS BLOB)), hex(checkpoint_date), \
                 length(CAST(status AS BLOB)), hex(status), \
                 length(CAST(COALESCE(substatus, '') AS BLOB)), hex(COALESCE(substatus, '')), \
                 length(CAST(detail AS BLOB)), hex(detail), \
                 length(CAST(location AS BLOB)), hex(location), \
                 length(CAST(country_iso2 AS BLOB)), hex(country_iso2), \
                 length(CAST(state AS BLOB)), hex(state), \
                 length(CAST(city AS BLOB)), hex(city), \
                 length(CAST(zip AS BLOB)), hex(zip), \
                 length(CAST(raw_status AS BLOB)), hex(raw_status), \
                 length(CAST(raw_time AS BLOB)), hex(raw_time)), \
             '' ORDER BY time DESC, pk DESC)) \
         FROM checkpoints "
    };
}

/// Groups by tracking and replaces existing lists. (The `WHERE` before it also keeps SQLite from
/// reading the upsert's `ON` as a join's.)
macro_rules! upsert_tail {
    () => {
        " GROUP BY tracking_pk ON CONFLICT (tracking_pk) DO UPDATE SET list = excluded.list"
    };
}

/// Rewrites the lists of the trackings whose primary keys are in the JSON array `?1` from all
/// their checkpoint rows, newest first, ties broken by the later stored first.
pub(crate) const REWRITE_LISTS_OF: &str = concat!(
    write_lists_select!(),
    "WHERE tracking_pk IN (SELECT value FROM json_each(?1))",
    upsert_tail!()
);

/// Rewrites every tracking's list from its checkpoint rows: what migration 0009 ran, for
/// repairs and for tests that write checkpoint rows directly.
pub const REWRITE_ALL_CHECKPOINT_LISTS: &str =
    concat!(write_lists_select!(), "WHERE true", upsert_tail!());

#[cfg(test)]
mod tests {
    //! The lists here are written by the statements above in a real SQLite, so these tests
    //! check the SQL and the decoder against each other.
    use super::*;
    use chrono::{TimeZone, Utc};
    use parceld_model::{Checkpoint, DeliveryStatus, Leg, SubStatus};
    use parceld_store::StoreError;
    use rusqlite::Connection;

    const SCHEMA: &[&str] = &[
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/sqlite/0007_checkpoint_raw_time.sql"),
        include_str!("../migrations/sqlite/0009_checkpoint_lists.sql"),
    ];

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in SCHEMA {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 0); \
             INSERT INTO trackings (pk, id, account_id, tracking_number, courier_code, \
               delivery_status, created_at, updated_at) \
             VALUES (7, 'trk_7', 1, 'N7', 'ups', 'transit', 0, 0), \
                    (8, 'trk_8', 1, 'N8', 'ups', 'transit', 0, 0);",
        )
        .unwrap();
        conn
    }

    fn insert(conn: &Connection, tracking_pk: i64, c: &Checkpoint) {
        conn.execute(
            "INSERT INTO checkpoints (tracking_pk, leg, time, checkpoint_date, status, substatus, \
             detail, location, country_iso2, state, city, zip, raw_status, raw_time, fingerprint) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            rusqlite::params![
                tracking_pk,
                c.leg.as_i64(),
                c.time.timestamp(),
                c.checkpoint_date,
                c.status.as_str(),
                c.substatus.map(|s| s.as_str()),
                c.detail,
                c.location,
                c.country_iso2,
                c.state,
                c.city,
                c.zip,
                c.raw_status,
                c.raw_time,
                c.fingerprint(),
            ],
        )
        .unwrap();
    }

    fn list_of(conn: &Connection, tracking_pk: i64) -> Option<Vec<u8>> {
        conn.query_row(
            "SELECT list FROM checkpoint_lists WHERE tracking_pk = ?1",
            [tracking_pk],
            |row| row.get(0),
        )
        .ok()
    }

    fn full() -> Checkpoint {
        Checkpoint {
            leg: Leg::Destination,
            time: Utc.with_ymd_and_hms(2026, 5, 2, 14, 14, 0).unwrap(),
            checkpoint_date: "2026-05-02T09:14:00-05:00".into(),
            status: DeliveryStatus::Delivered,
            substatus: Some(SubStatus::Delivered001),
            detail: "Delivered, front door — signé 📦".into(),
            location: "Chicago, IL".into(),
            country_iso2: "US".into(),
            state: "IL".into(),
            city: "Chicago".into(),
            zip: "60601".into(),
            raw_status: "KB".into(),
            raw_time: "20260502 091400 -0500".into(),
        }
    }

    fn bare(time: chrono::DateTime<Utc>, detail: &str) -> Checkpoint {
        Checkpoint {
            checkpoint_date: String::new(),
            detail: detail.into(),
            ..Checkpoint::at(time, DeliveryStatus::Inforeceived)
        }
    }

    #[test]
    fn lists_written_by_sql_decode_to_the_rows_newest_first_later_stored_first_on_ties() {
        let conn = database();
        // Before 1970 the instant is negative; two share an instant.
        let old = bare(Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap(), "old");
        let tie_first = bare(Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(), "tie a");
        let tie_second = bare(Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(), "tie b");
        let mut long = full();
        long.detail = "x".repeat(70_000);
        long.time = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        for c in [&tie_first, &old, &full(), &tie_second, &long] {
            insert(&conn, 7, c);
        }
        insert(
            &conn,
            8,
            &bare(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), "8"),
        );

        conn.execute(REWRITE_LISTS_OF, ["[7]"]).unwrap();
        assert_eq!(
            decode(&list_of(&conn, 7).unwrap()).unwrap(),
            vec![
                full(),
                tie_second.clone(),
                tie_first.clone(),
                long.clone(),
                old.clone()
            ]
        );
        assert_eq!(list_of(&conn, 8), None, "only the trackings named");

        // A rewrite replaces the list; the whole-table form writes every tracking's.
        let newest = bare(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(), "newest");
        insert(&conn, 7, &newest);
        conn.execute(REWRITE_ALL_CHECKPOINT_LISTS, []).unwrap();
        assert_eq!(
            decode(&list_of(&conn, 7).unwrap()).unwrap(),
            vec![newest, full(), tie_second, tie_first, long, old]
        );
        assert_eq!(decode(&list_of(&conn, 8).unwrap()).unwrap().len(), 1);
    }

    #[test]
    fn migration_0009_runs_the_whole_table_rewrite() {
        let migration = include_str!("../migrations/sqlite/0009_checkpoint_lists.sql");
        let squeeze = |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeeze(migration).contains(&squeeze(REWRITE_ALL_CHECKPOINT_LISTS)),
            "the migration's statement and REWRITE_ALL_CHECKPOINT_LISTS differ"
        );
    }

    fn one_list() -> Vec<u8> {
        let conn = database();
        insert(&conn, 7, &full());
        conn.execute(REWRITE_LISTS_OF, ["[7]"]).unwrap();
        list_of(&conn, 7).unwrap()
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let bytes = one_list();
        assert_eq!(decode(&bytes).unwrap(), vec![full()]);
        for len in 0..bytes.len() {
            assert!(
                matches!(decode(&bytes[..len]), Err(StoreError::Corrupt(_))),
                "a list cut to {len} bytes decoded"
            );
        }
    }

    #[test]
    fn foreign_bytes_are_corrupt_not_trusted() {
        let good = one_list();
        let mut other_format = good.clone();
        other_format[0] = FORMAT + 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_leg = good.clone();
        bad_leg[5] = 7;
        let huge_count = vec![FORMAT, 0xff, 0xff, 0xff, 0xff];
        let mut not_utf8 = good.clone();
        let at = not_utf8.len() - 1;
        not_utf8[at] = 0xff;
        let mut unknown_status = good.clone();
        let status_at = 1 + 4 + 1 + 8 + 4 + full().checkpoint_date.len() + 4;
        unknown_status[status_at] = b'X';
        for (what, bytes) in [
            ("another format", other_format),
            ("trailing bytes", trailing),
            ("an unknown leg", bad_leg),
            ("a count the bytes cannot hold", huge_count),
            ("a string that is not UTF-8", not_utf8),
            ("an unknown status", unknown_status),
        ] {
            assert!(
                matches!(decode(&bytes), Err(StoreError::Corrupt(_))),
                "{what} decoded"
            );
        }
    }
}
