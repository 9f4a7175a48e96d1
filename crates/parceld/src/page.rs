//! `parceld page show|set`: an account's public tracking page from the command line, with the
//! same rules as `PUT /v4/tracking-page` (`parceld_service::pages`).

use anyhow::Context;
use parceld_model::path_segment;
use parceld_service::pages::{change_page_settings, page_settings};
use parceld_service::PageSettingsInput;
use parceld_store::{PageSettings, Store};

use crate::admin::account_named;
use crate::cli::SettingsCommand;

fn print(account: &str, s: &PageSettings) {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    say!("page                    /track/{}", path_segment(account));
    say!(
        "shop_name               {}",
        s.shop_name
            .clone()
            .unwrap_or_else(|| format!("- ({account})"))
    );
    say!("logo_url                {}", text(&s.logo_url));
    say!("brand_color             {}", s.brand_color);
    say!("accent_color            {}", s.accent_color);
    say!("support_url             {}", text(&s.support_url));
    say!("support_email           {}", text(&s.support_email));
    say!("support_phone           {}", text(&s.support_phone));
    say!("support_text            {}", text(&s.support_text));
    say!("host                    {}", text(&s.host));
    say!("default_language        {}", text(&s.default_language));
    say!("show_order_number       {}", s.show_order_number);
    say!("show_courier_contact    {}", s.show_courier_contact);
    say!("show_estimated_delivery {}", s.show_estimated_delivery);
}

pub async fn page(store: &dyn Store, command: SettingsCommand) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Show { account } => {
            let found = account_named(store, &account).await?;
            print(&found.name, &page_settings(store, found.id).await?);
        }
        SettingsCommand::Set { account, settings } => {
            let found = account_named(store, &account).await?;
            let input = PageSettingsInput::from_pairs(&settings)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("the tracking page of \"{account}\" is unchanged"))?;
            let stored = change_page_settings(store, found.id, &input)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("the tracking page of \"{account}\" is unchanged"))?;
            print(&found.name, &stored);
        }
    }
    Ok(())
}
