//! Tracking operations: create (one or a batch), change, retrack, delete, find by number, and
//! real-time with its window.
//!
//! A [`TrackingService`] is the store and the engine together; the API's state holds one and the
//! CLI builds one, so every face creates and changes trackings through the same steps.

use std::sync::Arc;

use parceld_engine::{Engine, RealtimeError, RealtimeResult};
use parceld_model::{Tracking, TrackingFields, TrackingId};
use parceld_store::{
    AccountId, CreateOutcome, NewTracking, Page, RetrackOutcome, Store, TrackingFilter,
    TrackingPatch,
};

use crate::error::{ServiceError, ServiceResult};
use crate::validate::{courier_code, merchant_fields, new_tracking, required_fields};

/// The trackings of every account: the store and the engine that refreshes them.
#[derive(Clone)]
pub struct TrackingService {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
}

/// The shipment of a real-time request.
pub enum RealtimeTarget {
    /// A tracking the account has, by id.
    Id(TrackingId),
    /// By number and (optionally) courier; created first when the account does not track it.
    Number {
        number: Option<String>,
        courier: Option<String>,
        fields: Box<TrackingFields>,
    },
}

/// The v4 words for a number the account already tracks with that courier.
pub fn already_exists(tracking_number: &str, courier_code: &str) -> ServiceError {
    ServiceError::AlreadyExists(format!(
        "`{tracking_number}` with courier `{courier_code}` is already tracked; GET /v4/trackings/get?tracking_numbers={tracking_number} returns it."
    ))
}

impl TrackingService {
    pub fn new(store: Arc<dyn Store>, engine: Arc<Engine>) -> Self {
        TrackingService { store, engine }
    }

