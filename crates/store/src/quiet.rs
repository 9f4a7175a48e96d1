//! "Stuck" shipments: trackings in flight whose carrier has said nothing new for longer than is
//! usual for it. A list filter ([`crate::TrackingFilter::quiet`]) so that the dashboard's
//! problems queue pages and counts them with the list's own statements, one each, on the
//! (account, status, latest event) index both backends keep for it.
//!
//! How long is usual depends on the kind of courier, as the engine's schedule tells them apart
//! (`parceld_detect`'s courier type): express couriers scan a parcel every day or two, postal
//! services can go a week between scans. The caller names the postal couriers (few next to
//! the express ones, and unknown codes count as express, as the engine counts them).

use chrono::{DateTime, Utc};
use parceld_model::DeliveryStatus;

/// The statuses of a tracking still on its way (a quiet one of these is stuck).
pub const IN_FLIGHT: [DeliveryStatus; 3] = [
    DeliveryStatus::Inforeceived,
    DeliveryStatus::Transit,
    DeliveryStatus::Pickup,
];

/// [`IN_FLIGHT`] as an SQL list of literals. Both backends' index of quiet trackings is partial
/// on exactly this term, and a query uses a partial index only when it carries the same term
/// (bound parameters would not prove it), so the filter writes it as it stands here.
pub const IN_FLIGHT_SQL: &str = "('inforeceived', 'transit', 'pickup')";

/// Trackings in flight whose latest event is older than `express_before`, or, for the
/// couriers in `postal_couriers`, older than `postal_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quiet {
    pub express_before: DateTime<Utc>,
    pub postal_before: DateTime<Utc>,
    pub postal_couriers: Vec<String>,
}

impl Quiet {
    /// The later of the two bounds: every stuck tracking's latest event is older, which is the
    /// range the index is read on.
    pub fn latest_bound(&self) -> DateTime<Utc> {
        self.express_before.max(self.postal_before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_list_names_exactly_the_statuses_in_flight() {
        let listed = IN_FLIGHT.map(|s| format!("'{}'", s.as_str())).join(", ");
        assert_eq!(IN_FLIGHT_SQL, format!("({listed})"));
    }
}
