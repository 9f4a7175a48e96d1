//! Folding the analytics changes that wait in `analytics_status_pending` and
//! `analytics_deliveries_pending` into the counters (migration 0024 says why writers do not add
//! to the counters themselves: they queued on the same counter rows).
//!
//! Two callers: each node's timer, every [`EVERY`], which keeps the pending tables small and
//! steps aside when another node is folding; and the analytics reads, which fold first and wait
//! for a fold in progress, so a chart counts every change committed before it was asked for.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::oneshot;

/// How often a node folds.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// Folds what is pending; with `wait`, after any fold already running. True when it folded.
pub(crate) async fn fold(pool: &PgPool, wait: bool) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT parceld_analytics_fold($1)")
        .bind(wait)
        .fetch_one(pool)
        .await
}

/// Starts the node's timer on `pool`; dropping the returned sender (with the store) stops it.
/// A failing fold is logged when it starts failing and when it works again, not every second.
pub(crate) fn start(pool: PgPool) -> oneshot::Sender<()> {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = every.tick() => {}
            }
            match fold(&pool, false).await {
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!("analytics counters are folded again");
                }
                Ok(_) => {}
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot fold the pending analytics changes; charts \
                        still count them, and the next fold takes them");
                }
                Err(_) => {}
            }
        }
    });
    stop
}
