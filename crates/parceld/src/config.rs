//! Configuration: the embedded, commented defaults (`config.default.toml`), then an optional
//! file, then `PARCELD_*` environment variables, then command-line flags. Unknown keys and wrong
//! types fail at start with a message naming the key, so a typo never silently does nothing.
//! The same holds for values: a `log.level` the log filter cannot read, or a value the code
//! would have to change to use (sandbox `step_minutes = 0`), is refused rather than silently
//! replaced. `PARCELD_` variables without the `__` that separates section and key are not
//! configuration; each gets one warning on stderr, since it is most likely a misspelt key
//! (`PARCELD_SERVER_BIND` for `PARCELD_SERVER__BIND`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use std::collections::HashMap;

use parceld_carriers::{CarrierSettings, UpstreamSettings};
use parceld_engine::webhooks::WebhookSettings;
use parceld_engine::EngineSettings;
use parceld_model::{LimitClass, RateLimits};

use crate::retention::RetentionSettings;
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
    pub retention: RetentionSettings,
    /// The public tracking page (`parceld-web`).
    pub tracking_page: parceld_web::PageConfig,
    /// The dashboard (`parceld-dashboard`).
    #[serde(default)]
    pub dashboard: parceld_dashboard::DashboardConfig,
    /// Notifications to the shops' customers (`parceld-notify`).
    #[serde(default)]
    pub notifications: parceld_notify::NotifySettings,
    /// `[carriers.<code>]` tables; codes may use `_` for `-` (environment variables can't
    /// hold a dash), see [`Config::carrier_settings`].
    #[serde(default)]
    pub carriers: HashMap<String, CarrierSettings>,
    /// `[upstreams.<name>]` tables: aggregators (17track, aftership, trackingmore) that reach
    /// the couriers parceld has no adapter for (docs/upstreams.md).
    #[serde(default)]
    pub upstreams: HashMap<String, UpstreamSettings>,
    /// `[push]`: carrier push sources and how pushed trackings are polled.
    #[serde(default)]
    pub push: parceld_engine::push::PushSettings,
    /// `[air_cargo]`: the upstream that tracks air waybills.
    #[serde(default)]
    pub air_cargo: parceld_carriers::air_cargo::AirCargoSettings,
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
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DATABASE`; unset means
    /// `sqlite://<server.data_dir>/parceld.db`, so that `--data-dir` alone still moves the
    /// database.
    #[serde(default)]
    pub url: Option<String>,
    /// PostgreSQL: the most connections this process opens (unset: the backend's default). Not
    /// used by SQLite, which has one writer, so it is refused there rather than ignored.
    #[serde(default)]
    pub max_connections: Option<u32>,
}

