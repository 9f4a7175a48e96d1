//! parceld's domain model.
//!
//! Everything here is pure data and pure functions: the status taxonomy that every carrier's
//! events are mapped onto, checkpoints, tracking ids and numbers. No I/O lives here, so the store,
//! the carrier adapters, the engine and the API can all share these types without depending on
//! one another.

pub mod checkpoint;
pub mod ids;
pub mod limits;
pub mod merchant_fields;
pub mod milestones;
pub mod normalize;
pub mod status;
pub mod tracking;

pub use checkpoint::{Checkpoint, Leg};
pub use ids::{is_number_separator, TrackingId, TrackingNumber, TrackingNumberError};
pub use limits::{LimitClass, RateLimits};
pub use milestones::{milestones, transit_days, Milestones};
pub use normalize::{derive_status, normalize};
pub use status::{DeliveryStatus, SubStatus, UnknownStatus};
pub use tracking::{ShipmentInfo, Tracking, TrackingFields};

/// Whether a courier is an express company or a postal operator. The refresh cadence
/// (3 hours versus 6 hours) and the expiry rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourierType {
    Express,
    Postal,
}

impl CourierType {
    pub fn as_str(self) -> &'static str {
        match self {
            CourierType::Express => "express",
            CourierType::Postal => "postal",
        }
    }
}
