//! Text messages over an HTTP SMS provider speaking Twilio's Messages API: one form POST per
//! message, and the provider's answer judged as email's SMTP replies are.
//!
//! Twilio's shape, which other providers copy: `POST {base_url}/2010-04-01/Accounts/{sid}/
//! Messages.json` with HTTP Basic `sid:token` and the form fields `To`, `From` (or
//! `MessagingServiceSid`) and `Body`; a `201` with the message's `sid` and `status`, or an error
//! `{"code", "message", "more_info", "status"}`. The provider splits a long body into segments
//! itself. A 429, a 5xx, a timeout or a refused connection is worth another attempt; other 4xx
//! answers are about the message (21211: the `To` number is invalid, 21610: the recipient
//! texted STOP) and are final — except 401, 403 and 404, which are about the server's
//! configuration (credentials, account, address) and so are retried while someone fixes it.
//! The phone number travels in the request body only, never in a URL or a log line.

use std::time::Duration;

use parceld_store::notifications::{recipient_key, Channel};
use serde::Deserialize;

use crate::email::Sent;
use crate::settings::SmsProvider;

/// Twilio's error code for "the recipient opted out of messages from this sender" (a STOP).
pub const UNSUBSCRIBED: u32 = 21610;

/// A text to send, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The notification's id (for the log).
    pub id: String,
    /// The customer's number as the tracking has it; sent without its punctuation.
    pub to: String,
    pub body: String,
}

/// What the provider answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Taken: the provider's id for the message and its first status (`queued`, `accepted`).
    Accepted { sid: String, status: String },
    /// Worth another attempt: `http` is the status, if an answer came.
    Transient {
        http: Option<u16>,
        code: Option<u32>,
        message: String,
    },
    /// Never worth another attempt with this message and number.
    Permanent {
        http: u16,
        code: Option<u32>,
        message: String,
    },
}

/// A provider's answer body: the message, or an error (fields absent in the other kind).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Answer {
    sid: Option<String>,
    status: Option<serde_json::Value>,
    code: Option<u32>,
    message: Option<String>,
}

/// Judges an answer with HTTP status `http` and body `body`.
pub fn parse(http: u16, body: &str) -> Reply {
    let answer: Answer = serde_json::from_str(body).unwrap_or_default();
    if (200..300).contains(&http) {
        // Taken is taken: sending again over an unreadable answer would text the customer twice.
        let status = match answer.status {
            Some(serde_json::Value::String(status)) => status,
            _ => "accepted".to_string(),
        };
        return Reply::Accepted {
            sid: answer.sid.unwrap_or_else(|| "(no sid)".into()),
            status,
        };
    }
    let code = answer.code;
    let message = answer
        .message
        .unwrap_or_else(|| format!("HTTP {http} without a provider error"));
    match http {
        401 | 403 | 404 | 408 | 429 | 500..=599 => Reply::Transient {
            http: Some(http),
            code,
            message,
        },
        _ => Reply::Permanent {
            http,
            code,
            message,
        },
    }
}

impl Reply {
    /// Whether the provider refused because the recipient opted out (texted STOP).
    pub fn opted_out(&self) -> bool {
        matches!(
            self,
            Reply::Permanent {
                code: Some(UNSUBSCRIBED),
                ..
            }
        )
    }

    /// The provider's error code, if it gave one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Reply::Accepted { .. } => None,
            Reply::Transient { code, .. } | Reply::Permanent { code, .. } => *code,
        }
    }

    /// The reply as the notification log keeps it, judged like an SMTP reply.
    pub fn sent(self) -> Sent {
        let described = |http: Option<u16>, code: Option<u32>, message: String| {
            let http = http.map_or_else(|| "no answer".to_string(), |h| format!("HTTP {h}"));
            match code {
                Some(code) => format!("{http}, error {code}: {message}"),
                None => format!("{http}: {message}"),
            }
        };
        match self {
            Reply::Accepted { sid, status } => Sent::Accepted(format!("{sid} {status}")),
            Reply::Transient {
                http,
                code,
                message,
            } => Sent::Transient(described(http, code, message)),
            Reply::Permanent {
                http,
                code,
                message,
            } => Sent::Permanent(described(Some(http), code, message)),
        }
    }
}

/// The Messages resource of `provider`.
pub fn messages_url(provider: &SmsProvider) -> String {
    format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        provider.url().trim_end_matches('/'),
        provider.account_sid
    )
}

/// The form of one message: `To` (the number without punctuation), the sender, `Body`.
pub fn form(provider: &SmsProvider, text: &Text) -> Vec<(&'static str, String)> {
    let mut fields = vec![("To", recipient_key(Channel::Sms, &text.to))];
    match (&provider.from, &provider.messaging_service_sid) {
        (Some(from), _) => fields.push(("From", from.clone())),
        (None, Some(service)) => fields.push(("MessagingServiceSid", service.clone())),
        (None, None) => {}
    }
    fields.push(("Body", text.body.clone()));
    fields
}

/// Sends texts through SMS providers, reusing connections.
pub struct Texter {
    http: reqwest::Client,
}

