//! An account's notification templates, one per part × trigger × language, and their preview;
//! the same for the API (`/v4/notifications/templates/…`, `/v4/notifications/preview`) and any
//! other face.
//!
//! A template is saved only when it compiles and renders against the sample tracking
//! (`parceld_notify::templates::validate`), so one that would fail when sent is refused at once
//! with its line and reason (4191) and nothing is stored. A template is named by its part
//! (`subject`, `html`, `text`, `sms`), the trigger it is for (a status or sub-status, or `all`)
//! and its language (`en` … `ja`, or `all`); a message uses the most specific one the account
//! has ([`parceld_notify::templates::source`]), else parceld's default, and reading a template
//! says which one that is.

use std::collections::BTreeMap;

use parceld_model::Language;
pub use parceld_notify::templates::TemplateKey;
use parceld_notify::templates::{
    self, is_trigger, render, render_source, sample, words, TemplateError,
};
use parceld_store::notifications::NotificationSettings;
use parceld_store::{AccountId, Store};
use serde::{Deserialize, Serialize};

use crate::{ServiceError, ServiceResult};

/// The most templates one account keeps (every settings read carries them).
pub const MAX_TEMPLATES: usize = 100;

/// The parts of a message by their names in paths and bodies, and the template each is.
pub const PARTS: [(&str, &str); 4] = [
    ("subject", "email.subject"),
    ("html", "email.html"),
    ("text", "email.text"),
    ("sms", "sms.text"),
];

/// The word for "every trigger" or "every language" in a template's path.
pub const EVERY: &str = "all";

/// A template as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    /// Its key in the account's settings, `[<trigger>:]<template>[.<language>]`.
    pub key: String,
    /// `subject`, `html`, `text` or `sms`.
    pub part: String,
    /// A status or sub-status, or `all`.
    pub trigger: String,
    /// A language code, or `all`.
    pub language: String,
    /// The template messages of this part, trigger and language are written with.
    pub source: String,
    /// The key of the account's template that `source` is (this one's own `key` when the
    /// account set it); `null`: parceld's default.
    pub from: Option<String>,
}

/// Body of `PUT /v4/notifications/templates/{trigger}/{language}/{part}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// The template (minijinja; docs/notifications.md lists its variables), at most 64 KiB.
    pub source: String,
}

/// Body of `POST /v4/notifications/preview`: which message, and templates to try instead of
/// the saved ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// The status or sub-status the message is about (default `transit`).
    pub trigger: Option<String>,
    /// The message's language (default `en`).
    pub language: Option<String>,
    /// Templates to render instead of the saved ones, by part (`subject`, `html`, `text`,
    /// `sms`); each is checked as saving it would be.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

/// A message rendered with a sample tracking: the trigger and language it is for, and each
/// part by name (`subject`, `html`, `text` of the email; `sms`, the text message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    pub trigger: String,
    pub language: String,
    #[serde(flatten)]
    pub parts: BTreeMap<String, String>,
}

fn unknown(text: String) -> ServiceError {
    ServiceError::NotificationTemplateUnknown(text)
}

fn refused(error: TemplateError) -> ServiceError {
    ServiceError::NotificationTemplateInvalid(format!(
        "Line {}: {} (template `{}`); nothing was saved.",
        error.line, error.reason, error.name
    ))
}

fn trigger_of(text: &str) -> ServiceResult<String> {
    if is_trigger(text) {
        Ok(text.to_string())
    } else {
        Err(unknown(format!(
            "`{text}` is not a trigger: use a delivery status (transit, pickup, delivered, \
             undelivered, exception, …), a sub-status (transit002, …) or `all`."
        )))
    }
}

fn language_of(text: &str) -> ServiceResult<Language> {
    Language::ALL
        .into_iter()
        .find(|l| l.code() == text)
        .ok_or_else(|| {
            let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
            unknown(format!(
                "`{text}` is not a language of the templates: use one of {} or `all`.",
                codes.join(", ")
            ))
        })
}

/// The template of a part (`subject` → `email.subject`).
fn part_name(part: &str) -> Option<&'static str> {
    PARTS
        .iter()
        .find(|(p, _)| *p == part)
        .map(|(_, name)| *name)
}

/// The template a path names: its trigger (`all` or a status or sub-status), language (`all`
/// or a code) and part.
pub fn template_key(trigger: &str, language: &str, part: &str) -> ServiceResult<TemplateKey> {
    let name = part_name(part).ok_or_else(|| {
        unknown(format!(
            "`{part}` is not a part of a message: use subject, html, text or sms."
        ))
    })?;
    Ok(TemplateKey {
        trigger: (trigger != EVERY)
            .then(|| trigger_of(trigger))
            .transpose()?,
        name,
        language: (language != EVERY)
            .then(|| language_of(language))
            .transpose()?,
    })
}

fn view(settings: &NotificationSettings, key: &TemplateKey) -> TemplateView {
    // `*` is in no saved key, so a level the key leaves open falls through to the general one.
    let (source, from) = templates::source(
        &settings.templates,
        key.name,
        key.trigger.as_deref().unwrap_or("*"),
        key.language.map_or("*", Language::code),
    );
    let part = PARTS
        .iter()
        .find(|(_, n)| *n == key.name)
        .map_or("", |p| p.0);
    TemplateView {
        key: key.key(),
        part: part.to_string(),
        trigger: key.trigger.clone().unwrap_or_else(|| EVERY.into()),
        language: key.language.map_or(EVERY, Language::code).to_string(),
        source: source.to_string(),
        from,
    }
}

