//! The rules of an account's notification settings, the same for the API (`PUT
//! /v4/notifications/settings`) and the CLI (`parceld notifications set`).
//!
//! Like the tracking page's settings, a change names only what it changes: a field left out
//! keeps its value, an empty text clears it. Every value ends up in a message to a shop's
//! customers (a sender, a reply-to) or decides whether one is sent (channels, triggers, quiet
//! hours, the daily cap), so each is checked for what it is and refused with a sentence naming
//! the field (4190); nothing is stored unless the whole change is acceptable. The account's
//! own SMTP server is not among them: pointing the server's SMTP client at any host is the
//! operator's decision, not an API client's.

use parceld_notify::templates::is_trigger;
use parceld_store::notifications::{Channel, NotificationSettings, QuietHours};
use parceld_store::{AccountId, Store};
use serde::{Deserialize, Serialize};

use crate::validate::is_email_address;
use crate::{ServiceError, ServiceResult};

/// The most triggers an account may list (there are 9 statuses and fewer than 40 sub-statuses).
pub const MAX_TRIGGERS: usize = 64;
/// The longest sender name, in characters.
pub const MAX_SENDER_NAME: usize = 80;
/// The largest daily cap an account may ask for (the server's cap applies if it is lower).
pub const MAX_DAILY_CAP: u32 = 1_000_000;

/// A change of an account's notification settings, as `PUT /v4/notifications/settings` takes it
/// and `parceld notifications set` builds it: a field left out keeps its value, an empty text
/// clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsInput {
    /// The channels notifications go out on: `email`, `sms`; `[]` sends nothing (the default).
    pub channels: Option<Vec<String>>,
    /// The delivery statuses (`delivered`) and sub-statuses (`transit002`) that notify; by
    /// default `transit` (the first time only), `pickup` (out for delivery), `delivered`,
    /// `undelivered` (a failed attempt) and `exception`.
    pub triggers: Option<Vec<String>>,
    /// The name emails come from (at most 80 characters); empty: the shop's name.
    pub sender_name: Option<String>,
    /// The address emails come from; empty: the server's `from_address`.
    pub sender_address: Option<String>,
    /// Where customers' replies go; empty: the sender.
    pub reply_to: Option<String>,
    /// No text message between these times of the customer's day, `HH:MM-HH:MM` (`21:00-08:00`
    /// spans midnight); empty: none.
    pub quiet_hours: Option<String>,
    /// The customers' time zone for quiet hours, an IANA name (`Europe/Amsterdam`); empty: UTC.
    pub time_zone: Option<String>,
    /// Notifications sent per day (UTC) at most; 0: the server's cap (the server's cap also
    /// applies when it is lower).
    pub daily_cap: Option<u32>,
}

/// An account's notification settings as the API and the CLI show them: every field of a
/// change, filled in (an empty text or a `daily_cap` of 0 for one not set), so that what is
/// read can be sent back as it is; and what only the operator sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettingsView {
    /// The fields of a change (`NotificationSettingsInput`), filled in. Described as an open
    /// object: the change's own schema refuses other properties, and an `allOf` of it with this
    /// struct's own fields would refuse every answer.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub settings: NotificationSettingsInput,
    /// Whether the account sends through its own SMTP server (set by the server's operator).
    pub own_smtp_server: bool,
    /// The keys of the account's own templates (`[<trigger>:]<part>[.<language>]`);
    /// `GET /v4/notifications/templates` shows them.
    pub templates: Vec<String>,
}

impl From<&NotificationSettings> for NotificationSettingsView {
    fn from(s: &NotificationSettings) -> Self {
        let text = |value: &Option<String>| Some(value.clone().unwrap_or_default());
        let quiet = s
            .quiet_hours
            .map(|q| format!("{}-{}", clock(q.start_minute), clock(q.end_minute)));
        let settings = NotificationSettingsInput {
            channels: Some(s.channels.iter().map(|c| c.as_str().to_string()).collect()),
            triggers: Some(s.triggers.clone()),
            sender_name: text(&s.sender_name),
            sender_address: text(&s.sender_address),
            reply_to: text(&s.reply_to),
            quiet_hours: text(&quiet),
            time_zone: text(&s.time_zone),
            daily_cap: Some(s.daily_cap.unwrap_or(0)),
        };
        NotificationSettingsView {
            settings,
            own_smtp_server: s.smtp.is_some(),
            templates: s.templates.keys().cloned().collect(),
        }
    }
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn invalid(text: String) -> ServiceError {
    ServiceError::NotificationSettingsInvalid(text)
}

/// A list as the command line writes it: `email,sms`; empty: `[]`.
fn list_value(value: &str) -> serde_json::Value {
    let items = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| serde_json::Value::String(item.to_string()));
    serde_json::Value::Array(items.collect())
}

