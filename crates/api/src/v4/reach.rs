//! How each courier is reached on this server, for `couriers/all` (parceld extensions): through
//! parceld's own adapter or an aggregator upstream, that upstream's quota, and the courier's recent
//! health (success rate and latency of the engine's calls, in this process). The same facts feed
//! the upstream gauges of `/metrics`.

use std::fmt::Write as _;

use parceld_carriers::{Carriers, HealthReport, UpstreamReport};
use serde::Serialize;
use utoipa::ToSchema;

/// A courier's recent health: the engine's last calls to it in this process.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourierHealth {
    /// Calls counted (the last 100 at most).
    pub calls: usize,
    /// Numbers answered (found or not found) over numbers asked, 0 to 1: failures (5xx, 429,
    /// malformed answers, refused keys) lower it.
    pub success_rate: f64,
    /// Mean latency of those calls, in milliseconds.
    pub latency_ms: u64,
}

impl From<HealthReport> for CourierHealth {
    fn from(h: HealthReport) -> Self {
        CourierHealth {
            calls: h.calls,
            success_rate: (h.success_rate * 1000.0).round() / 1000.0,
            latency_ms: h.latency_ms,
        }
    }
}

/// What an upstream's quota looks like from this process.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpstreamQuota {
    /// The `[upstreams.<name>]` table.
    #[schema(example = "17track")]
    pub upstream: String,
    /// Numbers this process registered upstream (one quota unit each), since it started: the
    /// upstream's dashboard remains the account's record.
    pub registered: u64,
    /// The configured allowance (`quota`), if set.
    #[schema(example = 100)]
    pub quota: Option<u64>,
    /// The allowance less what was registered, if `quota` is set; it does not count what other
    /// nodes or earlier processes registered.
    pub quota_remaining: Option<u64>,
    /// The upstream said the quota is used up at its last registration.
    pub quota_exhausted: bool,
}

impl From<&UpstreamReport> for UpstreamQuota {
    fn from(r: &UpstreamReport) -> Self {
        UpstreamQuota {
            upstream: r.name.to_string(),
            registered: r.registered,
            quota: r.quota,
            quota_remaining: r.quota_remaining,
            quota_exhausted: r.quota_exhausted,
        }
    }
}

/// How this server learns of `courier`'s changes: `push` (a push source covers it: the
/// carrier's own or its upstream's webhook, polls only a slow safety net) or `poll`. Both
/// faces' courier lists say it (`couriers/all`, `/v2/carriers`).
pub fn updates(push: Option<&parceld_engine::push::PushHub>, courier: &str) -> String {
    match push.is_some_and(|hub| hub.pushes(courier)) {
        true => "push",
        false => "poll",
    }
    .to_string()
}

/// The upstream `code` goes through here, with its quota.
pub fn upstream_quota(
    carriers: &Carriers,
    reports: &[UpstreamReport],
    code: &str,
) -> Option<UpstreamQuota> {
    let name = carriers.upstream_of(code)?;
    reports
        .iter()
        .find(|r| r.name == name)
        .map(UpstreamQuota::from)
}

/// One upstream series of `/metrics`: name, type, help, and its value for an upstream (none:
/// no sample).
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&UpstreamReport) -> Option<u64>,
);

/// The upstream gauges of `/metrics`, one series per configured upstream.
pub fn upstream_metrics(carriers: &Carriers) -> String {
    let reports = carriers.upstream_reports();
    let mut text = String::new();
    if reports.is_empty() {
        return text;
    }
    let series: [Series; 4] = [
        (
            "parceld_upstream_registered_total",
            "counter",
            "Numbers registered with an aggregator upstream by this process (one quota unit each).",
            |r| Some(r.registered),
        ),
        (
            "parceld_upstream_stopped_total",
            "counter",
            "Numbers stopped at an aggregator upstream by this process.",
            |r| Some(r.stopped),
        ),
        (
            "parceld_upstream_quota_remaining",
            "gauge",
            "The configured quota of an upstream less what this process registered.",
            |r| r.quota_remaining,
        ),
        (
            "parceld_upstream_quota_exhausted",
            "gauge",
            "1 when the upstream said at its last registration that the quota is used up.",
            |r| Some(u64::from(r.quota_exhausted)),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for report in &reports {
            if let Some(v) = value(report) {
                let _ = writeln!(text, "{name}{{upstream=\"{}\"}} {v}", report.name);
            }
        }
    }
    text
}
