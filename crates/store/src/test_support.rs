//! A small back door for tests, behind the `test-support` feature.
//!
//! Some tests need a state that only time or the refresh engine would produce (a tracking
//! created last month, an expired tracking), or want to look at what the store wrote without an
//! API for it (how many checkpoint rows, how many deliveries are leased), or need the storage to
//! fail. Doing that with raw SQL ties those tests to one backend; this trait names exactly what
//! they need, so every backend implements it once (the SQLite backend in `parceld-store-sqlite`'s
//! `test_support.rs`, behind its own `test-support` feature) and the tests stay backend-neutral.
//! It is not part of the product: nothing outside tests enables the feature.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_model::{DeliveryStatus, TrackingId};

use crate::{Store, StoreResult};

/// Parts of a tracking's state to overwrite; every `None` leaves that part alone.
#[derive(Debug, Clone, Default)]
pub struct ForcedState {
    pub delivery_status: Option<DeliveryStatus>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// `Some(None)` stops refreshing the tracking, as expiry does.
    pub next_check_at: Option<Option<DateTime<Utc>>>,
}

/// Which trackings (of every account) [`StoreTestSupport::count_trackings`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingRows<'a> {
    All,
    /// Never checked with the carrier yet.
    NeverChecked,
    /// Never checked yet, of one courier.
    NeverCheckedOfCourier(&'a str),
    /// Claimed by a worker (a lease owner is set, expired or not).
    Leased,
}

/// Which webhook deliveries (of every endpoint) [`StoreTestSupport::count_deliveries`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryRows {
    All,
    Pending,
    /// Pending and claimed by a dispatcher (a lease owner is set).
    PendingLeased,
    Delivered,
}

/// The test back door: see the module comment.
#[async_trait]
pub trait StoreTestSupport: Store {
    /// The primary key of the tracking with this number (tests give each tracking its own
    /// number; with several, the first stored).
    async fn tracking_pk(&self, tracking_number: &str) -> StoreResult<Option<i64>>;
    /// Overwrites parts of a tracking's state; `false` when there is no such tracking.
    async fn force_tracking_state(&self, id: &TrackingId, state: &ForcedState)
        -> StoreResult<bool>;
    async fn count_trackings(&self, which: TrackingRows<'_>) -> StoreResult<u64>;
    /// Stored checkpoints of the tracking with this number (the record, not a read of it).
    async fn count_checkpoints(&self, tracking_number: &str) -> StoreResult<u64>;
    /// Recorded changes of the tracking with this number, or of every tracking.
    async fn count_changes(&self, tracking_number: Option<&str>) -> StoreResult<u64>;
    async fn count_deliveries(&self, which: DeliveryRows) -> StoreResult<u64>;
    /// Recorded webhook delivery attempts, of every delivery.
    async fn count_delivery_attempts(&self) -> StoreResult<u64>;
    /// Damages the database so that every read of trackings fails from now on, while the rest
    /// (API keys, health) keeps working: for the storage-failure test.
    async fn break_tracking_reads(&self) -> StoreResult<()>;
    /// From now on, a delivery queued again (`Store::redeliver`) deletes its webhook endpoint
    /// right after, as if another request's delete had committed between a redelivery's
    /// statements: for the test of that race, which timing alone would rarely hit.
    async fn delete_webhook_after_redelivery(&self) -> StoreResult<()>;
}
