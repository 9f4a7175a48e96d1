//! Which of many couriers have trackings due: the question the refresh scheduler asks before it
//! claims for couriers it reaches through an aggregator upstream. An upstream with
//! `couriers = ["*"]` routes hundreds of courier codes, most with no trackings at all; claiming
//! for each one every round would be hundreds of statements doing nothing, so the scheduler
//! asks this once (one statement) and claims only for the couriers it names.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreResult;

#[async_trait]
pub trait DueCouriers: Send + Sync {
    /// The couriers among `couriers` with at least one tracking due at `now` that a claim could
    /// take (not archived, not leased by a live worker), sorted. One statement.
    async fn couriers_due(
        &self,
        now: DateTime<Utc>,
        couriers: &[String],
    ) -> StoreResult<Vec<String>>;
}
