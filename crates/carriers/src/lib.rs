//! parceld's carrier adapters.
//!
//! Each carrier module turns one carrier's official tracking API into the same shape: a list of
//! [`Checkpoint`]s mapped onto the status taxonomy, plus [`ShipmentInfo`]. The shared pieces —
//! the HTTP client, the OAuth token cache, the per-carrier rate limiter and concurrency cap, time
//! zone handling and normalization — are written once here so that an adapter is only the
//! carrier's request, its payload and its code table.
//!
//! Adapters never panic on carrier input: anything unexpected becomes a classified
//! [`CarrierError`] so the engine can decide between retrying later and giving up.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, ShipmentInfo, SubStatus};

pub mod aramex;
pub mod auspost;
pub mod bpost;
pub mod canadapost;
pub mod catalog;
pub mod dhl;
pub mod dpd;
pub mod event;
pub mod fedex;
pub mod gls;
pub mod health;
pub mod http;
pub mod json;
pub mod laposte;
pub mod oauth;
pub mod postnl;
pub mod postnord;
pub mod purolator;
pub mod royalmail;
pub mod sandbox;
pub mod settings;
pub mod tables;
pub mod time;
pub mod ups;
pub mod upstreams;
pub mod usps;
pub mod xml;

pub use health::{Health, HealthReport};
pub use http::{DefaultLimits, HttpClient, Limits};
pub use oauth::{OAuthClient, TokenAuth};
pub use settings::{CarrierSettings, ConfigError};
pub use upstreams::{Upstream, UpstreamReport, UpstreamSettings};

/// One number to track, with what the carrier may need besides the number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackRequest {
    pub tracking_number: String,
    /// Destination postal code; some carriers return full data only with it.
    pub postal_code: Option<String>,
    /// Ship date (`YYYY-MM-DD`), to disambiguate reused numbers.
    pub ship_date: Option<String>,
    /// Destination country (ISO 3166-1 alpha-2), where the carrier can use it.
    pub destination_country: Option<String>,
    /// When the tracking was created in parceld. The sandbox courier unfolds its journeys from
    /// this instant, so its answers are reproducible.
    pub created_at: Option<DateTime<Utc>>,
}

impl TrackRequest {
    pub fn new(tracking_number: impl Into<String>) -> Self {
        TrackRequest {
            tracking_number: tracking_number.into(),
            ..TrackRequest::default()
        }
    }
}

/// What a carrier knows about one shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    /// Newest first, de-duplicated; one or both legs.
    pub checkpoints: Vec<Checkpoint>,
    pub info: ShipmentInfo,
    /// Derived from the checkpoints by [`parceld_model::normalize`].
    pub status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
}

impl Shipment {
    /// Builds a shipment from checkpoints in any order, normalizing them.
    pub fn new(mut checkpoints: Vec<Checkpoint>, info: ShipmentInfo) -> Self {
        let (status, substatus) = parceld_model::normalize(&mut checkpoints);
        Shipment {
            checkpoints,
            info,
            status,
            substatus,
        }
    }
}

/// A carrier's answer for one number.
// Answers are short-lived and moved once into the store; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackResult {
    Found(Shipment),
    /// The carrier answered but knows no such number (or has no events yet).
    NotFound,
}

impl TrackResult {
    /// `Found` with these checkpoints and the shipment's `info`, or `NotFound` when there are no
    /// checkpoints (the info is then not read).
    pub fn unless_empty(checkpoints: Vec<Checkpoint>, info: impl FnOnce() -> ShipmentInfo) -> Self {
        if checkpoints.is_empty() {
            TrackResult::NotFound
        } else {
            TrackResult::Found(Shipment::new(checkpoints, info()))
        }
    }
}

/// Why a carrier call failed, classified for the caller's retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    /// Worth trying again later: 429, 5xx, timeouts, connection failures, malformed bodies.
    #[error("temporary carrier failure: {reason}")]
    Retryable {
        reason: String,
        /// What the carrier asked for (`Retry-After`), when it said.
        retry_after: Option<Duration>,
    },
    /// Will fail the same way until someone changes something: bad credentials, bad request.
    #[error("carrier rejected the request: {reason}")]
    Permanent { reason: String },
    /// The carrier refused parceld's credentials: every call will fail until the configuration
    /// changes, so the engine pauses the courier instead of hammering it.
    #[error("carrier refused the credentials: {reason}")]
    Credentials { reason: String },
}