impl NotificationSettingsInput {
    /// A change written as `name=value` pairs (the command line's form): the fields are those of
    /// the API's body, `channels` and `triggers` comma-separated, `daily_cap` a number.
    pub fn from_pairs(pairs: &[String]) -> ServiceResult<NotificationSettingsInput> {
        let mut object = serde_json::Map::new();
        for pair in pairs {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                invalid(format!(
                    "`{pair}` is not name=value (e.g. channels=email or daily_cap=500)."
                ))
            })?;
            let value = match name {
                "channels" | "triggers" => list_value(value),
                "daily_cap" => match value.parse::<u32>() {
                    Ok(number) => serde_json::Value::from(number),
                    Err(_) => {
                        return Err(invalid(format!(
                            "`daily_cap` is a number of notifications a day, got `{value}`."
                        )))
                    }
                },
                _ => serde_json::Value::String(value.to_string()),
            };
            object.insert(name.to_string(), value);
        }
        serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| invalid(format!("{e}.")))
    }

    /// `current` with this change applied, or the first value that is not acceptable.
    pub fn apply(&self, current: &NotificationSettings) -> ServiceResult<NotificationSettings> {
        let mut next = current.clone();
        if let Some(channels) = &self.channels {
            next.channels = channel_list(channels)?;
        }
        if let Some(triggers) = &self.triggers {
            next.triggers = trigger_list(triggers)?;
        }
        if let Some(name) = &self.sender_name {
            next.sender_name = sender_name(name)?;
        }
        if let Some(address) = &self.sender_address {
            next.sender_address = address_of("sender_address", address)?;
        }
        if let Some(address) = &self.reply_to {
            next.reply_to = address_of("reply_to", address)?;
        }
        if let Some(hours) = &self.quiet_hours {
            next.quiet_hours = quiet_hours(hours)?;
        }
        if let Some(zone) = &self.time_zone {
            next.time_zone = time_zone(zone)?;
        }
        if let Some(cap) = self.daily_cap {
            if cap > MAX_DAILY_CAP {
                return Err(invalid(format!(
                    "`daily_cap` is at most {MAX_DAILY_CAP}, got {cap}."
                )));
            }
            next.daily_cap = (cap > 0).then_some(cap);
        }
        Ok(next)
    }
}

