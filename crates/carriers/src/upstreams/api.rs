//! The HTTP side every upstream shares: its key header, its base URL and limits, and how a
//! failed answer reads (refused key, rate limit, outage), naming the `[upstreams.<name>]` table to
//! fix.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Kind, UpstreamSettings};
use crate::http::{retry_after, HttpClient, Limits, Reply};
use crate::settings::ConfigError;
use crate::CarrierError;

/// One upstream's authenticated HTTP API.
pub(crate) struct Api {
    pub(crate) kind: Kind,
    http: HttpClient,
    base: String,
    key: String,
}

impl Api {
    pub(crate) fn new(kind: Kind, settings: &UpstreamSettings) -> Result<Api, ConfigError> {
        let name = kind.name();
        let key = match settings.api_key.as_ref().map(|k| k.0.trim()) {
            Some(key) if !key.is_empty() => key.to_string(),
            _ => {
                return Err(ConfigError::UpstreamMissing {
                    upstream: name,
                    field: "api_key",
                })
            }
        };
        let base = settings
            .base_url
            .clone()
            .unwrap_or_else(|| kind.base_url().to_string());
        if reqwest::Url::parse(&base).is_err() {
            return Err(ConfigError::UpstreamInvalid {
                upstream: name,
                message: format!("base_url `{base}` is not an absolute URL"),
            });
        }
        let (rate, concurrency) = kind.default_limits();
        let limits = Limits::new(settings.rate_per_second.unwrap_or(rate), concurrency);
        let timeout = std::time::Duration::from_secs(20);
        Ok(Api {
            kind,
            http: HttpClient::new(name, timeout, limits),
            base: base.trim_end_matches('/').to_string(),
            key,
        })
    }

    fn key_header(&self) -> &'static str {
        match self.kind {
            Kind::SeventeenTrack => "17token",
            Kind::AfterShip => "as-api-key",
            Kind::TrackingMore => "Tracking-Api-Key",
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .inner()
            .request(method, format!("{}{path}", self.base))
            .header(self.key_header(), &self.key)
            .header("Accept", "application/json")
    }

    /// `POST <base><path>` with a JSON body.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Reply, CarrierError> {
        let call = self.request(reqwest::Method::POST, path).json(body);
        self.http.send(call).await
    }

    /// `GET <base><path>?<query>`.
    pub(crate) async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Reply, CarrierError> {
        let call = self.request(reqwest::Method::GET, path).query(query);
        self.http.send(call).await
    }

    /// `DELETE <base><path>`.
    pub(crate) async fn delete(&self, path: &str) -> Result<Reply, CarrierError> {
        self.http
            .send(self.request(reqwest::Method::DELETE, path))
            .await
    }
}

/// The error a failed HTTP answer stands for: a refused key names the table to fix; 429, 408 and
/// 5xx are retried (with `Retry-After`); anything else is a refused request.
pub(crate) fn failure(name: &'static str, reply: &Reply) -> CarrierError {
    let snippet: String = reply.text().chars().take(300).collect();
    let status = reply.status;
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        refused_key(name, &format!("HTTP {status}: {snippet}"))
    } else if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        CarrierError::Retryable {
            reason: format!("{name} answered HTTP {status}: {snippet}"),
            retry_after: retry_after(&reply.headers),
        }
    } else {
        CarrierError::permanent(format!("{name} answered HTTP {status}: {snippet}"))
    }
}

/// The upstream refused parceld's key.
pub(crate) fn refused_key(name: &str, detail: &str) -> CarrierError {
    CarrierError::credentials(format!(
        "{name} rejected the credentials ({detail}); check api_key in [upstreams.{name}]"
    ))
}

/// How an upstream reads a body: its `data`; `Err(Some)` for what the body itself says failed
/// (a refused key, a used-up quota, a refusal); `Err(None)` when only the HTTP status explains
/// the failure (429, 5xx). The flag says whether the HTTP status was a success.
pub(crate) type Envelope = fn(bool, &[u8]) -> Result<Value, Option<CarrierError>>;

/// A body as JSON: a success's unreadable body is malformed; a failure's explains nothing (its
/// status does).
pub(crate) fn body_json(
    name: &str,
    success: bool,
    body: &[u8],
) -> Result<Value, Option<CarrierError>> {
    serde_json::from_slice(body).map_err(|e| success.then(|| CarrierError::malformed(name, e)))
}

/// The `data` of `reply` as `envelope` reads it, or the [`failure`] its status stands for.
pub(crate) fn read(
    name: &'static str,
    reply: &Reply,
    envelope: Envelope,
) -> Result<Value, CarrierError> {
    envelope(reply.status.is_success(), &reply.body)
        .map_err(|said| said.unwrap_or_else(|| failure(name, reply)))
}

/// A body read as a successful answer's (the parsers' fixtures).
pub(crate) fn read_body(
    name: &str,
    body: &[u8],
    envelope: Envelope,
) -> Result<Value, CarrierError> {
    envelope(true, body).map_err(|said| {
        said.unwrap_or_else(|| CarrierError::retryable(format!("{name}: temporary failure")))
    })
}

impl Api {
    /// Deletes each of `trackings` by its `id` at `path(id)`; how many the upstream deleted.
    pub(crate) async fn delete_each(
        &self,
        trackings: Vec<&Value>,
        path: impl Fn(&str) -> String,
    ) -> Result<u64, CarrierError> {
        let mut deleted = 0;
        for id in trackings.iter().filter_map(|t| crate::json::text(t, "id")) {
            deleted += u64::from(self.delete(&path(&id)).await?.status.is_success());
        }
        Ok(deleted)
    }
}
