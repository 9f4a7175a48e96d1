//! Per-carrier settings, read from the `[carriers.<code>]` tables of the configuration (or
//! `PARCELD_CARRIERS__<CODE>__<FIELD>` environment variables).
//!
//! Every field is optional so that a table only names what differs from the defaults; the
//! official production base URLs, rates and concurrency caps are filled in per carrier. Secrets
//! are never printed by `Debug`.

use std::time::Duration;

use serde::Deserialize;

/// Settings of one carrier.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CarrierSettings {
    /// `false` turns a configured carrier off without deleting its table.
    pub enabled: Option<bool>,
    /// The API root, e.g. `https://onlinetools.ups.com` or `http://127.0.0.1:9090/ups`.
    pub base_url: Option<String>,
    /// OAuth client id (FedEx, UPS, USPS).
    pub client_id: Option<String>,
    /// OAuth client secret (FedEx, UPS, USPS).
    pub client_secret: Option<String>,
    /// API key (DHL `DHL-API-Key`, PostNL `apikey`).
    pub api_key: Option<String>,
    /// Account number (UPS `x-merchant-id`, Australia Post `Account-Number`, Aramex).
    pub account_number: Option<String>,
    /// Account PIN (Aramex `AccountPin`).
    pub account_pin: Option<String>,
    /// Account entity, the three-letter code of the Aramex office (`AccountEntity`).
    pub account_entity: Option<String>,
    /// Account country, ISO 3166-1 alpha-2 (Aramex `AccountCountryCode`).
    pub account_country_code: Option<String>,
    /// HTTP Basic user name (Canada Post).
    pub username: Option<String>,
    /// HTTP Basic password (Canada Post).
    pub password: Option<String>,
    /// Requests per second this carrier is called at, at most.
    pub rate_per_second: Option<f64>,
    /// Requests in flight at once, at most.
    pub concurrency: Option<usize>,
    /// Whole-request timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// DHL: the `service` hint (`express`, `parcel-de`, …).
    pub service: Option<String>,
    /// Response language where the carrier offers one (`en`, `EN`, `en-CA`).
    pub language: Option<String>,
    /// Sandbox: minutes between two events of a journey.
    pub step_minutes: Option<u64>,
}

/// The settings that are text (URLs, credentials, hints), by name. Configuration loaders read
/// these as written even when they look like numbers: an account number `0123456789` must keep
/// its leading zero, and a key made only of digits is still a key.
pub const TEXT_FIELDS: &[&str] = &[
    "base_url",
    "client_id",
    "client_secret",
    "api_key",
    "account_number",
    "account_pin",
    "account_entity",
    "account_country_code",
    "username",
    "password",
    "service",
    "language",
];

impl std::fmt::Debug for CarrierSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("CarrierSettings")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .field("api_key", &redact(&self.api_key))
            .field("account_number", &self.account_number)
            .field("account_pin", &redact(&self.account_pin))
            .field("account_entity", &self.account_entity)
            .field("account_country_code", &self.account_country_code)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("rate_per_second", &self.rate_per_second)
            .field("concurrency", &self.concurrency)
            .field("timeout_ms", &self.timeout_ms)
            .field("service", &self.service)
            .field("language", &self.language)
            .field("step_minutes", &self.step_minutes)
            .finish()
    }
}

/// A configuration problem, found when the carriers are built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("[carriers.{0}]: no adapter is configured by this table; use one of {tables}", tables = crate::catalog::tables())]
    UnknownCarrier(String),
    #[error("[carriers.{carrier}]: `{field}` is required")]
    Missing {
        carrier: &'static str,
        field: &'static str,
    },
    #[error("[carriers.{carrier}]: {message}")]
    Invalid {
        carrier: &'static str,
        message: String,
    },
    #[error("[upstreams.{0}]: parceld speaks no such upstream; use one of 17track, aftership, trackingmore")]
    UnknownUpstream(String),
    #[error("[upstreams.{upstream}]: `{field}` is required")]
    UpstreamMissing {
        upstream: &'static str,
        field: &'static str,
    },
    #[error("[upstreams.{upstream}]: {message}")]
    UpstreamInvalid {
        upstream: &'static str,
        message: String,
    },
}

/// A required string field, or a clear error naming it.
pub fn required(
    carrier: &'static str,
    field: &'static str,
    value: &Option<String>,
) -> Result<String, ConfigError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(ConfigError::Missing { carrier, field }),
    }
}

