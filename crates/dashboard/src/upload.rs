//! `POST /dashboard/shipments/upload`: a CSV file of shipments, as `parceld import` reads one —
//! a header line naming create fields (`tracking_number`, `courier_code`, `order_number`, …),
//! one shipment a row, each validated with the import's rules — added in set-based batches,
//! with the lines refused and why.
//!
//! The file comes in a `multipart/form-data` form (the browser's file field; no script), read
//! here with a small parser of its own: only the named parts and their bytes are needed. A file
//! is at most [`MAX_UPLOAD_BYTES`] and [`MAX_UPLOAD_ROWS`] rows; larger ones are refused whole
//! (nothing added) with a pointer to `parceld import`, which has no such bound.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request};
use axum::response::Response;
use parceld_store::{CreateOutcome, NewTracking};

use crate::add::{AddPage, Uploaded};
use crate::render::{self, Refusal};
use crate::session::{DashboardState, SignedIn};

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024;
/// Most rows one upload may have.
pub const MAX_UPLOAD_ROWS: usize = 5000;
/// Refused lines listed on the page (all are counted).
pub const SHOWN_REFUSALS: usize = 100;
/// Shipments stored per statement.
const BATCH: usize = 1000;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a `multipart/form-data` body of `content_type`: (name, bytes), or `None` for a
/// body that is not one. At most a few parts: the form has two.
pub fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut params = content_type.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() {
        return None;
    }
    let delimiter = [b"--", boundary.as_bytes()].concat();
    let between = [b"\r\n--", boundary.as_bytes()].concat();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    while !rest.starts_with(b"--") && parts.len() < 8 {
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))?
            .trim_matches('"')
            .to_string();
        let content = &rest[head_end + 4..];
        let end = find(content, &between)?;
        parts.push((name, content[..end].to_vec()));
        rest = &content[end + between.len()..];
    }
    Some(parts)
}

/// The first part named `name`.
fn part<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    parts
        .iter()
        .find(|(n, _)| n == name)
        .map_or(&[][..], |(_, v)| v.as_slice())
}

/// One row of a file: its line, and the tracking to add or why not.
pub type Row = (u64, Result<NewTracking, String>);

/// The file's rows, or why the file cannot be read at all.
pub fn records(file: &[u8]) -> Result<Vec<Row>, String> {
    let file = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
    if file.iter().all(u8::is_ascii_whitespace) {
        return Err("Choose a CSV file with a header line and a row per shipment.".into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(file);
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.trim().to_string()).collect(),
        Err(error) => return Err(format!("The header line cannot be read: {error}")),
    };
    parceld_service::input::check_csv_header(&headers).map_err(|problem| {
        let mut text = problem;
        if let Some(first) = text.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        text
    })?;
    let mut out = Vec::new();
    for row in reader.records() {
        if out.len() == MAX_UPLOAD_ROWS {
            return Err(format!(
                "The file has more than {MAX_UPLOAD_ROWS} rows: split it, or load it with `parceld import`."
            ));
        }
        out.push(match row {
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line());
                let record = parceld_service::input::csv_record(&headers, row.iter());
                (line, parceld_service::input::record(record))
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                (line, Err(format!("not a valid CSV row: {error}")))
            }
        });
    }
    Ok(out)
}

/// `POST /dashboard/shipments/upload`.
pub async fn upload(
    State(state): State<DashboardState>,
    who: SignedIn,
    request: Request<Body>,
) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_UPLOAD_BYTES).await else {
        let mut page = AddPage::new(&who);
        page.file_problem = Some(format!(
            "The file is larger than {} KiB: split it, or load it with `parceld import`.",
            MAX_UPLOAD_BYTES / 1024
        ));
        return page.answer();
    };
    let Some(parts) = multipart(&content_type, &body) else {
        return render::refusal(Refusal::BadRequest, Some(&who));
    };
    let csrf = String::from_utf8_lossy(part(&parts, "csrf")).into_owned();
    if let Err(refusal) = who.check_form(&csrf).and_then(|()| who.check_may_act()) {
        return render::refusal(refusal, Some(&who));
    }
    let mut page = AddPage::new(&who);
    let records = match records(part(&parts, "file")) {
        Ok(records) => records,
        Err(problem) => {
            page.file_problem = Some(problem);
            return page.answer();
        }
    };
    let mut done = Uploaded {
        read: records.len(),
        ..Uploaded::default()
    };
    let mut accepted = Vec::new();
    for (line, result) in records {
        match result {
            Ok(new) => accepted.push(new),
            Err(_) if done.refused.len() == SHOWN_REFUSALS => done.more_refused += 1,
            Err(reason) => done.refused.push((line, reason)),
        }
    }
    while !accepted.is_empty() {
        let batch: Vec<NewTracking> = accepted.drain(..accepted.len().min(BATCH)).collect();
        match state.0.trackings.create_many(who.account(), batch).await {
            Ok(outcomes) => {
                for outcome in outcomes {
                    match outcome {
                        CreateOutcome::Created(_) => done.created += 1,
                        CreateOutcome::AlreadyExists { .. } => done.existed += 1,
                    }
                }
            }
            Err(error) => return render::store_failed(error, Some(&who)),
        }
    }
    page.uploaded = Some(done);
    page.answer()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn a_form_with_a_file_is_read_part_by_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\ntracking_number\r\nX1\r\n\r\n--XyZ--\r\n";
        let parts = multipart(TYPE, body).unwrap();
        assert_eq!(part(&parts, "csrf"), b"abc");
        assert_eq!(part(&parts, "file"), b"tracking_number\r\nX1\r\n");
        assert_eq!(part(&parts, "other"), b"");
    }

    #[test]
    fn what_is_not_a_multipart_form_is_none() {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", &b"a=b"[..]),
            ("multipart/form-data", b"--XyZ--"),
            (TYPE, b"no delimiter at all"),
            (
                TYPE,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever ends",
            ),
            (TYPE, b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--"),
        ] {
            assert!(multipart(content_type, body).is_none(), "{content_type}");
        }
    }

    #[test]
    fn rows_are_checked_with_the_imports_rules_line_by_line() {
        let file = b"\xEF\xBB\xBFtracking_number,courier_code,order_number\n1Z999AA10123456784,ups,#1\nABC123456,nope,\n,ups,#3\n";
        let found = records(file).unwrap();
        let lines: Vec<(u64, bool)> = found.iter().map(|(l, r)| (*l, r.is_ok())).collect();
        assert_eq!(lines, [(2, true), (3, false), (4, false)]);
        let reason = found[1].1.as_ref().unwrap_err();
        assert!(reason.starts_with("4120"), "{reason}");
        let header = records(b"tracking_number,carrier_code\nX,ups\n").unwrap_err();
        assert!(header.contains("carrier_code"), "{header}");
        assert!(records(b"  \n").is_err());
        let many = format!("tracking_number\n{}", "X1\n".repeat(MAX_UPLOAD_ROWS + 1));
        assert!(records(many.as_bytes())
            .unwrap_err()
            .contains("parceld import"));
    }
}
