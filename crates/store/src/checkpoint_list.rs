//! A tracking's checkpoints as one value, the form every backend keeps beside the checkpoint
//! rows so that reading a tracking is one row of one statement.
//!
//! The checkpoint rows stay the record (a refresh deduplicates against their fingerprints); each
//! backend also keeps, per tracking that has checkpoints, all of them newest first in the layout
//! below, rewritten by its own SQL in the transaction that adds to them (SQLite:
//! `parceld-store-sqlite`'s `checkpoint_list.rs`; PostgreSQL: `parceld-store-postgres`'s
//! `checkpoint_list.rs`). So a tracking without a list has no checkpoints, and a read needs
//! neither a second statement nor a transaction around two. The layout is defined once, here,
//! with its decoder, so both backends read the same bytes the same way.
//!
//! Layout, big-endian: a format byte ([`FORMAT`]), the count (u32), then per checkpoint its leg
//! (one byte, 0 origin, 1 destination), its instant (i64 Unix seconds), and eleven strings, each
//! a u32 byte length and UTF-8: `checkpoint_date`, `status`, substatus (empty for none),
//! `detail`, `location`, `country_iso2`, `state`, `city`, `zip`, `raw_status`, `raw_time`.
//! Fixed-width numbers so that SQL can write it (SQLite's `printf('%08X%s')` and `unhex`,
//! PostgreSQL's `int4send` and `convert_to`), which keeps the rows-to-list step inside the
//! database: one statement per batch. Statuses are kept as their names, as in the rows. A value
//! that does not decode is reported as corrupt, never trusted.

use chrono::{DateTime, TimeZone, Utc};
use parceld_model::{Checkpoint, Leg};

use crate::stored::parse_status;
use crate::{StoreError, StoreResult};

/// The layout's version; a value with another first byte is not read.
pub const FORMAT: u8 = 1;

/// A checkpoint's instant as the list keeps it: whole Unix seconds.
fn seconds(value: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(value, 0).single().unwrap_or_default()
}

/// Decodes a list; anything malformed is [`StoreError::Corrupt`], never trusted.
pub fn decode(bytes: &[u8]) -> StoreResult<Vec<Checkpoint>> {
    let mut reader = Reader { bytes, at: 0 };
    let format = reader.byte()?;
    if format != FORMAT {
        return Err(corrupt(format!("format {format}, expected {FORMAT}")));
    }
    let count = reader.u32()?;
    // A checkpoint takes at least 53 bytes, so a count that the rest cannot hold is corrupt
    // (and must not reserve memory).
    if count as usize > bytes.len() / 53 {
        return Err(corrupt(format!(
            "{count} checkpoints in {} bytes",
            bytes.len()
        )));
    }
    let mut checkpoints = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let leg = match reader.byte()? {
            0 => Leg::Origin,
            1 => Leg::Destination,
            other => return Err(corrupt(format!("leg {other}"))),
        };
        let time = seconds(reader.i64()?);
        let checkpoint_date = reader.string()?;
        let status = parse_status(reader.str()?)?;
        let substatus = match reader.str()? {
            "" => None,
            name => Some(name.parse().map_err(StoreError::Corrupt)?),
        };
        checkpoints.push(Checkpoint {
            leg,
            time,
            checkpoint_date,
            status,
            substatus,
            detail: reader.string()?,
            location: reader.string()?,
            country_iso2: reader.string()?,
            state: reader.string()?,
            city: reader.string()?,
            zip: reader.string()?,
            raw_status: reader.string()?,
            raw_time: reader.string()?,
        });
    }
    if reader.at != bytes.len() {
        return Err(corrupt(format!(
            "{} bytes after the last checkpoint",
            bytes.len() - reader.at
        )));
    }
    Ok(checkpoints)
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("checkpoint list: {what}"))
}

/// A cursor over a list; every read checks the bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> StoreResult<[u8; N]> {
        let taken = self
            .bytes
            .get(self.at..self.at + N)
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .ok_or_else(|| corrupt("ends early".to_string()))?;
        self.at += N;
        Ok(taken)
    }

    fn byte(&mut self) -> StoreResult<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> StoreResult<u32> {
        self.take().map(u32::from_be_bytes)
    }

    fn i64(&mut self) -> StoreResult<i64> {
        self.take().map(i64::from_be_bytes)
    }

    fn str(&mut self) -> StoreResult<&'a str> {
        let len = self.u32()? as usize;
        let text = self
            .bytes
            .get(self.at..)
            .and_then(|rest| rest.get(..len))
            .ok_or_else(|| corrupt(format!("a string of {len} bytes past the end")))?;
        let text = std::str::from_utf8(text)
            .map_err(|e| corrupt(format!("a string that is not UTF-8: {e}")))?;
        self.at += len;
        Ok(text)
    }

    fn string(&mut self) -> StoreResult<String> {
        self.str().map(str::to_string)
    }
}