/// The template a path names, as messages would use it.
pub async fn template(
    store: &dyn Store,
    account: AccountId,
    key: &TemplateKey,
) -> ServiceResult<TemplateView> {
    Ok(view(&store.notification_settings(account).await?, key))
}

/// The account's own templates, in key order.
pub async fn own_templates(
    store: &dyn Store,
    account: AccountId,
) -> ServiceResult<Vec<TemplateView>> {
    let settings = store.notification_settings(account).await?;
    Ok(settings
        .templates
        .keys()
        .map(String::as_str)
        .filter_map(TemplateKey::parse)
        .map(|key| view(&settings, &key))
        .collect())
}

/// Changes the account's templates with `change` and stores them when it changed anything;
/// answers with the template `key` as messages now use it.
async fn edit(
    store: &dyn Store,
    account: AccountId,
    key: &TemplateKey,
    change: impl FnOnce(&mut BTreeMap<String, String>) -> ServiceResult<bool>,
) -> ServiceResult<TemplateView> {
    let mut settings = store.notification_settings(account).await?;
    if change(&mut settings.templates)? {
        settings = store.set_notification_settings(account, &settings).await?;
    }
    Ok(view(&settings, key))
}

/// Checks and saves the account's template `key`; an invalid one is refused with its line and
/// nothing is stored.
pub async fn save_template(
    store: &dyn Store,
    account: AccountId,
    key: &TemplateKey,
    source: &str,
) -> ServiceResult<TemplateView> {
    let name = key.key();
    templates::validate(&name, source).map_err(refused)?;
    edit(store, account, key, |own| {
        if !own.contains_key(&name) && own.len() >= MAX_TEMPLATES {
            return Err(ServiceError::NotificationTemplateInvalid(format!(
                "An account keeps at most {MAX_TEMPLATES} templates; delete one first."
            )));
        }
        own.insert(name, source.to_string());
        Ok(true)
    })
    .await
}

/// Deletes the account's template `key` (if it has one); messages use the next most specific
/// one again, which the answer shows.
pub async fn remove_template(
    store: &dyn Store,
    account: AccountId,
    key: &TemplateKey,
) -> ServiceResult<TemplateView> {
    edit(store, account, key, |own| {
        Ok(own.remove(&key.key()).is_some())
    })
    .await
}

/// Renders a message about `input.trigger` in `input.language` for a sample tracking, with the
/// account's branding (its tracking page's name, colours, logo and support address) and its
/// saved templates, or those the input gives instead.
pub async fn preview(
    store: &dyn Store,
    account: AccountId,
    account_name: &str,
    input: &PreviewInput,
) -> ServiceResult<Preview> {
    let trigger = trigger_of(input.trigger.as_deref().unwrap_or("transit"))?;
    let language = language_of(input.language.as_deref().unwrap_or("en"))?;
    let settings = store.notification_settings(account).await?;
    let page = store.page_settings(account).await?;
    let mut context = sample(language);
    context.t = words(language, &trigger);
    context.status = trigger.clone();
    context.shop_name = page.shop_name.unwrap_or_else(|| account_name.to_string());
    context.brand_color = page.brand_color;
    context.accent_color = page.accent_color;
    context.logo_url = page.logo_url;
    context.support_email = page.support_email.or(context.support_email);
    if let Some(unknown_part) = input.templates.keys().find(|p| part_name(p).is_none()) {
        return Err(unknown(format!(
            "`{unknown_part}` is not a part of a message: use subject, html, text or sms."
        )));
    }
    let mut parts = BTreeMap::new();
    for (part, name) in PARTS {
        let text = match input.templates.get(part) {
            Some(given) => {
                // A given template is checked as saving it would be, then rendered.
                let key = TemplateKey {
                    trigger: Some(trigger.clone()),
                    name,
                    language: Some(language),
                };
                templates::validate(&key.key(), given).map_err(refused)?;
                render_source(name, given, &context).map_err(refused)?
            }
            None => render(&settings.templates, name, &context).map_err(refused)?,
        };
        parts.insert(part.to_string(), text);
    }
    Ok(Preview {
        trigger,
        language: language.code().to_string(),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_templates_with_all_for_every_trigger_or_language() {
        let key = template_key("delivered", "de", "subject").unwrap();
        assert_eq!(key.key(), "delivered:email.subject.de");
        assert_eq!(template_key("all", "all", "sms").unwrap().key(), "sms.text");
        assert_eq!(
            template_key("transit002", "all", "html").unwrap().key(),
            "transit002:email.html"
        );
        for (trigger, language, part, needle) in [
            ("arrived", "de", "subject", "`arrived`"),
            ("all", "sv", "subject", "`sv`"),
            ("all", "all", "footer", "`footer`"),
        ] {
            match template_key(trigger, language, part) {
                Err(ServiceError::NotificationTemplateUnknown(text)) => {
                    assert!(text.contains(needle), "{text}")
                }
                other => panic!("{trigger}/{language}/{part}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_view_says_which_template_applies() {
        let settings = NotificationSettings {
            templates: [("email.subject.de".to_string(), "DE".to_string())].into(),
            ..NotificationSettings::default()
        };
        let specific = view(
            &settings,
            &template_key("delivered", "de", "subject").unwrap(),
        );
        assert_eq!(
            (specific.source.as_str(), specific.from.as_deref()),
            ("DE", Some("email.subject.de"))
        );
        let own = view(&settings, &template_key("all", "de", "subject").unwrap());
        assert_eq!(own.from.as_deref(), Some(own.key.as_str()));
        let general = view(&settings, &template_key("all", "all", "subject").unwrap());
        assert_eq!(general.from, None, "parceld's default");
        assert!(general.source.contains("t.headline"));
    }
}
