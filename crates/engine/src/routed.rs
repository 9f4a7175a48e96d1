//! Couriers reached through an aggregator upstream: an upstream with `couriers = ["*"]` routes
//! hundreds of courier codes, most of which have no trackings. The scheduler claims one courier
//! at a time, so before claiming it asks the store once which of the routed couriers have
//! anything due (`Store::couriers_due`, one statement) and claims only for those.

use chrono::{DateTime, Utc};

use crate::Engine;

impl Engine {
    /// `codes` without the upstream-routed couriers that have nothing due at `now`. Couriers
    /// with an adapter of their own are always kept (their claim is the check). If the store
    /// cannot answer, every code is kept, as before this filter existed.
    pub(crate) async fn without_idle_routed(
        &self,
        codes: Vec<String>,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let (routed, own): (Vec<String>, Vec<String>) = codes
            .into_iter()
            .partition(|code| self.carriers.upstream_of(code).is_some());
        if routed.is_empty() {
            return own;
        }
        match self.store.couriers_due(now, &routed).await {
            Ok(due) => own.into_iter().chain(due).collect(),
            Err(error) => {
                tracing::warn!(%error, "asking which routed couriers are due failed");
                own.into_iter().chain(routed).collect()
            }
        }
    }
}
