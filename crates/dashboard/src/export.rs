//! `GET /dashboard/shipments.csv`: the table's filtered set as CSV, streamed.
//!
//! The store reads the set in chunks on its own task (`list_trackings_in_chunks`, set-based,
//! one statement) while each chunk is written out as CSV, so an export of any size holds only a
//! few chunks in memory and starts at once; the channel between them is bounded, so a slow
//! client slows the reading rather than filling memory. A search (`q`) is not a list filter and
//! exports what the table shows for it; without one the export covers every page.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use parceld_model::Tracking;
use parceld_store::Page;

use crate::render::{self};
use crate::session::{DashboardState, SignedIn};
use crate::shipments::{when, Filters};

/// Trackings per chunk read and written.
const CHUNK: usize = 500;
/// Most rows one export holds.
pub const MAX_ROWS: u32 = 1_000_000;

const HEADER: [&str; 9] = [
    "id",
    "tracking_number",
    "courier_code",
    "delivery_status",
    "substatus",
    "order_number",
    "archived",
    "created_at",
    "updated_at",
];

/// Chunk of trackings as CSV lines (with the header line first when `header`).
fn lines(trackings: &[Tracking], header: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(trackings.len() * 120));
    if header {
        let _ = writer.write_record(HEADER);
    }
    for t in trackings {
        let _ = writer.write_record([
            t.id.as_str(),
            &t.tracking_number,
            &t.courier_code,
            t.delivery_status.as_str(),
            t.substatus.map_or("", |s| s.as_str()),
            t.fields.order_number.as_deref().unwrap_or(""),
            if t.archived { "true" } else { "false" },
            &when(Some(t.created_at)),
            &when(Some(t.updated_at)),
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

/// `GET /dashboard/shipments.csv`.
pub async fn csv(
    State(state): State<DashboardState>,
    RawQuery(query): RawQuery,
    who: SignedIn,
) -> Response {
    let filters = match Filters::parse(&query.unwrap_or_default()) {
        Ok(filters) => filters,
        Err(refusal) => return render::refusal(refusal, Some(&who)),
    };
    let mut filter = match filters.store_filter() {
        Ok(filter) => filter,
        Err(refusal) => return render::refusal(refusal, Some(&who)),
    };
    if !filters.q.is_empty() {
        filter.tracking_numbers = filters.numbers();
    }
    let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<Tracking>>(4);
    let store = state.0.store.clone();
    let account = who.account();
    tokio::spawn(async move {
        let page = Page {
            number: 1,
            size: MAX_ROWS,
        };
        if let Err(error) = store
            .list_trackings_in_chunks(account, &filter, page, CHUNK, sender)
            .await
        {
            tracing::warn!(%error, "a dashboard export stopped");
        }
    });
    let first = stream::once(async { Ok::<_, std::io::Error>(lines(&[], true)) });
    let rows = stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok(lines(&chunk, false)), receiver))
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rows));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"shipments.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
