//! Notifications to a shop's customers (email, SMS) as the store keeps them.
//!
//! A notification is written by the refresh, in the transaction that stores the change causing
//! it (like a webhook delivery), so a change is never announced without being stored nor stored
//! without being announced. Each backend writes it with one statement per refreshed batch,
//! deciding from the account's [`NotificationSettings`] which changes notify and on which
//! channels, and taking the recipients from the tracking's merchant fields and, for email, its
//! page subscribers ([`crate::subscribers`]). A unique key on (tracking, trigger, channel,
//! recipient) makes "at most one email per tracking, status and recipient" a property of the
//! data rather than of the dispatcher: a parcel that goes back to "in transit" after a failed
//! attempt does not tell its customer "shipped" again.
//!
//! Sending is the dispatcher's job (`parceld-notify`): it claims due notifications with a lease,
//! so a crash while sending loses nothing (the lease runs out and another claim sends again,
//! with the same [`ClaimedNotification::id`] as the email's `Message-ID`), and records outcomes
//! in batches. This module is the contract only; it depends on no database.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_model::TrackingId;
use serde::{Deserialize, Serialize};

use crate::{AccountId, StoreResult};

/// How a notification reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// A channel as a backend stored it.
    pub fn from_stored(text: &str) -> StoreResult<Channel> {
        Channel::parse(text)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("notification channel `{text}`")))
    }

    /// The merchant field (in the stored `fields`) that holds this channel's recipient.
    pub fn recipient_field(self) -> &'static str {
        match self {
            Channel::Email => "customer_email",
            Channel::Sms => "customer_sms",
        }
    }
}

/// The statuses that notify unless an account chooses others: the parcel is on its way (the
/// first time only, by the unique key), out for delivery or at a pickup point, delivered, a
/// delivery attempt failed, something went wrong.
pub const DEFAULT_TRIGGERS: [&str; 5] =
    ["transit", "pickup", "delivered", "undelivered", "exception"];

/// Quiet hours for SMS, in the customer's time zone: no text between `start` and `end`
/// (minutes after midnight; `start > end` spans midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    pub start_minute: u16,
    pub end_minute: u16,
}

/// An account's own SMTP server, used instead of the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmtpOverride {
    pub host: String,
    pub port: u16,
    /// `tls` (implicit TLS), `starttls` or `none`.
    pub security: String,
    pub username: Option<String>,
    /// Never shown back by the API.
    pub password: Option<String>,
}

/// An account's notification settings, as stored (validated by the service layer before).
/// Every field has a default, so an account that never set anything has complete settings:
/// the default triggers and no channel, that is, nothing is sent until the shop chooses a
/// channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NotificationSettings {
    /// The channels notifications go out on; empty: none.
    pub channels: Vec<Channel>,
    /// Delivery statuses (`delivered`) and sub-statuses (`transit002`) that notify. A change
    /// notifies under its status when that is listed, else under its sub-status when that is.
    pub triggers: Vec<String>,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub quiet_hours: Option<QuietHours>,
    /// The customers' time zone (IANA name) for quiet hours; UTC when unset.
    pub time_zone: Option<String>,
    /// Notifications sent per day (UTC) at most; the server's cap when unset.
    pub daily_cap: Option<u32>,
    pub smtp: Option<SmtpOverride>,
    /// The account's own templates, by name (`email.subject`, `email.html`, `email.text`,
    /// `sms.text`) and language (`email.subject.de`); the defaults fill the rest.
    pub templates: BTreeMap<String, String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            channels: Vec::new(),
            triggers: DEFAULT_TRIGGERS.iter().map(|t| t.to_string()).collect(),
            sender_name: None,
            sender_address: None,
            reply_to: None,
            quiet_hours: None,
            time_zone: None,
            daily_cap: None,
            smtp: None,
            templates: BTreeMap::new(),
        }
    }
}

impl NotificationSettings {
    /// The settings as a backend stored them (JSON), or the defaults when it stored none.
    pub fn from_stored(stored: Option<&str>) -> StoreResult<NotificationSettings> {
        match stored {
            Some(text) => crate::stored::parse_json(text, "notification settings"),
            None => Ok(NotificationSettings::default()),
        }
    }

