//! `parceld db copy --from URL --to URL`: moves a whole database to another one, of the same
//! backend or another (a SQLite file onto PostgreSQL, when one machine is no longer enough).
//!
//! Everything goes through the backend-neutral `CopyStore` (`parceld_store::copy`): each table
//! in turn, in key order, read as one stream from the source while the previous batch is
//! written to the destination, one transaction per batch, so memory stays bounded whatever the
//! size. Keys are kept, so the destination's largest key of each table says how far an
//! interrupted copy got, and running the command again continues from there; before it does,
//! it checks that what the destination holds is the beginning of this source (the same number
//! of rows up to that key, the last rows equal), and refuses any other non-empty database.
//!
//! At the end it compares the two: the rows of every table, then a random sample of every
//! table (trackings most) column by column, and the sampled trackings as the API reads them,
//! checkpoints included. It says what it compared, and any difference is an error.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use parceld_model::TrackingId;
use parceld_store::copy::{CopyRow, CopyTable, CopyValue, TABLES};
use parceld_store::Store;

/// Rows per batch (one transaction on the destination).
pub const DEFAULT_BATCH: usize = 5000;
/// Rows compared at the end: trackings, and of every other table.
const SAMPLE_TRACKINGS: usize = 200;
const SAMPLE_OTHERS: usize = 20;
/// The destination's last rows of each table compared with the source's before resuming.
const RESUME_CHECK: usize = 50;

/// How a copy went.
#[derive(Debug, Default)]
pub struct Report {
    /// Rows written by this run (not counting those an earlier run copied).
    pub copied: u64,
    pub resumed: bool,
    /// Rows in the destination at the end, by table.
    pub rows: Vec<(&'static str, u64)>,
    pub seconds: f64,
}

/// Copies `from` into `to` in batches of `batch` rows, then checks the result.
pub async fn copy(
    from: Arc<dyn Store>,
    to: Arc<dyn Store>,
    batch: usize,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let resumed = check_destination(from.as_ref(), to.as_ref()).await?;
    if resumed {
        say!("the destination holds the beginning of a copy of this source: continuing it");
    }
    let mut report = Report {
        resumed,
        ..Report::default()
    };
    for table in TABLES {
        report.copied += copy_table(&from, to.as_ref(), table, batch.max(1)).await?;
    }
    to.copy_finish().await?;
    report.seconds = started.elapsed().as_secs_f64();
    report.rows = compare_counts(from.as_ref(), to.as_ref()).await?;
    compare_samples(from.as_ref(), to.as_ref()).await?;
    Ok(report)
}

/// Whether the destination already holds the start of a copy of `from` (`true`), is empty
/// (`false`), or holds anything else (an error).
async fn check_destination(from: &dyn Store, to: &dyn Store) -> anyhow::Result<bool> {
    let mut resumed = false;
    for table in TABLES {
        let there = to.copy_extent(table).await?;
        let Some(last) = there.last else { continue };
        resumed = true;
        let refuse = |why: String| {
            anyhow::anyhow!(
                "the destination is not empty and is not an interrupted copy of this source \
                 (table {}: {why}); copy into an empty database",
                table.name
            )
        };
        let here = from.copy_count_through(table, &last).await?;
        if here != there.rows {
            return Err(refuse(format!(
                "it has {} rows up to key {}, the source {here}",
                there.rows,
                last.shown()
            )));
        }
        let keys = to.copy_keys(table, RESUME_CHECK, true).await?;
        if let Some(why) = first_difference(from, to, table, &keys).await? {
            return Err(refuse(why));
        }
    }
    Ok(resumed)
}

/// Copies the rows of `table` after the destination's last key; the rows written.
async fn copy_table(
    from: &Arc<dyn Store>,
    to: &dyn Store,
    table: &'static CopyTable,
    batch: usize,
) -> anyhow::Result<u64> {
    let started = Instant::now();
    let after = to.copy_extent(table).await?.last;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<CopyRow>>(2);
    let source = from.clone();
    let after_key = after.clone();
    let reader = tokio::spawn(async move { source.copy_stream(table, after_key, batch, tx).await });
    let mut written = 0u64;
    while let Some(rows) = rx.recv().await {
        to.copy_write(table, &rows).await.with_context(|| {
            format!(
                "cannot write a batch of {} into the destination",
                table.name
            )
        })?;
        written += rows.len() as u64;
    }
    reader
        .await
        .context("the source reader stopped")?
        .with_context(|| format!("cannot read {} from the source", table.name))?;
    let seconds = started.elapsed().as_secs_f64();
    say!(
        "{:<20} {:>10} rows copied{} in {:.1} s ({:.0} rows/s)",
        table.name,
        written,
        after
            .map(|key| format!(" after key {}", key.shown()))
            .unwrap_or_default(),
        seconds,
        written as f64 / seconds.max(1e-9)
    );
    Ok(written)
}

/// Every table's rows on both sides, which must be equal.
async fn compare_counts(
    from: &dyn Store,
    to: &dyn Store,
) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let mut rows = Vec::new();
    let mut different = Vec::new();
    say!("check: rows per table (source = destination)");
    for table in TABLES {
        let (here, there) = (from.copy_extent(table).await?, to.copy_extent(table).await?);
        let mark = if here.rows == there.rows {
            "ok"
        } else {
            "DIFFERENT"
        };
        say!(
            "  {:<20} {:>10} {:>10}  {mark}",
            table.name,
            here.rows,
            there.rows
        );
        if here.rows != there.rows {
            different.push(table.name);
        }
        rows.push((table.name, there.rows));
    }
    if !different.is_empty() {
        bail!(
            "the copy is incomplete: the row counts of {} differ (was the source written to \
             while it was copied?)",
            different.join(", ")
        );
    }
    Ok(rows)
}