fn channel_list(names: &[String]) -> ServiceResult<Vec<Channel>> {
    let mut channels = Vec::new();
    for name in names {
        let channel = Channel::parse(name).ok_or_else(|| {
            invalid(format!(
                "`channels` may hold `email` and `sms`, got `{name}`."
            ))
        })?;
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    channels.sort();
    Ok(channels)
}

fn trigger_list(names: &[String]) -> ServiceResult<Vec<String>> {
    let mut triggers: Vec<String> = Vec::new();
    for name in names {
        if !is_trigger(name) {
            return Err(invalid(format!(
                "`triggers` holds delivery statuses (transit, pickup, delivered, undelivered, \
                 exception, …) or sub-statuses (transit002, …); `{name}` is neither."
            )));
        }
        if !triggers.contains(name) {
            triggers.push(name.clone());
        }
    }
    if triggers.len() > MAX_TRIGGERS {
        return Err(invalid(format!(
            "`triggers` holds at most {MAX_TRIGGERS} names."
        )));
    }
    Ok(triggers)
}

fn sender_name(value: &str) -> ServiceResult<Option<String>> {
    if value.chars().count() > MAX_SENDER_NAME {
        return Err(invalid(format!(
            "`sender_name` is longer than {MAX_SENDER_NAME} characters."
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '"'))
    {
        return Err(invalid(
            "`sender_name` contains a control character, a quote or an angle bracket; send \
             only the name."
                .into(),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

fn address_of(field: &str, value: &str) -> ServiceResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    if is_email_address(value) {
        Ok(Some(value.to_string()))
    } else {
        Err(invalid(format!(
            "`{field}` must be one email address such as shipping@example.com, got `{value}`."
        )))
    }
}

/// `HH:MM-HH:MM` onto minutes after midnight; the two must differ.
fn quiet_hours(value: &str) -> ServiceResult<Option<QuietHours>> {
    if value.is_empty() {
        return Ok(None);
    }
    let minute = |text: &str| -> Option<u16> {
        let (hours, minutes) = text.trim().split_once(':')?;
        let ok = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
        if !ok(hours) || !ok(minutes) {
            return None;
        }
        let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
        (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
    };
    let parsed = value
        .split_once('-')
        .and_then(|(start, end)| Some((minute(start)?, minute(end)?)));
    match parsed {
        Some((start, end)) if start != end => Ok(Some(QuietHours {
            start_minute: start,
            end_minute: end,
        })),
        _ => Err(invalid(format!(
            "`quiet_hours` must be two different times of day written HH:MM-HH:MM (e.g. \
             21:00-08:00), got `{value}`."
        ))),
    }
}

fn time_zone(value: &str) -> ServiceResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<chrono_tz::Tz>() {
        Ok(zone) => Ok(Some(zone.name().to_string())),
        Err(_) => Err(invalid(format!(
            "`time_zone` must be an IANA time zone such as Europe/Amsterdam, got `{value}`."
        ))),
    }
}

/// The account's notification settings as shown.
pub async fn notification_settings(
    store: &dyn Store,
    account: AccountId,
) -> ServiceResult<NotificationSettingsView> {
    Ok((&store.notification_settings(account).await?).into())
}

impl NotificationSettingsInput {
    /// Applies this change to the account's settings and stores the result; a refused value
    /// changes nothing.
    pub async fn store(
        &self,
        store: &dyn Store,
        account: AccountId,
    ) -> ServiceResult<NotificationSettingsView> {
        let next = self.apply(&store.notification_settings(account).await?)?;
        let stored = store.set_notification_settings(account, &next).await?;
        Ok(NotificationSettingsView::from(&stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_reads_back_in_the_same_words() {
        let defaults = NotificationSettings::default();
        let first = NotificationSettingsInput {
            channels: Some(vec!["sms".into(), "email".into(), "sms".into()]),
            quiet_hours: Some("21:30-07:05".into()),
            time_zone: Some("Europe/Amsterdam".into()),
            daily_cap: Some(500),
            ..Default::default()
        }
        .apply(&defaults)
        .unwrap();
        assert_eq!(first.channels, [Channel::Email, Channel::Sms]);
        assert_eq!(
            first.quiet_hours,
            Some(QuietHours {
                start_minute: 21 * 60 + 30,
                end_minute: 7 * 60 + 5
            })
        );
        let second = NotificationSettingsInput {
            triggers: Some(vec!["delivered".into(), "transit002".into()]),
            quiet_hours: Some(String::new()),
            daily_cap: Some(0),
            ..Default::default()
        }
        .apply(&first)
        .unwrap();
        assert_eq!(second.channels, first.channels, "kept");
        assert_eq!(second.triggers, ["delivered", "transit002"]);
        assert_eq!(
            (second.quiet_hours, second.daily_cap),
            (None, None),
            "cleared"
        );
        let view = NotificationSettingsView::from(&first).settings;
        assert_eq!(view.quiet_hours.as_deref(), Some("21:30-07:05"));
        assert_eq!(view.time_zone.as_deref(), Some("Europe/Amsterdam"));
        assert_eq!(view.reply_to.as_deref(), Some(""), "not set: empty");
        assert_eq!(
            view.apply(&first).unwrap(),
            first,
            "what is read can be sent back"
        );
    }

    #[test]
    fn each_kind_of_bad_value_is_refused_naming_its_field() {
        let cases = [
            (serde_json::json!({"channels": ["fax"]}), "channels"),
            (serde_json::json!({"triggers": ["arrived"]}), "triggers"),
            (
                serde_json::json!({"sender_name": "Shop <x@y.z>"}),
                "sender_name",
            ),
            (
                serde_json::json!({"sender_address": "shop"}),
                "sender_address",
            ),
            (serde_json::json!({"reply_to": "a@b"}), "reply_to"),
            (serde_json::json!({"quiet_hours": "22-07"}), "quiet_hours"),
            (
                serde_json::json!({"quiet_hours": "08:00-08:00"}),
                "quiet_hours",
            ),
            (
                serde_json::json!({"quiet_hours": "24:00-07:00"}),
                "quiet_hours",
            ),
            (
                serde_json::json!({"time_zone": "Mars/Olympus"}),
                "time_zone",
            ),
            (
                serde_json::json!({"daily_cap": MAX_DAILY_CAP + 1}),
                "daily_cap",
            ),
        ];
        for (body, field) in cases {
            let input: NotificationSettingsInput = serde_json::from_value(body).unwrap();
            match input.apply(&NotificationSettings::default()) {
                Err(ServiceError::NotificationSettingsInvalid(text)) => {
                    assert!(text.contains(&format!("`{field}`")), "{text}")
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn pairs_read_like_the_apis_body() {
        let input = NotificationSettingsInput::from_pairs(&[
            "channels=email, sms".into(),
            "triggers=".into(),
            "daily_cap=20".into(),
            "sender_name=Acme = Co".into(),
        ])
        .unwrap();
        assert_eq!(input.channels, Some(vec!["email".into(), "sms".into()]));
        assert_eq!(input.triggers, Some(vec![]));
        assert_eq!(input.daily_cap, Some(20));
        assert_eq!(input.sender_name.as_deref(), Some("Acme = Co"));
        for bad in ["daily_cap=many", "colour=red", "channels"] {
            let error = NotificationSettingsInput::from_pairs(&[bad.into()]).unwrap_err();
            assert!(
                matches!(error, ServiceError::NotificationSettingsInvalid(_)),
                "{bad}: {error}"
            );
        }
    }
}