    /// What storing these settings answers when it wrote `rows` rows: the settings, or no
    /// such account when it wrote none.
    pub fn written(&self, rows: u64) -> StoreResult<NotificationSettings> {
        match rows {
            0 => Err(crate::StoreError::NotFound(crate::Entity::Account)),
            _ => Ok(self.clone()),
        }
    }

    /// The stored form (JSON); what the refresh's enqueue statement reads.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("notification settings serialise")
    }
}

/// A new notification id: `ntf_` and 24 hex characters. It is the local part of the email's
/// `Message-ID`, so every retry of one notification carries the same one.
pub fn new_notification_id() -> String {
    crate::webhooks::random_id("ntf")
}

/// A notification claimed by a dispatcher, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedNotification {
    pub pk: i64,
    pub id: String,
    pub account_id: AccountId,
    pub tracking_pk: i64,
    pub event_id: String,
    /// The status or sub-status that caused it.
    pub trigger: String,
    pub channel: Channel,
    /// The address or number, as the tracking had it when the change happened (or as a
    /// subscriber gave it on the tracking page).
    pub recipient: String,
    /// A subscriber's language (the page's when they subscribed); `None` for the tracking's
    /// own customer, who gets the tracking's language and is greeted by name.
    pub language: Option<String>,
    /// Attempts made before this one.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// What became of one attempt to send a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum NotificationOutcome {
    /// The server accepted it; its answer.
    Sent { response: String },
    /// A temporary failure: try again at `at`.
    Retry { at: DateTime<Utc>, response: String },
    /// A permanent failure (a 5xx SMTP reply, an invalid number): no more attempts.
    Failed { response: String },
    /// Not sent and never will be: the recipient unsubscribed, the account's daily cap, …
    Suppressed { reason: String },
    /// Not sent yet on purpose (quiet hours): due again at `at`, the attempt not counted.
    Deferred { at: DateTime<Utc>, reason: String },
}

impl NotificationOutcome {
    /// The notification's state after this outcome.
    pub fn state(&self) -> &'static str {
        match self {
            NotificationOutcome::Sent { .. } => "sent",
            NotificationOutcome::Retry { .. } | NotificationOutcome::Deferred { .. } => "pending",
            NotificationOutcome::Failed { .. } => "failed",
            NotificationOutcome::Suppressed { .. } => "suppressed",
        }
    }

    /// The answer or reason kept in the log.
    pub fn response(&self) -> &str {
        match self {
            NotificationOutcome::Sent { response }
            | NotificationOutcome::Retry { response, .. }
            | NotificationOutcome::Failed { response } => response,
            NotificationOutcome::Suppressed { reason }
            | NotificationOutcome::Deferred { reason, .. } => reason,
        }
    }

    /// When it is due again, if it stays pending.
    pub fn next_attempt(&self) -> Option<DateTime<Utc>> {
        match self {
            NotificationOutcome::Retry { at, .. } | NotificationOutcome::Deferred { at, .. } => {
                Some(*at)
            }
            _ => None,
        }
    }

    /// Whether this outcome counts as an attempt (a deferral does not).
    pub fn is_attempt(&self) -> bool {
        !matches!(
            self,
            NotificationOutcome::Deferred { .. } | NotificationOutcome::Suppressed { .. }
        )
    }
}

/// One outcome to record, for the notification `pk`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub pk: i64,
    pub outcome: NotificationOutcome,
    pub at: DateTime<Utc>,
}

