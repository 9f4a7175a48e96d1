//! A carrier simulator: one HTTP server that speaks the tracking protocols of the carriers
//! parceld has adapters for, under `/<courier_code>/…` with each carrier's own paths below that
//! prefix, including their OAuth token endpoints and error shapes. It accepts any credentials.
//!
//! It exists so that the adapters, the engine and load tests can run against real HTTP without
//! carrier accounts: any well-formed number gets a plausible journey derived from the number,
//! `/_control/…` scripts exact events, moves clocks and injects faults (latency, 5xx, 429 with
//! `Retry-After`, timeouts, malformed bodies, short-lived tokens, refused credentials, FedEx
//! errors beside scan events), and every request served is counted per carrier and per path.
//!
//! Control endpoints (JSON):
//!
//! | method and path | body | effect |
//! |---|---|---|
//! | `PUT /_control/numbers/{number}` | `{"events":[{"kind":"delivered","at":"…","place":{…}}]}` | scripts a number's events (`[]` = not found) |
//! | `POST /_control/clock/advance` | `{"seconds":N,"number":"…"?}` | moves every clock, or one number's |
//! | `PUT /_control/faults` | [`Faults`] plus `"carrier":"ups"?` | sets faults for one carrier or all |
//! | `DELETE /_control/faults` | — | clears all faults |
//! | `POST /_control/tokens/revoke` | — | every issued token becomes invalid |
//! | `GET /_control/counters` | — | [`Counters`] |
//! | `PUT /_control/push/{upstream}` | `{"url":"…","secret":"…"}` | `17track` or `aftership` pushes its numbers' moves there, signed |
//! | `POST /_control/reset` | — | forgets everything |
//! | `GET /_control/sms/messages` | — | every SMS request answered, oldest first ([`SmsRequest`]) |
//! | `PUT /_control/sms/failures` | `{"number":"+1…","fail":"invalid_number","times":N?}` | [`SmsFailure`] for that `To` number |
//!
//! The aggregator upstreams (17TRACK, AfterShip, TrackingMore, under `/17track/`, `/aftership/`,
//! `/trackingmore/`) also keep which numbers were registered and stopped ([`Simulator::registered`],
//! [`Simulator::stopped`]); their `quota_exhausted` fault refuses new registrations.
//!
//! It also plays an SMS provider for notifications: Twilio's Messages API under `/twilio`
//! (`protocols/twilio.rs`), keeping every message request for tests to read (`sms.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod journey;
mod protocols;
mod push;
mod sms;
mod upstreams;

pub use journey::{EventKind, Place, SimEvent};
pub use push::{PushAnswer, SentPush};
pub use sms::{SmsAnswer, SmsFailure, SmsMessage, SmsRequest};
pub use upstreams::Registered;

/// Faults injected into tracking requests (token endpoints only see `token_ttl_secs`). Rates
/// are probabilities from 0 to 1; 1 makes a fault certain, which is what tests use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Extra latency, uniformly between the two bounds (milliseconds).
    pub latency_ms: Option<(u64, u64)>,
    /// Share of requests answered with a 5xx.
    pub server_error_rate: f64,
    /// Share of requests answered 429 with `Retry-After: retry_after_secs`.
    pub rate_limit_rate: f64,
    pub retry_after_secs: u64,
    /// Share of requests that hang for `hang_ms` (default 30 s) before answering.
    pub timeout_rate: f64,
    pub hang_ms: Option<u64>,
    /// Share of requests answered 200 with a cut-off body.
    pub malformed_rate: f64,
    /// Lifetime of tokens issued from now on (default 3600 s).
    pub token_ttl_secs: Option<u64>,
    /// Apply to this many more requests only, then lift.
    pub remaining: Option<u64>,
    /// FedEx only: an `error` with this code beside the scan events of every known number's
    /// result, as FedEx sends informational errors (not counted against `remaining`).
    pub result_error: Option<String>,
    /// Refuse every credential presented (tracking calls and token or login endpoints answer
    /// as the carrier does to a wrong key), as if the account were revoked; not counted against
    /// `remaining`. Spoken by the protocols added with Royal Mail onwards.
    pub reject_credentials: bool,
    /// Aggregator upstreams only: the account's quota is used up, so registering a new number
    /// is refused the upstream's way (not counted against `remaining`).
    pub quota_exhausted: bool,
}

