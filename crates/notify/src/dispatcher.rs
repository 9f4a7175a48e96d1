//! The notification dispatcher: claims due notifications with a lease, renders and sends them,
//! and records every outcome of a batch in one call.
//!
//! A batch reads what it needs in a bounded number of store calls (its trackings by primary
//! key in one, each account's settings once, the opt-outs and the day's counts in one each),
//! then sends up to `concurrency` messages at once. A crash while sending loses nothing: the
//! lease runs out and the next claim sends again under the same `Message-ID`. Opt-outs are
//! checked at sending time, so an unsubscribe also stops what was already queued. Customer
//! addresses and server answers go to the notification log in the store, never to the process
//! log, which names notifications by id only.
//!
//! Texts go through the server's SMS provider ([`crate::sms`]). A text due inside the
//! account's quiet hours (in the customer's zone, [`crate::quiet`]) is deferred to the hours'
//! end: it stays pending and is claimed again then, without the deferral counting as an attempt
//! or against the daily cap. A provider's "unsubscribed" answer (Twilio 21610: the customer
//! texted STOP) records an opt-out for that number and account, so the next text is not tried.
//!
//! A page subscriber's notification (`ClaimedNotification::language` set) goes out like the
//! customer's, with its own `Message-ID`, opt-out and unsubscribe link, in the language of the
//! page they subscribed on, and without the customer's name.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use parceld_model::{Language, Tracking};
use parceld_store::notifications::{
    recipient_key, Channel, ClaimedNotification, NotificationOutcome, NotificationRecord,
    NotificationSettings, Recipient,
};
use parceld_store::{AccountId, PageSettings, Store, StoreResult};

use crate::email::{Email, Mailer};
use crate::quiet;
use crate::settings::{NotifySettings, SmtpServer};
use crate::sms::{Text, Texter};
use crate::templates::{self, MessageContext};
use crate::token;

/// What a batch knows of one account.
struct AccountView {
    name: String,
    settings: NotificationSettings,
    page: PageSettings,
}

/// A message ready to go.
enum Message {
    Email(SmtpServer, Box<Email>),
    /// With the recipient an opt-out is recorded for if the provider says they texted STOP.
    Text(Recipient, Text),
}

/// A message to send: the notification's primary key and attempts so far, the message.
type Outgoing = (i64, i64, Message);

pub struct Dispatcher {
    store: Arc<dyn Store>,
    settings: NotifySettings,
    mailer: Mailer,
    texter: Texter,
    owner: String,
}

