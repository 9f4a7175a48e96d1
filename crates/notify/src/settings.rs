//! The server's notification settings (`[notifications]` in parceld's configuration): the
//! SMTP server (each account may name its own instead), the SMS provider
//! (`[notifications.sms]`), the public address of the tracking page that every message links
//! to, the unsubscribe links' secret, and the dispatcher's pace.

use std::time::Duration;

use parceld_store::notifications::SmtpOverride;
use serde::Deserialize;

/// How the connection to an SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, then STARTTLS, required (port 587).
    Starttls,
    /// No encryption: only for a server on the same machine or network (tests, a local relay).
    None,
}

impl Security {
    pub fn parse(text: &str) -> Option<Security> {
        match text {
            "tls" => Some(Security::Tls),
            "starttls" => Some(Security::Starttls),
            "none" => Some(Security::None),
            _ => None,
        }
    }
}

/// An SMTP server to send through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

impl SmtpServer {
    /// An account's own server, if its settings name one that parceld can use.
    pub fn of_account(own: &SmtpOverride) -> Option<SmtpServer> {
        Some(SmtpServer {
            host: own.host.clone(),
            port: own.port,
            security: Security::parse(&own.security)?,
            username: own.username.clone(),
            password: own.password.clone(),
        })
    }
}

/// Where text messages go when the provider is Twilio itself.
pub const TWILIO_URL: &str = "https://api.twilio.com";

/// `[notifications.sms]`: an SMS provider speaking Twilio's Messages API (`POST
/// {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`, HTTP Basic `account_sid:auth_token`).
/// Any provider with that API works by its `base_url`; the sender is a number (`from`) or a
/// Twilio messaging service (`messaging_service_sid`), exactly one of them. Unset keys are
/// empty and refused by [`SmsProvider::validate`], except the address (Twilio's when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsProvider {
    pub base_url: Option<String>,
    pub account_sid: String,
    pub from: Option<String>,
    pub auth_token: Secret,
    pub messaging_service_sid: Option<String>,
}

/// A credential as configured: never printed, not even by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl SmsProvider {
    /// The provider's address: `base_url`, else Twilio's.
    pub fn url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(TWILIO_URL)
    }

    /// Refuses a provider that no request could reach.
    pub fn validate(&self) -> Result<(), String> {
        let base_url = self.url();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err("notifications.sms.base_url must be an http:// or https:// address".into());
        }
        if self.account_sid.is_empty()
            || !self.account_sid.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err("notifications.sms.account_sid must be letters and digits (AC…)".into());
        }
        if self.auth_token.0.is_empty() {
            return Err("notifications.sms.auth_token must be set".into());
        }
        let named = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        if named(&self.from) == named(&self.messaging_service_sid) {
            return Err(
                "notifications.sms needs exactly one sender: `from` (a number) or \
                 `messaging_service_sid`"
                    .into(),
            );
        }
        Ok(())
    }
}

/// `[notifications]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Run the dispatcher (on worker nodes). Off: notifications queue up unsent.
    pub enabled: bool,
    /// The server's SMTP server; accounts without their own send through it.
    pub smtp: Option<SmtpServer>,
    /// The sender when an account sets none.
    pub from_address: String,
    pub from_name: String,
    /// The public address of this server's tracking page and unsubscribe page, e.g.
    /// `https://track.example.com`; links in messages start with it.
    pub public_url: String,
    /// Signs unsubscribe links. Keep it: links signed with another secret stop working.
    pub unsubscribe_secret: String,
    /// The server's SMS provider; without one, text messages are not sent (marked so).
    pub sms: Option<SmsProvider>,
    /// Notifications per account per day (UTC) at most, unless the account sets less.
    pub daily_cap: u32,
    /// Notifications claimed per batch.
    pub batch: usize,
    /// Messages sent at once at most, and SMTP connections kept open per server. Each SMTP
    /// conversation waits on its server's replies (and on TCP acknowledgements between the
    /// message and its final dot), so throughput grows with connections; lower it for a relay
    /// that limits connections per client.
    pub concurrency: usize,
    pub lease_seconds: u64,
    pub poll_interval_ms: u64,
    /// Attempts before a notification fails for good; the n-th retry waits `retry_base_ms × 2ⁿ`.
    pub max_attempts: u32,
    pub retry_base_ms: u64,
    /// How long one SMTP conversation or SMS provider request may take.
    pub timeout_seconds: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            enabled: false,
            smtp: None,
            from_address: "parceld@localhost".into(),
            from_name: "parceld".into(),
            public_url: "http://127.0.0.1:8080".into(),
            unsubscribe_secret: String::new(),
            sms: None,
            daily_cap: 10_000,
            batch: 500,
            concurrency: 48,
            lease_seconds: 120,
            poll_interval_ms: 500,
            max_attempts: 10,
            retry_base_ms: 30_000,
            timeout_seconds: 30,
        }
    }
}

