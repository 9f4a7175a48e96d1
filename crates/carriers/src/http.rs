//! The HTTP client every adapter shares: rustls, gzip, a whole-request timeout, a per-carrier
//! rate limiter and concurrency cap, and one place that turns HTTP failures into classified
//! [`CarrierError`]s.
//!
//! Limits live with the client rather than in each adapter so that every request to a carrier —
//! batch or single, tracking or token — counts against the same budget.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::settings::{required, ConfigError};
use crate::{CarrierApi, CarrierError, CarrierSettings, TrackOutcome, TrackResult};

/// Bodies larger than this are refused; no tracking answer comes close.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A carrier's request budget: at most `rate` requests per second (a pacer with a small burst)
/// and at most `concurrency` in flight.
#[derive(Debug)]
pub struct Limits {
    interval: Duration,
    burst: u32,
    next_slot: Mutex<Instant>,
    in_flight: Semaphore,
}

impl Limits {
    pub fn new(rate_per_second: f64, concurrency: usize) -> Self {
        let rate = if rate_per_second.is_finite() && rate_per_second > 0.0 {
            rate_per_second
        } else {
            1.0
        };
        Limits {
            interval: Duration::from_secs_f64(1.0 / rate),
            burst: rate.ceil().clamp(1.0, 10.0) as u32,
            next_slot: Mutex::new(Instant::now()),
            in_flight: Semaphore::new(concurrency.max(1)),
        }
    }

    /// Waits for a rate slot. Up to `burst` requests may go at once after a quiet spell.
    pub async fn wait_turn(&self) {
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let earliest = now
                .checked_sub(self.interval * (self.burst - 1))
                .unwrap_or(now);
            let slot = (*next).max(earliest);
            *next = slot + self.interval;
            slot.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A response read whole: status, headers and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON, or reports a malformed response (retryable).
    pub fn json<T: serde::de::DeserializeOwned>(&self, carrier: &str) -> Result<T, CarrierError> {
        serde_json::from_slice(&self.body).map_err(|e| CarrierError::malformed(carrier, e))
    }

    /// What a tracking call's reply says: the parsed body of a success, `NotFound` for a 404,
    /// the classified error otherwise.
    pub fn tracked(
        &self,
        carrier: &str,
        parse: impl FnOnce(&[u8]) -> TrackOutcome,
    ) -> TrackOutcome {
        match self.status {
            s if s.is_success() => parse(&self.body),
            StatusCode::NOT_FOUND => Ok(TrackResult::NotFound),
            _ => Err(self.error(carrier)),
        }
    }

    /// What a call's reply says: the parsed body of a success, the classified error otherwise.
    pub fn parsed<T>(
        &self,
        carrier: &str,
        parse: impl FnOnce(&[u8]) -> Result<T, CarrierError>,
    ) -> Result<T, CarrierError> {
        if self.status.is_success() {
            parse(&self.body)
        } else {
            Err(self.error(carrier))
        }
    }

    /// The classified error for a non-success reply: 429 and 5xx (and 408) are retryable with
    /// any `Retry-After`; 401/403 are bad credentials; other 4xx are bad requests.
    pub fn error(&self, carrier: &str) -> CarrierError {
        let snippet: String = self.text().chars().take(300).collect();
        let status = self.status;
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            CarrierError::Retryable {
                reason: format!("{carrier} answered HTTP {status}: {snippet}"),
                retry_after: retry_after(&self.headers),
            }
        } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            CarrierError::credentials(format!(
                "{carrier} rejected the credentials (HTTP {status}); check [carriers.{carrier}]: {snippet}"
            ))
        } else {
            CarrierError::permanent(format!("{carrier} answered HTTP {status}: {snippet}"))
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .num_seconds()
        .max(0);
    Some(Duration::from_secs(secs as u64))
}

/// What a carrier is called at unless its settings say otherwise: requests per second and
/// requests in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultLimits {
    pub rate_per_second: f64,
    pub concurrency: usize,
}

impl DefaultLimits {
    pub const fn new(rate_per_second: f64, concurrency: usize) -> Self {
        DefaultLimits {
            rate_per_second,
            concurrency,
        }
    }
}

/// One carrier's HTTP client with its limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limits: Arc<Limits>,
    carrier: &'static str,
}

impl HttpClient {
    /// The client of `carrier` as configured: the settings' timeout, rate and concurrency, or the
    /// carrier's own defaults where the settings name none.
    pub fn configured(
        carrier: &'static str,
        settings: &CarrierSettings,
        defaults: DefaultLimits,
    ) -> Self {
        let limits = Limits::new(
            settings.rate_per_second.unwrap_or(defaults.rate_per_second),
            settings.concurrency.unwrap_or(defaults.concurrency),
        );
        HttpClient::new(carrier, settings.timeout(), limits)
    }

