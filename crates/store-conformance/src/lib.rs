//! The contract of [`parceld_store::Store`], as tests written once against `dyn Store`.
//!
//! Every backend must behave the same to the API and the engine: the same create outcomes, the
//! same list order and filters, the same claims and leases, the same outbox writes. Each case
//! here is a public async function that takes a factory of fresh, empty stores; a backend runs
//! the whole suite with one line in its own tests:
//!
//! ```text
//! parceld_store_conformance::conformance_tests!(fresh_store);
//! ```
//!
//! where `async fn fresh_store() -> StoreUnderTest` opens an empty store (the crate using the
//! macro needs `tokio` for `#[tokio::test]`). Errors are matched by variant and
//! entity (`matches!(err, StoreError::NotFound(Entity::Account))`), which the API turns into its
//! codes, never by message. The cases use only the
//! trait: nothing here knows SQL or any backend.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, SubStatus, Tracking, TrackingFields};
use parceld_store::{AccountId, CreateOutcome, NewTracking, RefreshUpdate, Store};

pub mod accounts;
pub mod analytics;
pub mod copy;
pub mod due;
pub mod listing;
pub mod notifications;
pub mod pages;
pub mod problems;
pub mod push;
pub mod refresh;
pub mod retention;
pub mod sorting;
pub mod subscribers;
pub mod trackings;
pub mod users;
pub mod webhooks;

/// A fresh store, with whatever must live as long as it (a temporary directory, a database
/// that is dropped afterwards).
pub struct StoreUnderTest {
    store: Arc<dyn Store>,
    _keep: Box<dyn Send + Sync>,
}

