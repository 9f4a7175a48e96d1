//! The tracking service: validation and the store calls behind every tracking endpoint.
//!
//! Wire formats (v4 now, the legacy v2 later) translate their requests into these calls, so the
//! rules — what a valid number is, which courier codes exist, which fields a courier requires —
//! live in one place whatever face the API shows.

use parceld_model::{TrackingFields, TrackingNumber, TrackingNumberError};
use parceld_store::NewTracking;

use crate::error::{ApiError, ErrorCode};

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