impl CarrierError {
    pub fn retryable(reason: impl Into<String>) -> Self {
        CarrierError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        CarrierError::Permanent {
            reason: reason.into(),
        }
    }

    pub fn credentials(reason: impl Into<String>) -> Self {
        CarrierError::Credentials {
            reason: reason.into(),
        }
    }

    pub fn malformed(carrier: &str, detail: impl std::fmt::Display) -> Self {
        CarrierError::retryable(format!("{carrier} sent a malformed response: {detail}"))
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, CarrierError::Retryable { .. })
    }
}

/// The outcome for one number.
pub type TrackOutcome = Result<TrackResult, CarrierError>;

/// One carrier's tracking API.
#[async_trait::async_trait]
pub trait Carrier: Send + Sync {
    /// The courier code (`fedex`, `ups`, `usps`, `dhl`, `postnl-3s`, `canada-post`, `sandbox`).
    fn code(&self) -> &'static str;

    /// How many numbers one call may carry; callers split larger batches.
    fn max_batch(&self) -> usize {
        1
    }

    /// The default request rate (requests per second) the adapter keeps to.
    fn default_rate(&self) -> f64;

    /// Tracks up to [`Carrier::max_batch`] numbers (more are split internally) and returns one
    /// outcome per requested number, in request order.
    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)>;

    /// Tells the source to stop tracking `numbers` (deleted or archived in parceld). Only an
    /// upstream, which counts what it tracks against the account's quota, does anything.
    async fn stop(&self, _numbers: &[String]) {}

    /// The `[upstreams.<name>]` this courier is reached through, if not its own API.
    fn upstream(&self) -> Option<&'static str> {
        None
    }
}

/// The configured carriers by courier code. `sandbox` is always present.
#[derive(Clone)]
pub struct Carriers {
    by_code: HashMap<String, Arc<dyn Carrier>>,
    /// Each carrier's configured request rate (its default where the configuration is silent).
    rates: HashMap<String, f64>,
    /// The configured upstreams, for their reports.
    upstreams: Vec<Arc<Upstream>>,
    /// Every courier's recent calls.
    health: Arc<Health>,
}

impl Carriers {
    /// Builds each carrier named in `settings` (the `[carriers.<table>]` tables), plus the
    /// sandbox, under every courier code its adapter serves ([`catalog::ADAPTERS`]: La Poste's
    /// API also tracks Colissimo and Chronopost, PostNord's the Swedish and Danish posts). A
    /// table with `enabled = false` is skipped. Unknown tables and missing credentials are
    /// configuration errors, reported before anything starts.
    pub fn from_settings(settings: &HashMap<String, CarrierSettings>) -> Result<Self, ConfigError> {
        Carriers::from_config(settings, &HashMap::new())
    }

    /// [`Carriers::from_settings`], then the courier codes each `[upstreams.<name>]` routes (see
    /// [`upstreams::routing`]): a code an upstream names explicitly goes through it even when
    /// parceld has an adapter of its own; `couriers = ["*"]` takes every other courier of the
    /// registry this server has no adapter configured for.
    pub fn from_config(
        settings: &HashMap<String, CarrierSettings>,
        upstreams: &HashMap<String, UpstreamSettings>,
    ) -> Result<Self, ConfigError> {
        let mut by_code: HashMap<String, Arc<dyn Carrier>> = HashMap::new();
        let mut rates: HashMap<String, f64> = HashMap::new();
        let sandbox_settings = settings.get("sandbox").cloned().unwrap_or_default();
        let sandbox: Arc<dyn Carrier> =
            Arc::new(sandbox::Sandbox::from_settings(&sandbox_settings));
        rates.insert(
            "sandbox".into(),
            sandbox_settings
                .rate_per_second
                .unwrap_or(sandbox.default_rate()),
        );
        by_code.insert("sandbox".into(), sandbox);
        let mut codes: Vec<&String> = settings.keys().collect();
        codes.sort();
        for code in codes {
            let s = &settings[code];
            if code == "sandbox" || s.enabled == Some(false) {
                continue;
            }
            let adapter =
                catalog::by_table(code).ok_or_else(|| ConfigError::UnknownCarrier(code.clone()))?;
            let carrier = (adapter.build)(s)?;
            let rate = s.rate_per_second.unwrap_or(carrier.default_rate());
            for served in adapter.serves {
                rates.insert(served.to_string(), rate);
                by_code.insert(served.to_string(), carrier.clone());
            }
        }
        let routed = upstreams::routing::route(upstreams, &mut by_code, &mut rates)?;
        Ok(Carriers::measured(by_code, rates, routed))
    }