impl StoreUnderTest {
    /// `keep` is dropped with the store, after it.
    pub fn new(store: Arc<dyn Store>, keep: impl Send + Sync + 'static) -> Self {
        StoreUnderTest {
            store,
            _keep: Box::new(keep),
        }
    }

    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

impl Deref for StoreUnderTest {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

/// What every case takes: something that opens a fresh, empty store.
pub trait Factory: Fn() -> Self::Opening {
    type Opening: Future<Output = StoreUnderTest>;
}

impl<F, Fut> Factory for F
where
    F: Fn() -> Fut,
    Fut: Future<Output = StoreUnderTest>,
{
    type Opening = Fut;
}

/// Expands into one `#[tokio::test]` per contract case, each on a fresh store from `$factory`
/// (an `async fn() -> StoreUnderTest`). With `if $runs`, a case whose `$runs()` (a `fn() ->
/// bool`) is `false` returns at once: for a backend that needs a server the machine may not
/// have, where `$runs` says why it skips (or fails when the server is required).
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!($factory, if (|| true));
    };
    ($factory:path, if $runs:expr) => {
        $crate::conformance_tests!(@cases $factory, $runs;
            accounts::migrating_an_up_to_date_store_again_changes_nothing,
            accounts::accounts_are_created_listed_and_unique,
            accounts::bootstrap_creates_the_first_account_and_key_only_once,
            accounts::keys_are_valid_then_deleted_and_unknown_keys_are_invalid,
            accounts::disabled_accounts_are_reported_with_their_key,
            accounts::rate_limits_are_stored_per_account,
            accounts::unknown_accounts_are_not_found,
            trackings::batch_create_reports_each_item_in_input_order,
            trackings::created_trackings_are_pending_and_read_back,
            listing::every_list_filter_selects_exactly_its_trackings,
            listing::pages_are_newest_first_without_gaps_or_repeats,
            listing::chunked_listing_hands_over_the_same_page_in_order,
            listing::counts_archive_and_delete_many_by_number_and_courier,
            sorting::every_sort_key_pages_both_ways_with_ties_by_primary_key,
            sorting::a_position_keeps_its_place_while_trackings_arrive,
            problems::returned_and_quiet_trackings_are_listed_and_counted,
            trackings::update_changes_fields_courier_and_archived,
            trackings::update_to_a_taken_courier_is_a_conflict,
            trackings::delete_removes_only_the_named_tracking,
            trackings::retrack_only_reactivates_expired_trackings,
            trackings::accounts_never_see_each_others_trackings,
            refresh::claims_are_exclusive_until_the_lease_expires,
            refresh::claiming_one_tracking_reports_busy_and_not_found,
            refresh::applying_merges_checkpoints_once_and_records_only_real_changes,
            refresh::a_worker_that_lost_its_claim_cannot_apply,
            refresh::trackings_without_a_next_check_are_not_claimed,
            retention::only_finished_trackings_unchanged_long_enough_are_deleted_in_batches,
            due::couriers_due_names_only_asked_couriers_with_claimable_trackings,
            webhooks::endpoints_are_created_listed_updated_and_deleted_per_account,
            webhooks::changes_queue_one_delivery_per_matching_enabled_endpoint_in_the_same_call,
            webhooks::claims_keep_order_per_tracking_and_the_per_endpoint_cap,
            webhooks::an_endpoint_that_keeps_failing_is_disabled_and_a_success_resets_the_clock,
            webhooks::attempts_of_an_endpoint_deleted_mid_flight_do_not_sink_the_batch,
            webhooks::deliveries_behind_many_that_cannot_go_are_still_claimed,
            webhooks::retries_are_recorded_and_redelivery_queues_again,
            pages::page_settings_default_then_stored_per_account_with_unique_hosts,
            pages::page_accounts_are_found_by_name_or_host_only,
            pages::page_lookups_find_the_accounts_own_trackings_with_checkpoints,
            pages::page_lookups_return_a_bounded_number_of_trackings,
            users::users_are_unique_by_address_in_any_case_and_per_account,
            users::failed_sign_ins_lock_a_user_out_and_a_sign_in_clears_the_count,
            users::sessions_are_found_by_token_hash_until_they_expire_or_end,
            users::roles_change_and_users_go_but_an_account_keeps_an_admin,
            notifications::notification_settings_default_then_stored_per_account,
            notifications::changes_queue_one_notification_per_trigger_and_channel_with_the_change,
            notifications::notifications_are_leased_recorded_logged_and_counted,
            notifications::unsubscribes_are_kept_per_account_channel_and_address,
            subscribers::page_subscriptions_are_unique_bounded_and_the_accounts_own,
            subscribers::subscribers_get_their_own_notification_with_the_change,
            copy::a_copy_holds_every_row_resumes_after_its_last_key_and_goes_on_after_it,
            copy::a_large_batch_create_keeps_the_rules_of_a_small_one,
            push::a_push_applies_once_to_every_account_and_its_replay_changes_nothing,
            push::a_batch_of_pushes_applies_in_one_call_each_with_its_own_outcome,
            push::a_batch_is_claimed_and_applied_in_one_call_each_push_with_its_own_outcome,
            push::receipts_expire_and_are_capped,
            push::subscriptions_cover_trackings_and_move_their_polls,
            analytics::analytics_counters_follow_every_change_of_the_trackings,
        );
    };
    (@cases $factory:path, $runs:expr; $($module:ident :: $case:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $case() {
                if !($runs)() {
                    return;
                }
                $crate::$module::$case($factory).await;
            }
        )+
    };
}

/// A tracking to create with no merchant fields.
pub fn new_tracking(number: &str, courier: &str) -> NewTracking {
    NewTracking {
        tracking_number: number.to_string(),
        courier_code: courier.to_string(),
        courier_detected: false,
        fields: TrackingFields::default(),
        status_info: None,
        check_error: None,
    }
}

/// Creates an account and these (number, courier) trackings in it; returns the account and the
/// created trackings in input order.
pub async fn account_with(
    store: &dyn Store,
    name: &str,
    trackings: &[(&str, &str)],
) -> (AccountId, Vec<Tracking>) {
    let account = store.create_account(name).await.unwrap();
    let new = trackings
        .iter()
        .map(|(number, courier)| new_tracking(number, courier))
        .collect();
    (account.id, create_all(store, account.id, new).await)
}