/// The most `database.max_connections` may be: well above what one node can use, below what
/// would exhaust a PostgreSQL server on its own.
const MAX_CONNECTIONS: u32 = 1000;

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
        // Only sectioned variables (PARCELD_SECTION__KEY) are configuration; the others are
        // warned about, not refused, since another program may own a PARCELD_ variable.
        for warning in unsectioned_variables(std::env::vars_os()) {
            eprintln!("parceld: warning: {warning}");
        }
        figment = figment.merge(
            Env::prefixed("PARCELD_")
                .filter(|key| {
                    key.as_str().contains("__") && carrier_text_key(key.as_str()).is_none()
                })
                .split("__"),
        );
        for (name, value) in std::env::vars() {
            if let Some(key) = name.strip_prefix("PARCELD_").and_then(carrier_text_key) {
                figment = figment.merge(Serialized::default(&key, value));
            }
        }
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
        check_log_level(&self.log.level)?;
        self.retention.validate()?;
        if let Some(sandbox) = self.carrier_settings().get("sandbox") {
            if sandbox.step_minutes == Some(0) {
                return Err(
                    "carriers.sandbox.step_minutes must be at least 1 (the minutes \
                            between two events of a sandbox journey); 0 would put every event \
                            at the same instant"
                        .into(),
                );
            }
        }
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
        self.push.validate()?;
        self.notifications.validate()?;
        self.validate_database()?;
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

    /// `database.max_connections` is for a database server's pool: between 1 and
    /// [`MAX_CONNECTIONS`], and only with a PostgreSQL URL.
    pub fn validate_database(&self) -> Result<(), String> {
        let Some(connections) = self.database.max_connections else {
            return Ok(());
        };
        if !(1..=MAX_CONNECTIONS).contains(&connections) {
            return Err(format!(
                "database.max_connections must be between 1 and {MAX_CONNECTIONS}"
            ));
        }
        if !parceld_store_postgres::is_postgres_url(&self.database_url()) {
            return Err(
                "database.max_connections applies to PostgreSQL (database.url = \
                 \"postgres://…\"); a SQLite database has one writer and sizes its own pool"
                    .into(),
            );
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

/// The key path (`carriers.<table>.<field>`) of `CARRIERS__<TABLE>__<FIELD>` when the field
/// is text ([`parceld_carriers::settings::TEXT_FIELDS`]). The environment provider would read
/// `0123456789` as a number — dropping an account number's leading zero, and refusing a key made
/// only of digits — so these variables are read as written.
fn carrier_text_key(name: &str) -> Option<String> {
    let (section, rest) = name.split_once("__")?;
    let (table, field) = rest.split_once("__")?;
    let field = field.to_ascii_lowercase();
    let section = section.to_ascii_lowercase();
    let text = match section.as_str() {
        "carriers" => parceld_carriers::settings::TEXT_FIELDS,
        "upstreams" => parceld_carriers::upstreams::settings::TEXT_FIELDS,
        _ => return None,
    };
    text.contains(&field.as_str())
        .then(|| format!("{section}.{}.{field}", table.to_ascii_lowercase()))
}

/// The configuration sections, for the environment-variable warnings.
const SECTIONS: [&str; 13] = [
    "server",
    "notifications",
    "tracking_page",
    "dashboard",
    "database",
    "log",
    "rate_limits",
    "engine",
    "webhooks",
    "carriers",
    "upstreams",
    "push",
    "air_cargo",
];

/// The log levels a bare `log.level` directive may name.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Refuses a `log.level` the tracing filter cannot parse. A bare word is also refused unless
/// it is a level: the filter would read `verbose` as "everything from a module named verbose"
/// and so silence every line parceld writes.
fn check_log_level(level: &str) -> Result<(), String> {
    let explain = |why: String| {
        format!(
            "log.level `{level}` is not a log filter: {why}; use a level ({}) or directives \
             such as `info,parceld_engine=debug`",
            LEVELS.join(", ")
        )
    };
    for directive in level.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        directive
            .parse::<tracing_subscriber::filter::Directive>()
            .map_err(|error| explain(format!("`{directive}`: {error}")))?;
        let bare = !directive.contains(['=', '[', '{', ':']);
        if bare && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(explain(format!("`{directive}` is not a level")));
        }
    }
    Ok(())
}

/// `PARCELD_` variables that are not configuration but belong to parceld's own tests and CI
/// scripts: `PARCELD_TEST_DATABASE` chooses the integration tests' backend,
/// `PARCELD_TEST_POSTGRES_URL` and `PARCELD_REQUIRE_POSTGRES` are the PostgreSQL tests' server
/// and whether it must answer, `PARCELD_BIN` the binary `.ci/schemathesis-check` runs. The
/// processes those start inherit them, so they draw no warning.
const TEST_VARIABLES: [&str; 4] = [
    "PARCELD_TEST_DATABASE",
    "PARCELD_TEST_POSTGRES_URL",
    "PARCELD_REQUIRE_POSTGRES",
    "PARCELD_BIN",
];

