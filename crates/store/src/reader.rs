//! The hot read path: API-key checks and tracking reads on plain SQLite connections, run inline.
//!
//! The sqlx SQLite driver runs each connection on a thread of its own and moves every statement
//! and every row across channels; profiling `GET /v4/trackings/get` for one number showed about
//! 45 % of the server's CPU in those thread hand-offs and about 1.5 % in SQLite itself. Reads in
//! WAL mode never wait for writers and a point read from the page cache takes microseconds, so
//! these reads run on the calling task's thread over a small pool of read-only connections:
//! no hand-off at all. Writes, and reads inside write transactions, stay on sqlx.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use parceld_model::{Checkpoint, Leg, Tracking, TrackingId};
use rusqlite::{Connection, OpenFlags};

use crate::sqlite::{from_ts, parse_json, parse_status, parse_substatus};
use crate::{StoreError, StoreResult};

/// Read-only connections to one database file, opened on demand and reused.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Connections kept for reuse; more may be open at once under load, and are closed after.
const KEEP: usize = 16;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Read(error.to_string())
    }
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and returns the connection to the pool.
    pub(crate) fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.push(conn);
        }
        result
    }
}

/// The tracking columns of a `SELECT_TRACKINGS` row, with its primary key; checkpoints empty.
/// Columns are read by position (the order of that statement): looking them up by name was a
/// fifth of a 2000-page's time.
fn tracking_columns(row: &rusqlite::Row<'_>) -> StoreResult<(i64, Tracking)> {
    let id: String = row.get(1)?;
    let tracking = Tracking {
        id: TrackingId::parse(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("tracking id `{id}`")))?,
        tracking_number: row.get(2)?,
        courier_code: row.get(3)?,
        courier_detected: row.get(4)?,
        delivery_status: parse_status(&row.get::<_, String>(5)?)?,
        substatus: parse_substatus(row.get(6)?)?,
        status_info: row.get(7)?,
        latest_event: row.get(8)?,
        latest_checkpoint_time: row.get::<_, Option<i64>>(9)?.map(from_ts),
        archived: row.get(10)?,
        fields: parse_json(row.get(11)?, "fields")?,
        shipment: parse_json(row.get(12)?, "shipment")?,
        created_at: from_ts(row.get(13)?),
        updated_at: from_ts(row.get(14)?),
        last_checked_at: row.get::<_, Option<i64>>(15)?.map(from_ts),
        next_check_at: row.get::<_, Option<i64>>(16)?.map(from_ts),
        check_error: row.get(17)?,
        checkpoints: Vec::new(),
    };
    Ok((row.get(0)?, tracking))
}

/// The columns `checkpoint_columns` reads, in its order.
macro_rules! checkpoint_select {
    () => {
        "SELECT tracking_pk, pk, leg, time, checkpoint_date, status, substatus, detail, \
         location, country_iso2, state, city, zip, raw_status, raw_time FROM checkpoints "
    };
}

/// The checkpoints of the trackings whose primary keys are in the JSON array `?1`, in one
/// statement. Read as plain rows: packing them as JSON in SQL (`json_group_array`) and parsing
/// that again cost more than reading the rows.
const SELECT_CHECKPOINTS: &str = concat!(
    checkpoint_select!(),
    "WHERE tracking_pk IN (SELECT value FROM json_each(?1))"
);

/// [`SELECT_CHECKPOINTS`] for one tracking, `?1` its primary key: without `json_each`'s
/// temporary table.
const SELECT_CHECKPOINTS_OF_ONE: &str = concat!(checkpoint_select!(), "WHERE tracking_pk = ?1");

/// A row of [`SELECT_CHECKPOINTS`]: (tracking pk, checkpoint pk, checkpoint).
fn checkpoint_columns(row: &rusqlite::Row<'_>) -> StoreResult<(i64, i64, Checkpoint)> {
    let checkpoint = Checkpoint {
        leg: Leg::from_i64(row.get(2)?),
        time: from_ts(row.get(3)?),
        checkpoint_date: row.get(4)?,
        status: parse_status(&row.get::<_, String>(5)?)?,
        substatus: parse_substatus(row.get(6)?)?,
        detail: row.get(7)?,
        location: row.get(8)?,
        country_iso2: row.get(9)?,
        state: row.get(10)?,
        city: row.get(11)?,
        zip: row.get(12)?,
        raw_status: row.get(13)?,
        raw_time: row.get(14)?,
    };
    Ok((row.get(0)?, row.get(1)?, checkpoint))
}