/// Creates these trackings in `account`, all new; returns them in input order.
pub async fn create_all(
    store: &dyn Store,
    account: AccountId,
    new: Vec<NewTracking>,
) -> Vec<Tracking> {
    store
        .create_trackings(account, new)
        .await
        .unwrap()
        .into_iter()
        .map(|outcome| match outcome {
            CreateOutcome::Created(t) => *t,
            other => panic!("not created: {other:?}"),
        })
        .collect()
}

/// `n` sandbox trackings `NUM-00000`, `NUM-00001`, … in a new account `a`.
pub async fn numbered(store: &dyn Store, n: usize) -> (AccountId, Vec<Tracking>) {
    let numbers: Vec<String> = (0..n).map(|i| format!("NUM-{i:05}")).collect();
    let pairs: Vec<(&str, &str)> = numbers.iter().map(|n| (n.as_str(), "sandbox")).collect();
    account_with(store, "a", &pairs).await
}

/// The primary keys of sandbox trackings, most overdue first, found by claiming them for a
/// moment and releasing them again (which leaves them due).
pub async fn sandbox_pks(store: &dyn Store) -> Vec<i64> {
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("setup", now, now + Duration::seconds(1), 100_000, "sandbox")
        .await
        .unwrap();
    store.release_claims("setup").await.unwrap();
    let mut pks: Vec<i64> = claimed.iter().map(|c| c.pk).collect();
    pks.sort();
    pks
}

/// A checkpoint at 2024-05-01 10:`minute`.
pub fn checkpoint(minute: u32, status: DeliveryStatus, text: &str) -> Checkpoint {
    checkpoint_at(&format!("2024-05-01T10:{minute:02}:00+00:00"), status, text)
}

/// A checkpoint at `date` (RFC 3339, shown as written) with this status and detail, as an
/// adapter reports it.
pub fn checkpoint_at(date: &str, status: DeliveryStatus, text: &str) -> Checkpoint {
    Checkpoint {
        checkpoint_date: date.to_string(),
        detail: text.into(),
        location: "Here".into(),
        country_iso2: "NL".into(),
        raw_status: "X".into(),
        ..Checkpoint::at(date.parse().expect("an RFC 3339 date"), status)
    }
}

/// A successful check of `pk` with these checkpoints (newest first) and status, next check in
/// three hours.
pub fn update(pk: i64, checkpoints: Vec<Checkpoint>, status: DeliveryStatus) -> RefreshUpdate {
    let now = Utc::now();
    RefreshUpdate {
        pk,
        latest_event: checkpoints.first().map(|c| c.detail.clone()),
        latest_checkpoint_time: checkpoints.first().map(|c| c.time),
        checkpoints,
        shipment: None,
        delivery_status: status,
        substatus: (status == DeliveryStatus::Delivered).then_some(SubStatus::Delivered001),
        status_info: None,
        check_error: None,
        check_failures: 0,
        notfound_since: None,
        next_check_at: Some(now + Duration::hours(3)),
        checked_at: now,
    }
}

/// Claims up to `limit` due sandbox trackings as of `at` for `owner`, for an hour.
pub async fn claim_sandbox(
    store: &dyn Store,
    owner: &str,
    at: DateTime<Utc>,
    limit: usize,
) -> Vec<parceld_store::ClaimedTracking> {
    store
        .claim_due(owner, at, at + Duration::hours(1), limit, "sandbox")
        .await
        .unwrap()
}

/// Claims every due sandbox tracking as of `at` for `owner` and applies `make(pk)` to each.
pub async fn claim_and_apply(
    store: &dyn Store,
    owner: &str,
    at: DateTime<Utc>,
    make: impl Fn(i64) -> RefreshUpdate,
) -> parceld_store::ApplyReport {
    let claimed = claim_sandbox(store, owner, at, 100_000).await;
    let updates = claimed.iter().map(|c| make(c.pk)).collect();
    store.apply_refresh(owner, updates).await.unwrap()
}
