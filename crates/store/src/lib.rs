//! parceld's storage contract, independent of any database.
//!
//! The [`Store`] trait is the only way the rest of parceld touches persistent data: handlers, the
//! engine and the CLI call its methods and never build SQL, so a backend is a crate of its own
//! (`parceld-store-sqlite`, `parceld-store-postgres`) that implements the trait, and nothing above
//! the store changes when one is added. This crate holds the trait, every type it speaks, API-key
//! generation and hashing, and [`StoreError`]; it depends on no database library. What every
//! backend needs alike is here too, written once: the checkpoint-list layout and its decoder
//! ([`checkpoint_list`]), reading stored values back ([`stored`]), the analytics counters' reads ([`analytics`]), what a refresh changed
//! ([`refresh`]), the error wrapper a backend's functions return ([`backend`]), and the texts and
//! ids of webhooks ([`webhooks`]). Every method that handles many rows is expected to do it in a
//! bounded number of statements, never one per row.

pub mod analytics;
pub mod backend;
pub mod checkpoint_list;
pub mod copy;
pub mod due;
mod error;
pub mod key_memory;
pub mod keys;
pub mod notifications;
pub mod pages;
pub mod push;
pub mod quiet;
pub mod refresh;
pub mod sorting;
pub mod stored;
pub mod subscribers;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod users;
pub mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parceld_model::{
    Checkpoint, DeliveryStatus, RateLimits, ShipmentInfo, SubStatus, Tracking, TrackingFields,
    TrackingId,
};

pub use analytics::{AnalyticsFilter, Counters};
pub use copy::CopyStore;
pub use error::{Entity, StoreError, StoreResult};
pub use notifications::NotificationStore;
pub use pages::{PageAccount, PageAccountKey, PageLookup, PageSettings, MAX_PAGE_TRACKINGS};
pub use push::{PushApplied, PushClaim, PushReceipt, PushStore, PushToApply, Subscribed};
pub use quiet::Quiet;
pub use sorting::{Position, Seek, Sort, SortKey, SortValue, Toward};
pub use users::{
    LockOut, NewSession, NewUser, Role, SessionUser, User, UserChange, UserEdit, UserStore,
};
pub use webhooks::{
    AttemptInfo, AttemptOutcome, AttemptRecord, ClaimedDelivery, CreateWebhook, DeliveryInfo,
    NewWebhook, WebhookEndpoint, WebhookPatch, WebhookVersion,
};

/// An account's numeric id.
pub type AccountId = i64;

/// A tenant: every tracking and key belongs to exactly one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// The account's own rate limits; unset classes use the server's defaults.
    pub rate_limits: RateLimits,
}

/// What `key list` shows of a key. The key itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub account_id: AccountId,
    pub account_name: String,
    /// The start of the key (`pk_` and its look-up part), which tells keys apart without
    /// revealing them: the rest stays secret, and only the whole key's hash is stored.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A freshly created key: the only moment its plain text exists.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    pub key: String,
}

/// The outcome of presenting an API key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyCheck {
    Valid(Account),
    /// The key existed and was deleted.
    Deleted,
    /// No such key, ever.
    Invalid,
}

/// A tracking to store.
#[derive(Debug, Clone)]
pub struct NewTracking {
    pub tracking_number: String,
    pub courier_code: String,
    /// The courier was detected from the number's format.
    pub courier_detected: bool,
    pub fields: TrackingFields,
    pub status_info: Option<String>,
    /// Why the tracking cannot be checked with its courier from the start (the courier is not
    /// configured on this server), stored as the tracking's `check_error` until a check succeeds.
    pub check_error: Option<String>,
}

impl NewTracking {
    /// The tracking a backend has just stored from this: pending, due for a check at once,
    /// created and updated `at` (in the precision the backend keeps), with no checkpoints.
    pub fn stored(self, id: TrackingId, at: DateTime<Utc>) -> Tracking {
        Tracking {
            id,
            tracking_number: self.tracking_number,
            courier_code: self.courier_code,
            courier_detected: self.courier_detected,
            fields: self.fields,
            shipment: ShipmentInfo::default(),
            delivery_status: DeliveryStatus::Pending,
            substatus: None,
            status_info: self.status_info,
            latest_event: None,
            latest_checkpoint_time: None,
            archived: false,
            created_at: at,
            updated_at: at,
            last_checked_at: None,
            next_check_at: Some(at),
            check_error: self.check_error,
            checkpoints: Vec::new(),
        }
    }

