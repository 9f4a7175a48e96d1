//! Request metrics in the Prometheus text format: counts and latency histograms by route,
//! method, HTTP status and API code; and the access log, one `info` line per request under the
//! target `parceld::access`, from the same figures.
//!
//! The access log names the method, route template, status, API code, latency and (through the
//! request span, see `router`) the request id, and nothing else: never the raw path (it holds
//! tracking numbers), the query, a header (the API key) or a body.
//!
//! Kept in-process and dependency-free: one mutex-guarded map updated once per request, which
//! costs far less than the request itself.
//!
//! Every label comes from a closed set, so no client can add series: the route is a route
//! template (or `unmatched`), the method one of the standard methods (or `other`), the status
//! and code what parceld answers. A raw method or path as a label would let anyone grow the map,
//! and the `/metrics` output, without bound.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{ErrorCode, V2Code};
use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesKey {
    route: String,
    method: &'static str,
    status: u16,
    code: u32,
}

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The process's request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<SeriesKey, Series>>,
}

impl Metrics {
    fn observe(&self, key: SeriesKey, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let entry = series.entry(key).or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str("# HELP parceld_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE parceld_http_requests_total counter\n");
        for (key, s) in &series {
            let _ = writeln!(
                out,
                "parceld_http_requests_total{{{}}} {}",
                labels(key),
                s.count
            );
        }
        out.push_str("# HELP parceld_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE parceld_http_request_duration_seconds histogram\n");
        for (key, s) in &series {
            let l = labels(key);
            for (bound, count) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "parceld_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "parceld_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "parceld_http_request_duration_seconds_sum{{{l}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "parceld_http_request_duration_seconds_count{{{l}}} {}",
                s.count
            );
        }
        out
    }
}

fn labels(key: &SeriesKey) -> String {
    format!(
        "route=\"{}\",method=\"{}\",status=\"{}\",code=\"{}\"",
        key.route, key.method, key.status, key.code
    )
}

/// The method as a label: one of the standard methods, or `other` for any other (clients may
/// send any token as a method).
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// The route as a label: the matched route template, or `unmatched` for any path no route
/// matches.
pub fn route_label<B>(request: &axum::http::Request<B>) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string())
}

/// Middleware: times the request and records it under its route template (never the raw path,
/// which would make one series per tracking id).
pub async fn record_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = route_label(&request);
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let code = response
        .extensions()
        .get::<ErrorCode>()
        .map(|c| c.code())
        .or_else(|| response.extensions().get::<V2Code>().map(|c| c.code()))
        .unwrap_or(u32::from(status));
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        target: "parceld::access",
        status,
        code,
        latency_ms = (seconds * 1e6).round() / 1e3,
        "request"
    );
    state.metrics.observe(
        SeriesKey {
            route,
            method,
            status,
            code,
        },
        seconds,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_collapse_into_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        for made_up in ["FOO", "BAR1", "get", "X-ANYTHING"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{made_up}");
        }
    }

    #[test]
    fn the_output_does_not_grow_with_distinct_methods() {
        let metrics = Metrics::default();
        let observe = |method: &Method| {
            metrics.observe(
                SeriesKey {
                    route: "unmatched".into(),
                    method: method_label(method),
                    status: 404,
                    code: 404,
                },
                0.001,
            )
        };
        observe(&Method::from_bytes(b"FIRST").unwrap());
        let before = metrics.render().lines().count();
        for i in 0..100 {
            observe(&Method::from_bytes(format!("M{i}").as_bytes()).unwrap());
        }
        let after = metrics.render();
        assert_eq!(after.lines().count(), before, "{after}");
        assert!(after.contains(r#"method="other",status="404",code="404"} 101"#));
    }
}
