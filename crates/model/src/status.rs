//! The status taxonomy: TrackingMore's nine delivery statuses and their sub-statuses.
//!
//! Every carrier's event codes are mapped onto these, so clients see one vocabulary whatever the
//! carrier. The spellings are the wire spellings TrackingMore uses (`notfound`, `transit002`, …),
//! because existing integrations compare against those strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The nine delivery statuses (`delivery_status` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Registered with parceld; the carrier has not answered yet. Never comes from a carrier.
    Pending,
    /// The carrier answered but knows nothing (yet) about the number.
    Notfound,
    /// The carrier has electronic data or a label, but no physical scan.
    Inforeceived,
    /// The carrier has the parcel and it is moving (customs and delays included).
    Transit,
    /// Out for delivery, or waiting at a pickup point ("pickup" is not "picked up").
    Pickup,
    /// A delivery attempt failed; the carrier will usually retry.
    Undelivered,
    /// Delivered.
    Delivered,
    /// Returned, refused, lost, damaged, seized, cancelled …
    Exception,
    /// No news for too long. Never comes from a carrier.
    Expired,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 9] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Notfound,
        DeliveryStatus::Inforeceived,
        DeliveryStatus::Transit,
        DeliveryStatus::Pickup,
        DeliveryStatus::Undelivered,
        DeliveryStatus::Delivered,
        DeliveryStatus::Exception,
        DeliveryStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Notfound => "notfound",
            DeliveryStatus::Inforeceived => "inforeceived",
            DeliveryStatus::Transit => "transit",
            DeliveryStatus::Pickup => "pickup",
            DeliveryStatus::Undelivered => "undelivered",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Exception => "exception",
            DeliveryStatus::Expired => "expired",
        }
    }

    /// A short human description, used as the default `status_info`.
    pub fn description(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "New shipment; the courier has not been asked yet.",
            DeliveryStatus::Notfound => "The courier has no tracking information yet.",
            DeliveryStatus::Inforeceived => "The courier has received the shipment information.",
            DeliveryStatus::Transit => "The shipment is on its way.",
            DeliveryStatus::Pickup => "Out for delivery or ready for collection.",
            DeliveryStatus::Undelivered => "A delivery attempt failed.",
            DeliveryStatus::Delivered => "The shipment was delivered.",
            DeliveryStatus::Exception => "The shipment has an exception (returned, lost, held …).",
            DeliveryStatus::Expired => "No tracking update for a long time.",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that is not one of the nine statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a delivery status; use one of pending, notfound, inforeceived, transit, pickup, undelivered, delivered, exception, expired")]
pub struct UnknownStatus(pub String);

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

macro_rules! sub_statuses {
    ($( $variant:ident => ($code:literal, $parent:ident, $text:literal), )*) => {
        /// Sub-statuses (`substatus` on the wire), each belonging to one delivery status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SubStatus { $( $variant, )* }

        impl SubStatus {
            pub const ALL: &'static [SubStatus] = &[ $( SubStatus::$variant, )* ];

            /// The wire spelling, e.g. `transit002`.
            pub fn as_str(self) -> &'static str {
                match self { $( SubStatus::$variant => $code, )* }
            }

            /// The delivery status this sub-status refines.
            pub fn status(self) -> DeliveryStatus {
                match self { $( SubStatus::$variant => DeliveryStatus::$parent, )* }
            }

            /// What the sub-status means, in words.
            pub fn description(self) -> &'static str {
                match self { $( SubStatus::$variant => $text, )* }
            }
        }
    };
}

sub_statuses! {
    Notfound001 => ("notfound001", Notfound, "Waiting for the courier to pick up the shipment."),
    Notfound002 => ("notfound002", Notfound, "No tracking information found."),
    Inforeceived001 => ("inforeceived001", Inforeceived, "The shipment is waiting for courier pickup."),
    Transit001 => ("transit001", Transit, "On the way to the destination."),
    Transit002 => ("transit002", Transit, "Arrived at a hub or sorting center."),
    Transit003 => ("transit003", Transit, "Arrived at the delivery facility."),
    Transit004 => ("transit004", Transit, "Arrived in the destination country."),
    Transit005 => ("transit005", Transit, "Customs clearance completed."),
    Transit006 => ("transit006", Transit, "Item dispatched."),
    Transit007 => ("transit007", Transit, "Departed from the airport."),
    Pickup001 => ("pickup001", Pickup, "Out for delivery."),
    Pickup002 => ("pickup002", Pickup, "Ready for collection at a pickup point."),
    Pickup003 => ("pickup003", Pickup, "The customer was contacted before delivery."),
    Undelivered001 => ("undelivered001", Undelivered, "Address-related issue."),
    Undelivered002 => ("undelivered002", Undelivered, "The receiver was not at home."),
    Undelivered003 => ("undelivered003", Undelivered, "The addressee could not be located."),
    Undelivered004 => ("undelivered004", Undelivered, "Undelivered for another reason."),
    Delivered001 => ("delivered001", Delivered, "Delivered successfully."),
    Delivered002 => ("delivered002", Delivered, "Picked up by the addressee."),
    Delivered003 => ("delivered003", Delivered, "Received and signed for by the addressee."),
    Delivered004 => ("delivered004", Delivered, "Left at the front door or with a neighbour."),
    Exception004 => ("exception004", Exception, "The shipment was not claimed."),
    Exception005 => ("exception005", Exception, "Other exception."),
    Exception006 => ("exception006", Exception, "Detained by customs."),
    Exception007 => ("exception007", Exception, "Lost, damaged or discarded."),
    Exception008 => ("exception008", Exception, "Cancelled before pickup."),
    Exception009 => ("exception009", Exception, "Refused by the addressee."),
    Exception010 => ("exception010", Exception, "Returned to the sender."),
    Exception011 => ("exception011", Exception, "Returning to the sender."),
    Expired001 => ("expired001", Expired, "No tracking update for a long time."),
    Pending001 => ("pending001", Pending, "Waiting for the first answer from the courier."),
}

impl fmt::Display for SubStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubStatus::ALL
            .iter()
            .copied()
            .find(|sub| sub.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a known sub-status"))
    }
}

impl Serialize for SubStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SubStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_wire_spelling() {
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(status));
        }
        assert!("in_transit".parse::<DeliveryStatus>().is_err());
    }

    #[test]
    fn every_sub_status_starts_with_its_parent_status() {
        for sub in SubStatus::ALL {
            assert!(sub.as_str().starts_with(sub.status().as_str()), "{sub}");
            assert_eq!(sub.as_str().parse::<SubStatus>(), Ok(*sub));
        }
    }
}
