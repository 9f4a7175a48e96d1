//! The operator's commands on the database: `migrate`, `account`, `key` and `webhook`.
//!
//! They go through the `Store` trait like the server does, so they work on any backend and
//! change data exactly as the API would (a key or account change also makes running servers
//! forget remembered key checks).

use anyhow::{bail, Context};
use parceld_engine::webhooks::{check_url, signing, AddressPolicy};
use parceld_model::{LimitClass, RateLimits};
use parceld_store::{
    Account, CreateWebhook, Entity, NewWebhook, Store, StoreError, WebhookEndpoint, WebhookPatch,
    WebhookVersion,
};

use crate::cli::{AccountCommand, KeyCommand, WebhookCommand};
use crate::config::Config;

/// `parceld migrate`: the store is migrated when opened; this reports the result.
pub async fn migrate(store: &dyn Store, database: &str) -> anyhow::Result<()> {
    let migrations = store.migrate().await?;
    say!("database {database} is up to date ({migrations} migrations)");
    Ok(())
}

fn describe_limits(limits: &RateLimits) -> String {
    if limits.is_empty() {
        return "server defaults".to_string();
    }
    LimitClass::ALL
        .iter()
        .filter_map(|c| limits.get(*c).map(|r| format!("{}={r}/s", c.key())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fmt_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub async fn account(store: &dyn Store, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { name } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("the account name must not be empty");
            }
            let account = store.create_account(name).await?;
            say!(
                "created account \"{}\"; give it a key with: parceld key create --account {}",
                account.name,
                account.name
            );
        }
        AccountCommand::List => {
            say!(
                "{:<6} {:<24} {:<9} {:<24} LIMITS",
                "ID",
                "NAME",
                "STATE",
                "CREATED"
            );
            for a in store.accounts().await? {
                let state = if a.disabled { "disabled" } else { "active" };
                say!(
                    "{:<6} {:<24} {:<9} {:<24} {}",
                    a.id,
                    a.name,
                    state,
                    fmt_time(a.created_at),
                    describe_limits(&a.rate_limits)
                );
            }
        }
        AccountCommand::SetLimits { name, limits } => {
            let account = store
                .accounts()
                .await?
                .into_iter()
                .find(|a| a.name == name)
                .with_context(|| {
                    format!("no account named \"{name}\"; `parceld account list` shows them")
                })?;
            let mut overrides = account.rate_limits;
            for item in &limits {
                let (class, rate) = item
                    .split_once('=')
                    .with_context(|| format!("`{item}` is not CLASS=RATE"))?;
                let class = LimitClass::from_key(class.trim()).with_context(|| {
                    format!("`{class}` is not a limit class; use one of v4_create, v4_realtime, v4_other, v2_realtime, v2_list, v2_other")
                })?;
                let rate = match rate.trim() {
                    "default" => None,
                    number => match number.parse::<f64>() {
                        Ok(r) if r > 0.0 && r.is_finite() => Some(r),
                        _ => bail!(
                            "`{number}` is not a rate above 0 (requests per second) or `default`"
                        ),
                    },
                };
                overrides.set(class, rate);
            }
            store
                .set_account_rate_limits(&name, &overrides)
                .await
                .map_err(|e| no_account(e, &name))?;
            say!("account \"{name}\" limits: {}", describe_limits(&overrides));
        }
        AccountCommand::Disable { name } | AccountCommand::Enable { name } if name.is_empty() => {
            bail!("the account name must not be empty")
        }
        AccountCommand::Disable { name } => set_account_disabled(store, &name, true).await?,
        AccountCommand::Enable { name } => set_account_disabled(store, &name, false).await?,
    }
    Ok(())
}

/// Disables or enables account `name`, and says which.
async fn set_account_disabled(store: &dyn Store, name: &str, disabled: bool) -> anyhow::Result<()> {
    store
        .set_account_disabled(name, disabled)
        .await
        .map_err(|e| no_account(e, name))?;
    let state = if disabled { "disabled" } else { "enabled" };
    say!("account \"{name}\" is {state}");
    Ok(())
}

pub async fn key(store: &dyn Store, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { account } => match store.create_api_key(&account).await {
            Ok(new) => say!(
                "created key {} for account \"{}\" (shown only this once, keep it):\n\n    {}",
                new.info.id,
                new.info.account_name,
                new.key
            ),
            Err(StoreError::NotFound(Entity::Account)) => {
                bail!("no account named \"{account}\"; `parceld account list` shows them")
            }
            Err(other) => return Err(other.into()),
        },
        KeyCommand::List => {
            say!("{:<22} {:<20} {:<24} STATE", "KEY ID", "ACCOUNT", "CREATED");
            for k in store.api_keys().await? {
                let state = match k.deleted_at {
                    Some(at) => format!("deleted {}", fmt_time(at)),
                    None => "active".to_string(),
                };
                say!(
                    "{:<22} {:<20} {:<24} {}",
                    k.id,
                    k.account_name,
                    fmt_time(k.created_at),
                    state
                );
            }
        }
        KeyCommand::Delete { key_id } => {
            if store.delete_api_key(&key_id).await? {
                say!("deleted key {key_id}; requests with it now get \"API key has been deleted\"");
            } else {
                bail!("no active key with id {key_id}; `parceld key list` shows them");
            }
        }
    }
    Ok(())
}

