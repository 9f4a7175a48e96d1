//! Push: events a carrier (UPS, FedEx) or an aggregator upstream (17TRACK, AfterShip) sends on
//! its own, applied through the same path as a refresh.
//!
//! A [`PushSource`] knows one sender's wire: how it proves itself ([`PushSource::verify`], in
//! constant time) and how its body reads as the same carrier outcome a poll gives
//! ([`PushSource::parse`]). The [`PushHub`] does the rest alike for every source: it refuses a
//! push whose newest event is older than the replay window (stale), then hands it to one writer
//! that applies many pushes per transaction (group commit, `batch.rs`). The writer claims the
//! trackings of the pushed numbers (every account), decides their next state with the refresh
//! policy ([`crate::schedule::next_state`]), refuses a tracking whose stored newest event is
//! newer than the push (stale: events may arrive out of order, and the safety-net poll fills
//! such gaps in), and applies the rest with each push's receipt in one transaction
//! ([`parceld_store::PushStore::apply_pushes`]): the same checkpoint merge, change records and
//! webhook outbox as a refresh, and a replay found by its receipt changes nothing. A pushed
//! tracking is then polled only as a slow safety net ([`PushSettings::safety_net_secs`]).
//!
//! Nothing is written for a push that fails verification, and the receipts are pruned and
//! capped, so no sender can make the store grow without bound.

mod batch;
pub mod fedex;
mod settings;
pub mod subscribe;
pub mod ups;
pub mod upstream;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use parceld_carriers::{TrackOutcome, TrackResult};
use parceld_model::TrackingNumber;
use parceld_store::{PushReceipt, RefreshUpdate, Store, StoreError};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub use settings::{PushSettings, PushSourceSettings, MAX_PUSH_BODY_BYTES};

use crate::{Engine, EngineSettings};

/// One pushed event: the number it is about and the carrier's word, as a poll would give it.
#[derive(Debug, Clone)]
pub struct PushedEvent {
    pub tracking_number: String,
    pub outcome: TrackOutcome,
    /// The courier the event is for, when the body says it (an aggregator's push names the
    /// carrier); `None`: the source's own [`PushSource::courier_code`].
    pub courier: Option<String>,
}

/// Why a push was refused. Every refusal changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("no push source `{0}` is enabled on this server")]
    UnknownSource(String),
    /// The sender did not prove itself: wrong or missing signature or credential.
    #[error("push refused: {0}")]
    Forged(String),
    #[error("push body not understood: {0}")]
    Malformed(String),
    /// The push is older than what parceld already has, or than the replay window.
    #[error("stale push: {0}")]
    Stale(String),
    #[error("this push was already received and applied")]
    Replayed,
    /// The pushed trackings stayed claimed by a refresh; the sender should try again.
    #[error("the pushed trackings are being refreshed right now; try again shortly")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One sender of pushes: its wire format and proof. An aggregator upstream plugs in the same
/// way: its signature check, and its body read into the outcomes its poll adapter gives.
pub trait PushSource: Send + Sync {
    /// The source's name: the route (`/hooks/<name>`) and the receipts' source.
    fn name(&self) -> &'static str;
    /// The courier whose trackings its pushes update: a carrier's own source is named after
    /// its courier code; an aggregator's says which courier it pushes for.
    fn courier_code(&self) -> &'static str {
        self.name()
    }
    /// Whether pushes from this source update `courier`'s trackings: its own courier, or for
    /// an aggregator every courier this server routes through it.
    fn covers(&self, courier: &str) -> bool {
        courier == self.courier_code()
    }
    /// Whether each push carries the shipment's whole history (an aggregator upstream's does),
    /// so that it may be as large as `[push] max_upstream_body_bytes`.
    fn whole_history(&self) -> bool {
        false
    }
    /// Checks the sender's proof over the raw body; nothing else is read before it passes.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), PushError>;
    /// The body's events, each read as a poll's outcome for its number. No events: a notice
    /// the sender documents that carries no tracking update (17TRACK's `TRACKING_STOPPED`),
    /// acknowledged so that the sender does not send it again, and nothing changes.
    fn parse(&self, body: &[u8]) -> Result<Vec<PushedEvent>, PushError>;
}

