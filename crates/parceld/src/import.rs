//! `parceld import FILE`: bulk-loads trackings from a CSV or JSON-lines file straight into the
//! store.
//!
//! Moving a business onto parceld means bringing its open shipments along — often hundreds of
//! thousands at once — which through the API would take 40 at a time under a rate limit. The
//! import validates every record with the same rules as `POST /v4/trackings/create`
//! (`parceld_service`), inserts in large set-based batches (parsing the next batch while
//! the previous one is written), and reports what was created, what already existed and what
//! was rejected, with line numbers and reasons. After every committed batch it records how far
//! it got in `FILE.import-progress`, so an interrupted import continues with `--resume`; records
//! already stored are counted as existing, never duplicated.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use parceld_service::TrackingService;
use parceld_store::{AccountId, CreateOutcome, NewTracking};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Records per insert transaction.
pub const DEFAULT_BATCH: usize = 2000;
/// Rejections printed in the summary; all of them go to `FILE.rejected`.
const SHOWN_REJECTIONS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    fn of(path: &Path) -> anyhow::Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson" | "json") => Ok(Format::Jsonl),
            _ => bail!(
                "cannot tell the format of {} from its name; pass --format csv or --format jsonl",
                path.display()
            ),
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    /// Records read (not counting lines skipped by `--resume`).
    pub read: u64,
    pub created: u64,
    pub existed: u64,
    pub rejected: u64,
    /// The last line whose record is committed (or rejected).
    pub lines_done: u64,
    /// Why some created trackings cannot be fetched yet (their courier is not configured), each
    /// reason once, with how many trackings it concerns.
    #[serde(default)]
    pub unfetchable: std::collections::BTreeMap<String, u64>,
}

/// How far an earlier run got, kept beside the file.
#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    lines_done: u64,
    totals: Summary,
}

