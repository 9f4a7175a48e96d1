//! `parceld user …`: the dashboard's users from the command line — create one, reset a
//! forgotten password, list them. Passwords are generated and printed once; only their
//! argon2id hash is stored (`parceld_dashboard::password`).

use anyhow::{bail, Context};
use parceld_dashboard::password;
use parceld_store::{NewUser, Role, Store};

use crate::cli::UserCommand;

pub async fn user(store: &dyn Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            account,
            email,
            role,
        } => {
            let email = email.trim();
            if !parceld_dashboard::valid_email(email) {
                bail!("`{email}` is not an e-mail address");
            }
            let role = Role::parse(&role).context("the role is admin, agent or viewer")?;
            let Some(account) = store
                .accounts()
                .await?
                .into_iter()
                .find(|a| a.name == account)
            else {
                bail!("no account named \"{account}\" (see `parceld account list`)");
            };
            let generated = password::generate();
            let hash = password::hash(&generated)?;
            let new = NewUser {
                account: account.id,
                email,
                role,
                password_hash: &hash,
            };
            match store.create_user(&new).await? {
                Some(user) => say!(
                    "created {} user {} of account \"{}\"; password (shown only this once):\n\n    {generated}\n",
                    user.role.as_str(),
                    user.email,
                    account.name
                ),
                None => bail!("a user with the address {email} exists already"),
            }
        }
        UserCommand::ResetPassword { email } => {
            let generated = password::generate();
            let hash = password::hash(&generated)?;
            match store.set_password(email.trim(), &hash).await? {
                Some(user) => say!(
                    "new password of {} (shown only this once; every session of the user ended):\n\n    {generated}\n",
                    user.email
                ),
                None => bail!("no user with the address {email} (see `parceld user list`)"),
            }
        }
        UserCommand::List => {
            let accounts = store.accounts().await?;
            let row = |email: &str, role: &str, account: &str, locked: &str| {
                format!("{email:<32} {role:<8} {account:<24} {locked}")
            };
            say!("{}", row("EMAIL", "ROLE", "ACCOUNT", "LOCKED UNTIL"));
            for user in store.users(None).await? {
                let name = accounts.iter().find(|a| a.id == user.account_id);
                let locked = user.locked_until.map(|t| t.to_rfc3339());
                say!(
                    "{}",
                    row(
                        &user.email,
                        user.role.as_str(),
                        name.map_or("?", |a| a.name.as_str()),
                        locked.as_deref().unwrap_or("-")
                    )
                );
            }
        }
    }
    Ok(())
}

/// On the first `serve`: the default account's first admin, its password printed once beside
/// the first API key.
pub async fn first_admin(
    store: &dyn Store,
    key: &parceld_store::ApiKeyInfo,
    config: &parceld_dashboard::DashboardConfig,
) -> anyhow::Result<()> {
    let email = &config.first_admin_email;
    if let Some((email, generated)) =
        parceld_dashboard::first_admin(store, key.account_id, email).await?
    {
        say!(
            "Created the dashboard's first admin {email} (password shown only this once, keep it):\n\n    {generated}\n\nSign in at /dashboard. Give it a new password with `parceld user reset-password --email {email}`."
        );
    }
    Ok(())
}