/// The official production API root of the adapter configured by `[carriers.<table>]`.
pub fn default_base_url(table: &str) -> Option<&'static str> {
    crate::catalog::by_table(table).map(|a| a.base_url)
}

/// The settings the adapter tracking courier `code` cannot start without (its credentials), or
/// `None` for a code parceld has no carrier adapter for (the sandbox needs none).
pub fn required_settings(code: &str) -> Option<&'static [&'static str]> {
    crate::catalog::serving(code).map(|a| a.required)
}

/// Why trackings of a carrier with an adapter but no configuration stay `pending`, in words an
/// operator can act on: which settings to set, as configuration keys and as environment
/// variables. `None` for a code without a carrier adapter.
pub fn not_configured_message(code: &str, name: &str) -> Option<String> {
    let adapter = crate::catalog::serving(code)?;
    let (table, fields) = (adapter.table, adapter.required);
    let keys: Vec<String> = fields
        .iter()
        .map(|f| format!("carriers.{table}.{f}"))
        .collect();
    let prefix = format!(
        "PARCELD_CARRIERS__{}__",
        table.to_ascii_uppercase().replace('-', "_")
    );
    let vars: Vec<String> = fields
        .iter()
        .map(|f| format!("{prefix}{}", f.to_ascii_uppercase()))
        .collect();
    Some(format!(
        "{name} is not configured on this server, so parceld cannot fetch its tracking and the \
         tracking stays pending: set {} ({}) and restart parceld.",
        keys.join(" and "),
        vars.join(", ")
    ))
}

impl CarrierSettings {
    /// Settings for a carrier answered by `parceld sim` at `base_url`: the simulator takes any
    /// credentials but wants each protocol's to be present, so every one is filled in with a
    /// placeholder. Tests and the benchmark set what else they need on the result.
    pub fn simulated(base_url: String) -> Self {
        let placeholder = |name: &str| Some(format!("sim-{name}"));
        CarrierSettings {
            base_url: Some(base_url),
            client_id: placeholder("id"),
            client_secret: placeholder("secret"),
            api_key: placeholder("key"),
            username: placeholder("user"),
            password: placeholder("pass"),
            ..CarrierSettings::default()
        }
    }

    /// The base URL without a trailing slash, defaulting to the official one.
    pub fn base_url_for(&self, code: &'static str) -> Result<String, ConfigError> {
        let url = match &self.base_url {
            Some(url) => url.clone(),
            None => default_base_url(code)
                .ok_or(ConfigError::Missing {
                    carrier: code,
                    field: "base_url",
                })?
                .to_string(),
        };
        if reqwest::Url::parse(&url).is_err() {
            return Err(ConfigError::Invalid {
                carrier: code,
                message: format!("base_url `{url}` is not an absolute URL"),
            });
        }
        Ok(url.trim_end_matches('/').to_string())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.unwrap_or(20_000).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let s = CarrierSettings {
            client_secret: Some("hunter2".into()),
            api_key: Some("k3y".into()),
            ..Default::default()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2") && !text.contains("k3y"), "{text}");
    }

    #[test]
    fn the_not_configured_message_names_every_required_setting() {
        assert_eq!(
            not_configured_message("ups", "UPS").unwrap(),
            "UPS is not configured on this server, so parceld cannot fetch its tracking and the \
             tracking stays pending: set carriers.ups.client_id and carriers.ups.client_secret \
             (PARCELD_CARRIERS__UPS__CLIENT_ID, PARCELD_CARRIERS__UPS__CLIENT_SECRET) and \
             restart parceld."
        );
        let postnl = not_configured_message("postnl-3s", "PostNL").unwrap();
        assert!(
            postnl.contains("carriers.postnl-3s.api_key (PARCELD_CARRIERS__POSTNL_3S__API_KEY)"),
            "{postnl}"
        );
        assert_eq!(not_configured_message("sandbox", "Sandbox"), None);
        assert_eq!(
            not_configured_message("poste-italiane", "Poste Italiane"),
            None
        );
    }

    #[test]
    fn base_url_defaults_and_trims() {
        let s = CarrierSettings::default();
        assert_eq!(
            s.base_url_for("ups").unwrap(),
            "https://onlinetools.ups.com"
        );
        let s = CarrierSettings {
            base_url: Some("http://127.0.0.1:9090/ups/".into()),
            ..Default::default()
        };
        assert_eq!(s.base_url_for("ups").unwrap(), "http://127.0.0.1:9090/ups");
        let bad = CarrierSettings {
            base_url: Some("not a url".into()),
            ..Default::default()
        };
        assert!(bad.base_url_for("ups").is_err());
    }
}
