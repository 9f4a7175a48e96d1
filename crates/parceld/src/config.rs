//! Configuration: the embedded, commented defaults (`config.default.toml`), then an optional
//! file, then `PARCELD_*` environment variables, then command-line flags. Unknown keys and wrong
//! types fail at start with a message naming the key, so a typo never silently does nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use std::collections::HashMap;

use parceld_carriers::CarrierSettings;
use parceld_engine::webhooks::WebhookSettings;
use parceld_engine::EngineSettings;
use parceld_model::{LimitClass, RateLimits};
use serde::Deserialize;

/// The defaults, with comments, as shipped.
pub const DEFAULT_TOML: &str = include_str!("config.default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub rate_limits: RateLimits,
    pub engine: EngineSettings,
    pub webhooks: WebhookSettings,
    /// `[carriers.<code>]` tables; codes may use `_` for `-` (environment variables can't
    /// hold a dash), see [`Config::carrier_settings`].
    #[serde(default)]
    pub carriers: HashMap<String, CarrierSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub default_account: String,
    pub max_body_bytes: usize,
    pub shutdown_grace_seconds: u64,
    /// Serve the HTTP API.
    pub api: bool,
    /// Run the background refresh.
    pub worker: bool,
}

/// Where the data lives. The URL's scheme chooses the backend (database.rs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH`; unset means `sqlite://<server.data_dir>/parceld.db`, so that
    /// `--data-dir` alone still moves the database.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Loads the configuration. `file` is the `--config` path; without it `parceld.toml` in the
    /// working directory is read when it exists.
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(format!(
                        "configuration file {} does not exist",
                        path.display()
                    ));
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("parceld.toml")),
        }
        // Only sectioned variables (PARCELD_SECTION__KEY) are configuration, so other PARCELD_*
        // variables in the environment are not mistaken for misspelt keys.
        figment = figment.merge(
            Env::prefixed("PARCELD_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        let config: Config = figment.extract().map_err(|e| {
            e.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.server.default_account.trim().is_empty() {
            return Err("server.default_account must not be empty".into());
        }
        if self.server.max_body_bytes < 1024 {
            return Err("server.max_body_bytes must be at least 1024".into());
        }
        if !self.server.api && !self.server.worker {
            return Err(
                "server.api and server.worker are both false: the node would do nothing".into(),
            );
        }
        self.engine.validate()?;
        self.webhooks.validate()?;
        for class in LimitClass::ALL {
            match self.rate_limits.get(class) {
                Some(rate) if rate > 0.0 && rate.is_finite() => {}
                _ => {
                    return Err(format!(
                        "rate_limits.{} must be a number of requests per second above 0",
                        class.key()
                    ))
                }
            }
        }
        Ok(())
    }

    /// The carrier tables with their codes as parceld spells them (`postnl_3s` → `postnl-3s`).
    pub fn carrier_settings(&self) -> HashMap<String, CarrierSettings> {
        self.carriers
            .iter()
            .map(|(code, settings)| (code.to_lowercase().replace('_', "-"), settings.clone()))
            .collect()
    }

    /// The database URL: `database.url`, or the SQLite file `parceld.db` in `server.data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.server.data_dir.join("parceld.db").display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_parse() {
        let config: Config = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        assert_eq!(config.server.bind.port(), 8080);
        assert_eq!(config.log.format, LogFormat::Text);
        // The commented defaults say what the code's defaults are.
        let code = WebhookSettings::default();
        assert_eq!(config.webhooks.max_per_account, code.max_per_account);
        assert_eq!(config.webhooks.max_attempts, code.max_attempts);
        assert_eq!(config.webhooks.retry_base_ms, code.retry_base_ms);
        assert_eq!(config.webhooks.disable_after_secs, code.disable_after_secs);
        assert_eq!(config.webhooks.retention_secs, code.retention_secs);
        assert!(config.webhooks.validate().is_ok());
    }

    #[test]
    fn the_database_url_defaults_to_a_file_in_the_data_directory() {
        let mut config: Config = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        assert_eq!(config.database_url(), "sqlite://data/parceld.db");
        config.server.data_dir = PathBuf::from("/var/lib/parceld");
        assert_eq!(
            config.database_url(),
            "sqlite:///var/lib/parceld/parceld.db"
        );
        config.database.url = Some("sqlite:///srv/other.db".into());
        assert_eq!(config.database_url(), "sqlite:///srv/other.db");
    }

    #[test]
    fn the_database_url_is_read_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parceld.toml");
        std::fs::write(&path, "[database]\nurl = \"sqlite:///srv/parceld.db\"\n").unwrap();
        let config = Config::load(Some(&path)).unwrap();
        assert_eq!(config.database_url(), "sqlite:///srv/parceld.db");
    }

    #[test]
    fn a_misspelt_key_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\nbnid = \"127.0.0.1:1\"\n").unwrap();
        let error = Config::load(Some(&path)).unwrap_err();
        assert!(error.contains("bnid"), "{error}");
    }

    #[test]
    fn a_wrong_type_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\nbind = \"not an address\"\n").unwrap();
        let error = Config::load(Some(&path)).unwrap_err();
        assert!(error.contains("bind"), "{error}");
    }
}