pub(crate) async fn account_named(store: &dyn Store, name: &str) -> anyhow::Result<Account> {
    store
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.name == name)
        .with_context(|| format!("no account named \"{name}\"; `parceld account list` shows them"))
}

fn print_webhook(w: &WebhookEndpoint, account: &str) {
    let statuses = if w.statuses.is_empty() {
        "all".to_string()
    } else {
        w.statuses
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let state = match (w.enabled, &w.disabled_reason) {
        (true, _) => "enabled".to_string(),
        (false, Some(reason)) => format!("disabled: {reason}"),
        (false, None) => "disabled".to_string(),
    };
    say!(
        "{:<28} {:<16} {:<3} {:<40} {:<24} {}",
        w.id,
        account,
        w.version.as_str(),
        w.url,
        statuses,
        state
    );
}

pub async fn webhook(
    store: &dyn Store,
    config: &Config,
    command: WebhookCommand,
) -> anyhow::Result<()> {
    let policy = AddressPolicy::new(
        config
            .webhooks
            .allowed_networks()
            .map_err(|e| anyhow::anyhow!(e))?,
    );
    match command {
        WebhookCommand::Create {
            account,
            url,
            description,
            statuses,
            version,
        } => {
            let account = account_named(store, &account).await?;
            let url = check_url(&url, &policy).map_err(|e| anyhow::anyhow!("{e}"))?;
            let statuses = parceld_service::parse_status_text(&statuses)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let version = WebhookVersion::parse(&version)
                .with_context(|| format!("--version must be v4 or v2, not `{version}`"))?;
            let new = NewWebhook {
                url: url.to_string(),
                description,
                statuses,
                version,
                enabled: true,
                secret: signing::generate_secret(),
            };
            match store
                .create_webhook(account.id, &new, config.webhooks.max_per_account)
                .await?
            {
                CreateWebhook::Created(w) => say!(
                    "created webhook {} for account \"{}\"; its signing secret:\n\n    {}",
                    w.id, account.name, w.secret
                ),
                CreateWebhook::LimitReached { max } => bail!(
                    "account \"{}\" already has {max} webhooks (webhooks.max_per_account); delete one first",
                    account.name
                ),
            }
        }
        WebhookCommand::List { account } => {
            let accounts = store.accounts().await?;
            let filter = match account {
                Some(name) => Some(account_named(store, &name).await?.id),
                None => None,
            };
            say!(
                "{:<28} {:<16} {:<3} {:<40} {:<24} STATE",
                "WEBHOOK ID",
                "ACCOUNT",
                "VER",
                "URL",
                "STATUSES"
            );
            for w in store.webhooks(filter).await? {
                let name = accounts
                    .iter()
                    .find(|a| a.id == w.account_id)
                    .map(|a| a.name.as_str())
                    .unwrap_or("?");
                print_webhook(&w, name);
            }
        }
        WebhookCommand::Delete { id } => {
            store
                .delete_webhook(None, &id)
                .await?
                .ok_or_else(|| missing_webhook(&id))?;
            say!("deleted webhook {id} with its deliveries");
        }
        WebhookCommand::Enable { id } => set_webhook_enabled(store, &id, true).await?,
        WebhookCommand::Disable { id } => set_webhook_enabled(store, &id, false).await?,
        WebhookCommand::RotateSecret { id } => {
            let patch = WebhookPatch {
                secret: Some(signing::generate_secret()),
                ..WebhookPatch::default()
            };
            let w = patch_webhook(store, &id, patch).await?;
            say!("webhook {id} has a new signing secret:\n\n    {}", w.secret);
        }
    }
    Ok(())
}

/// Applies `patch` to webhook `id`, whichever account it belongs to.
async fn patch_webhook(
    store: &dyn Store,
    id: &str,
    patch: WebhookPatch,
) -> anyhow::Result<WebhookEndpoint> {
    let endpoint = store.update_webhook(None, id, &patch).await?;
    endpoint.ok_or_else(|| missing_webhook(id))
}

/// Switches webhook `id` on or off, and says which.
async fn set_webhook_enabled(store: &dyn Store, id: &str, enabled: bool) -> anyhow::Result<()> {
    let patch = WebhookPatch {
        enabled: Some(enabled),
        ..WebhookPatch::default()
    };
    patch_webhook(store, id, patch).await?;
    let state = if enabled { "enabled" } else { "disabled" };
    say!("webhook {id} is {state}");
    Ok(())
}

fn missing_webhook(id: &str) -> anyhow::Error {
    anyhow::anyhow!("no webhook {id}; `parceld webhook list` shows them")
}

/// A missing account said the way the other commands say it.
fn no_account(error: StoreError, name: &str) -> anyhow::Error {
    match error {
        StoreError::NotFound(Entity::Account) => {
            anyhow::anyhow!("no account named \"{name}\"; `parceld account list` shows them")
        }
        other => other.into(),
    }
}
