//! The tracking service: validation and the store calls behind every tracking endpoint.
//!
//! Both faces of the API (v4 and the legacy v2) translate their requests into these calls, so
//! the rules — what a valid number is, which courier codes exist, which fields a courier
//! requires, how a tracking changes courier, how real-time finds or creates its shipment — live
//! in one place whatever face the API shows. Errors are [`ApiError`]s; the v2 face translates
//! them into its own codes.

use parceld_engine::{RealtimeError, RealtimeResult};
use parceld_model::{Tracking, TrackingFields, TrackingId, TrackingNumber, TrackingNumberError};
use parceld_store::{
    AccountId, CreateOutcome, NewTracking, Page, Store, TrackingFilter, TrackingPatch,
};

use crate::error::{ApiError, ErrorCode};
use crate::AppState;

/// The most trackings one create or list call may name.
pub const MAX_BATCH: usize = 40;
/// The largest page of a list call.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// The page size when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Checks a tracking number.
pub fn tracking_number(raw: Option<&str>) -> Result<TrackingNumber, ApiError> {
    TrackingNumber::parse(raw.unwrap_or("")).map_err(|e| match e {
        TrackingNumberError::Missing => ApiError::new(
            ErrorCode::TrackingNumberRequired,
            "Send the carrier's tracking number in `tracking_number`.",
        ),
        other => ApiError::new(
            ErrorCode::InvalidTrackingNumber,
            format!("{other}; got `{}`.", raw.unwrap_or("").trim()),
        ),
    })
}

/// Checks a courier code against the registry.
pub fn courier_code(raw: &str) -> Result<&'static parceld_detect::Courier, ApiError> {
    let code = raw.trim();
    parceld_detect::courier(code).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidCourierCode,
            format!(
                "`{code}` is not a courier code parceld knows; GET /v4/couriers/all lists them."
            ),
        )
    })
}

/// Validates one create request and turns it into a tracking to store.
pub fn new_tracking(
    number: Option<&str>,
    courier: Option<&str>,
    fields: TrackingFields,
) -> Result<NewTracking, ApiError> {
    let number = tracking_number(number)?;
    let (courier, detected) = match courier.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => (courier_code(code)?, None),
        None => {
            let best = parceld_detect::detect(number.as_str()).into_iter().next();
            match best {
                Some(candidate) => (candidate.courier, Some(candidate)),
                None => {
                    return Err(ApiError::new(
                        ErrorCode::CannotDetectCourier,
                        format!(
                            "`{number}` matches no courier's number format; send `courier_code` (GET /v4/couriers/all lists the codes)."
                        ),
                    ))
                }
            }
        }
    };
    required_fields(courier, &fields)?;
    let mut notes = Vec::new();
    if let Some(candidate) = &detected {
        notes.push(format!(
            "Courier detected from the number: {}.",
            candidate.reason
        ));
    }
    if !courier.has_adapter {
        notes.push(format!(
            "parceld does not fetch tracking from {} yet; the tracking is stored and stays pending.",
            courier.name
        ));
    }
    Ok(NewTracking {
        tracking_number: number.into_string(),
        courier_code: courier.code.to_string(),
        courier_detected: detected.is_some(),
        fields,
        status_info: (!notes.is_empty()).then(|| notes.join(" ")),
    })
}

/// Checks the courier's special required fields.
pub fn required_fields(
    courier: &parceld_detect::Courier,
    fields: &TrackingFields,
) -> Result<(), ApiError> {
    let missing: Vec<&str> = courier
        .tracking_required_fields
        .iter()
        .copied()
        .filter(|name| fields.get(name).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::MissingRequiredFields,
            format!(
                "Courier `{}` needs {}.",
                courier.code,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// Parses a boolean-ish archive flag: `true`/`false`, and the list filter's `archived`/`tracking`.
pub fn archived_flag(raw: &str, field: &str) -> Result<bool, ApiError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "archived" | "1" => Ok(true),
        "false" | "tracking" | "active" | "0" => Ok(false),
        other => Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("`{field}` must be \"true\" or \"false\"; got `{other}`."),
        )),
    }
}

/// The account's tracking of `number` with `courier`, if any.
pub async fn find_by_number(
    store: &dyn Store,
    account: AccountId,
    number: &str,
    courier: &str,
) -> Result<Option<Tracking>, ApiError> {
    let filter = TrackingFilter {
        tracking_numbers: vec![number.to_string()],
        courier_code: Some(courier.to_string()),
        ..TrackingFilter::default()
    };
    Ok(store
        .list_trackings(account, &filter, Page { number: 1, size: 1 })
        .await?
        .pop())
}

/// Changes a tracking's merchant fields, courier or archive state. A new courier is checked
/// against the registry and its required fields (with the stored fields merged in); moving onto
/// a number the account already tracks with that courier is a conflict (4101).
pub async fn update(
    store: &dyn Store,
    account: AccountId,
    id: &TrackingId,
    fields: TrackingFields,
    courier_new: Option<&str>,
    archived: Option<bool>,
) -> Result<Tracking, ApiError> {
    let courier_new = match courier_new.map(str::trim) {
        Some(code) if !code.is_empty() => Some(courier_code(code)?),
        _ => None,
    };
    if let Some(courier) = courier_new {
        let current = store
            .tracking(account, id)
            .await?
            .ok_or_else(ApiError::tracking_not_found)?;
        let mut merged = current.fields.clone();
        merged.apply(&fields);
        required_fields(courier, &merged)?;
    }
    let patch = TrackingPatch {
        fields,
        courier_code_new: courier_new.map(|c| c.code.to_string()),
        archived,
    };
    store
        .update_tracking(account, id, &patch)
        .await?
        .ok_or_else(ApiError::tracking_not_found)
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

/// Real-time: the latest from the courier for one shipment, unless it was fetched less than the
/// real-time window ago (then the stored result). A number the account does not track yet is
/// stored first, so real-time never loses what it fetched.
pub async fn realtime(
    state: &AppState,
    account: AccountId,
    target: RealtimeTarget,
) -> Result<RealtimeResult, ApiError> {
    let id = match target {
        RealtimeTarget::Id(id) => id,
        RealtimeTarget::Number {
            number,
            courier,
            fields,
        } => {
            let new = new_tracking(number.as_deref(), courier.as_deref(), *fields)?;
            let store = state.store.as_ref();
            let (number, courier) = (new.tracking_number.clone(), new.courier_code.clone());
            match find_by_number(store, account, &number, &courier).await? {
                Some(tracking) => tracking.id,
                None => match store.create_trackings(account, vec![new]).await?.pop() {
                    Some(CreateOutcome::Created(tracking)) => tracking.id,
                    // Created concurrently by another request: look it up again.
                    _ => {
                        find_by_number(store, account, &number, &courier)
                            .await?
                            .ok_or_else(ApiError::tracking_not_found)?
                            .id
                    }
                },
            }
        }
    };
    match state.engine.refresh_now(account, &id, true).await {
        Ok(result) => Ok(result),
        Err(RealtimeError::NotFound) => Err(ApiError::tracking_not_found()),
        Err(RealtimeError::Store(error)) => Err(error.into()),
    }
}