    /// Each carrier wrapped so that its calls are recorded in the couriers' [`Health`].
    fn measured(
        by_code: HashMap<String, Arc<dyn Carrier>>,
        rates: HashMap<String, f64>,
        upstreams: Vec<Arc<Upstream>>,
    ) -> Self {
        let health = Arc::new(Health::default());
        let by_code = by_code
            .into_iter()
            .map(|(code, inner)| {
                let measured: Arc<dyn Carrier> = Arc::new(health::Measured {
                    inner,
                    courier: code.clone(),
                    health: health.clone(),
                });
                (code, measured)
            })
            .collect();
        Carriers {
            by_code,
            rates,
            upstreams,
            health,
        }
    }

    /// Only the sandbox courier.
    pub fn sandbox_only() -> Self {
        Carriers::from_settings(&HashMap::new())
            .unwrap_or_else(|_| Carriers::measured(HashMap::new(), HashMap::new(), Vec::new()))
    }

    /// How many numbers per second `code` can answer at its configured rate and batch size
    /// (0 for a courier that is not configured).
    pub fn numbers_per_second(&self, code: &str) -> f64 {
        match (self.by_code.get(code), self.rates.get(code)) {
            (Some(carrier), Some(rate)) => rate * carrier.max_batch() as f64,
            _ => 0.0,
        }
    }

    pub fn get(&self, code: &str) -> Option<Arc<dyn Carrier>> {
        self.by_code.get(code).cloned()
    }

    /// The configured upstreams' reports, by name.
    pub fn upstream_reports(&self) -> Vec<UpstreamReport> {
        self.upstreams.iter().map(|u| u.report()).collect()
    }

    /// `code`'s recent health, once parceld has called it.
    pub fn health(&self, code: &str) -> Option<HealthReport> {
        self.health.report(code)
    }

    /// The upstream `code` goes through on this server, if it is routed through one.
    pub fn upstream_of(&self, code: &str) -> Option<&'static str> {
        self.by_code.get(code).and_then(|c| c.upstream())
    }

    /// Asks the source of `code` to stop tracking `numbers`, in the background (deleting or
    /// archiving a tracking never waits on an upstream).
    pub fn stop(&self, code: &str, numbers: Vec<String>) {
        if let Some(carrier) = self.by_code.get(code).filter(|c| c.upstream().is_some()) {
            let carrier = carrier.clone();
            tokio::spawn(async move { carrier.stop(&numbers).await });
        }
    }

    /// The configured courier codes, sorted.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.by_code.keys().cloned().collect();
        codes.sort();
        codes
    }
}

impl std::fmt::Debug for Carriers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carriers")
            .field("codes", &self.codes())
            .finish()
    }
}

