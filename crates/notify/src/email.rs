//! Email over SMTP: building a message and sending it through a pooled connection.
//!
//! A message carries the notification's id in its `Message-ID` (`<ntf_…@sender-domain>`), the
//! same on every retry, so a receiver (or a person) recognises a repeat after a crash between
//! the server's "250" and the outcome being recorded. It has a text and an HTML part and the
//! RFC 8058 one-click unsubscribe headers. Transports are kept per SMTP server and reuse their
//! connections (lettre's pool), so a batch does not pay a TLS handshake per message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use parceld_store::notifications::NotificationOutcome;

use crate::settings::{Security, SmtpServer};

/// What an email says, rendered.
#[derive(Debug, Clone)]
pub struct Email {
    /// The notification's id: the `Message-ID`'s local part.
    pub id: String,
    /// The rendered templates.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The customer.
    pub to_name: Option<String>,
    pub to: String,
    /// The sender: the account's, else the server's.
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    /// Also in the `List-Unsubscribe` header.
    pub unsubscribe_url: String,
}

macro_rules! raw_header {
    ($type:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $type(String);

        impl Header for $type {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($type(s.to_string()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

raw_header!(ListUnsubscribe, "List-Unsubscribe");
raw_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

/// Why a message could not be built (an address the server cannot send to): permanent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(String);

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, BuildError> {
    let address = address
        .trim()
        .parse()
        .map_err(|e| BuildError(format!("invalid address: {e}")))?;
    Ok(Mailbox::new(
        name.filter(|n| !n.is_empty()).map(str::to_string),
        address,
    ))
}

impl Email {
    /// The message as it goes over the wire.
    pub fn message(&self) -> Result<Message, BuildError> {
        let domain = self
            .from_address
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("localhost");
        let mut builder = Message::builder()
            .message_id(Some(format!("<{}@{domain}>", self.id)))
            .from(mailbox(Some(&self.from_name), &self.from_address)?)
            .to(mailbox(self.to_name.as_deref(), &self.to)?)
            .subject(self.subject.replace(['\r', '\n'], " "))
            .header(ListUnsubscribe(format!("<{}>", self.unsubscribe_url)))
            .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(mailbox(None, reply_to)?);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                self.html.clone(),
            ))
            .map_err(|e| BuildError(e.to_string()))
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

fn transport(
    server: &SmtpServer,
    timeout: Duration,
    connections: u32,
) -> Result<Transport, String> {
    let builder = Transport::builder_dangerous(&server.host).port(server.port);
    let tls = |host: &str| TlsParameters::new(host.to_string()).map_err(|e| e.to_string());
    let builder = match server.security {
        Security::None => builder.tls(Tls::None),
        Security::Starttls => builder.tls(Tls::Required(tls(&server.host)?)),
        Security::Tls => builder.tls(Tls::Wrapper(tls(&server.host)?)),
    };
    let builder = match (&server.username, &server.password) {
        (Some(user), Some(password)) => {
            builder.credentials(Credentials::new(user.clone(), password.clone()))
        }
        _ => builder,
    };
    // The pool keeps as many idle connections as may be busy at once: with lettre's default
    // of ten, every message beyond the tenth in flight opened and closed a connection of its own.
    let pool = PoolConfig::new().max_size(connections.max(1));
    Ok(builder.timeout(Some(timeout)).pool_config(pool).build())
}

/// What one sending attempt came to, before the retry schedule is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Accepted(String),
    /// A 4xx reply, a connection or timeout failure: worth another attempt.
    Transient(String),
    /// A 5xx reply or a message that cannot be built: never worth another attempt.
    Permanent(String),
}

impl Sent {
    /// The outcome to record after `attempts_made` attempts, with `retry` the wait before the
    /// next one (`None`: that was the last).
    pub fn outcome(
        self,
        retry: Option<chrono::Duration>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> NotificationOutcome {
        match (self, retry) {
            (Sent::Accepted(response), _) => NotificationOutcome::Sent { response },
            (Sent::Transient(response), Some(wait)) => NotificationOutcome::Retry {
                at: now + wait,
                response,
            },
            (Sent::Transient(response), None) | (Sent::Permanent(response), _) => {
                NotificationOutcome::Failed { response }
            }
        }
    }
}

/// Sends emails, one pooled transport per SMTP server.
pub struct Mailer {
    timeout: Duration,
    /// Connections kept open per SMTP server: the dispatcher's concurrency.
    connections: u32,
    transports: Mutex<HashMap<SmtpServer, Transport>>,
}

impl Mailer {
    pub fn new(timeout: Duration, connections: usize) -> Self {
        Mailer {
            timeout,
            connections: u32::try_from(connections).unwrap_or(u32::MAX),
            transports: Mutex::new(HashMap::new()),
        }
    }

    fn transport_for(&self, server: &SmtpServer) -> Result<Transport, String> {
        let mut transports = self.transports.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(transport) = transports.get(server) {
            return Ok(transport.clone());
        }
        let made = transport(server, self.timeout, self.connections)?;
        transports.insert(server.clone(), made.clone());
        Ok(made)
    }

    /// Sends `email` through `server`.
    pub async fn send(&self, server: &SmtpServer, email: &Email) -> Sent {
        let message = match email.message() {
            Ok(message) => message,
            Err(error) => return Sent::Permanent(error.to_string()),
        };
        let transport = match self.transport_for(server) {
            Ok(transport) => transport,
            Err(error) => return Sent::Transient(format!("SMTP server: {error}")),
        };
        match transport.send(message).await {
            Ok(response) => {
                let text: Vec<&str> = response.message().collect();
                Sent::Accepted(format!("{} {}", response.code(), text.join(" ")))
            }
            Err(error) if error.is_permanent() => Sent::Permanent(error.to_string()),
            Err(error) => Sent::Transient(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            id: "ntf_0123".into(),
            from_name: "Alpha Shoes".into(),
            from_address: "shop@alpha.example".into(),
            reply_to: Some("help@alpha.example".into()),
            to: "ada@example.com".into(),
            to_name: Some("Ada".into()),
            subject: "Your parcel\r\nBcc: evil@example.com".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
            unsubscribe_url: "https://track.example/unsubscribe/abc".into(),
        }
    }

    #[test]
    fn a_message_has_a_stable_id_the_unsubscribe_headers_and_both_parts() {
        let wire = String::from_utf8(email().message().unwrap().formatted()).unwrap();
        assert!(
            wire.contains("Message-ID: <ntf_0123@alpha.example>"),
            "{wire}"
        );
        assert!(wire.contains("List-Unsubscribe: <https://track.example/unsubscribe/abc>"));
        assert!(wire.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(wire.contains("Reply-To: help@alpha.example"));
        assert!(wire.contains("multipart/alternative"));
        assert!(
            !wire.contains("\r\nBcc:"),
            "no header injection through the subject"
        );
        let bad = Email {
            to: "not an address".into(),
            ..email()
        };
        assert!(bad.message().is_err());
    }

    #[test]
    fn transient_failures_retry_until_the_last_attempt_and_permanent_ones_stop() {
        let now = chrono::Utc::now();
        let wait = Some(chrono::Duration::seconds(30));
        let retry = Sent::Transient("421 busy".into()).outcome(wait, now);
        assert_eq!(
            retry.next_attempt(),
            Some(now + chrono::Duration::seconds(30))
        );
        let last = Sent::Transient("421 busy".into()).outcome(None, now);
        assert_eq!(last.state(), "failed");
        let permanent = Sent::Permanent("550 no such user".into()).outcome(wait, now);
        assert_eq!(permanent.state(), "failed");
        assert_eq!(
            Sent::Accepted("250 ok".into()).outcome(wait, now).state(),
            "sent"
        );
    }
}
