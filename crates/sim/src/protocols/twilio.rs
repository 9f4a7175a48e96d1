//! Twilio's Messages API, the SMS provider protocol parceld's notifications speak (and other
//! providers copy): `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` under `/twilio`, a
//! form with `To`, `From` or `MessagingServiceSid`, and `Body`, HTTP Basic `sid:token` whose
//! sid is the path's. It answers `201` with the message (`sid`, `status: queued`, …), or
//! Twilio's error shape `{"code", "message", "more_info", "status"}`: 20003 without the
//! account's credentials, 21604/21603/21602 for a missing `To`, sender or body, 21211 for a `To`
//! that is not E.164, 21617 for a body over 1600 characters, and the failures scripted per
//! number (`Simulator::fail_sms`, `PUT /_control/sms/failures`). Every request is kept
//! for tests (`GET /_control/sms/messages`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use base64::Engine;
use chrono::Utc;
use serde_json::json;

use super::{percent_decoded, Call, Door, Protocol};
use crate::sms::{SmsAnswer, SmsFailure, SmsMessage, SmsRequest};
use crate::Simulator;

/// The Messages resource; the path parameter is the account's sid.
pub(super) const MESSAGES: Protocol = Protocol {
    door: Door::counted("twilio", "/2010-04-01/Accounts/{sid}/Messages.json"),
    method: MethodFilter::POST,
    answer: create,
    presented,
    refused,
};

/// The longest body Twilio takes (it splits it into segments itself).
const MAX_BODY: usize = 1600;

/// Twilio's error answer.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let mut response = (
        status,
        Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        })),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

fn refused() -> Response {
    error(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
}

/// HTTP Basic credentials whose user is the account in the path.
fn presented(_sim: &Simulator, call: &Call) -> bool {
    let Some(encoded) = call
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let decoded = String::from_utf8_lossy(&decoded);
    decoded
        .split_once(':')
        .is_some_and(|(sid, token)| sid == call.param && !token.is_empty())
}

/// A form body's fields (`+` is a space, `%XX` a byte).
fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                percent_decoded(&k.replace('+', " ")),
                percent_decoded(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// E.164: `+`, then 2 to 15 digits, the first not 0.
fn e164(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or_default();
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn create(sim: &Simulator, call: &Call) -> Response {
    let fields = form(&call.body);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let from = field("From");
    let service = field("MessagingServiceSid");
    let message = SmsMessage {
        to: field("To").unwrap_or_default(),
        sender: from.clone().or(service.clone()).unwrap_or_default(),
        body: field("Body").unwrap_or_default(),
    };
    let bad = |code: u32, text: String| Some((StatusCode::BAD_REQUEST, code, text));
    let refusal = if message.to.is_empty() {
        bad(21604, "A 'To' phone number is required.".into())
    } else if message.sender.is_empty() {
        bad(21603, "A 'From' phone number is required.".into())
    } else if message.body.is_empty() {
        bad(21602, "Message body is required.".into())
    } else if message.body.chars().count() > MAX_BODY {
        let text = "The concatenated message body exceeds the 1600 character limit.";
        bad(21617, text.into())
    } else if !e164(&message.to) {
        let text = format!(
            "The 'To' number {} is not a valid phone number.",
            message.to
        );
        bad(21211, text)
    } else {
        sim.sms_failure(&message.to)
            .map(|failure| scripted(failure, &message.to))
    };
    let (status, code) = match &refusal {
        Some((status, code, _)) => (*status, Some(*code)),
        None => (StatusCode::CREATED, None),
    };
    let request = SmsRequest {
        account_sid: call.param.clone(),
        message: message.clone(),
        answer: SmsAnswer {
            http_status: status.as_u16(),
            sid: None,
            error_code: code,
        },
    };
    let sid = sim.keep_sms(request);
    if let Some((status, code, text)) = refusal {
        return error(status, code, &text);
    }
    let sid = sid.unwrap_or_default();
    let now = Utc::now().to_rfc2822();
    let segments = message.body.chars().count().div_ceil(153).max(1);
    (
        StatusCode::CREATED,
        Json(json!({
            "account_sid": call.param,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": now,
            "date_sent": null,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": from,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": segments.to_string(),
            "price": null,
            "price_unit": "USD",
            "sid": sid,
            "status": if service.is_some() { "accepted" } else { "queued" },
            "to": message.to,
            "uri": format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", call.param),
        })),
    )
        .into_response()
}

/// The answer of a scripted failure.
fn scripted(failure: SmsFailure, to: &str) -> (StatusCode, u32, String) {
    match failure {
        SmsFailure::InvalidNumber => (
            StatusCode::BAD_REQUEST,
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        ),
        SmsFailure::Unsubscribed => (
            StatusCode::BAD_REQUEST,
            21610,
            "Attempt to send to unsubscribed recipient".into(),
        ),
        SmsFailure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error".into(),
        ),
        SmsFailure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            20429,
            "Too Many Requests".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_numbers_must_be_e164() {
        assert_eq!(
            form("To=%2B31205550123&Body=Hello+there%21"),
            [
                ("To".to_string(), "+31205550123".to_string()),
                ("Body".to_string(), "Hello there!".to_string())
            ]
        );
        assert!(e164("+31205550123"));
        assert!(!e164("31205550123"));
        assert!(!e164("+0123"));
        assert!(!e164("+1234567890123456"));
    }
}
