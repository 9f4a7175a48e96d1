//! Subscribing new trackings with a source that pushes only what it was asked for (UPS Track
//! Alert): every round, the trackings of the courier that the source does not cover (or whose
//! subscription runs out within a day) are subscribed in batches of the source's size, and
//! their polls moved to the safety net. A number the source refuses is remembered and stays
//! polled at the normal cadence; a failed call is tried again next round.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use parceld_carriers::ups_alert::{self, TrackAlert};
use parceld_store::{Store, Subscribed};
use tokio::sync::watch;

use super::PushSettings;

/// At most this many batches per round, so one round stays short.
const BATCHES_PER_ROUND: usize = 10;

/// Subscribes one round of UPS trackings; returns how many were accepted.
pub async fn ups_round(
    store: &dyn Store,
    alert: &TrackAlert,
    settings: &PushSettings,
) -> Result<usize, String> {
    let now = Utc::now();
    let due = store
        .to_subscribe(
            "ups",
            "ups",
            now + Duration::days(1),
            ups_alert::MAX_BATCH * BATCHES_PER_ROUND,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut accepted = 0;
    for batch in due.chunks(ups_alert::MAX_BATCH) {
        let numbers: Vec<String> = batch.iter().map(|(_, n)| n.clone()).collect();
        let answer = alert.subscribe(&numbers).await.map_err(|e| e.to_string())?;
        let until = Utc::now() + alert.lifetime();
        let outcomes: Vec<Subscribed> = batch
            .iter()
            .filter_map(|(pk, number)| {
                let said = |list: &[String]| list.iter().any(|n| n.eq_ignore_ascii_case(number));
                if said(&answer.accepted) {
                    Some(Subscribed {
                        tracking_pk: *pk,
                        until: Some(until),
                    })
                } else {
                    said(&answer.refused).then_some(Subscribed {
                        tracking_pk: *pk,
                        until: None,
                    })
                }
            })
            .collect();
        accepted += outcomes.iter().filter(|o| o.until.is_some()).count();
        let slow = Utc::now() + Duration::seconds(settings.safety_net_secs);
        store
            .record_subscriptions("ups", &outcomes, slow)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(accepted)
}

/// Runs [`ups_round`] every `subscribe_every_ms` until `shutdown`.
pub async fn run_ups(
    store: Arc<dyn Store>,
    alert: TrackAlert,
    settings: PushSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = StdDuration::from_millis(settings.subscribe_every_ms.max(10));
    loop {
        match ups_round(&*store, &alert, &settings).await {
            Ok(0) => {}
            Ok(accepted) => tracing::info!(accepted, "subscribed UPS trackings to Track Alert"),
            Err(error) => {
                tracing::warn!(%error, "UPS Track Alert subscription failed; retrying next round")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}
