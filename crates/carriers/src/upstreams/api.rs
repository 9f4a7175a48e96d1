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
        let key = match settings.api_key.as_deref().map(str::trim) {
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
        let limits = Limits::new(
            settings.rate_per_second.unwrap_or(rate),
            settings.concurrency.unwrap_or(concurrency),
        );
        let timeout =
            std::time::Duration::from_millis(settings.timeout_ms.unwrap_or(20_000).max(1));
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

/// `reply` parsed by `parse` when it is a success, its [`failure`] otherwise.
pub(crate) fn parsed<T>(
    name: &'static str,
    reply: &Reply,
    parse: impl FnOnce(&[u8]) -> Result<T, CarrierError>,
) -> Result<T, CarrierError> {
    if reply.status.is_success() {
        parse(&reply.body)
    } else {
        Err(failure(name, reply))
    }
}
