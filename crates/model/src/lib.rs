//! parceld's domain model.
//!
//! Everything here is pure data and pure functions: the status taxonomy that every carrier's
//! events are mapped onto, checkpoints, tracking ids and numbers. No I/O lives here, so the store,
//! the carrier adapters, the engine and the API can all share these types without depending on
//! one another.

pub mod checkpoint;
pub mod ids;
pub mod language;
pub mod limits;
pub mod merchant_fields;
pub mod milestones;
pub mod normalize;
pub mod status;
pub mod tracking;

pub use checkpoint::{Checkpoint, Leg};
pub use ids::{is_number_separator, TrackingId, TrackingNumber, TrackingNumberError};
pub use language::Language;
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

/// `text` as one segment of a URL path: unreserved characters (RFC 3986) as they are, every
/// other byte percent-encoded. Account names and tracking numbers go into public page links
/// this way, so a name with a space or a slash still makes one segment.
pub fn path_segment(text: &str) -> std::borrow::Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if text.bytes().all(unreserved) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod path_segment_tests {
    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(super::path_segment("shop-1_a.b~"), "shop-1_a.b~");
        assert_eq!(super::path_segment("a b/c?é"), "a%20b%2Fc%3F%C3%A9");
    }
}