    /// The outcome of creating this: `Created` when the backend stored it under `id` (`at`),
    /// `AlreadyExists` when the account already had its number and courier.
    pub fn outcome(self, id: TrackingId, at: DateTime<Utc>, created: bool) -> CreateOutcome {
        if created {
            CreateOutcome::Created(Box::new(self.stored(id, at)))
        } else {
            CreateOutcome::AlreadyExists {
                tracking_number: self.tracking_number,
                courier_code: self.courier_code,
            }
        }
    }
}

/// The `status_info` of a tracking retracked ([`Store::retrack`]) until the carrier answers.
pub const RETRACKED_STATUS_INFO: &str = "Retrack requested; waiting for the courier.";

/// Per-item outcome of a (batch) create, in input order.
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Box<Tracking>),
    /// The account already tracks this number with this courier.
    AlreadyExists {
        tracking_number: String,
        courier_code: String,
    },
}

/// Filters of the list endpoint; every `None` or empty field means "any".
#[derive(Debug, Clone, Default)]
pub struct TrackingFilter {
    pub tracking_numbers: Vec<String>,
    pub courier_code: Option<String>,
    pub delivery_status: Option<DeliveryStatus>,
    pub archived: Option<bool>,
    pub created_min: Option<DateTime<Utc>>,
    pub created_max: Option<DateTime<Utc>>,
    pub updated_min: Option<DateTime<Utc>>,
    pub updated_max: Option<DateTime<Utc>>,
    /// Only trackings with one of these sub-statuses (any when empty).
    pub substatuses: Vec<SubStatus>,
    /// Only trackings in flight that have been quiet for longer than usual ([`quiet`]).
    pub quiet: Option<Quiet>,
}

/// A tracking named by its number and courier, the way the legacy v2 API addresses trackings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumberKey {
    pub tracking_number: String,
    pub courier_code: String,
}

/// A page of a listing: 1-based number and size.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

/// Changes to a tracking; every `None` leaves that part alone.
#[derive(Debug, Clone, Default)]
pub struct TrackingPatch {
    pub fields: TrackingFields,
    pub courier_code_new: Option<String>,
    pub archived: Option<bool>,
}

/// Outcome of a retrack request.
#[derive(Debug, Clone)]
pub enum RetrackOutcome {
    Retracked(Box<Tracking>),
    NotExpired,
    NotFound,
}

/// A tracking claimed for a refresh, with what the engine needs to ask the carrier and decide.
#[derive(Debug, Clone)]
pub struct ClaimedTracking {
    pub pk: i64,
    pub id: TrackingId,
    pub account_id: AccountId,
    pub tracking_number: String,
    pub courier_code: String,
    pub fields: TrackingFields,
    pub created_at: DateTime<Utc>,
    pub delivery_status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
    /// The stored newest event's description and instant.
    pub latest_event: Option<String>,
    pub latest_checkpoint_time: Option<DateTime<Utc>>,
    pub check_failures: i64,
    pub notfound_since: Option<DateTime<Utc>>,
}

/// The new state of one refreshed tracking.
#[derive(Debug, Clone)]
pub struct RefreshUpdate {
    pub pk: i64,
    /// Checkpoints from the carrier; merged by fingerprint, so resending known ones is harmless.
    pub checkpoints: Vec<Checkpoint>,
    /// Shipment facts from the carrier; `None` keeps the stored ones.
    pub shipment: Option<ShipmentInfo>,
    pub delivery_status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
    pub status_info: Option<String>,
    pub latest_event: Option<String>,
    pub latest_checkpoint_time: Option<DateTime<Utc>>,
    /// The carrier error of this check, if it failed.
    pub check_error: Option<String>,
    pub check_failures: i64,
    pub notfound_since: Option<DateTime<Utc>>,
    /// When to check again; `None` stops refreshing (delivered, expired, final exception).
    pub next_check_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
}

