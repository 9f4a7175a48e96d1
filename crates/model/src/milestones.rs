//! Figures derived from a tracking's checkpoints: milestone dates and days in transit.
//!
//! Derived on read rather than stored, so they are always consistent with the checkpoints.

use chrono::{DateTime, Utc};

use crate::{Checkpoint, DeliveryStatus, SubStatus};

/// The first time each milestone was reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Milestones {
    pub inforeceived: Option<DateTime<Utc>>,
    /// Picked up by the carrier: the first movement scan.
    pub pickup: Option<DateTime<Utc>>,
    pub out_for_delivery: Option<DateTime<Utc>>,
    pub delivered: Option<DateTime<Utc>>,
    pub returning: Option<DateTime<Utc>>,
    pub returned: Option<DateTime<Utc>>,
}

/// Milestones of a set of checkpoints (any order), in one pass and without copying them.
pub fn milestones<'a>(checkpoints: impl IntoIterator<Item = &'a Checkpoint>) -> Milestones {
    fn earliest(slot: &mut Option<DateTime<Utc>>, time: DateTime<Utc>) {
        if slot.is_none_or(|t| time < t) {
            *slot = Some(time);
        }
    }
    let mut m = Milestones::default();
    for c in checkpoints {
        match c.status {
            DeliveryStatus::Inforeceived => earliest(&mut m.inforeceived, c.time),
            DeliveryStatus::Transit => earliest(&mut m.pickup, c.time),
            DeliveryStatus::Pickup => earliest(&mut m.out_for_delivery, c.time),
            DeliveryStatus::Delivered => earliest(&mut m.delivered, c.time),
            _ => {}
        }
        match c.substatus {
            Some(SubStatus::Exception011) => earliest(&mut m.returning, c.time),
            Some(SubStatus::Exception010) => earliest(&mut m.returned, c.time),
            _ => {}
        }
    }
    m
}

/// Whole days from the first carrier scan to delivery, or to `now` while not delivered; 0 with
/// no checkpoints.
pub fn transit_days(checkpoints: &[Checkpoint], now: DateTime<Utc>) -> i64 {
    let Some(start) = checkpoints.iter().map(|c| c.time).min() else {
        return 0;
    };
    let end = milestones(checkpoints).delivered.unwrap_or(now);
    (end - start).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: &str, status: DeliveryStatus, sub: Option<SubStatus>) -> Checkpoint {
        Checkpoint {
            checkpoint_date: time.into(),
            substatus: sub,
            ..Checkpoint::at(time.parse().unwrap(), status)
        }
    }

    #[test]
    fn milestones_take_the_earliest_matching_event_whatever_the_order() {
        let events = vec![
            at(
                "2024-05-05T10:00:00Z",
                DeliveryStatus::Delivered,
                Some(SubStatus::Delivered001),
            ),
            at("2024-05-02T10:00:00Z", DeliveryStatus::Transit, None),
            at("2024-05-01T10:00:00Z", DeliveryStatus::Inforeceived, None),
            at("2024-05-03T10:00:00Z", DeliveryStatus::Transit, None),
            at(
                "2024-05-04T08:00:00Z",
                DeliveryStatus::Pickup,
                Some(SubStatus::Pickup001),
            ),
        ];
        let m = milestones(&events);
        assert_eq!(
            m.inforeceived,
            Some("2024-05-01T10:00:00Z".parse().unwrap())
        );
        assert_eq!(m.pickup, Some("2024-05-02T10:00:00Z".parse().unwrap()));
        assert_eq!(
            m.out_for_delivery,
            Some("2024-05-04T08:00:00Z".parse().unwrap())
        );
        assert_eq!(m.delivered, Some("2024-05-05T10:00:00Z".parse().unwrap()));
        assert_eq!(m.returned, None);
        let later = "2024-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(transit_days(&events, later), 4);
        assert_eq!(transit_days(&[], later), 0);
    }
}