impl Faults {
    /// Every request answered with a 503.
    pub fn server_errors() -> Self {
        Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        }
    }

    /// Every request answered 429 with `Retry-After: secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Faults {
            rate_limit_rate: 1.0,
            retry_after_secs: secs,
            ..Faults::default()
        }
    }

    /// Every request answered 200 with a cut-off body.
    pub fn malformed() -> Self {
        Faults {
            malformed_rate: 1.0,
            ..Faults::default()
        }
    }

    /// Every credential refused.
    pub fn refusing_credentials() -> Self {
        Faults {
            reject_credentials: true,
            ..Faults::default()
        }
    }
}

impl Faults {
    /// No fault but a latency between `min_ms` and `max_ms` on every tracking request.
    pub fn latency(min_ms: u64, max_ms: u64) -> Faults {
        Faults {
            latency_ms: Some((min_ms, max_ms)),
            ..Faults::default()
        }
    }
}

/// Requests served, per carrier and per `carrier path-template`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub total: u64,
    pub carriers: BTreeMap<String, u64>,
    pub paths: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct State {
    clock_offset: chrono::Duration,
    number_offsets: HashMap<String, chrono::Duration>,
    first_seen: HashMap<String, DateTime<Utc>>,
    scripts: HashMap<String, Vec<SimEvent>>,
    faults: HashMap<String, Faults>,
    tokens: HashMap<String, DateTime<Utc>>,
    token_serial: u64,
    counters: Counters,
    /// Aggregator upstreams' registered numbers (`upstreams.rs`).
    upstreams: upstreams::Registrations,
    subscriptions: HashMap<String, std::collections::BTreeSet<String>>,
    /// Where each upstream pushes (`push.rs`), the newest event pushed per (upstream, number),
    /// and the pushes sent.
    push_targets: HashMap<String, push::PushTarget>,
    last_pushed: HashMap<(String, String), DateTime<Utc>>,
    sent: HashMap<String, Vec<push::SentPush>>,
    /// The SMS provider's requests and scripted failures (`sms.rs`).
    sms: sms::SmsLog,
}

/// A handle on a simulator: clone it freely, hand one to [`serve`], keep one to steer it.
#[derive(Debug, Clone, Default)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
}

/// What the fault dice decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    ServerError,
    RateLimited(u64),
    Hang(u64),
    Malformed,
}

fn key(number: &str) -> String {
    number.trim().to_ascii_uppercase()
}

impl Simulator {
    pub fn new() -> Self {
        Simulator::default()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Scripts `number`'s events (any order); an empty list makes it unknown.
    pub fn script(&self, number: &str, events: Vec<SimEvent>) {
        self.lock().scripts.insert(key(number), events);
        self.push_moves();
    }

    /// Moves the simulated clock of every number forward.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or_default();
        self.lock().clock_offset += by;
        self.push_moves();
    }

    /// Moves one number's clock forward.
    pub fn advance_number(&self, number: &str, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or_default();
        *self.lock().number_offsets.entry(key(number)).or_default() += by;
        self.push_moves();
    }