/// One warning for each `PARCELD_` variable that is not configuration because it lacks the
/// `__` between section and key, with the spelling that probably was meant.
fn unsectioned_variables(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<String> {
    let mut names: Vec<String> = vars
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("PARCELD_") && !name.contains("__"))
        .filter(|name| !TEST_VARIABLES.contains(&name.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let rest = name["PARCELD_".len()..].to_ascii_lowercase();
            let meant = SECTIONS.iter().find_map(|section| {
                let key = rest.strip_prefix(section)?.strip_prefix('_')?;
                (!key.is_empty()).then(|| {
                    format!(
                        "; did you mean PARCELD_{}__{}?",
                        section.to_ascii_uppercase(),
                        key.to_ascii_uppercase()
                    )
                })
            });
            format!(
                "environment variable {name} matches no configuration key and is ignored \
                 (configuration variables are PARCELD_<SECTION>__<KEY>, with two underscores){}",
                meant.unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_text_settings_are_read_as_written() {
        assert_eq!(
            carrier_text_key("CARRIERS__AUSTRALIA_POST__ACCOUNT_NUMBER").as_deref(),
            Some("carriers.australia_post.account_number")
        );
        assert_eq!(carrier_text_key("CARRIERS__UPS__RATE_PER_SECOND"), None);
        assert_eq!(carrier_text_key("ENGINE__API_KEY"), None);
        assert_eq!(
            carrier_text_key("UPSTREAMS__17TRACK__API_KEY").as_deref(),
            Some("upstreams.17track.api_key")
        );
        assert_eq!(carrier_text_key("UPSTREAMS__17TRACK__COURIERS"), None);
        // Merged as text, a number-looking value keeps its leading zero.
        let key = carrier_text_key("CARRIERS__UPS__ACCOUNT_NUMBER").unwrap();
        let config: Config = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default(&key, "0123456789"))
            .extract()
            .unwrap();
        let ups = &config.carrier_settings()["ups"];
        assert_eq!(ups.account_number.as_deref(), Some("0123456789"));
    }

    #[test]
    fn the_embedded_defaults_parse() {
        let config = defaults();
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
        let code = parceld_notify::NotifySettings::default();
        let toml = &config.notifications;
        assert_eq!(
            (
                toml.enabled,
                toml.daily_cap,
                toml.batch,
                toml.max_attempts,
                toml.retry_base_ms
            ),
            (
                code.enabled,
                code.daily_cap,
                code.batch,
                code.max_attempts,
                code.retry_base_ms
            )
        );
    }

    #[test]
    fn the_database_url_defaults_to_a_file_in_the_data_directory() {
        let mut config = defaults();
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
    fn max_connections_is_for_postgres_and_bounded() {
        let mut config = defaults();
        config.database.max_connections = Some(8);
        let error = config.validate().unwrap_err();
        assert!(
            error.contains("database.max_connections applies to PostgreSQL"),
            "{error}"
        );
        config.database.url = Some("postgres://parceld@db/parceld".into());
        assert!(config.validate().is_ok());
        for bad in [0, MAX_CONNECTIONS + 1] {
            config.database.max_connections = Some(bad);
            let error = config.validate().unwrap_err();
            assert!(error.contains("between 1 and"), "{bad}: {error}");
        }
    }

    /// The configuration loaded from a file holding `text`.
    fn load_file(text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parceld.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path))
    }

    #[test]
    fn the_database_url_is_read_from_a_file() {
        let config = load_file("[database]\nurl = \"sqlite:///srv/parceld.db\"\n").unwrap();
        assert_eq!(config.database_url(), "sqlite:///srv/parceld.db");
    }

    #[test]
    fn the_sms_provider_is_a_subsection_of_notifications() {
        let config = load_file(
            "[notifications.sms]\naccount_sid = \"AC01\"\nauth_token = \"t\"\nfrom = \"+15005550006\"\n",
        )
        .unwrap();
        let sms = config.notifications.sms.expect("read");
        assert_eq!(
            (sms.account_sid.as_str(), sms.url()),
            ("AC01", parceld_notify::settings::TWILIO_URL)
        );
        assert!(defaults().notifications.sms.is_none(), "off by default");
    }

    #[test]
    fn a_misspelt_key_is_named_in_the_error() {
        let error = load_file("[server]\nbnid = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(error.contains("bnid"), "{error}");
    }

    #[test]
    fn a_wrong_type_is_named_in_the_error() {
        let error = load_file("[server]\nbind = \"not an address\"\n").unwrap_err();
        assert!(error.contains("bind"), "{error}");
    }

    fn defaults() -> Config {
        Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap()
    }

    #[test]
    fn a_log_level_the_filter_cannot_use_is_refused_naming_the_key() {
        let levels = [
            ("verbose", false),
            ("loud", false),
            ("info,chatty", false),
            ("parceld=noisy", false),
            ("[{", false),
            ("info", true),
            ("WARN", true),
            ("debug,hyper=info", true),
            ("parceld_engine=trace", true),
            ("off", true),
        ];
        for (level, accepted) in levels {
            let mut config = defaults();
            config.log.level = level.into();
            match config.validate() {
                Ok(()) => assert!(accepted, "{level} was accepted"),
                Err(error) => {
                    assert!(!accepted, "{level}: {error}");
                    assert!(error.contains("log.level"), "{level}: {error}");
                }
            }
        }
    }

    #[test]
    fn a_sandbox_step_of_zero_minutes_is_refused() {
        let mut config = defaults();
        config.carriers.insert(
            "sandbox".into(),
            CarrierSettings {
                step_minutes: Some(0),
                ..CarrierSettings::default()
            },
        );
        let error = config.validate().unwrap_err();
        assert!(error.contains("carriers.sandbox.step_minutes"), "{error}");
        config.carriers.get_mut("sandbox").unwrap().step_minutes = Some(1);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn parceld_variables_without_a_section_are_warned_about_once() {
        let vars = [
            ("PARCELD_SERVER_BIND", "0.0.0.0:1"),
            ("PARCELD_SERVER_BIND", "0.0.0.0:1"),
            ("PARCELD_SERVER__BIND", "0.0.0.0:1"),
            ("PARCELD_CARRIERS__UPS__CLIENT_ID", "id"),
            ("PARCELD_WHATEVER", "x"),
            ("PARCELD_REQUIRE_POSTGRES", "1"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.into(), v.into()));
        let warnings = unsectioned_variables(vars.into_iter());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("PARCELD_SERVER_BIND"), "{warnings:?}");
        assert!(
            warnings[0].contains("did you mean PARCELD_SERVER__BIND"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("PARCELD_WHATEVER"), "{warnings:?}");
    }
}