/// Splits a batch into calls of at most `max` numbers, runs `call` on each concurrently (the
/// adapter's own limits still apply) and returns the outcomes in request order.
pub(crate) async fn track_in_chunks<'a, F, Fut>(
    batch: &'a [TrackRequest],
    max: usize,
    call: F,
) -> Vec<(String, TrackOutcome)>
where
    F: Fn(&'a [TrackRequest]) -> Fut,
    Fut: std::future::Future<Output = Vec<(String, TrackOutcome)>>,
{
    let futures = batch.chunks(max.max(1)).map(call);
    let mut out = Vec::with_capacity(batch.len());
    for chunk in join_all(futures).await {
        out.extend(chunk);
    }
    out
}

/// A small `join_all`, so the crate needs no futures dependency.
async fn join_all<Fut: std::future::Future>(
    futures: impl Iterator<Item = Fut>,
) -> Vec<Fut::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<Fut>>> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<Fut::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// What every adapter of a carrier's own API names: its courier code and the limits it keeps to
/// unless configured otherwise.
pub(crate) trait CarrierApi: Send + Sync {
    const CODE: &'static str;
    /// Requests per second and calls in flight, unless configured.
    const DEFAULT_LIMITS: DefaultLimits;
    /// The most numbers one call may carry (1 unless the API takes several).
    const MAX_BATCH: usize = 1;

    /// The adapter's HTTP client: its settings' limits, else its defaults.
    fn http_client(settings: &CarrierSettings) -> HttpClient
    where
        Self: Sized,
    {
        HttpClient::configured(Self::CODE, settings, Self::DEFAULT_LIMITS)
    }
}

/// Implements [`CarrierApi`] for an adapter: its courier code, the requests per second and
/// calls in flight it keeps to unless configured, and (for a [`ManyNumbersPerCall`] adapter) the
/// most numbers one call may carry.
macro_rules! carrier_api {
    ($adapter:ty, $code:expr, $rate:expr, $concurrency:expr) => {
        $crate::carrier_api!($adapter, $code, $rate, $concurrency, 1);
    };
    ($adapter:ty, $code:expr, $rate:expr, $concurrency:expr, $max_batch:expr) => {
        impl $crate::CarrierApi for $adapter {
            const CODE: &'static str = $code;
            const DEFAULT_LIMITS: $crate::http::DefaultLimits =
                $crate::http::DefaultLimits::new($rate, $concurrency);
            const MAX_BATCH: usize = $max_batch;
        }
    };
}
pub(crate) use carrier_api;

/// An adapter whose carrier API takes one number per call (UPS, USPS, DHL, PostNL, Canada Post,
/// Royal Mail, PostNord, DPD, bpost). It says how to track one number; its [`Carrier`] follows:
/// a batch is one call per number, run concurrently within the adapter's limits.
pub(crate) trait OneNumberPerCall: CarrierApi {
    /// Tracks one request's number, handed over trimmed.
    fn track_one(
        &self,
        number: &str,
        request: &TrackRequest,
    ) -> impl std::future::Future<Output = TrackOutcome> + Send;
}

#[async_trait::async_trait]
impl<T: OneNumberPerCall> Carrier for T {
    fn code(&self) -> &'static str {
        T::CODE
    }

    fn default_rate(&self) -> f64 {
        T::DEFAULT_LIMITS.rate_per_second
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        let calls = batch.iter().map(|r| async move {
            let outcome = self.track_one(r.tracking_number.trim(), r).await;
            (r.tracking_number.clone(), outcome)
        });
        join_all(calls).await
    }
}
/// One call's outcomes by number, keyed by [`answer_key`].
pub type Answers = HashMap<String, TrackOutcome>;

/// How a number is looked up among a batch call's answers: trimmed, in upper case (carriers
/// echo numbers in their own case).
pub fn answer_key(number: &str) -> String {
    number.trim().to_ascii_uppercase()
}

/// An adapter whose carrier API takes several numbers per call (Australia Post, La Poste, GLS,
/// Purolator, Aramex). Wrapped in [`Batched`] it is a [`Carrier`]: batches are split into calls
/// of at most `MAX_BATCH` numbers, a failed call fails each of its numbers with the same error.
pub(crate) trait ManyNumbersPerCall: CarrierApi {
    /// One call for `numbers` (trimmed, at most `MAX_BATCH`): every number's outcome, keyed by
    /// [`answer_key`].
    fn track_many(
        &self,
        numbers: &[&str],
    ) -> impl std::future::Future<Output = Result<Answers, CarrierError>> + Send;
}

/// The [`Carrier`] of a [`ManyNumbersPerCall`] adapter.
#[derive(Debug)]
pub(crate) struct Batched<T>(pub T);

#[async_trait::async_trait]
impl<T: ManyNumbersPerCall> Carrier for Batched<T> {
    fn code(&self) -> &'static str {
        T::CODE
    }

    fn max_batch(&self) -> usize {
        T::MAX_BATCH
    }

    fn default_rate(&self) -> f64 {
        T::DEFAULT_LIMITS.rate_per_second
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        track_in_chunks(batch, T::MAX_BATCH, |chunk| async move {
            let numbers: Vec<&str> = chunk.iter().map(|r| r.tracking_number.trim()).collect();
            let answers = self.0.track_many(&numbers).await;
            chunk
                .iter()
                .map(|r| {
                    let outcome = match &answers {
                        Err(e) => Err(e.clone()),
                        Ok(found) => found
                            .get(&answer_key(&r.tracking_number))
                            .cloned()
                            .unwrap_or_else(|| {
                                Err(CarrierError::malformed(
                                    T::CODE,
                                    format!("no answer for {}", r.tracking_number.trim()),
                                ))
                            }),
                    };
                    (r.tracking_number.clone(), outcome)
                })
                .collect()
        })
        .await
    }
}
