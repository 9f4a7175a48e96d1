//! The simulator as a push sender: it posts a number's newest visible event to a URL it is
//! given, in a source's push format and with its proof (UPS's `x-api-key`, FedEx's
//! `fdx-signature`, 17TRACK's `sign`, AfterShip's `aftership-hmac-sha256`), and remembers which
//! numbers were subscribed with it.
//!
//! A simulated upstream told where to push ([`Simulator::push_to`]) pushes on its own, as the
//! real one does: whenever a clock moves or a journey is scripted, every number registered with
//! it whose newest visible event is newer than what it last pushed (or than what it had when
//! the number was registered) is pushed, signed, and the answer kept ([`Simulator::sent_pushes`])
//! so that tests can replay, forge or age a push.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::protocols::{aftership, fedex_push, seventeen_track, ups_push};
use crate::Simulator;

/// How a push was answered: the HTTP status and the body.
pub type PushAnswer = (u16, String);

/// Where a simulated upstream pushes, and with which secret.
#[derive(Debug, Clone)]
pub(crate) struct PushTarget {
    url: String,
    secret: String,
}

/// A push the simulator sent on its own: the number, the exact body, and how it was answered
/// (`None`: the request failed).
#[derive(Debug, Clone)]
pub struct SentPush {
    pub number: String,
    pub body: Vec<u8>,
    pub answer: Option<PushAnswer>,
}

/// The upstreams that push on their own.
const PUSHING: [&str; 2] = ["17track", "aftership"];

impl Simulator {
    /// Makes `upstream` (`17track`, `aftership`) push its registered numbers' moves to `url`,
    /// signed with `secret`.
    pub fn push_to(&self, upstream: &str, url: &str, secret: &str) {
        let target = PushTarget {
            url: url.to_string(),
            secret: secret.to_string(),
        };
        self.lock()
            .push_targets
            .insert(upstream.to_string(), target);
    }

    /// The pushes `upstream` sent on its own, oldest first.
    pub fn sent_pushes(&self, upstream: &str) -> Vec<SentPush> {
        let state = self.lock();
        state.sent.get(upstream).cloned().unwrap_or_default()
    }

    /// The newest visible event time of `number` at `upstream`.
    fn newest(&self, upstream: &str, number: &str) -> Option<DateTime<Utc>> {
        let events = self.events(upstream, number)?;
        events.iter().map(|(e, _)| e.at).max()
    }

    /// Counts `number`'s newest event as pushed by `upstream`; whether it is newer than the
    /// last one counted.
    pub(crate) fn newly_pushed(&self, upstream: &str, number: &str) -> bool {
        let Some(newest) = self.newest(upstream, number) else {
            return false;
        };
        let mut state = self.lock();
        let last = state
            .last_pushed
            .entry((upstream.to_string(), number.to_string()))
            .or_insert(DateTime::<Utc>::MIN_UTC);
        let newer = newest > *last;
        *last = newest.max(*last);
        newer
    }

    /// Pushes every registered number that moved, for each upstream told where to push (see
    /// the module comment). Sent on a task of the running runtime, in order.
    pub(crate) fn push_moves(&self) {
        let targets = self.lock().push_targets.clone();
        let mut due = Vec::new();
        for upstream in PUSHING {
            let Some(target) = targets.get(upstream) else {
                continue;
            };
            for number in self.registered(upstream) {
                if self.newly_pushed(upstream, &number) {
                    if let Some(body) = self.push_body(upstream, &number) {
                        due.push((upstream, target.clone(), number, body));
                    }
                }
            }
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if due.is_empty() {
            return;
        }
        let sim = self.clone();
        runtime.spawn(async move {
            for (upstream, target, number, body) in due {
                let answer = sim
                    .send_push(upstream, &target.url, &target.secret, body.clone())
                    .await
                    .ok();
                let sent = SentPush {
                    number,
                    body,
                    answer,
                };
                sim.lock()
                    .sent
                    .entry(upstream.to_string())
                    .or_default()
                    .push(sent);
            }
        });
    }

    pub(crate) fn record_subscriptions(&self, carrier: &str, numbers: &[String]) {
        let mut state = self.lock();
        let set = state.subscriptions.entry(carrier.to_string()).or_default();
        set.extend(numbers.iter().cloned());
    }

    /// The numbers subscribed with `carrier`'s push (`ups`), sorted.
    pub fn subscribed(&self, carrier: &str) -> Vec<String> {
        self.lock()
            .subscriptions
            .get(carrier)
            .cloned()
            .unwrap_or_else(BTreeSet::new)
            .into_iter()
            .collect()
    }

    /// The body `source` (`ups`, `fedex`, `17track`, `aftership`) would push for `number`'s newest visible event.
    pub fn push_body(&self, source: &str, number: &str) -> Option<Vec<u8>> {
        let body = match source {
            "ups" => ups_push::body(self, number)?,
            "fedex" => fedex_push::body(self, number)?,
            "17track" => seventeen_track::push_body(self, number)?,
            "aftership" => aftership::push_body(self, number)?,
            _ => return None,
        };
        Some(body.to_string().into_bytes())
    }

    /// Posts `body` to `url` as `source` would, proven with `secret`.
    pub async fn send_push(
        &self,
        source: &str,
        url: &str,
        secret: &str,
        body: Vec<u8>,
    ) -> Result<PushAnswer, String> {
        let client = reqwest::Client::new();
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "UPSPubSubTrackingService");
        request = match source {
            "ups" => request.header("x-api-key", secret),
            "fedex" => request.header("fdx-signature", fedex_push::signature(secret, &body)),
            "17track" => request.header("sign", seventeen_track::sign(secret, &body)),
            // The same base64 HMAC-SHA256 of the body as FedEx's.
            "aftership" => request.header(
                "aftership-hmac-sha256",
                fedex_push::signature(secret, &body),
            ),
            other => return Err(format!("no push source `{other}`")),
        };
        let reply = request.body(body).send().await.map_err(|e| e.to_string())?;
        let status = reply.status().as_u16();
        Ok((status, reply.text().await.unwrap_or_default()))
    }

    /// Pushes `number`'s newest visible event to `url` as `source`, signed with `secret`.
    pub async fn push(
        &self,
        source: &str,
        url: &str,
        secret: &str,
        number: &str,
    ) -> Result<PushAnswer, String> {
        let body = self
            .push_body(source, number)
            .ok_or_else(|| format!("{number} has no visible event to push"))?;
        self.send_push(source, url, secret, body).await
    }
}