impl Texter {
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        Texter { http }
    }

    /// Sends `text` through `provider`.
    pub async fn send(&self, provider: &SmsProvider, text: &Text) -> Reply {
        let request = self
            .http
            .post(messages_url(provider))
            .basic_auth(&provider.account_sid, Some(&provider.auth_token.0))
            .form(&form(provider, text));
        match request.send().await {
            Ok(response) => {
                let http = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                parse(http, &body)
            }
            // The error names the URL (the account, never the number) and what failed.
            Err(error) => Reply::Transient {
                http: None,
                code: None,
                message: error.without_url().to_string(),
            },
        }
    }
}

/// How many segments a provider cuts `body` into: 160 characters in one (153 per part when
/// split) in the GSM 7-bit alphabet, 70 (67) otherwise (UCS-2).
pub fn segments(body: &str) -> usize {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡\
                       ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";
    let mut gsm_units = 0;
    let mut gsm = true;
    for c in body.chars() {
        if GSM.contains(c) {
            gsm_units += 1;
        } else if GSM_EXTENDED.contains(c) {
            gsm_units += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (units, one, part) = if gsm {
        (gsm_units, 160, 153)
    } else {
        (body.encode_utf16().count(), 70, 67)
    };
    if units <= one {
        1
    } else {
        units.div_ceil(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> SmsProvider {
        SmsProvider {
            base_url: Some("http://sms.test/twilio/".into()),
            account_sid: "AC0123".into(),
            auth_token: crate::settings::Secret("token".into()),
            from: None,
            messaging_service_sid: Some("MG42".into()),
        }
    }

    #[test]
    fn a_created_message_is_accepted_with_its_sid_and_status() {
        let body = r#"{"sid":"SM0123","status":"queued","to":"+31205550123","error_code":null}"#;
        let reply = parse(201, body);
        assert_eq!(
            reply,
            Reply::Accepted {
                sid: "SM0123".into(),
                status: "queued".into()
            }
        );
        assert_eq!(reply.sent(), Sent::Accepted("SM0123 queued".into()));
        assert!(
            matches!(parse(200, "not json"), Reply::Accepted { .. }),
            "a 2xx is taken even if unreadable: sending again would text twice"
        );
    }

    #[test]
    fn twilio_errors_are_final_about_the_message_and_retried_about_the_provider() {
        let invalid = parse(
            400,
            r#"{"code":21211,"message":"The 'To' number 12 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
        );
        assert!(matches!(
            invalid,
            Reply::Permanent {
                http: 400,
                code: Some(21211),
                ..
            }
        ));
        assert!(!invalid.opted_out());
        let stop = parse(
            400,
            r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#,
        );
        assert!(stop.opted_out());
        assert_eq!(stop.code(), Some(21610));
        let busy = parse(
            429,
            r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
        );
        assert!(matches!(
            busy,
            Reply::Transient {
                code: Some(20429),
                ..
            }
        ));
        assert!(matches!(
            parse(500, "<html>oops</html>"),
            Reply::Transient {
                http: Some(500),
                code: None,
                ..
            }
        ));
        assert!(matches!(
            parse(
                401,
                r#"{"code":20003,"message":"Authenticate","status":401}"#
            ),
            Reply::Transient { .. }
        ));
        match invalid.sent() {
            Sent::Permanent(text) => assert!(text.starts_with("HTTP 400, error 21211:"), "{text}"),
            other => panic!("{other:?}"),
        }
        match busy.sent() {
            Sent::Transient(text) => assert!(text.contains("error 20429"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_request_goes_to_the_accounts_messages_with_the_bare_number() {
        let provider = provider();
        assert_eq!(
            messages_url(&provider),
            "http://sms.test/twilio/2010-04-01/Accounts/AC0123/Messages.json"
        );
        let text = Text {
            id: "ntf_1".into(),
            to: "+31 (20) 555-0123".into(),
            body: "Hi".into(),
        };
        assert_eq!(
            form(&provider, &text),
            [
                ("To", "+31205550123".to_string()),
                ("MessagingServiceSid", "MG42".to_string()),
                ("Body", "Hi".to_string())
            ]
        );
        let numbered = SmsProvider {
            from: Some("+15005550006".into()),
            messaging_service_sid: None,
            ..provider
        };
        assert_eq!(form(&numbered, &text)[1], ("From", "+15005550006".into()));
    }

    #[test]
    fn the_default_text_is_one_gsm_segment_in_english_and_at_most_two_in_any_language() {
        use parceld_model::Language;
        let none = std::collections::BTreeMap::new();
        for language in Language::ALL {
            let body =
                crate::templates::render(&none, "sms.text", &crate::templates::sample(language))
                    .unwrap();
            let parts = segments(&body);
            assert!(parts <= 2, "{language:?}: {parts} segments: {body}");
            if matches!(language, Language::En | Language::De | Language::Nl) {
                assert_eq!(parts, 1, "{language:?}: {body}");
            }
        }
    }

    #[test]
    fn segments_count_gsm_and_ucs2_alphabets() {
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"€".repeat(80)), 1, "two units each in GSM");
        assert_eq!(segments(&"€".repeat(81)), 2);
        assert_eq!(segments(&"包".repeat(70)), 1);
        assert_eq!(segments(&"包".repeat(71)), 2);
    }
}
