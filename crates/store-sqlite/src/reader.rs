//! The hot read path: API-key checks and tracking reads on plain SQLite connections, run inline.
//!
//! The sqlx SQLite driver runs each connection on a thread of its own and moves every statement
//! and every row across channels; profiling `GET /v4/trackings/get` for one number showed about
//! 45 % of the server's CPU in those thread hand-offs and about 1.5 % in SQLite itself. Reads in
//! WAL mode never wait for writers and a point read from the page cache takes microseconds, so
//! these reads run on the calling task's thread over a small pool of read-only connections:
//! no hand-off at all. Writes, and reads inside write transactions, stay on sqlx.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use parceld_model::Tracking;
use rusqlite::{Connection, OpenFlags};

use parceld_store::StoreError;

use crate::checkpoint_list;
use crate::error::Result;
use crate::rows::{from_ts, parse_json, parse_status, parse_substatus, tracking_id};

/// Read-only connections to one database file, opened on demand and reused.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Connections kept for reuse; more may be open at once under load, and are closed after.
const KEEP: usize = 16;

impl Readers {
    pub(crate) fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and returns the connection to the pool.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
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

/// The columns of a `SELECT_TRACKINGS` row, with its primary key. Columns are read by position
/// (the order of that statement): looking them up by name was a fifth of a 2000-page's time.
/// The checkpoints come from the tracking's checkpoint list; a tracking without one has none.
fn tracking_columns(row: &rusqlite::Row<'_>) -> Result<(i64, Tracking)> {
    let list = row
        .get_ref(18)?
        .as_blob_or_null()
        .map_err(|e| StoreError::Corrupt(format!("checkpoint list: {e}")))?;
    let id = row
        .get_ref(1)?
        .as_blob()
        .map_err(|e| StoreError::Corrupt(format!("tracking id: {e}")))?;
    let tracking = Tracking {
        id: tracking_id(id)?,
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
        checkpoints: match list {
            Some(list) => checkpoint_list::decode(list)?,
            None => Vec::new(),
        },
    };
    Ok((row.get(0)?, tracking))
}

/// Runs a `SELECT_TRACKINGS` statement with its parameters: (primary key, tracking) per row,
/// each tracking with its checkpoints newest first (ties: the later stored first). One
/// statement, so one moment, with no transaction around it.
pub(crate) fn trackings(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
) -> Result<Vec<(i64, Tracking)>> {
    let mut out = Vec::new();
    trackings_in_chunks(conn, sql, params, usize::MAX, &mut |rows| {
        out = rows;
        true
    })?;
    Ok(out)
}

/// [`trackings`], handed to `each` in chunks of at most `chunk` trackings as the statement
/// yields them, so a caller can render one chunk while the next is read. Stops early when `each`
/// returns `false`.
pub(crate) fn trackings_in_chunks(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    chunk: usize,
    each: &mut dyn FnMut(Vec<(i64, Tracking)>) -> bool,
) -> Result<()> {
    let chunk = chunk.max(1);
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    let mut next = Vec::new();
    while let Some(row) = rows.next()? {
        next.push(tracking_columns(row)?);
        if next.len() == chunk && !each(std::mem::take(&mut next)) {
            return Ok(());
        }
    }
    if !next.is_empty() {
        each(next);
    }
    Ok(())
}
