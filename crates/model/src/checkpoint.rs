//! Checkpoints: one carrier event each, already mapped onto the status taxonomy, with the
//! carrier's raw code, text and timestamp string kept so mappings can be re-run later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{DeliveryStatus, SubStatus};

/// Which carrier leg an event belongs to: the origin (first-mile) carrier or the destination
/// (last-mile) carrier of a cross-border shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leg {
    Origin,
    Destination,
}

impl Leg {
    pub fn as_i64(self) -> i64 {
        match self {
            Leg::Origin => 0,
            Leg::Destination => 1,
        }
    }

    pub fn from_i64(value: i64) -> Leg {
        if value == 1 {
            Leg::Destination
        } else {
            Leg::Origin
        }
    }
}

/// One tracking event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub leg: Leg,
    /// The event's instant, in UTC; ordering is by this, never by the carrier's list order.
    pub time: DateTime<Utc>,
    /// The event time as shown to users: carrier-local wall-clock with its offset
    /// (`2024-05-02T09:14:00-05:00`), or UTC when the carrier gave no zone.
    pub checkpoint_date: String,
    pub status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
    /// The carrier's event text.
    pub detail: String,
    pub location: String,
    pub country_iso2: String,
    pub state: String,
    pub city: String,
    pub zip: String,
    /// The carrier's own status or event code.
    pub raw_status: String,
    /// The carrier's timestamp as it sent it (its separate date, time and zone fields joined
    /// with spaces where it splits them), kept for support questions about time zones.
    #[serde(default)]
    pub raw_time: String,
}

impl Checkpoint {
    /// A checkpoint of the origin leg at `time` with `status`, shown in UTC, and every text field
    /// empty: the start of a struct update (`Checkpoint { detail: …, ..Checkpoint::at(t, s) }`)
    /// for tests and synthetic data, which name only the fields they care about.
    pub fn at(time: DateTime<Utc>, status: DeliveryStatus) -> Checkpoint {
        Checkpoint {
            leg: Leg::Origin,
            time,
            checkpoint_date: time.to_rfc3339(),
            status,
            substatus: None,
            detail: String::new(),
            location: String::new(),
            country_iso2: String::new(),
            state: String::new(),
            city: String::new(),
            zip: String::new(),
            raw_status: String::new(),
            raw_time: String::new(),
        }
    }

    /// A stable fingerprint of what makes an event the same event: leg, instant, raw code, text
    /// and location. Re-fetching the same carrier data yields the same fingerprints, so merging
    /// by fingerprint never duplicates a checkpoint.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.leg.as_i64().to_string().as_str(),
            self.time.timestamp().to_string().as_str(),
            self.raw_status.as_str(),
            self.detail.as_str(),
            self.location.as_str(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(&hasher.finalize()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            checkpoint_date: "2024-05-02T09:14:00-05:00".into(),
            substatus: Some(SubStatus::Transit002),
            detail: "Arrived at facility".into(),
            location: "Memphis, TN, US".into(),
            country_iso2: "US".into(),
            state: "TN".into(),
            city: "Memphis".into(),
            raw_status: "AR".into(),
            ..Checkpoint::at(
                "2024-05-02T14:14:00Z".parse().unwrap(),
                DeliveryStatus::Transit,
            )
        }
    }

    #[test]
    fn at_starts_an_origin_checkpoint_shown_in_utc_with_empty_texts() {
        let time = "2024-05-02T14:14:00Z".parse().unwrap();
        let checkpoint = Checkpoint::at(time, DeliveryStatus::Delivered);
        assert_eq!(checkpoint.leg, Leg::Origin);
        assert_eq!(checkpoint.time, time);
        assert_eq!(checkpoint.checkpoint_date, "2024-05-02T14:14:00+00:00");
        assert_eq!(checkpoint.status, DeliveryStatus::Delivered);
        assert_eq!(checkpoint.substatus, None);
        assert!(checkpoint.detail.is_empty() && checkpoint.raw_status.is_empty());
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive_to_identity_fields() {
        let a = sample();
        assert_eq!(a.fingerprint(), sample().fingerprint());
        let mut b = sample();
        b.time = "2024-05-02T14:15:00Z".parse().unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = sample();
        c.detail = "Departed facility".into();
        assert_ne!(a.fingerprint(), c.fingerprint());
        let mut d = sample();
        d.leg = Leg::Destination;
        assert_ne!(a.fingerprint(), d.fingerprint());
    }
}