/// A real change (new checkpoints or a new status) recorded by [`Store::apply_refresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingChange {
    /// Unique per change; webhook deliveries carry it as their id.
    pub event_id: String,
    pub tracking_pk: i64,
    pub tracking_id: TrackingId,
    pub account_id: AccountId,
    pub delivery_status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
    pub new_checkpoints: usize,
}

/// Webhook numbers for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookGauges {
    pub pending_deliveries: i64,
    pub endpoints_by_state: Vec<(String, i64)>,
}

/// What [`Store::take_rate_tokens`] found: how many of the wanted tokens it took, and the tokens
/// left in the shared bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharedBucket {
    pub granted: u32,
    pub tokens: f64,
}

impl SharedBucket {
    /// Whether at least one token was taken: the request that asked may go ahead.
    pub fn allowed(&self) -> bool {
        self.granted > 0
    }
}

/// Outcome of [`Store::claim_tracking`].
#[derive(Debug, Clone)]
pub enum ClaimOne {
    Claimed(Box<ClaimedTracking>),
    /// Another worker is refreshing it right now.
    Busy,
    NotFound,
}

/// What one [`Store::apply_refresh`] did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Updates written.
    pub applied: usize,
    /// Updates dropped because this worker no longer held the claim.
    pub stale: usize,
    pub changes: Vec<TrackingChange>,
    /// Webhook deliveries queued for these changes (in the same transaction).
    pub deliveries: u64,
    /// The primary keys of the `stale` updates: what a batch of pushes splits by push.
    pub dropped: Vec<i64>,
    /// Of `deliveries`, how many each changed tracking queued (by primary key).
    pub deliveries_of: std::collections::HashMap<i64, u64>,
}

