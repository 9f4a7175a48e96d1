//! Retention of finished trackings: `[retention]` in the configuration, applied by worker nodes.
//!
//! Delivered and expired trackings are no longer refreshed but stay listed and readable, which is
//! what most users want, so they are kept forever by default (`0` days). An operator who wants a
//! bounded database sets `delivered_days` and/or `expired_days`; a worker then deletes, every
//! `every_secs`, the trackings of those statuses unchanged for that long, through
//! `Store::delete_finished_trackings` in batches of `batch_size` (one statement each), so a large
//! purge never holds the database for long.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_model::DeliveryStatus;
use parceld_store::{Store, StoreResult};
use serde::Deserialize;
use tokio::sync::watch;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days a delivered tracking is kept after its last change; 0 = forever.
    pub delivered_days: u32,
    /// Days an expired tracking is kept after its last change; 0 = forever.
    pub expired_days: u32,
    /// Seconds between two passes.
    pub every_secs: u64,
    /// Trackings deleted per statement.
    pub batch_size: u32,
}

impl Default for RetentionSettings {
    /// Keep everything.
    fn default() -> Self {
        RetentionSettings {
            delivered_days: 0,
            expired_days: 0,
            every_secs: 3600,
            batch_size: 1000,
        }
    }
}

impl RetentionSettings {
    /// Refuses values that would make a pass spin or do nothing while seeming to work.
    pub fn validate(&self) -> Result<(), String> {
        if self.every_secs == 0 {
            return Err("retention.every_secs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return Err("retention.batch_size must be at least 1".into());
        }
        Ok(())
    }

    /// For each status with a retention, the time before which an unchanged tracking goes.
    fn cutoffs(&self, now: DateTime<Utc>) -> Vec<(DeliveryStatus, DateTime<Utc>)> {
        [
            (DeliveryStatus::Delivered, self.delivered_days),
            (DeliveryStatus::Expired, self.expired_days),
        ]
        .into_iter()
        .filter(|(_, days)| *days > 0)
        .map(|(status, days)| (status, now - chrono::Duration::days(i64::from(days))))
        .collect()
    }
}

/// One pass as of `now`: deletes every tracking past its retention, batch after batch. Returns
/// how many were deleted.
pub async fn apply_once(
    store: &dyn Store,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut total = 0;
    for (status, before) in settings.cutoffs(now) {
        loop {
            let deleted = store
                .delete_finished_trackings(status, before, settings.batch_size)
                .await?;
            total += deleted;
            if deleted < u64::from(settings.batch_size) {
                break;
            }
            // Let the API's writes in between two batches.
            tokio::task::yield_now().await;
        }
    }
    Ok(total)
}

/// Runs a pass every `every_secs` until `stop` turns true; `None` when nothing is to be deleted
/// (the default), so no task runs at all.
pub fn spawn(
    store: Arc<dyn Store>,
    settings: RetentionSettings,
    mut stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if settings.cutoffs(Utc::now()).is_empty() {
        return None;
    }
    tracing::info!(
        delivered_days = settings.delivered_days,
        expired_days = settings.expired_days,
        "retention of finished trackings started"
    );
    Some(tokio::spawn(async move {
        loop {
            match apply_once(store.as_ref(), &settings, Utc::now()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted trackings past their retention"),
                Err(error) => {
                    tracing::warn!(%error, "deleting trackings past their retention failed")
                }
            }
            let pause = tokio::time::sleep(Duration::from_secs(settings.every_secs));
            tokio::select! {
                _ = pause => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_store_conformance::{account_with, claim_sandbox, update};
    use parceld_store_sqlite::SqliteStore;

    /// A store with a delivered, an expired, an in-transit and a pending tracking, changed now.
    async fn store_with_finished_trackings() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("parceld.db"))
                .await
                .unwrap(),
        );
        account_with(
            store.as_ref(),
            "a",
            &[
                ("DONE-1", "sandbox"),
                ("GONE-1", "sandbox"),
                ("MOVING-1", "sandbox"),
                ("WAITING-1", "sandbox"),
            ],
        )
        .await;
        let at = Utc::now() + chrono::Duration::seconds(1);
        let claimed = claim_sandbox(store.as_ref(), "w", at, 100).await;
        let updates = claimed
            .iter()
            .filter_map(|c| {
                let status = match c.tracking_number.as_str() {
                    "DONE-1" => DeliveryStatus::Delivered,
                    "GONE-1" => DeliveryStatus::Expired,
                    "MOVING-1" => DeliveryStatus::Transit,
                    _ => return None,
                };
                Some(update(c.pk, Vec::new(), status))
            })
            .collect();
        store.apply_refresh("w", updates).await.unwrap();
        store.release_claims("w").await.unwrap();
        (dir, store)
    }

    async fn remaining(store: &dyn Store) -> Vec<String> {
        let account = store.accounts().await.unwrap()[0].id;
        let mut numbers: Vec<String> = store
            .list_trackings(
                account,
                &Default::default(),
                parceld_store::Page {
                    number: 1,
                    size: 100,
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.tracking_number)
            .collect();
        numbers.sort();
        numbers
    }

    #[tokio::test]
    async fn by_default_every_finished_tracking_is_kept() {
        let (_dir, store) = store_with_finished_trackings().await;
        let defaults: RetentionSettings = crate::config::Config::load(None).unwrap().retention;
        assert_eq!((defaults.delivered_days, defaults.expired_days), (0, 0));
        let in_ten_years = Utc::now() + chrono::Duration::days(3650);
        assert_eq!(
            apply_once(store.as_ref(), &defaults, in_ten_years)
                .await
                .unwrap(),
            0
        );
        assert_eq!(remaining(store.as_ref()).await.len(), 4);
        let (_stop_tx, stop_rx) = watch::channel(false);
        assert!(spawn(store, defaults, stop_rx).is_none(), "no task runs");
    }

    #[tokio::test]
    async fn old_delivered_trackings_go_and_recent_or_unfinished_ones_stay() {
        let (_dir, store) = store_with_finished_trackings().await;
        let settings = RetentionSettings {
            delivered_days: 30,
            batch_size: 1,
            ..RetentionSettings::default()
        };
        // Delivered just now: kept 29 days on.
        let soon = Utc::now() + chrono::Duration::days(29);
        assert_eq!(
            apply_once(store.as_ref(), &settings, soon).await.unwrap(),
            0
        );
        assert_eq!(remaining(store.as_ref()).await.len(), 4);
        // 31 days on: the delivered one goes; expired (no retention set), in transit and
        // pending ones stay.
        let later = Utc::now() + chrono::Duration::days(31);
        assert_eq!(
            apply_once(store.as_ref(), &settings, later).await.unwrap(),
            1
        );
        assert_eq!(
            remaining(store.as_ref()).await,
            vec!["GONE-1", "MOVING-1", "WAITING-1"]
        );
        let both = RetentionSettings {
            expired_days: 10,
            ..settings
        };
        assert_eq!(apply_once(store.as_ref(), &both, later).await.unwrap(), 1);
        assert_eq!(
            remaining(store.as_ref()).await,
            vec!["MOVING-1", "WAITING-1"]
        );
    }
}