/// A path segment, percent-encoded: everything but unreserved characters.
pub fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Midnight (UTC) of `now`'s day: the daily caps count from there.
fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now)
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, settings: NotifySettings) -> Self {
        let mailer = Mailer::new(settings.timeout(), settings.concurrency);
        let texter = Texter::new(settings.timeout());
        let owner = format!("notify-{:016x}", rand::random::<u64>());
        Dispatcher {
            store,
            settings,
            mailer,
            texter,
            owner,
        }
    }

    /// Runs batches until `stop` turns true, then releases what it still holds.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        while !*stop.borrow() {
            let wait = match self.dispatch_once().await {
                Ok(0) => idle,
                Ok(_) => continue,
                Err(error) => {
                    tracing::warn!(%error, "notification dispatch failed; trying again");
                    idle
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        if let Err(error) = self.store.release_notifications(&self.owner).await {
            tracing::warn!(%error, "could not release notification leases");
        }
    }

    /// Claims one batch, sends it and records the outcomes; returns how many were claimed.
    pub async fn dispatch_once(&self) -> StoreResult<usize> {
        self.dispatch_at(Utc::now()).await
    }

    /// [`Dispatcher::dispatch_once`] as if the time were `now`: what is due then is claimed,
    /// and quiet hours and daily caps are judged then (tests move the clock so).
    pub async fn dispatch_at(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        let claimed = self
            .store
            .claim_notifications(
                &self.owner,
                now,
                now + self.settings.lease(),
                self.settings.batch,
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let records = self.process(&claimed, now).await?;
        self.store
            .record_notifications(&self.owner, &records)
            .await?;
        for record in &records {
            tracing::debug!(
                notification = record.pk,
                state = record.outcome.state(),
                "notification attempt"
            );
        }
        Ok(claimed.len())
    }

    async fn accounts(
        &self,
        ids: &HashSet<AccountId>,
    ) -> StoreResult<HashMap<AccountId, AccountView>> {
        let names: HashMap<AccountId, String> = self
            .store
            .accounts()
            .await?
            .into_iter()
            .filter(|a| ids.contains(&a.id))
            .map(|a| (a.id, a.name))
            .collect();
        let mut views = HashMap::new();
        for (id, name) in names {
            let settings = self.store.notification_settings(id).await?;
            let page = self.store.page_settings(id).await?;
            views.insert(
                id,
                AccountView {
                    name,
                    settings,
                    page,
                },
            );
        }
        Ok(views)
    }

    async fn process(
        &self,
        claimed: &[ClaimedNotification],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let mut pks: Vec<i64> = claimed.iter().map(|n| n.tracking_pk).collect();
        pks.sort_unstable();
        pks.dedup();
        let trackings: HashMap<i64, Tracking> = self
            .store
            .trackings_by_pk(&pks)
            .await?
            .into_iter()
            .collect();
        let account_ids: HashSet<AccountId> = claimed.iter().map(|n| n.account_id).collect();
        let accounts = self.accounts(&account_ids).await?;
        let recipients: Vec<Recipient> = claimed.iter().map(recipient_of).collect();
        let opted_out: HashSet<Recipient> = self
            .store
            .unsubscribed(&recipients)
            .await?
            .into_iter()
            .collect();
        let ids: Vec<AccountId> = account_ids.iter().copied().collect();
        let mut sent_today: HashMap<AccountId, u64> = self
            .store
            .notifications_sent_since(&ids, day_start(now))
            .await?
            .into_iter()
            .collect();

        let mut records = Vec::with_capacity(claimed.len());
        let mut sends = Vec::new();
        for (notification, recipient) in claimed.iter().zip(recipients) {
            let record = |outcome| NotificationRecord {
                pk: notification.pk,
                outcome,
                at: now,
            };
            let suppressed = |reason: &str| {
                record(NotificationOutcome::Suppressed {
                    reason: reason.to_string(),
                })
            };
            let (Some(tracking), Some(account)) = (
                trackings.get(&notification.tracking_pk),
                accounts.get(&notification.account_id),
            ) else {
                records.push(suppressed("the tracking or its account no longer exists"));
                continue;
            };
            if opted_out.contains(&recipient) {
                records.push(suppressed("the recipient unsubscribed"));
                continue;
            }
            let cap = account
                .settings
                .daily_cap
                .map_or(self.settings.daily_cap, |own| {
                    own.min(self.settings.daily_cap)
                });
            let count = sent_today.entry(notification.account_id).or_default();
            if *count >= u64::from(cap) {
                records.push(suppressed(&format!(
                    "the account's daily cap of {cap} was reached"
                )));
                continue;
            }
            let message = match notification.channel {
                Channel::Email => self.email_message(notification, tracking, account, &recipient),
                Channel::Sms => self.text_message(notification, tracking, account, recipient, now),
            };
            match message {
                Ok(message) => {
                    *count += 1;
                    sends.push((
                        notification.tracking_pk,
                        (notification.pk, notification.attempts, message),
                    ));
                }
                Err(outcome) => records.push(record(outcome)),
            }
        }
        // One tracking's messages go one after another, in the order of their changes;
        // different trackings' go at once.
        let mut by_tracking: Vec<Vec<Outgoing>> = Vec::new();
        let mut group_of: HashMap<i64, usize> = HashMap::new();
        for (tracking_pk, send) in sends {
            let group = *group_of.entry(tracking_pk).or_insert_with(|| {
                by_tracking.push(Vec::new());
                by_tracking.len() - 1
            });
            by_tracking[group].push(send);
        }
        let sent: Vec<Vec<NotificationRecord>> = stream::iter(by_tracking)
            .map(|group| async move {
                let mut done = Vec::with_capacity(group.len());
                for (pk, attempts, message) in group {
                    let result = match message {
                        Message::Email(server, email) => self.mailer.send(&server, &email).await,
                        Message::Text(recipient, text) => self.send_text(&recipient, &text).await,
                    };
                    let retry = self.settings.retry_after(attempts + 1);
                    done.push(NotificationRecord {
                        pk,
                        outcome: result.outcome(retry, Utc::now()),
                        at: Utc::now(),
                    });
                }
                done
            })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        records.extend(sent.into_iter().flatten());
        Ok(records)
    }

    /// The context the templates of `notification` see.
    fn context(
        &self,
        notification: &ClaimedNotification,
        tracking: &Tracking,
        account: &AccountView,
        recipient: &Recipient,
    ) -> MessageContext {
        // A page subscriber reads the page's language of their subscription; the customer the
        // tracking's, else the page's default.
        let language = notification
            .language
            .as_deref()
            .or(tracking.fields.language.as_deref())
            .and_then(Language::from_tag)
            .or_else(|| {
                account
                    .page
                    .default_language
                    .as_deref()
                    .and_then(Language::from_tag)
            })
            .unwrap_or(Language::En);
        let base = self.settings.public_url.trim_end_matches('/');
        let number = path_segment(&tracking.tracking_number);
        let tracking_url = match &account.page.host {
            Some(host) => {
                let scheme = base.split_once("://").map_or("https", |(s, _)| s);
                format!("{scheme}://{host}/track/{number}?lang={}", language.code())
            }
            None => format!(
                "{base}/track/{}/{number}?lang={}",
                path_segment(&account.name),
                language.code()
            ),
        };
        let token = token::sign(self.settings.unsubscribe_secret.as_bytes(), recipient);
        MessageContext {
            language: language.code().to_string(),
            shop_name: account
                .page
                .shop_name
                .clone()
                .unwrap_or_else(|| account.name.clone()),
            customer_name: customer_name(notification, tracking),
            tracking_number: tracking.tracking_number.clone(),
            courier_code: tracking.courier_code.clone(),
            order_number: tracking.fields.order_number.clone(),
            status: notification.trigger.clone(),
            latest_event: tracking.latest_event.clone(),
            tracking_url,
            unsubscribe_url: format!("{base}/unsubscribe/{token}"),
            brand_color: account.page.brand_color.clone(),
            accent_color: account.page.accent_color.clone(),
            logo_url: account.page.logo_url.clone(),
            support_email: account.page.support_email.clone(),
            t: templates::words(language, &notification.trigger),
        }
    }

    /// The email of `notification`, or why it is not sent.
    fn email_message(
        &self,
        notification: &ClaimedNotification,
        tracking: &Tracking,
        account: &AccountView,
        recipient: &Recipient,
    ) -> Result<Message, NotificationOutcome> {
        let server = match &account.settings.smtp {
            Some(own) => SmtpServer::of_account(own),
            None => self.settings.smtp.clone(),
        };
        let Some(server) = server else {
            return Err(NotificationOutcome::Suppressed {
                reason: "no SMTP server is configured".into(),
            });
        };
        match self.email(notification, tracking, account, recipient) {
            Ok(email) => Ok(Message::Email(server, Box::new(email))),
            Err(error) => Err(NotificationOutcome::Failed {
                response: error.to_string(),
            }),
        }
    }

    /// The text of `notification`, or why it is not sent (yet).
    fn text_message(
        &self,
        notification: &ClaimedNotification,
        tracking: &Tracking,
        account: &AccountView,
        recipient: Recipient,
        now: DateTime<Utc>,
    ) -> Result<Message, NotificationOutcome> {
        if self.settings.sms.is_none() {
            return Err(NotificationOutcome::Suppressed {
                reason: "no SMS provider is configured".into(),
            });
        }
        if let Some(quiet) = account.settings.quiet_hours {
            let zone = quiet::customer_zone(account.settings.time_zone.as_deref(), tracking);
            if let Some(until) = quiet::held_until(quiet, zone, now) {
                return Err(NotificationOutcome::Deferred {
                    at: until,
                    reason: format!("quiet hours in {zone} until {}", until.to_rfc3339()),
                });
            }
        }
        let context = self.context(notification, tracking, account, &recipient);
        match templates::render(&account.settings.templates, "sms.text", &context) {
            Ok(body) => Ok(Message::Text(
                recipient,
                Text {
                    id: notification.id.clone(),
                    to: notification.recipient.clone(),
                    body,
                },
            )),
            Err(error) => Err(NotificationOutcome::Failed {
                response: error.to_string(),
            }),
        }
    }

    /// Sends a text through the server's provider; an opt-out answer is recorded as one. The
    /// process log names the notification and the provider's code, never the number.
    async fn send_text(&self, recipient: &Recipient, text: &Text) -> crate::email::Sent {
        let Some(provider) = &self.settings.sms else {
            return crate::email::Sent::Permanent("no SMS provider is configured".into());
        };
        let reply = self.texter.send(provider, text).await;
        if reply.opted_out() {
            if let Err(error) = self.store.unsubscribe(recipient, Utc::now()).await {
                tracing::warn!(notification = %text.id, %error, "could not record an SMS opt-out");
            }
            tracing::info!(notification = %text.id, "the recipient opted out of texts (STOP)");
        }
        let sent = reply.clone().sent();
        match (&sent, reply.code()) {
            (crate::email::Sent::Permanent(_), code) => tracing::warn!(
                notification = %text.id,
                code,
                "the SMS provider refused a text for good; not retried"
            ),
            (crate::email::Sent::Transient(_), code) => tracing::info!(
                notification = %text.id,
                code,
                "the SMS provider failed; the text is retried"
            ),
            (crate::email::Sent::Accepted(_), _) => {}
        }
        sent
    }

    fn email(
        &self,
        notification: &ClaimedNotification,
        tracking: &Tracking,
        account: &AccountView,
        recipient: &Recipient,
    ) -> Result<Email, templates::TemplateError> {
        let context = self.context(notification, tracking, account, recipient);
        let own = &account.settings.templates;
        Ok(Email {
            id: notification.id.clone(),
            from_name: account
                .settings
                .sender_name
                .clone()
                .unwrap_or_else(|| context.shop_name.clone()),
            from_address: account
                .settings
                .sender_address
                .clone()
                .unwrap_or_else(|| self.settings.from_address.clone()),
            reply_to: account.settings.reply_to.clone(),
            to: notification.recipient.clone(),
            to_name: customer_name(notification, tracking),
            subject: templates::render(own, "email.subject", &context)?,
            text: templates::render(own, "email.text", &context)?,
            html: templates::render(own, "email.html", &context)?,
            unsubscribe_url: context.unsubscribe_url,
        })
    }
}

/// The name a notification greets: the customer's, never to a page subscriber (who may be
/// someone else following the parcel).
fn customer_name(notification: &ClaimedNotification, tracking: &Tracking) -> Option<String> {
    match notification.language {
        Some(_) => None,
        None => tracking.fields.customer_name.clone(),
    }
}

/// The opt-out a notification is checked against.
fn recipient_of(notification: &ClaimedNotification) -> Recipient {
    Recipient {
        account_id: notification.account_id,
        channel: notification.channel,
        address: recipient_key(notification.channel, &notification.recipient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_keep_only_unreserved_characters() {
        assert_eq!(path_segment("AB-12_x.~"), "AB-12_x.~");
        assert_eq!(path_segment("a b/c?\"<"), "a%20b%2Fc%3F%22%3C");
    }

    #[test]
    fn the_day_starts_at_midnight_utc() {
        let now: DateTime<Utc> = "2026-03-04T17:05:06Z".parse().unwrap();
        assert_eq!(
            day_start(now),
            "2026-03-04T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
