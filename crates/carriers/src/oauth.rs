//! An OAuth 2.0 client-credentials token cache, shared by FedEx, UPS, USPS and GLS.
//!
//! Tokens are fetched lazily, kept until shortly before they expire, refreshed by one task at a
//! time (the others wait on the same lock and reuse its token), and fetched again once when the
//! carrier answers 401 to a token we believed valid — carriers revoke tokens early.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::http::{HttpClient, Reply};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::CarrierError;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuth {
    /// `client_id` and `client_secret` in the form body (FedEx, USPS).
    FormBody,
    /// HTTP Basic `client_id:client_secret` (UPS).
    Basic,
}

/// A token kept until shortly before it expires: fetched by one task at a time (the others wait
/// on the same lock and reuse it), forgotten when the carrier says it is no good. OAuth clients
/// keep theirs here, and so do carriers with a login of their own (DPD).
#[derive(Debug, Default)]
pub struct TokenCache {
    cached: Mutex<Option<Token>>,
}

#[derive(Debug)]
struct Token {
    value: String,
    refresh_at: Instant,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (the token and how long to keep it) when none
    /// is cached or it is due for refresh.
    pub async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<String, CarrierError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(String, Duration), CarrierError>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(token.value.clone());
            }
        }
        let started = Instant::now();
        let (value, keep) = fetch().await?;
        *cached = Some(Token {
            value: value.clone(),
            refresh_at: started + keep,
        });
        Ok(value)
    }

    /// Forgets `stale` if it is still the cached token (the carrier told us it is no good). A
    /// token already replaced by another task is left alone.
    pub async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == stale) {
            *cached = None;
        }
    }
}

/// One carrier's token cache.
#[derive(Debug)]
pub struct OAuthClient {
    token_url: String,
    client_id: String,
    client_secret: String,
    auth: TokenAuth,
    extra_form: Vec<(String, String)>,
    extra_headers: Vec<(String, String)>,
    tokens: TokenCache,
}

/// `expires_in` arrives as a number (FedEx) or a string (UPS, USPS).
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(f64),
    Text(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<Seconds>,
}

impl OAuthClient {
    pub fn new(
        token_url: String,
        client_id: String,
        client_secret: String,
        auth: TokenAuth,
    ) -> Self {
        OAuthClient {
            token_url,
            client_id,
            client_secret,
            auth,
            extra_form: Vec::new(),
            extra_headers: Vec::new(),
            tokens: TokenCache::default(),
        }
    }

    /// The client of `carrier` with the `client_id` and `client_secret` its settings must name,
    /// fetching tokens at `token_path` below its base URL.
    pub fn from_settings(
        carrier: &'static str,
        settings: &CarrierSettings,
        token_path: &str,
        auth: TokenAuth,
    ) -> Result<Self, ConfigError> {
        Ok(OAuthClient::new(
            format!("{}{token_path}", settings.base_url_for(carrier)?),
            required(carrier, "client_id", &settings.client_id)?,
            required(carrier, "client_secret", &settings.client_secret)?,
            auth,
        ))
    }

    /// Adds a form field to token requests (e.g. USPS `scope=tracking`).
    pub fn with_form(mut self, key: &str, value: &str) -> Self {
        self.extra_form.push((key.into(), value.into()));
        self
    }

    /// Adds a header to token requests (e.g. UPS `x-merchant-id`).
    pub fn with_header(mut self, key: &str, value: &str) -> Self {
        self.extra_headers.push((key.into(), value.into()));
        self
    }

    /// A valid access token, fetching a new one if none is cached or it is about to expire.
    pub async fn token(&self, http: &HttpClient) -> Result<String, CarrierError> {
        self.tokens.get_or_fetch(|| self.fetch(http)).await
    }

    /// Forgets `stale` if it is still the cached token (a 401 told us it is no good).
    pub async fn invalidate(&self, stale: &str) {
        self.tokens.invalidate(stale).await
    }

    /// Sends the request `build` makes with `http`'s client, carrying a bearer token; on 401
    /// fetches a new token and tries once more.
    pub async fn send_authorized<F>(
        &self,
        http: &HttpClient,
        build: F,
    ) -> Result<Reply, CarrierError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let token = self.token(http).await?;
        let reply = http.send(build(http.inner()).bearer_auth(&token)).await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        tracing::debug!(
            carrier = http.carrier(),
            "token rejected; fetching a new one"
        );
        self.invalidate(&token).await;
        let token = self.token(http).await?;
        http.send(build(http.inner()).bearer_auth(&token)).await
    }

    /// A new token and how long to keep it.
    async fn fetch(&self, http: &HttpClient) -> Result<(String, Duration), CarrierError> {
        let carrier = http.carrier();
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if self.auth == TokenAuth::FormBody {
            form.push(("client_id", &self.client_id));
            form.push(("client_secret", &self.client_secret));
        }
        for (k, v) in &self.extra_form {
            form.push((k, v));
        }
        let mut request = http.inner().post(&self.token_url).form(&form);
        if self.auth == TokenAuth::Basic {
            request = request.basic_auth(&self.client_id, Some(&self.client_secret));
        }
        for (k, v) in &self.extra_headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let reply = http.send_unlimited(request).await?;
        if !reply.status.is_success() {
            return Err(match reply.status {
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    CarrierError::credentials(format!(
                        "{carrier} refused the OAuth client credentials (HTTP {}); check client_id and client_secret in [carriers.{carrier}]: {}",
                        reply.status,
                        reply.text().chars().take(300).collect::<String>()
                    ))
                }
                _ => reply.error(carrier),
            });
        }
        let parsed: TokenResponse = reply.json(carrier)?;
        if parsed.access_token.is_empty() {
            return Err(CarrierError::malformed(carrier, "empty access_token"));
        }
        let lifetime = match parsed.expires_in {
            Some(Seconds::Number(n)) if n.is_finite() && n > 0.0 => n,
            Some(Seconds::Text(t)) => t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0)
                .unwrap_or(300.0),
            _ => 300.0,
        };
        // Refresh a little early: a tenth of the lifetime, at most a minute.
        let margin = (lifetime / 10.0).min(60.0);
        let keep = Duration::from_secs_f64((lifetime - margin).max(0.0));
        Ok((parsed.access_token, keep))
    }
}