impl NotifySettings {
    /// Refuses settings the dispatcher cannot run with.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.unsubscribe_secret.len() < 16 {
            return Err(
                "notifications.unsubscribe_secret must be at least 16 characters \
                        (it signs the unsubscribe links)"
                    .into(),
            );
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err("notifications.public_url must be an http:// or https:// address".into());
        }
        if self.batch == 0 || self.concurrency == 0 || self.max_attempts == 0 {
            return Err(
                "notifications.batch, concurrency and max_attempts must be at least 1".into(),
            );
        }
        match &self.sms {
            Some(sms) => sms.validate(),
            None => Ok(()),
        }
    }

    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.lease_seconds.max(1) as i64)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }

    /// When to try again after `attempts_made` failed attempts; `None`: give up.
    pub fn retry_after(&self, attempts_made: i64) -> Option<chrono::Duration> {
        if attempts_made >= i64::from(self.max_attempts) {
            return None;
        }
        let exponent = (attempts_made - 1).clamp(0, 30) as u32;
        let delay = self.retry_base_ms.saturating_mul(1u64 << exponent);
        Some(chrono::Duration::milliseconds(
            i64::try_from(delay).unwrap_or(i64::MAX / 2),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_until_the_last_attempt() {
        let settings = NotifySettings {
            max_attempts: 4,
            retry_base_ms: 1000,
            ..NotifySettings::default()
        };
        let waits: Vec<_> = (1..=4).map(|n| settings.retry_after(n)).collect();
        assert_eq!(
            waits,
            [
                Some(chrono::Duration::seconds(1)),
                Some(chrono::Duration::seconds(2)),
                Some(chrono::Duration::seconds(4)),
                None
            ]
        );
    }

    #[test]
    fn an_enabled_dispatcher_needs_a_secret_and_a_public_url() {
        let on = NotifySettings {
            enabled: true,
            ..NotifySettings::default()
        };
        assert!(on.validate().unwrap_err().contains("unsubscribe_secret"));
        let bad_url = NotifySettings {
            unsubscribe_secret: "0123456789abcdef".into(),
            public_url: "track.example".into(),
            ..on.clone()
        };
        assert!(bad_url.validate().unwrap_err().contains("public_url"));
        assert!(
            NotifySettings::default().validate().is_ok(),
            "off needs nothing"
        );
    }

    #[test]
    fn the_sms_section_reads_with_twilio_as_the_default_address() {
        let read: NotifySettings = serde_json::from_value(serde_json::json!({
            "sms": {"account_sid": "AC01", "auth_token": "t", "from": "+15005550006"}
        }))
        .unwrap();
        let sms = read.sms.unwrap();
        assert_eq!(sms.url(), TWILIO_URL);
        assert_eq!(sms.from.as_deref(), Some("+15005550006"));
        let unknown = serde_json::from_value::<NotifySettings>(serde_json::json!({
            "sms": {"account_sid": "AC01", "auth_token": "t", "sender": "x"}
        }));
        assert!(unknown.is_err(), "unknown keys are refused");
    }

    #[test]
    fn an_sms_provider_needs_credentials_and_one_sender_and_hides_its_token() {
        let provider = SmsProvider {
            base_url: None,
            account_sid: "AC0123".into(),
            auth_token: Secret("secret-token".into()),
            from: Some("+15005550006".into()),
            messaging_service_sid: None,
        };
        assert!(provider.validate().is_ok());
        let both = SmsProvider {
            messaging_service_sid: Some("MG01".into()),
            ..provider.clone()
        };
        assert!(both.validate().unwrap_err().contains("exactly one sender"));
        let neither = SmsProvider {
            from: None,
            ..provider.clone()
        };
        assert!(neither
            .validate()
            .unwrap_err()
            .contains("exactly one sender"));
        let sid = SmsProvider {
            account_sid: "AC/../x".into(),
            ..provider.clone()
        };
        assert!(sid.validate().unwrap_err().contains("account_sid"));
        let url = SmsProvider {
            base_url: Some("api.twilio.com".into()),
            ..provider.clone()
        };
        assert!(url.validate().unwrap_err().contains("base_url"));
        assert!(!format!("{provider:?}").contains("secret-token"));
        let on = NotifySettings {
            enabled: true,
            unsubscribe_secret: "0123456789abcdef".into(),
            sms: Some(neither),
            ..NotifySettings::default()
        };
        assert!(
            on.validate().is_err(),
            "the provider is checked with the rest"
        );
    }
}