/// The first difference between the two sides' rows of `keys`, described.
async fn first_difference(
    from: &dyn Store,
    to: &dyn Store,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> anyhow::Result<Option<String>> {
    let (here, there) = (
        from.copy_rows(table, keys).await?,
        to.copy_rows(table, keys).await?,
    );
    if here.len() != there.len() {
        return Ok(Some(format!(
            "of {} keys sampled, the source has {} rows, the destination {}",
            keys.len(),
            here.len(),
            there.len()
        )));
    }
    for (a, b) in here.iter().zip(&there) {
        if let Some((column, ours, theirs)) = table.difference(a, b) {
            return Ok(Some(format!(
                "the row with key {} differs in `{column}`: source {ours}, destination {theirs}",
                a[0].shown()
            )));
        }
    }
    Ok(None)
}

/// A random sample of every table compared column by column, and the sampled trackings as the
/// API reads them.
async fn compare_samples(from: &dyn Store, to: &dyn Store) -> anyhow::Result<()> {
    say!("check: random rows compared column by column");
    for table in TABLES {
        let n = match table.name {
            "trackings" => SAMPLE_TRACKINGS,
            _ => SAMPLE_OTHERS,
        };
        let keys = from.copy_keys(table, n, false).await?;
        if let Some(why) = first_difference(from, to, table, &keys).await? {
            bail!("the copy differs from the source in {}: {why}", table.name);
        }
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
        say!(
            "  {:<20} {:>4} rows equal in {}",
            table.name,
            keys.len(),
            columns.join(", ")
        );
        if table.name == "trackings" {
            compare_trackings(from, to, table, &keys).await?;
        }
    }
    say!("check: passed");
    Ok(())
}

/// The sampled trackings as the API reads them (every field, checkpoints included).
async fn compare_trackings(
    from: &dyn Store,
    to: &dyn Store,
    table: &'static CopyTable,
    keys: &[CopyValue],
) -> anyhow::Result<()> {
    let (account, id) = (table.column("account_id"), table.column("id"));
    let (Some(account), Some(id)) = (account, id) else {
        bail!("the trackings table has no account_id or id column");
    };
    let mut checkpoints = 0;
    for row in from.copy_rows(table, keys).await? {
        let (CopyValue::Int(account), CopyValue::Bytes(bytes)) = (&row[account], &row[id]) else {
            bail!("tracking {} has no account or id", row[0].shown());
        };
        let id = TrackingId::from_bytes(bytes).context("a tracking id of the wrong length")?;
        let (here, there) = (
            from.tracking(*account, &id).await?,
            to.tracking(*account, &id).await?,
        );
        if here != there {
            bail!(
                "the copy differs from the source in tracking {}: source {here:?}, destination \
                 {there:?}",
                id.as_str()
            );
        }
        checkpoints += here.map(|t| t.checkpoints.len()).unwrap_or(0);
    }
    say!(
        "  {:<20} {:>4} trackings equal as the API reads them (every field, {checkpoints} \
         checkpoints)",
        "",
        keys.len()
    );
    Ok(())
}