    /// Stores one validated tracking. With `fetch_now` a new tracking is asked of its courier at
    /// once (bounded by the engine's timeout); a failure leaves it pending with a `status_info`
    /// saying why, and the scheduler carries on with it.
    pub async fn create(
        &self,
        account: AccountId,
        new: NewTracking,
        fetch_now: bool,
    ) -> ServiceResult<CreateOutcome> {
        let mut new = new;
        self.say_if_unconfigured(&mut new);
        let outcome = self
            .store
            .create_trackings(account, vec![new])
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Internal("create returned no outcome".into()))?;
        match outcome {
            CreateOutcome::Created(tracking)
                if fetch_now && self.engine.can_track(&tracking.courier_code) =>
            {
                match self.engine.refresh_now(account, &tracking.id, false).await {
                    Ok(result) => Ok(CreateOutcome::Created(Box::new(result.tracking))),
                    Err(error) => {
                        tracing::warn!(%error, "real-time fetch on create failed");
                        Ok(CreateOutcome::Created(tracking))
                    }
                }
            }
            other => Ok(other),
        }
    }

    /// Stores validated trackings in one set-based write; each is created or already existed.
    pub async fn create_many(
        &self,
        account: AccountId,
        trackings: Vec<NewTracking>,
    ) -> ServiceResult<Vec<CreateOutcome>> {
        if trackings.is_empty() {
            return Ok(Vec::new());
        }
        let mut trackings = trackings;
        for new in &mut trackings {
            self.say_if_unconfigured(new);
        }
        Ok(self.store.create_trackings(account, trackings).await?)
    }

    /// A tracking of a courier whose adapter is not configured on this server would stay
    /// pending with nothing said: its `status_info` and its `check_error` say why and which
    /// settings are missing (the first successful check clears both).
    fn say_if_unconfigured(&self, new: &mut NewTracking) {
        if let Some(reason) = self.engine.unconfigured_reason(&new.courier_code) {
            new.status_info = Some(match new.status_info.take() {
                Some(notes) => format!("{notes} {reason}"),
                None => reason.clone(),
            });
            new.check_error = Some(reason);
        }
    }

    /// The account's tracking of `number` with `courier`, if any.
    pub async fn find_by_number(
        &self,
        account: AccountId,
        number: &str,
        courier: &str,
    ) -> ServiceResult<Option<Tracking>> {
        let filter = TrackingFilter {
            tracking_numbers: vec![number.to_string()],
            courier_code: Some(courier.to_string()),
            ..TrackingFilter::default()
        };
        Ok(self
            .store
            .list_trackings(account, &filter, Page { number: 1, size: 1 })
            .await?
            .pop())
    }

    /// Changes a tracking's merchant fields, courier or archive state. A new courier is checked
    /// against the registry and its required fields (with the stored fields merged in); moving
    /// onto a number the account already tracks with that courier is a conflict.
    pub async fn update(
        &self,
        account: AccountId,
        id: &TrackingId,
        fields: TrackingFields,
        courier_new: Option<&str>,
        archived: Option<bool>,
    ) -> ServiceResult<Tracking> {
        merchant_fields(&fields)?;
        let courier_new = match courier_new.map(str::trim) {
            Some(code) if !code.is_empty() => Some(courier_code(code)?),
            _ => None,
        };
        if let Some(courier) = courier_new {
            let current = self
                .store
                .tracking(account, id)
                .await?
                .ok_or_else(ServiceError::tracking_not_found)?;
            let mut merged = current.fields.clone();
            merged.apply(&fields);
            required_fields(courier, &merged)?;
        }
        let patch = TrackingPatch {
            fields,
            courier_code_new: courier_new.map(|c| c.code.to_string()),
            archived,
        };
        let updated = self
            .store
            .update_tracking(account, id, &patch)
            .await?
            .ok_or_else(ServiceError::tracking_not_found)?;
        if archived == Some(true) {
            self.stop_upstream(&updated);
        }
        Ok(updated)
    }

    /// An archived or deleted tracking is stopped at the upstream that tracks it, if any, so the
    /// account stops paying for it.
    fn stop_upstream(&self, tracking: &Tracking) {
        let number = tracking.tracking_number.clone();
        self.engine
            .carriers()
            .stop(&tracking.courier_code, vec![number]);
    }

    /// Deletes a tracking and returns it.
    pub async fn delete(&self, account: AccountId, id: &TrackingId) -> ServiceResult<Tracking> {
        let deleted = self
            .store
            .delete_tracking(account, id)
            .await?
            .ok_or_else(ServiceError::tracking_not_found)?;
        self.stop_upstream(&deleted);
        Ok(deleted)
    }

    /// Re-activates an expired tracking; one still tracked is refused.
    pub async fn retrack(&self, account: AccountId, id: &TrackingId) -> ServiceResult<Tracking> {
        match self.store.retrack(account, id).await? {
            RetrackOutcome::Retracked(tracking) => Ok(*tracking),
            RetrackOutcome::NotExpired => Err(ServiceError::RetrackNotAllowed(
                "This tracking is not expired; parceld keeps refreshing it on its own.".into(),
            )),
            RetrackOutcome::NotFound => Err(ServiceError::tracking_not_found()),
        }
    }

    /// Real-time: the latest from the courier for one shipment, unless it was fetched less than
    /// the real-time window ago (then the stored result). A number the account does not track
    /// yet is stored first, so real-time never loses what it fetched.
    pub async fn realtime(
        &self,
        account: AccountId,
        target: RealtimeTarget,
    ) -> ServiceResult<RealtimeResult> {
        let id = match target {
            RealtimeTarget::Id(id) => id,
            RealtimeTarget::Number {
                number,
                courier,
                fields,
            } => {
                let new = new_tracking(number.as_deref(), courier.as_deref(), *fields)?;
                let (number, courier) = (new.tracking_number.clone(), new.courier_code.clone());
                match self.find_by_number(account, &number, &courier).await? {
                    Some(tracking) => tracking.id,
                    None => match self.store.create_trackings(account, vec![new]).await?.pop() {
                        Some(CreateOutcome::Created(tracking)) => tracking.id,
                        // Created concurrently by another request: look it up again.
                        _ => {
                            self.find_by_number(account, &number, &courier)
                                .await?
                                .ok_or_else(ServiceError::tracking_not_found)?
                                .id
                        }
                    },
                }
            }
        };
        match self.engine.refresh_now(account, &id, true).await {
            Ok(result) => Ok(result),
            Err(RealtimeError::NotFound) => Err(ServiceError::tracking_not_found()),
            Err(RealtimeError::Store(error)) => Err(error.into()),
        }
    }
}