pub struct Options {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub batch: usize,
    pub resume: bool,
    pub restart: bool,
    pub progress_bar: bool,
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// One record of the file, with the line it starts on.
struct Record {
    line: u64,
    result: Result<NewTracking, String>,
}

/// Turns one record (a JSON object of create fields) into a tracking to store, or says why not.
fn validate(object: Value) -> Result<NewTracking, String> {
    if !object.is_object() {
        return Err("each record must be a JSON object of create fields".into());
    }
    parceld_service::input::record(object)
}

/// Reads records in batches; counts bytes consumed for the progress bar.
enum Reader {
    Jsonl {
        lines: std::io::Lines<BufReader<CountingRead>>,
        line: u64,
    },
    Csv {
        reader: csv::Reader<CountingRead>,
        headers: Vec<String>,
    },
}

struct CountingRead {
    inner: File,
    bytes: Arc<AtomicU64>,
}

impl Read for CountingRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Reader {
    fn open(path: &Path, format: Format, bytes: Arc<AtomicU64>) -> anyhow::Result<Reader> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let counting = CountingRead { inner: file, bytes };
        Ok(match format {
            Format::Jsonl => Reader::Jsonl {
                lines: BufReader::with_capacity(1 << 20, counting).lines(),
                line: 0,
            },
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(false)
                    .from_reader(counting);
                let headers: Vec<String> = reader
                    .headers()
                    .context("cannot read the CSV header line")?
                    .iter()
                    .map(|h| h.trim().to_string())
                    .collect();
                if let Err(problem) = parceld_service::input::check_csv_header(&headers) {
                    bail!("{problem}");
                }
                Reader::Csv { reader, headers }
            }
        })
    }

    /// The next up to `max` records after line `skip_through`; empty at the end of the file.
    fn next_batch(&mut self, max: usize, skip_through: u64) -> anyhow::Result<Vec<Record>> {
        let mut out = Vec::with_capacity(max);
        match self {
            Reader::Jsonl { lines, line } => {
                while out.len() < max {
                    let Some(text) = lines.next() else { break };
                    *line += 1;
                    let text = text.with_context(|| format!("cannot read line {line}"))?;
                    if *line <= skip_through || text.trim().is_empty() {
                        continue;
                    }
                    let result = serde_json::from_str::<Value>(&text)
                        .map_err(|e| format!("not JSON: {e}"))
                        .and_then(|value| {
                            parceld_service::json::unique_keys(text.as_bytes())
                                .map_err(|e| e.message())?;
                            validate(value)
                        });
                    out.push(Record {
                        line: *line,
                        result,
                    });
                }
            }
            Reader::Csv { reader, headers } => {
                let mut row = csv::StringRecord::new();
                while out.len() < max {
                    match reader.read_record(&mut row) {
                        Ok(false) => break,
                        Ok(true) => {
                            let line = row.position().map(|p| p.line()).unwrap_or(0);
                            if line <= skip_through {
                                continue;
                            }
                            let object = parceld_service::input::csv_record(headers, row.iter());
                            out.push(Record {
                                line,
                                result: validate(object),
                            });
                        }
                        Err(error) => {
                            let line = error.position().map(|p| p.line()).unwrap_or(0);
                            if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                                return Err(error).context("cannot read the CSV file");
                            }
                            if line > skip_through {
                                out.push(Record {
                                    line,
                                    result: Err(format!("not a valid CSV row: {error}")),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Imports `options.path` into `account` through `trackings` (which notes on each tracking of an
/// unconfigured courier why it cannot be fetched, as the API's create does). Returns the totals
/// (including an earlier run's, when resuming).
pub async fn run(
    trackings: &TrackingService,
    account: AccountId,
    options: &Options,
) -> anyhow::Result<Summary> {
    let format = match options.format {
        Some(f) => f,
        None => Format::of(&options.path)?,
    };
    let progress_path = sidecar(&options.path, ".import-progress");
    let rejected_path = sidecar(&options.path, ".rejected");
    let earlier: Option<Progress> = match std::fs::read_to_string(&progress_path) {
        Ok(text) => Some(serde_json::from_str(&text).with_context(|| {
            format!("{} is not an import progress file", progress_path.display())
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context("cannot read the progress file"),
    };
    let (mut totals, skip_through) = match (&earlier, options.resume, options.restart) {
        (Some(p), true, _) => (p.totals.clone(), p.lines_done),
        (Some(p), false, false) => bail!(
            "an earlier import of {} stopped after line {}; pass --resume to continue from there or --restart to begin again",
            options.path.display(),
            p.lines_done
        ),
        _ => (Summary::default(), 0),
    };
    let mut rejected_log = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(skip_through > 0)
        .truncate(skip_through == 0)
        .open(&rejected_path)
        .with_context(|| format!("cannot write {}", rejected_path.display()))?;

    let size = std::fs::metadata(&options.path)?.len();
    let bytes = Arc::new(AtomicU64::new(0));
    let mut reader = Reader::open(&options.path, format, bytes.clone())?;
    let bar = options.progress_bar.then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {percent:>3}% {msg} [{elapsed_precise}, {eta} left]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    // Parse on this task, insert on another: the next batch is validated while the last one is
    // written.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Record>>(2);
    let batch = options.batch.max(1);
    let parser = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        loop {
            let records = reader.next_batch(batch, skip_through)?;
            if records.is_empty() || tx.blocking_send(records).is_err() {
                return Ok(());
            }
        }
    });

    let mut shown = 0;
    while let Some(records) = rx.recv().await {
        let last_line = records.last().map(|r| r.line).unwrap_or(0);
        let mut accepted = Vec::with_capacity(records.len());
        for record in records {
            totals.read += 1;
            match record.result {
                Ok(new) => accepted.push(new),
                Err(reason) => {
                    totals.rejected += 1;
                    writeln!(rejected_log, "line {}: {reason}", record.line)?;
                    if shown < SHOWN_REJECTIONS {
                        shown += 1;
                        let text = format!("line {}: rejected: {reason}", record.line);
                        match &bar {
                            Some(bar) => bar.println(text),
                            None => eprintln!("{text}"),
                        }
                    }
                }
            }
        }
        if !accepted.is_empty() {
            for outcome in trackings.create_many(account, accepted).await? {
                match outcome {
                    CreateOutcome::Created(tracking) => {
                        totals.created += 1;
                        if let Some(reason) = tracking.check_error {
                            *totals.unfetchable.entry(reason).or_default() += 1;
                        }
                    }
                    CreateOutcome::AlreadyExists { .. } => totals.existed += 1,
                }
            }
        }
        totals.lines_done = last_line;
        let progress = Progress {
            lines_done: last_line,
            totals: totals.clone(),
        };
        let tmp = sidecar(&progress_path, ".tmp");
        std::fs::write(&tmp, serde_json::to_vec(&progress)?)?;
        std::fs::rename(&tmp, &progress_path)?;
        if let Some(bar) = &bar {
            bar.set_position(bytes.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{} created, {} existed, {} rejected",
                totals.created, totals.existed, totals.rejected
            ));
        }
    }
    parser.await.context("the file reader stopped")??;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    rejected_log.flush()?;
    std::fs::remove_file(&progress_path).ok();
    if totals.rejected == 0 {
        std::fs::remove_file(&rejected_path).ok();
    }
    Ok(totals)
}

/// Where the full list of rejections of `path` is written.
pub fn rejected_file(path: &Path) -> PathBuf {
    sidecar(path, ".rejected")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_file_name() {
        assert_eq!(Format::of(Path::new("a.CSV")).unwrap(), Format::Csv);
        assert_eq!(Format::of(Path::new("a.jsonl")).unwrap(), Format::Jsonl);
        assert!(Format::of(Path::new("a.txt")).is_err());
    }

    #[test]
    fn records_are_validated_like_the_create_endpoint() {
        let ok = validate(serde_json::json!({
            "tracking_number": "1Z999AA10123456784",
            "courier_code": "ups",
            "order_number": "#1"
        }))
        .unwrap();
        assert_eq!(ok.courier_code, "ups");
        assert_eq!(ok.fields.order_number.as_deref(), Some("#1"));
        let unknown = validate(serde_json::json!({"tracking_number": "X1", "carrier_code": "ups"}))
            .unwrap_err();
        assert!(unknown.contains("carrier_code"), "{unknown}");
        let courier =
            validate(serde_json::json!({"tracking_number": "ABC123456", "courier_code": "nope"}))
                .unwrap_err();
        assert!(courier.starts_with("4120"), "{courier}");
        assert!(validate(serde_json::json!([1])).is_err());
    }

    #[test]
    fn an_unknown_header_column_is_refused_before_any_row() {
        let dir =
            std::env::temp_dir().join(format!("parceld-import-header-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.csv");
        std::fs::write(
            &path,
            "tracking_number,carrier_code\n1Z999AA10123456784,ups\n9400111899223344556677,usps\n",
        )
        .unwrap();
        let error = Reader::open(&path, Format::Csv, Arc::default())
            .err()
            .expect("the header is refused");
        let message = error.to_string();
        assert!(message.contains("carrier_code"), "{message}");
        assert!(message.contains("header"), "{message}");
        std::fs::write(
            &path,
            "tracking_number,courier_code,order_number\nX,ups,#1\n",
        )
        .unwrap();
        assert!(Reader::open(&path, Format::Csv, Arc::default()).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
