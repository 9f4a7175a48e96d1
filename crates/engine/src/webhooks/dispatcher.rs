//! The dispatcher: the worker-side loop that sends the outbox.
//!
//! Each round claims at most as many due deliveries as there are free slots under the global
//! cap (the claim itself keeps each endpoint under its cap and each (endpoint, tracking) pair in
//! order), loads the trackings of those not sent before in one read, and sends each on its own
//! task. Results go through a channel to one recorder task that writes them in batches, so a
//! thousand quick deliveries are a handful of transactions, not a thousand.
//!
//! A delivery holds its endpoint's slot (its lease) until its attempt is recorded, so when the
//! claim finds nothing it can send the loop sleeps only until the recorder has written a batch,
//! not for the idle poll: an endpoint answering in 200 ms with 4 slots gets 4 / 0.2 s = 20
//! deliveries a second, not 4 per idle poll.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use parceld_model::Tracking;
use parceld_store::AttemptRecord;
use tokio::sync::{mpsc, watch, Notify, Semaphore};

use super::attempt::{attempt, Outgoing};
use super::WebhookSender;

/// Sends the webhook outbox. Run one per worker node.
pub struct Dispatcher {
    sender: WebhookSender,
    owner: String,
    /// Woken when a batch of attempts is recorded: their slots (global and per endpoint) are
    /// free, so the loop claims again at once.
    recorded: Notify,
}

impl Dispatcher {
    /// Fails when the settings are not valid.
    pub fn new(sender: WebhookSender) -> Result<Self, String> {
        sender.settings.validate()?;
        let owner = format!(
            "wh-{}-{}-{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        Ok(Dispatcher {
            sender,
            owner,
            recorded: Notify::new(),
        })
    }

    /// Runs until `shutdown` turns true; then lets the deliveries in flight finish (within the
    /// request timeout), records them and releases the leases left.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.sender.settings.global_concurrency));
        let (results_tx, results_rx) = mpsc::unbounded_channel::<AttemptRecord>();
        let recorder = tokio::spawn(self.clone().record_loop(results_rx));
        let idle = StdDuration::from_millis(self.sender.settings.idle_poll_ms);
        let prune_every = StdDuration::from_secs(self.sender.settings.prune_every_secs);
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= prune_every) {
                last_prune = Some(tokio::time::Instant::now());
                self.prune().await;
            }
            let sent = match self.round(&slots, &results_tx).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::error!(%error, "webhook round failed");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = self.recorded.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        // Wait for the deliveries in flight, then for their results to be written.
        let all = self.sender.settings.global_concurrency as u32;
        // Bounded well inside the server's shutdown grace; what is still in flight then is sent
        // again after restart (its lease expires), with the same event id.
        let wait = StdDuration::from_millis((self.sender.settings.timeout_ms + 500).min(5000));
        let _ = tokio::time::timeout(wait, slots.acquire_many(all)).await;
        drop(results_tx);
        let _ = recorder.await;
        match self.sender.store.release_deliveries(&self.owner).await {
            Ok(released) => tracing::info!(released, "webhook dispatcher stopped"),
            Err(error) => tracing::error!(%error, "could not release webhook leases on shutdown"),
        }
    }

    async fn prune(&self) {
        let before = Utc::now() - Duration::seconds(self.sender.settings.retention_secs as i64);
        match self.sender.store.prune_deliveries(before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned old webhook deliveries"),
            Err(error) => tracing::warn!(%error, "pruning webhook deliveries failed"),
        }
    }

    /// One round: claim what the free slots allow and start sending. Returns how many started.
    async fn round(
        &self,
        slots: &Arc<Semaphore>,
        results: &mpsc::UnboundedSender<AttemptRecord>,
    ) -> parceld_store::StoreResult<usize> {
        let free = slots
            .available_permits()
            .min(self.sender.settings.batch_size);
        if free == 0 {
            return Ok(0);
        }
        let now = Utc::now();
        let lease_until = now + Duration::milliseconds(self.sender.settings.lease_ms as i64);
        let claimed = self
            .sender
            .store
            .claim_deliveries(
                &self.owner,
                now,
                lease_until,
                free,
                self.sender.settings.per_endpoint_concurrency,
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        // The trackings of first attempts, in one read; retries resend their stored body.
        let mut wanted: Vec<i64> = claimed
            .iter()
            .filter(|d| d.payload.is_none())
            .filter_map(|d| d.tracking_pk)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let trackings: HashMap<i64, Arc<Tracking>> = self
            .sender
            .store
            .trackings_by_pk(&wanted)
            .await?
            .into_iter()
            .map(|(pk, t)| (pk, Arc::new(t)))
            .collect();
        let count = claimed.len();
        for delivery in claimed {
            let permit = match slots.clone().acquire_owned().await {
                Ok(permit) => permit,
                Err(_) => break,
            };
            let body = match &delivery.payload {
                Some(body) => Some(body.clone()),
                None => delivery
                    .tracking_pk
                    .and_then(|pk| trackings.get(&pk))
                    .map(|tracking| {
                        Outgoing::claimed(&delivery).render(self.sender.renderer, tracking)
                    }),
            };
            let client = self.sender.client.clone();
            let settings = self.sender.settings.clone();
            let results = results.clone();
            tokio::spawn(async move {
                let record = attempt(&client, &settings, &Outgoing::claimed(&delivery), body).await;
                let _ = results.send(record);
                drop(permit);
            });
        }
        Ok(count)
    }

    /// Writes results in batches until every sender is gone. A failed write is retried; if it
    /// keeps failing the leases expire and the deliveries are sent again (at-least-once).
    async fn record_loop(self: Arc<Self>, mut results: mpsc::UnboundedReceiver<AttemptRecord>) {
        let mut batch = Vec::new();
        let disable_after = Duration::seconds(self.sender.settings.disable_after_secs as i64);
        while results.recv_many(&mut batch, 512).await > 0 {
            for attempt in 1..=5u64 {
                match self
                    .sender
                    .store
                    .record_attempts(&self.owner, &batch, disable_after, Utc::now())
                    .await
                {
                    Ok(disabled) => {
                        for id in disabled {
                            tracing::warn!(webhook = %id, "webhook endpoint disabled: its deliveries kept failing");
                        }
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(%error, attempt, "recording webhook attempts failed");
                        tokio::time::sleep(StdDuration::from_millis(100 * attempt)).await;
                    }
                }
            }
            batch.clear();
            self.recorded.notify_one();
        }
    }
}