    pub fn new(carrier: &'static str, timeout: Duration, limits: Limits) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("parceld/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        HttpClient {
            client,
            limits: Arc::new(limits),
            carrier,
        }
    }

    pub fn carrier(&self) -> &'static str {
        self.carrier
    }

    /// The underlying client, to build requests with.
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// A GET request to `url`, to be sent with [`HttpClient::send`].
    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.client.get(url)
    }

    /// Sends a request within the carrier's limits and reads the whole body. Transport
    /// failures (timeouts, refused connections, cut bodies) come back retryable.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, CarrierError> {
        let _permit = self
            .limits
            .in_flight
            .acquire()
            .await
            .map_err(|_| CarrierError::retryable("carrier client is shutting down"))?;
        self.limits.wait_turn().await;
        self.send_unlimited(request).await
    }

    /// Sends without taking a rate slot (token requests, which the carrier budgets apart).
    pub async fn send_unlimited(&self, request: RequestBuilder) -> Result<Reply, CarrierError> {
        let carrier = self.carrier;
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not be reached"
            } else {
                "failed in transport"
            };
            CarrierError::retryable(format!("{carrier} {what}: {e}"))
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(CarrierError::malformed(carrier, "body larger than 8 MiB"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Numbers as one path segment: each percent-encoded, joined by commas (APIs that take several
/// numbers in their path).
pub fn path_list(numbers: &[&str]) -> String {
    let encoded: Vec<String> = numbers.iter().map(|n| crate::ups::encode(n)).collect();
    encoded.join(",")
}

/// No query parameters, for [`KeyedApi::get`] of a path that needs none.
pub const NO_QUERY: &[(&str, &str)] = &[];

/// A carrier API called with fixed credentials — key headers (DHL, PostNL, Royal Mail, La
/// Poste), a key in the query (PostNord), HTTP Basic (Australia Post, bpost, Purolator) — with
/// its client and base URL. Every request carries them.
#[derive(Debug)]
pub struct KeyedApi {
    http: HttpClient,
    base: String,
    headers: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    basic: Option<(String, String)>,
}

impl KeyedApi {
    /// The API of adapter `T` as its settings name it, sending the required `api_key` in
    /// `header`.
    pub(crate) fn from_settings<T: CarrierApi>(
        settings: &CarrierSettings,
        header: &'static str,
    ) -> Result<Self, ConfigError> {
        let key = required(T::CODE, "api_key", &settings.api_key)?;
        Ok(KeyedApi::of::<T>(settings)?.header(header, key))
    }

    /// The API of adapter `T` at its settings' base URL, without credentials yet.
    pub(crate) fn of<T: CarrierApi>(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(KeyedApi {
            http: T::http_client(settings),
            base: settings.base_url_for(T::CODE)?,
            headers: Vec::new(),
            query: Vec::new(),
            basic: None,
        })
    }

    /// The API of adapter `T` authenticated with HTTP Basic from the `username` and `password`
    /// its settings must name.
    pub(crate) fn basic_from_settings<T: CarrierApi>(
        settings: &CarrierSettings,
    ) -> Result<Self, ConfigError> {
        Ok(KeyedApi::of::<T>(settings)?.basic(
            required(T::CODE, "username", &settings.username)?,
            required(T::CODE, "password", &settings.password)?,
        ))
    }

    /// Sends `name: value` with every request.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sends the query parameter `name=value` with every request.
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Authenticates every request with HTTP Basic.
    pub fn basic(mut self, user: String, password: String) -> Self {
        self.basic = Some((user, password));
        self
    }

    fn with_credentials(&self, request: RequestBuilder) -> RequestBuilder {
        let mut request = request.query(&self.query);
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        match &self.basic {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }

    /// Sends `GET <base><path>?<query>` with the credentials, accepting `accept`.
    pub async fn get<Q>(&self, path: &str, query: &Q, accept: &str) -> Result<Reply, CarrierError>
    where
        Q: serde::Serialize + ?Sized,
    {
        let call = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .header("Accept", accept);
        self.http.send(self.with_credentials(call)).await
    }

    /// Sends `GET <base><path>?<query>` with the credentials, asking for JSON.
    pub async fn get_json<Q>(&self, path: &str, query: &Q) -> Result<Reply, CarrierError>
    where
        Q: serde::Serialize + ?Sized,
    {
        self.get(path, query, "application/json").await
    }

    /// Sends `POST <base><path>` with the credentials, `body` as `content_type` and the extra
    /// `headers` (a SOAP action).
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> Result<Reply, CarrierError> {
        let mut call = self
            .http
            .inner()
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .body(body);
        for (name, value) in headers {
            call = call.header(*name, *value);
        }
        self.http.send(self.with_credentials(call)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_paces_after_the_burst() {
        let limits = Limits::new(20.0, 4);
        let start = Instant::now();
        for _ in 0..30 {
            limits.wait_turn().await;
        }
        // 10 go at once, the other 20 at 50 ms each: about 1 s.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