/// A notification as the tracking's log shows it (and, with the recipient masked, the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationInfo {
    pub id: String,
    pub trigger: String,
    pub channel: Channel,
    pub recipient: String,
    /// `pending`, `sent`, `failed` or `suppressed`.
    pub state: String,
    pub attempts: i64,
    /// The server's last answer, or why it was not sent.
    pub response: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was sent, failed for good or was suppressed.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A recipient who may have opted out, asked about in [`NotificationStore::unsubscribed`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Recipient {
    pub account_id: AccountId,
    pub channel: Channel,
    /// Normalised by [`recipient_key`].
    pub address: String,
}

impl Recipient {
    /// A recipient as a backend stored it: account, channel, normalised address.
    pub fn from_stored(
        (account_id, channel, address): (AccountId, String, String),
    ) -> StoreResult<Recipient> {
        Ok(Recipient {
            account_id,
            channel: Channel::from_stored(&channel)?,
            address,
        })
    }

    /// Recipients as a backend's rows hold them ([`Recipient::from_stored`] each).
    pub fn all_from_stored(rows: Vec<(AccountId, String, String)>) -> StoreResult<Vec<Recipient>> {
        rows.into_iter().map(Recipient::from_stored).collect()
    }
}

/// The form an address or number is compared in: trimmed, ASCII letters in lower case (an
/// email's domain is case-blind, and no shop tells customers apart by case), a number's
/// spaces, dashes, dots and brackets dropped.
pub fn recipient_key(channel: Channel, address: &str) -> String {
    let address = address.trim();
    match channel {
        Channel::Email => address.to_ascii_lowercase(),
        Channel::Sms => address
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect(),
    }
}

/// What a backend keeps of notifications. Every method is a bounded number of statements,
/// whatever the batch size.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The account's settings; the defaults when it never set any.
    async fn notification_settings(&self, account: AccountId) -> StoreResult<NotificationSettings>;
    /// Replaces the account's settings and returns them as stored; `NotFound(Account)` when
    /// there is no such account.
    async fn set_notification_settings(
        &self,
        account: AccountId,
        settings: &NotificationSettings,
    ) -> StoreResult<NotificationSettings>;

    /// Leases up to `limit` due pending notifications to `owner` until `lease_until`, the
    /// earliest first; one statement.
    async fn claim_notifications(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<ClaimedNotification>>;
    /// Records outcomes of notifications `owner` holds (others are ignored: their lease ran
    /// out and another dispatcher has them) and releases them.
    async fn record_notifications(
        &self,
        owner: &str,
        records: &[NotificationRecord],
    ) -> StoreResult<()>;
    /// Releases every lease `owner` holds (graceful shutdown).
    async fn release_notifications(&self, owner: &str) -> StoreResult<u64>;
    /// Notifications sent since `since`, per account of `accounts` (accounts without any left
    /// out): the daily caps.
    async fn notifications_sent_since(
        &self,
        accounts: &[AccountId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(AccountId, u64)>>;
    /// The log of one of the account's trackings, oldest first; `None` when the account has no
    /// such tracking.
    async fn notifications_of(
        &self,
        account: AccountId,
        tracking: &TrackingId,
    ) -> StoreResult<Option<Vec<NotificationInfo>>>;

    /// Records that a recipient opted out, for good (again is harmless).
    async fn unsubscribe(&self, recipient: &Recipient, at: DateTime<Utc>) -> StoreResult<()>;
    /// Which of `recipients` opted out.
    async fn unsubscribed(&self, recipients: &[Recipient]) -> StoreResult<Vec<Recipient>>;

    /// Subscribes an address to the email updates of one of the account's trackings (made on
    /// its public page), within [`crate::subscribers::MAX_SUBSCRIBERS`]; `NotFound(Tracking)`
    /// when the account has no such tracking. The count and the write are one decision under a
    /// lock, so concurrent subscriptions cannot pass the limit together.
    async fn subscribe_to_tracking(
        &self,
        subscriber: &crate::subscribers::NewSubscriber,
    ) -> StoreResult<crate::subscribers::SubscribeOutcome>;
}

/// Implements [`NotificationStore`] for a backend's store type by handing each call to the
/// function of the same job in the backend's module `$module` (in scope by that name) (`settings`, `set_settings`,
/// `claim`, `record`, `release`, `sent_since`, `log`, `unsubscribe`, `unsubscribed`, `subscribe`), each
/// taking the pool `$pool` (an expression of `self`) first and returning the backend's result.
/// Written once so that every backend's implementation is the same table.
#[macro_export]
macro_rules! notification_store_calls {
    ($store:ty, |$this:ident| $pool:expr, $module:ident) => {
        #[::async_trait::async_trait]
        impl $crate::notifications::NotificationStore for $store {
            async fn notification_settings(
                &self,
                account: $crate::AccountId,
            ) -> $crate::StoreResult<$crate::notifications::NotificationSettings> {
                let $this = self;
                Ok($module::settings($pool, account).await?)
            }
            async fn set_notification_settings(
                &self,
                account: $crate::AccountId,
                new: &$crate::notifications::NotificationSettings,
            ) -> $crate::StoreResult<$crate::notifications::NotificationSettings> {
                let $this = self;
                Ok($module::set_settings($pool, account, new).await?)
            }
            async fn claim_notifications(
                &self,
                owner: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
                lease_until: ::chrono::DateTime<::chrono::Utc>,
                limit: usize,
            ) -> $crate::StoreResult<Vec<$crate::notifications::ClaimedNotification>> {
                let $this = self;
                Ok($module::claim($pool, limit, owner, now, lease_until).await?)
            }
            async fn record_notifications(
                &self,
                owner: &str,
                records: &[$crate::notifications::NotificationRecord],
            ) -> $crate::StoreResult<()> {
                let $this = self;
                Ok($module::record($pool, owner, records).await?)
            }
            async fn release_notifications(&self, owner: &str) -> $crate::StoreResult<u64> {
                let $this = self;
                Ok($module::release($pool, owner).await?)
            }
            async fn notifications_sent_since(
                &self,
                accounts: &[$crate::AccountId],
                since: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<Vec<($crate::AccountId, u64)>> {
                let $this = self;
                Ok($module::sent_since($pool, accounts, since).await?)
            }
            async fn notifications_of(
                &self,
                account: $crate::AccountId,
                tracking: &::parceld_model::TrackingId,
            ) -> $crate::StoreResult<Option<Vec<$crate::notifications::NotificationInfo>>> {
                let $this = self;
                Ok($module::log($pool, account, tracking).await?)
            }
            async fn unsubscribe(
                &self,
                recipient: &$crate::notifications::Recipient,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<()> {
                let $this = self;
                Ok($module::unsubscribe($pool, recipient, at).await?)
            }
            async fn unsubscribed(
                &self,
                recipients: &[$crate::notifications::Recipient],
            ) -> $crate::StoreResult<Vec<$crate::notifications::Recipient>> {
                let $this = self;
                Ok($module::unsubscribed($pool, recipients).await?)
            }
            async fn subscribe_to_tracking(
                &self,
                subscriber: &$crate::subscribers::NewSubscriber,
            ) -> $crate::StoreResult<$crate::subscribers::SubscribeOutcome> {
                let $this = self;
                Ok($module::subscribe($pool, subscriber).await?)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_no_channel_and_the_usual_triggers_and_read_back() {
        let defaults = NotificationSettings::from_stored(None).unwrap();
        assert!(defaults.channels.is_empty());
        assert_eq!(defaults.triggers, DEFAULT_TRIGGERS);
        let partial = NotificationSettings::from_stored(Some(r#"{"channels":["sms"]}"#)).unwrap();
        assert_eq!(partial.channels, [Channel::Sms]);
        assert_eq!(partial.triggers, DEFAULT_TRIGGERS, "unset fields default");
        let back = NotificationSettings::from_stored(Some(&partial.to_stored())).unwrap();
        assert_eq!(back, partial);
    }

    #[test]
    fn recipients_compare_without_case_or_number_punctuation() {
        assert_eq!(
            recipient_key(Channel::Email, " Ada@Example.COM "),
            "ada@example.com"
        );
        assert_eq!(
            recipient_key(Channel::Sms, "+31 (20) 555-01.23"),
            "+31205550123"
        );
        assert!(new_notification_id().starts_with("ntf_"));
        assert_eq!(new_notification_id().len(), 28);
    }
}