/// A header's value as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The base64 HMAC-SHA256 of `body` under `secret` (FedEx's `fdx-signature`, AfterShip's
/// `aftership-hmac-sha256`).
pub fn hmac_base64(secret: &str, body: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks that header `name` holds the base64 HMAC-SHA256 of `body` under `secret`, in
/// constant time.
pub(crate) fn verify_hmac_base64(
    headers: &HeaderMap,
    name: &str,
    secret: &str,
    body: &[u8],
) -> Result<(), PushError> {
    use base64::Engine as _;
    use hmac::Mac;
    let sent =
        header(headers, name).ok_or_else(|| PushError::Forged(format!("no {name} header")))?;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(sent.trim())
        .map_err(|_| PushError::Forged(format!("{name} is not base64")))?;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sent)
        .map_err(|_| PushError::Forged(format!("{name} does not match the body")))
}

/// An upstream's webhook body as JSON, when its `event` is `update` (the one event that carries
/// checkpoints); anything else is refused as not understood.
pub(crate) fn update_event(body: &[u8], update: &str) -> Result<serde_json::Value, PushError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| PushError::Malformed(format!("not JSON: {e}")))?;
    let event = value.get("event").and_then(|e| e.as_str()).unwrap_or("");
    if event != update {
        return Err(PushError::Malformed(format!(
            "event `{}` carries no tracking update",
            event.chars().take(40).collect::<String>()
        )));
    }
    Ok(value)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What an applied push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Trackings the push was applied to (every account tracking a pushed number).
    pub applied: usize,
    /// Of them, the ones that really changed (and so have webhooks queued).
    pub changed: usize,
    /// Webhook deliveries queued.
    pub webhooks: u64,
    /// Trackings passed over because they already have newer events.
    pub stale: usize,
}

/// How long a push waits for trackings a refresh holds before asking the sender to retry.
const BUSY_WAIT: StdDuration = StdDuration::from_secs(2);
/// Receipts are pruned once every this many pushes.
const PRUNE_EVERY: u64 = 512;

/// Receives pushes from every enabled source and applies them.
pub struct PushHub {
    store: Arc<dyn Store>,
    settings: PushSettings,
    engine: EngineSettings,
    sources: HashMap<&'static str, Arc<dyn PushSource>>,
    owner: String,
    pushes: AtomicU64,
    writer: OnceLock<mpsc::Sender<batch::Pending>>,
}

impl PushHub {
    pub fn new(
        store: Arc<dyn Store>,
        settings: PushSettings,
        engine: EngineSettings,
        sources: Vec<Arc<dyn PushSource>>,
    ) -> Self {
        PushHub {
            store,
            settings,
            engine,
            sources: sources.into_iter().map(|s| (s.name(), s)).collect(),
            owner: format!("push-{}-{:08x}", std::process::id(), rand::random::<u32>()),
            pushes: AtomicU64::new(0),
            writer: OnceLock::new(),
        }
    }

    /// The hub of the carrier sources `settings` enables (`ups`, `fedex`) and of `upstreams`
    /// (the aggregators whose `[upstreams.<name>]` sets `push = true`).
    pub fn from_settings(
        store: Arc<dyn Store>,
        settings: &PushSettings,
        engine: &EngineSettings,
        upstreams: Vec<Arc<dyn PushSource>>,
    ) -> Result<Self, String> {
        settings.validate()?;
        let mut sources: Vec<Arc<dyn PushSource>> = upstreams;
        for (name, source) in &settings.sources {
            let secret = source.secret.as_deref().unwrap_or("");
            match name.as_str() {
                _ if !source.enabled => {}
                "ups" => sources.push(Arc::new(ups::UpsPush::new(secret))),
                "fedex" => sources.push(Arc::new(fedex::FedexPush::new(secret))),
                other => return Err(format!("[push.sources.{other}]: no such push source")),
            }
        }
        Ok(PushHub::new(
            store,
            settings.clone(),
            engine.clone(),
            sources,
        ))
    }