    /// Sets the faults of one carrier (`Some("ups")`) or of all (`None`).
    pub fn set_faults(&self, carrier: Option<&str>, faults: Faults) {
        self.lock()
            .faults
            .insert(carrier.unwrap_or("*").to_string(), faults);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Invalidates every token issued so far.
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// Requests served for one carrier.
    pub fn requests(&self, carrier: &str) -> u64 {
        self.lock()
            .counters
            .carriers
            .get(carrier)
            .copied()
            .unwrap_or(0)
    }

    /// Requests served on one path template, e.g. `("ups", "/security/v1/oauth/token")`.
    pub fn path_requests(&self, carrier: &str, path: &str) -> u64 {
        self.lock()
            .counters
            .paths
            .get(&format!("{carrier} {path}"))
            .copied()
            .unwrap_or(0)
    }

    pub fn reset(&self) {
        *self.lock() = State::default();
    }

    pub(crate) fn count(&self, carrier: &str, path: &str) {
        let mut state = self.lock();
        state.counters.total += 1;
        *state.counters.carriers.entry(carrier.into()).or_default() += 1;
        *state
            .counters
            .paths
            .entry(format!("{carrier} {path}"))
            .or_default() += 1;
    }

    /// The visible events of `number` for `carrier` (oldest first), or `None` when unknown.
    /// The number's events visible on its clock, oldest first, each with its place. Places are
    /// assigned over the whole journey before hiding future events, so an event keeps its place
    /// as the journey unfolds (as a real carrier's scan does).
    pub(crate) fn events(&self, carrier: &str, number: &str) -> Option<Vec<(SimEvent, Place)>> {
        let k = key(number);
        let now = Utc::now();
        let mut state = self.lock();
        let clock =
            now + state.clock_offset + state.number_offsets.get(&k).copied().unwrap_or_default();
        let mut events = match state.scripts.get(&k) {
            Some(script) => script.clone(),
            None => {
                if !journey::well_formed(carrier, number) {
                    return None;
                }
                let seen = *state.first_seen.entry(k).or_insert(now);
                journey::generated(number, seen)
            }
        };
        events.sort_by_key(|e| e.at);
        let len = events.len();
        let visible: Vec<(SimEvent, Place)> = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let place = journey::place_for(carrier, &e, i, len);
                (e, place)
            })
            .filter(|(e, _)| e.at <= clock)
            .collect();
        (!visible.is_empty()).then_some(visible)
    }

    /// The `result_error` set for `carrier` (or for all carriers), if any.
    pub(crate) fn result_error(&self, carrier: &str) -> Option<String> {
        self.faults_of(carrier).and_then(|f| f.result_error)
    }

    /// The faults set for `carrier`, else those set for every carrier.
    pub(crate) fn faults_of(&self, carrier: &str) -> Option<Faults> {
        let state = self.lock();
        state
            .faults
            .get(carrier)
            .or_else(|| state.faults.get("*"))
            .cloned()
    }

    /// Whether `carrier`'s credentials are to be refused (the `reject_credentials` fault).
    pub(crate) fn rejects_credentials(&self, carrier: &str) -> bool {
        self.faults_of(carrier)
            .is_some_and(|f| f.reject_credentials)
    }

    /// Rolls the fault dice for a tracking request to `carrier`.
    pub(crate) fn roll(&self, carrier: &str) -> (Fault, Option<Duration>) {
        use rand::Rng;
        let mut state = self.lock();
        let slot = if state.faults.contains_key(carrier) {
            carrier.to_string()
        } else {
            "*".to_string()
        };
        let Some(faults) = state.faults.get_mut(&slot) else {
            return (Fault::None, None);
        };
        if let Some(remaining) = faults.remaining.as_mut() {
            if *remaining == 0 {
                state.faults.remove(&slot);
                return (Fault::None, None);
            }
            *remaining -= 1;
        }
        let faults = faults.clone();
        drop(state);
        let mut rng = rand::thread_rng();
        let latency = faults.latency_ms.map(|(lo, hi)| {
            Duration::from_millis(if hi > lo { rng.gen_range(lo..=hi) } else { lo })
        });
        let mut hit = |rate: f64| rate > 0.0 && rng.gen::<f64>() < rate;
        let fault = if hit(faults.timeout_rate) {
            Fault::Hang(faults.hang_ms.unwrap_or(30_000))
        } else if hit(faults.rate_limit_rate) {
            Fault::RateLimited(faults.retry_after_secs)
        } else if hit(faults.server_error_rate) {
            Fault::ServerError
        } else if hit(faults.malformed_rate) {
            Fault::Malformed
        } else {
            Fault::None
        };
        (fault, latency)
    }

    /// Issues a token valid for the configured lifetime; returns it with its lifetime.
    pub(crate) fn issue_token(&self, carrier: &str) -> (String, u64) {
        let mut state = self.lock();
        let ttl = state
            .faults
            .get(carrier)
            .or_else(|| state.faults.get("*"))
            .and_then(|f| f.token_ttl_secs)
            .unwrap_or(3600);
        state.token_serial += 1;
        let token = format!(
            "sim-{carrier}-{}-{}",
            state.token_serial,
            Utc::now().timestamp_millis()
        );
        let expires = Utc::now() + chrono::Duration::seconds(ttl as i64);
        state.tokens.insert(token.clone(), expires);
        (token, ttl)
    }

    /// Whether a bearer token was issued, is not revoked and has not expired.
    pub(crate) fn token_valid(&self, token: &str) -> bool {
        self.lock()
            .tokens
            .get(token)
            .is_some_and(|expires| Utc::now() < *expires)
    }
}

/// Serves the simulator on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, sim: Simulator) -> std::io::Result<()> {
    axum::serve(listener, protocols::router(sim)).await
}