/// Everything parceld stores.
#[async_trait]
pub trait Store:
    UserStore + CopyStore + NotificationStore + PushStore + due::DueCouriers + Send + Sync + 'static
{
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Brings the schema up to date (opening a store does this too) and returns how many
    /// migrations the schema has, for `parceld migrate` to report.
    async fn migrate(&self) -> StoreResult<usize>;

    /// On an empty database, creates the account `name` and a first key for it and returns the
    /// key; otherwise does nothing and returns `None`.
    async fn bootstrap(&self, name: &str) -> StoreResult<Option<NewApiKey>>;
    async fn create_account(&self, name: &str) -> StoreResult<Account>;
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
    async fn set_account_disabled(&self, name: &str, disabled: bool) -> StoreResult<Account>;
    async fn set_account_rate_limits(
        &self,
        name: &str,
        limits: &RateLimits,
    ) -> StoreResult<Account>;

    async fn create_api_key(&self, account_name: &str) -> StoreResult<NewApiKey>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>>;
    /// Marks a key deleted; `false` when there is no live key with that id.
    async fn delete_api_key(&self, key_id: &str) -> StoreResult<bool>;
    async fn check_api_key(&self, presented: &str) -> StoreResult<KeyCheck>;

    /// Takes up to `wanted` tokens (at least one) from `account`'s rate-limit bucket of `class`
    /// (a limit class's key), which fills at `rate` tokens a second up to `capacity`: as many as
    /// the bucket has, none when it is empty. This is the state several nodes share so that an
    /// account's limit is one total across them; a node asks for more than one to serve its next
    /// requests without a round trip each. `None` (the default) when the backend has nothing
    /// shared to keep it in: SQLite serves one node, whose own buckets decide.
    async fn take_rate_tokens(
        &self,
        account: AccountId,
        class: &str,
        rate: f64,
        capacity: f64,
        wanted: u32,
    ) -> StoreResult<Option<SharedBucket>> {
        let _ = (account, class, rate, capacity, wanted);
        Ok(None)
    }

    /// Stores new trackings (pending, due for a check now) in one transaction.
    async fn create_trackings(
        &self,
        account: AccountId,
        trackings: Vec<NewTracking>,
    ) -> StoreResult<Vec<CreateOutcome>>;
    /// One page, newest first, with checkpoints.
    async fn list_trackings(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
    ) -> StoreResult<Vec<Tracking>>;
    /// [`Store::list_trackings`], sent into `chunks` in chunks of at most `chunk` trackings (in
    /// order, all of one moment) as they are read, so a large page can be rendered while the
    /// rest is read. Returns when the page has been read; stops early when the receiver is
    /// dropped. The backend decides where the reading runs (SQLite reads on a blocking thread),
    /// so the caller runs this concurrently with its receiving, e.g. in a spawned task.
    async fn list_trackings_in_chunks(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        page: Page,
        chunk: usize,
        chunks: tokio::sync::mpsc::Sender<Vec<Tracking>>,
    ) -> StoreResult<()>;
    /// One page of the account's trackings that `filter` selects, in `seek`'s order from its
    /// position ([`sorting`]): up to `seek.size` trackings with their primary keys, in the
    /// sort's order also when reading back. One statement, from an index range.
    async fn list_sorted(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
        seek: &Seek,
    ) -> StoreResult<Vec<(i64, Tracking)>>;
    async fn tracking(&self, account: AccountId, id: &TrackingId) -> StoreResult<Option<Tracking>>;
    /// `Ok(None)` when the account has no such tracking; `Conflict` when the new courier would
    /// duplicate another of the account's trackings.
    async fn update_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        patch: &TrackingPatch,
    ) -> StoreResult<Option<Tracking>>;
    async fn delete_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
    ) -> StoreResult<Option<Tracking>>;
    /// How many of the account's trackings match `filter`, per delivery status (statuses with
    /// none are left out). One `GROUP BY` statement; `tracking_numbers` and paging do not apply.
    async fn count_by_status(
        &self,
        account: AccountId,
        filter: &TrackingFilter,
    ) -> StoreResult<Vec<(DeliveryStatus, u64)>>;
    /// Archives the account's trackings named in `keys` (archived trackings are not refreshed)
    /// in one statement; returns the keys that exist, whether or not they were archived before.
    async fn archive_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>>;
    /// Deletes the account's trackings named in `keys` in one statement; returns the keys that
    /// existed.
    async fn delete_many(
        &self,
        account: AccountId,
        keys: &[NumberKey],
    ) -> StoreResult<Vec<NumberKey>>;
    /// Retention: deletes, across every account, up to `limit` trackings whose status is
    /// `status` (delivered or expired) and that have not changed since before
    /// `unchanged_before`, in one statement, with their checkpoints; returns how many. The
    /// caller repeats it while whole batches go, so no statement holds the database for long.
    async fn delete_finished_trackings(
        &self,
        status: DeliveryStatus,
        unchanged_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64>;
    /// Re-activates an expired tracking and makes it due now.
    async fn retrack(&self, account: AccountId, id: &TrackingId) -> StoreResult<RetrackOutcome>;

    /// Claims up to `limit` due trackings of one courier (not archived, not leased by a live
    /// worker) for `owner` until `lease_until`, most overdue first. One statement. Claims are
    /// per courier so that the engine can keep each carrier's share of work in flight within
    /// what that carrier can answer before the lease runs out.
    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        courier_code: &str,
    ) -> StoreResult<Vec<ClaimedTracking>>;

    /// Applies refresh results in one transaction: merges checkpoints by fingerprint, writes the
    /// new state, releases the claims, and records a change for every tracking that really
    /// changed. Updates for trackings `owner` no longer holds are dropped.
    async fn apply_refresh(
        &self,
        owner: &str,
        updates: Vec<RefreshUpdate>,
    ) -> StoreResult<ApplyReport>;

    /// Claims one tracking of `account` for a real-time refresh, due or not. Reports
    /// [`ClaimOne::Busy`] when another worker holds it.
    async fn claim_tracking(
        &self,
        account: AccountId,
        id: &TrackingId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<ClaimOne>;

    /// Releases every claim `owner` holds (graceful shutdown), leaving the trackings due.
    async fn release_claims(&self, owner: &str) -> StoreResult<u64>;

    /// The change records of one tracking, oldest first.
    async fn changes_of(&self, tracking_pk: i64) -> StoreResult<Vec<TrackingChange>>;

    /// Trackings by primary key (any account), with checkpoints, in the order given.
    async fn trackings_by_pk(&self, pks: &[i64]) -> StoreResult<Vec<(i64, Tracking)>>;

    // Webhooks. `account` is `None` only for the operator's CLI, which sees every account.

    /// Creates an endpoint unless the account already has `max`.
    async fn create_webhook(
        &self,
        account: AccountId,
        new: &NewWebhook,
        max: usize,
    ) -> StoreResult<CreateWebhook>;
    async fn webhooks(&self, account: Option<AccountId>) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    async fn update_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
        patch: &WebhookPatch,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// Deletes an endpoint with its deliveries and their log.
    async fn delete_webhook(
        &self,
        account: Option<AccountId>,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// Inserts a delivery outside the refresh path (a test event); `due` queues it for the
    /// dispatcher, otherwise the caller sends it and records the attempt. Returns (pk, id).
    async fn insert_delivery(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        event_id: &str,
        payload: Option<&str>,
        due: bool,
    ) -> StoreResult<(i64, String)>;
    /// Claims up to `limit` due deliveries of enabled endpoints for `owner` until `lease_until`,
    /// earliest first: none while an older delivery of the same (endpoint, tracking) is pending
    /// (order), and at most `per_endpoint` leased deliveries per endpoint at once.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        per_endpoint: usize,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records a batch of attempts; returns the ids of endpoints this disabled.
    async fn record_attempts(
        &self,
        owner: &str,
        attempts: &[AttemptRecord],
        disable_after: chrono::Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;
    async fn release_deliveries(&self, owner: &str) -> StoreResult<u64>;
    /// Deletes finished deliveries created before `before`.
    async fn prune_deliveries(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// An endpoint's newest deliveries (or the one named), with their attempts.
    async fn deliveries(
        &self,
        endpoint_pk: i64,
        limit: u32,
        delivery_id: Option<&str>,
    ) -> StoreResult<Vec<DeliveryInfo>>;
    /// Queues a delivery again; `false` when the endpoint has no such delivery.
    async fn redeliver(&self, endpoint_pk: i64, delivery_id: &str) -> StoreResult<bool>;
    // The public tracking page (`pages.rs`).

    /// The account's tracking-page settings; the defaults when it never set any.
    async fn page_settings(&self, account: AccountId) -> StoreResult<PageSettings>;
    /// Replaces the account's tracking-page settings and returns them as stored.
    /// `Conflict(Entity::TrackingPage, …)` when another account already uses `settings.host`;
    /// `NotFound(Entity::Account)` when there is no such account.
    async fn set_page_settings(
        &self,
        account: AccountId,
        settings: &PageSettings,
    ) -> StoreResult<PageSettings>;
    /// The account a public page request names (by name or by host name) with its settings, in
    /// one statement; `None` when no account has that name or host. Disabled accounts are
    /// returned too: the caller decides what a visitor sees of them.
    async fn page_account(&self, key: PageAccountKey<'_>) -> StoreResult<Option<PageAccount>>;
    /// The account's trackings a visitor's look-up finds, with their checkpoints, newest first,
    /// at most [`MAX_PAGE_TRACKINGS`], archived ones included (a shop archives what it no longer
    /// watches, its customer may still look). One statement, on an index of the account.
    async fn page_trackings(
        &self,
        account: AccountId,
        lookup: PageLookup<'_>,
    ) -> StoreResult<Vec<Tracking>>;

    /// The dashboard's analytics counters of the account for `filter` ([`analytics`]): four
    /// statements over the counter tables, a few thousand rows at most for half a year,
    /// whatever the number of trackings.
    async fn analytics(
        &self,
        account: AccountId,
        filter: &AnalyticsFilter,
    ) -> StoreResult<Counters>;

    /// For metrics: pending deliveries, and endpoints by state (`enabled`, `disabled`,
    /// `disabled_failing`). Reads an index and the (small) endpoint table only.
    async fn webhook_gauges(&self) -> StoreResult<WebhookGauges>;
}