    pub fn settings(&self) -> &PushSettings {
        &self.settings
    }

    /// The largest body `source` may push: `[push] max_upstream_body_bytes` for an upstream
    /// whose pushes carry whole histories, else `max_body_bytes`.
    pub fn max_body_bytes(&self, source: &str) -> usize {
        match self.sources.get(source).is_some_and(|s| s.whole_history()) {
            true => self.settings.max_upstream_body_bytes,
            false => self.settings.max_body_bytes,
        }
    }

    /// Whether `courier_code`'s trackings are pushed on this server (else they are polled).
    pub fn pushes(&self, courier_code: &str) -> bool {
        self.sources.values().any(|s| s.covers(courier_code))
    }

    /// Receives one push to `/hooks/<source>`: verifies it, then applies it (see the module
    /// comment). Returns once the update is durably stored.
    pub async fn receive(
        &self,
        source: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<PushReport, PushError> {
        let source = self
            .sources
            .get(source)
            .ok_or_else(|| PushError::UnknownSource(source.chars().take(40).collect()))?;
        source.verify(headers, body)?;
        let events = source.parse(body)?;
        if events.is_empty() {
            return Ok(PushReport::default());
        }
        let push = self.prepare(source.as_ref(), events, body)?;
        let report = self.submit(push).await;
        if self
            .pushes
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            let pruned = self
                .store
                .prune_push_receipts(Utc::now(), self.settings.max_receipts)
                .await;
            if let Err(error) = pruned {
                tracing::warn!(%error, "pruning push receipts failed");
            }
        }
        report
    }

    /// Checks verified events against the replay window and reads their numbers; `body`
    /// makes the receipt. Writes nothing.
    fn prepare(
        &self,
        source: &dyn PushSource,
        events: Vec<PushedEvent>,
        body: &[u8],
    ) -> Result<batch::Prepared, PushError> {
        let now = Utc::now();
        // The events by (courier, number): an aggregator's push may name several couriers.
        let mut by_key = HashMap::new();
        for event in events {
            let newest = newest_event(&event.outcome)?;
            if newest < now - Duration::seconds(self.settings.replay_window_secs) {
                return Err(PushError::Stale(format!(
                    "its newest event ({newest}) is older than the replay window"
                )));
            }
            let number = TrackingNumber::parse(&event.tracking_number)
                .map_err(|e| PushError::Malformed(e.to_string()))?;
            let courier = match event.courier {
                Some(courier) if source.covers(&courier) => courier,
                Some(courier) => {
                    return Err(PushError::Malformed(format!(
                        "`{}` pushes no courier `{}` on this server",
                        source.name(),
                        courier.chars().take(40).collect::<String>()
                    )))
                }
                None => source.courier_code().to_string(),
            };
            by_key.insert(
                (courier, number.as_str().to_string()),
                (newest, event.outcome),
            );
        }
        if by_key.is_empty() {
            return Err(PushError::Malformed("no events".into()));
        }
        Ok(batch::Prepared {
            by_key,
            receipt: PushReceipt {
                source: source.name().to_string(),
                digest: Sha256::new()
                    .chain_update(source.name().as_bytes())
                    .chain_update([0])
                    .chain_update(body)
                    .finalize()
                    .into(),
                received_at: now,
                expires_at: now + Duration::seconds(self.settings.replay_window_secs),
            },
        })
    }

