//! `parceld notifications show|set`: an account's notification settings from the command line,
//! with the same rules as `PUT /v4/notifications/settings` (`parceld_service::notifications`),
//! so a shop's operator can turn notifications on without an API client.
//!
//! One setting is the command line's alone: `smtp=URL`, the account's own SMTP server. Over the
//! API a client could point the server's SMTP client at any host it likes (and make it talk to
//! the server's own network), so only the server's operator sets it.

use anyhow::{bail, Context};
use parceld_notify::settings::Security;
use parceld_service::notifications::{notification_settings, NotificationSettingsView};
use parceld_service::NotificationSettingsInput;
use parceld_store::notifications::SmtpOverride;
use parceld_store::{AccountId, Store};

use crate::admin::account_named;
use crate::cli::SettingsCommand;

/// The settings, one `name value` line each, as `set` takes them (`-` for none).
fn print(view: &NotificationSettingsView) {
    let shown = |value: &str| match value {
        "" | "0" => "-".to_string(),
        other => other.to_string(),
    };
    let body = serde_json::to_value(&view.settings).unwrap_or_default();
    for (name, value) in body.as_object().into_iter().flatten() {
        let text = match value {
            serde_json::Value::Array(items) => {
                let items: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
                items.join(",")
            }
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        say!("{name:<15} {}", shown(&text));
    }
    say!("{:<15} {}", "own_smtp_server", view.own_smtp_server);
    say!("{:<15} {}", "templates", shown(&view.templates.join(",")));
}

pub async fn notifications(store: &dyn Store, command: SettingsCommand) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Show { account } => {
            let found = account_named(store, &account).await?;
            print(&notification_settings(store, found.id).await?);
        }
        SettingsCommand::Set { account, settings } => {
            let found = account_named(store, &account).await?;
            let unchanged = || format!("the notification settings of \"{account}\" are unchanged");
            let (smtp, settings): (Vec<String>, Vec<String>) = settings
                .into_iter()
                .partition(|pair| pair.starts_with("smtp="));
            let own = match smtp.last() {
                Some(pair) => Some(own_smtp(&pair["smtp=".len()..]).with_context(unchanged)?),
                None => None,
            };
            let input = NotificationSettingsInput::from_pairs(&settings)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(unchanged)?;
            let mut stored = input
                .store(store, found.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(unchanged)?;
            if let Some(own) = own {
                set_own_smtp(store, found.id, own).await?;
                stored = notification_settings(store, found.id).await?;
            }
            print(&stored);
        }
    }
    Ok(())
}

/// Stores `own` as the account's SMTP server (`None`: the server's again).
async fn set_own_smtp(
    store: &dyn Store,
    account: AccountId,
    own: Option<SmtpOverride>,
) -> anyhow::Result<()> {
    let mut settings = store.notification_settings(account).await?;
    settings.smtp = own;
    store.set_notification_settings(account, &settings).await?;
    Ok(())
}

/// `smtp://[user[:password]@]host[:port][?security=starttls|tls|none]` (port 587, STARTTLS by
/// default) or `smtps://…` (port 465, implicit TLS) as an account's own server; empty: none.
fn own_smtp(text: &str) -> anyhow::Result<Option<SmtpOverride>> {
    if text.is_empty() {
        return Ok(None);
    }
    let url = reqwest::Url::parse(text).map_err(|e| {
        anyhow::anyhow!("`smtp` is not a URL ({e}); e.g. smtp://user:password@mail.example.com:587")
    })?;
    let (security, port) = match url.scheme() {
        "smtp" => ("starttls", 587),
        "smtps" => ("tls", 465),
        other => bail!("`smtp` starts with smtp:// or smtps://, not {other}://"),
    };
    let security = url
        .query_pairs()
        .find(|(name, _)| name == "security")
        .map_or_else(|| security.to_string(), |(_, value)| value.into_owned());
    if Security::parse(&security).is_none() {
        bail!("`security` is starttls, tls or none, not `{security}`");
    }
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => bail!("`smtp` names no host"),
    };
    let decoded = |text: &str| percent_decoded(text);
    Ok(Some(SmtpOverride {
        host,
        port: url.port().unwrap_or(port),
        security,
        username: Some(url.username()).filter(|u| !u.is_empty()).map(decoded),
        password: url.password().map(decoded),
    }))
}

/// `%XX` escapes of a URL part undone (a password may hold `@`, `:` or `/`).
fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_smtp_url_names_the_accounts_server_with_the_schemes_defaults() {
        let own = own_smtp("smtp://shop%40example.com:p%2Fss@mail.example.com")
            .unwrap()
            .unwrap();
        assert_eq!(own.host, "mail.example.com");
        assert_eq!((own.port, own.security.as_str()), (587, "starttls"));
        assert_eq!(own.username.as_deref(), Some("shop@example.com"));
        assert_eq!(own.password.as_deref(), Some("p/ss"));
        let own = own_smtp("smtps://relay.example.com").unwrap().unwrap();
        assert_eq!((own.port, own.security.as_str()), (465, "tls"));
        assert_eq!((own.username, own.password), (None, None));
        let own = own_smtp("smtp://10.0.0.5:2525?security=none")
            .unwrap()
            .unwrap();
        assert_eq!((own.port, own.security.as_str()), (2525, "none"));
        assert_eq!(own_smtp("").unwrap(), None, "empty: the server's again");
        for bad in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://h?security=ssl",
        ] {
            assert!(own_smtp(bad).is_err(), "{bad}");
        }
    }
}
