//! `parceld notifications show|set`: an account's notification settings from the command line,
//! with the same rules as `PUT /v4/notifications/settings` (`parceld_service::notifications`),
//! so a shop's operator can turn notifications on without an API client.

use anyhow::Context;
use parceld_service::notifications::{notification_settings, NotificationSettingsView};
use parceld_service::NotificationSettingsInput;
use parceld_store::Store;

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
            let input = NotificationSettingsInput::from_pairs(&settings)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(unchanged)?;
            let stored = input
                .store(store, found.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(unchanged)?;
            print(&stored);
        }
    }
    Ok(())
}