    /// Hands a push to the writer and waits for its outcome; a push whose trackings a refresh
    /// holds is handed again a little later, [`PushError::Busy`] when they stay held.
    async fn submit(&self, mut push: batch::Prepared) -> Result<PushReport, PushError> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        loop {
            let (reply, answer) = oneshot::channel();
            let pending = batch::Pending {
                push,
                reply,
                queued: std::time::Instant::now(),
            };
            if self.writer().send(pending).await.is_err() {
                return Err(PushError::Busy);
            }
            match answer.await {
                Ok(batch::Answer::Done(result)) => return result,
                Ok(batch::Answer::Busy(again)) => push = again,
                Err(_) => return Err(PushError::Busy),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(PushError::Busy);
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }

    /// The group-commit writer's queue, started with the first push.
    fn writer(&self) -> &mpsc::Sender<batch::Pending> {
        self.writer.get_or_init(|| {
            let (queue, pushes) = mpsc::channel(batch::QUEUE);
            let writer = batch::Writer {
                store: self.store.clone(),
                settings: self.settings.clone(),
                engine: self.engine.clone(),
                owner: self.owner.clone(),
            };
            tokio::spawn(batch::run(writer, pushes));
            queue
        })
    }
}

/// The newest event time of a pushed outcome; a push without an event is malformed.
fn newest_event(outcome: &TrackOutcome) -> Result<DateTime<Utc>, PushError> {
    match outcome {
        Ok(TrackResult::Found(shipment)) => shipment
            .checkpoints
            .iter()
            .map(|c| c.time)
            .max()
            .ok_or_else(|| PushError::Malformed("no event".into())),
        Ok(TrackResult::NotFound) => Err(PushError::Malformed("no readable event".into())),
        Err(error) => Err(PushError::Malformed(error.to_string())),
    }
}

/// A pushed tracking's next poll is the safety net, unless the policy stops polling.
fn slow_down(update: &mut RefreshUpdate, safety_net: DateTime<Utc>) {
    if let Some(next) = update.next_check_at {
        update.next_check_at = Some(next.max(safety_net));
    }
}

impl Engine {
    /// Moves the polls of the trackings a push source covers to the safety net: a poll of a
    /// pushed tracking is only a check that the pushes still come. A courier pushed wholesale
    /// (every tracking an upstream with push routes, or an account-wide carrier subscription)
    /// is covered once a check has succeeded, without asking the store; otherwise one
    /// statement per group reads which trackings a subscription or a recent push covers.
    pub(crate) async fn slow_pushed(&self, courier: &str, updates: &mut [RefreshUpdate]) {
        let Some(net) = self.push_safety_net else {
            return;
        };
        let now = Utc::now();
        if self.pushed_couriers.contains(courier) {
            for update in updates.iter_mut().filter(|u| u.check_error.is_none()) {
                slow_down(update, now + net);
            }
            return;
        }
        let pks: Vec<i64> = updates.iter().map(|u| u.pk).collect();
        match self.store.push_covered(&pks, now).await {
            Ok(covered) if !covered.is_empty() => {
                let covered: BTreeSet<i64> = covered.into_iter().collect();
                for update in updates.iter_mut().filter(|u| covered.contains(&u.pk)) {
                    slow_down(update, now + net);
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reading push coverage failed"),
        }
    }
}

/// The couriers pushed wholesale on this server: every courier routed through an upstream
/// whose `[upstreams.<name>]` sets `push = true`, and a carrier source whose subscription is
/// the whole account (`[push.sources.fedex] account = true`).
pub fn pushed_wholesale(
    settings: &PushSettings,
    carriers: &parceld_carriers::Carriers,
    upstreams_pushing: &[&str],
) -> HashSet<String> {
    let mut codes: HashSet<String> = carriers
        .codes()
        .into_iter()
        .filter(|code| {
            carriers
                .upstream_of(code)
                .is_some_and(|u| upstreams_pushing.contains(&u))
        })
        .collect();
    for (name, source) in &settings.sources {
        if source.enabled && source.account {
            codes.insert(name.clone());
        }
    }
    codes
}