/// Runs a `SELECT_TRACKINGS` statement with its parameters, then reads the checkpoints of the
/// trackings it found; both in one read transaction, so they are of the same moment. Returns
/// (primary key, tracking) per row, each tracking's checkpoints newest first (ties: the later
/// stored first).
pub(crate) fn trackings(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
) -> StoreResult<Vec<(i64, Tracking)>> {
    read_transaction(conn, |conn| {
        with_checkpoints(conn, tracking_rows(conn, sql, params)?)
    })
}

/// Runs `read` inside `BEGIN` … `COMMIT` (rolled back on error), with both statements cached:
/// `Connection::unchecked_transaction` parses them again every time.
fn read_transaction<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    match read(conn) {
        Ok(value) => {
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(value)
        }
        Err(error) => {
            let _ = conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut s| s.execute([]));
            Err(error)
        }
    }
}

/// Runs [`trackings`]'s two reads in one read transaction, but hands the result to `each` in
/// chunks of at most `chunk` trackings as soon as a chunk's checkpoints are read (one statement
/// per chunk), so a caller can render one chunk while the next is read. Stops early when `each`
/// returns `false`.
pub(crate) fn trackings_in_chunks(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    chunk: usize,
    each: &mut dyn FnMut(Vec<(i64, Tracking)>) -> bool,
) -> StoreResult<()> {
    read_transaction(conn, |conn| {
        let mut rest = tracking_rows(conn, sql, params)?.into_iter();
        loop {
            let next: Vec<(i64, Tracking)> = rest.by_ref().take(chunk.max(1)).collect();
            if next.is_empty() || !each(with_checkpoints(conn, next)?) {
                return Ok(());
            }
        }
    })
}

/// The rows of a `SELECT_TRACKINGS` statement, checkpoints not yet read.
fn tracking_rows(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
) -> StoreResult<Vec<(i64, Tracking)>> {
    let mut out = Vec::new();
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    while let Some(row) = rows.next()? {
        out.push(tracking_columns(row)?);
    }
    Ok(out)
}

/// Reads the checkpoints of `out`'s trackings (one statement) into them.
fn with_checkpoints(
    conn: &Connection,
    mut out: Vec<(i64, Tracking)>,
) -> StoreResult<Vec<(i64, Tracking)>> {
    if out.is_empty() {
        return Ok(out);
    }
    let mut index_of: HashMap<i64, usize> = HashMap::with_capacity(out.len());
    for (i, (pk, _)) in out.iter().enumerate() {
        index_of.insert(*pk, i);
    }
    let (checkpoint_sql, key) = match out.as_slice() {
        [(pk, _)] => (
            SELECT_CHECKPOINTS_OF_ONE,
            rusqlite::types::Value::Integer(*pk),
        ),
        _ => {
            let pks: Vec<i64> = out.iter().map(|(pk, _)| *pk).collect();
            (
                SELECT_CHECKPOINTS,
                rusqlite::types::Value::Text(
                    serde_json::to_string(&pks).expect("integers serialise"),
                ),
            )
        }
    };
    let mut order: Vec<Vec<i64>> = vec![Vec::new(); out.len()];
    {
        let mut statement = conn.prepare_cached(checkpoint_sql)?;
        let mut rows = statement.query([key])?;
        while let Some(row) = rows.next()? {
            let (tracking_pk, checkpoint_pk, checkpoint) = checkpoint_columns(row)?;
            if let Some(&i) = index_of.get(&tracking_pk) {
                out[i].1.checkpoints.push(checkpoint);
                order[i].push(checkpoint_pk);
            }
        }
    }
    for ((_, tracking), pks) in out.iter_mut().zip(order) {
        sort_newest_first(&mut tracking.checkpoints, &pks);
    }
    Ok(out)
}

/// Orders checkpoints newest first, ties broken by the later stored (`pks`, the checkpoints'
/// primary keys, in the same order) first.
fn sort_newest_first(checkpoints: &mut Vec<Checkpoint>, pks: &[i64]) {
    if checkpoints.len() < 2 {
        return;
    }
    let mut keyed: Vec<(i64, i64, Checkpoint)> = pks
        .iter()
        .zip(checkpoints.drain(..))
        .map(|(pk, c)| (c.time.timestamp(), *pk, c))
        .collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    checkpoints.extend(keyed.into_iter().map(|(_, _, c)| c));
}
