//! What the simulated SMS provider (Twilio's Messages API, `protocols/twilio.rs`) remembers:
//! every message request it answered, accepted or not, for tests to read, and the failures
//! scripted per destination number (an invalid number, an opted-out recipient, a 500, a 429),
//! each for a number of requests or for good.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::Simulator;

/// The most message requests kept; the oldest go first.
const KEPT: usize = 10_000;

/// A failure the simulated provider answers for a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsFailure {
    /// 400, Twilio 21211: the `To` number is not a valid phone number.
    InvalidNumber,
    /// 400, Twilio 21610: the recipient texted STOP to this sender.
    Unsubscribed,
    /// 500, Twilio 20500.
    ServerError,
    /// 429, Twilio 20429, with `Retry-After`.
    RateLimited,
}

/// One message request as the simulated provider answered it: the account in its path, its
/// form, the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRequest {
    pub account_sid: String,
    pub message: SmsMessage,
    pub answer: SmsAnswer,
}

/// A message request's form: `To`, the sender (`From`, else `MessagingServiceSid`), `Body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    pub to: String,
    pub sender: String,
    pub body: String,
}

/// The answer: its HTTP status (201 when accepted), the message's id (`SM…`) when accepted,
/// else Twilio's error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsAnswer {
    pub http_status: u16,
    pub sid: Option<String>,
    pub error_code: Option<u32>,
}

impl SmsRequest {
    pub fn accepted(&self) -> bool {
        self.answer.sid.is_some()
    }
}

/// A number's scripted failure and how many more requests it applies to (`None`: all).
#[derive(Debug, Clone, Copy)]
struct Scripted {
    failure: SmsFailure,
    remaining: Option<u64>,
}

/// The provider's memory.
#[derive(Debug, Default)]
pub(crate) struct SmsLog {
    requests: VecDeque<SmsRequest>,
    failures: HashMap<String, Scripted>,
    serial: u64,
}

impl Simulator {
    /// Every message request answered so far, oldest first.
    pub fn sms_requests(&self) -> Vec<SmsRequest> {
        self.lock().sms.requests.iter().cloned().collect()
    }

    /// Makes requests to `to` fail with `failure`, for the next `times` requests (`None`: until
    /// reset).
    pub fn fail_sms(&self, to: &str, failure: SmsFailure, times: Option<u64>) {
        self.lock().sms.failures.insert(
            to.to_string(),
            Scripted {
                failure,
                remaining: times,
            },
        );
    }

    /// The failure a request to `to` meets now, if one is scripted (and counts it).
    pub(crate) fn sms_failure(&self, to: &str) -> Option<SmsFailure> {
        let mut state = self.lock();
        let failures = &mut state.sms.failures;
        let scripted = failures.get_mut(to)?;
        let failure = scripted.failure;
        match scripted.remaining.as_mut() {
            Some(0) => {
                failures.remove(to);
                return None;
            }
            Some(remaining) => *remaining -= 1,
            None => {}
        }
        Some(failure)
    }

    /// Keeps a request; an accepted one gets the next `SM…` id, which is returned.
    pub(crate) fn keep_sms(&self, mut request: SmsRequest) -> Option<String> {
        let mut state = self.lock();
        let log = &mut state.sms;
        if request.answer.http_status == 201 {
            log.serial += 1;
            request.answer.sid = Some(format!("SM{:032x}", log.serial));
        }
        let sid = request.answer.sid.clone();
        if log.requests.len() == KEPT {
            log.requests.pop_front();
        }
        log.requests.push_back(request);
        sid
    }
}
