//! Carrier-neutral journeys: what happens to a parcel, before any carrier's codes are applied.
//!
//! A number nobody scripted gets a journey derived from a hash of the number, so the same number
//! always tells the same story; its events are spaced [`STEP_HOURS`] apart from an anchor fixed
//! the first time the simulator sees the number, and become visible as the number's clock passes
//! them. Tests script exact events instead through the control endpoint or the Rust handle.

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hours between two generated events.
pub const STEP_HOURS: i64 = 4;

/// What happened, in carrier-neutral terms; each carrier renders its own code for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    LabelCreated,
    PickedUp,
    ArrivedFacility,
    DepartedFacility,
    CustomsCleared,
    OutForDelivery,
    AvailableForPickup,
    DeliveryAttempted,
    Delivered,
    Exception,
    Refused,
    ReturnToSender,
}

impl EventKind {
    /// Every kind, in journey order.
    pub const ALL: [EventKind; 12] = [
        EventKind::LabelCreated,
        EventKind::PickedUp,
        EventKind::ArrivedFacility,
        EventKind::DepartedFacility,
        EventKind::CustomsCleared,
        EventKind::OutForDelivery,
        EventKind::AvailableForPickup,
        EventKind::DeliveryAttempted,
        EventKind::Delivered,
        EventKind::Exception,
        EventKind::Refused,
        EventKind::ReturnToSender,
    ];
}

/// A place; renderers fill in carrier-typical places when a scripted event leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Place {
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

/// One event of a journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimEvent {
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub place: Option<Place>,
}

fn hash(number: &str) -> [u8; 32] {
    Sha256::digest(number.trim().to_ascii_uppercase().as_bytes()).into()
}

/// The generated journey of `number`, anchored at `first_seen`: several events are already in
/// the past then, the rest unfold later.
pub fn generated(number: &str, first_seen: DateTime<Utc>) -> Vec<SimEvent> {
    use EventKind::*;
    let h = hash(number);
    let kinds: Vec<EventKind> = match h[0] % 10 {
        0..=5 => vec![
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            DepartedFacility,
            ArrivedFacility,
            OutForDelivery,
            Delivered,
        ],
        6 => vec![
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            DepartedFacility,
            OutForDelivery,
            DeliveryAttempted,
            OutForDelivery,
            Delivered,
        ],
        7 => vec![
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            DepartedFacility,
            AvailableForPickup,
            Delivered,
        ],
        8 => vec![
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            OutForDelivery,
            Refused,
            ReturnToSender,
            ArrivedFacility,
        ],
        _ => vec![
            LabelCreated,
            PickedUp,
            ArrivedFacility,
            CustomsCleared,
            Exception,
        ],
    };
    let step = Duration::hours(STEP_HOURS);
    let already = 3 + i64::from(h[1] % 5);
    let anchor = first_seen
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(first_seen)
        - step * already as i32;
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| SimEvent {
            kind,
            // A few minutes of jitter per event so times look real.
            at: anchor + step * i as i32 + Duration::minutes(i64::from(h[2 + i] % 50)),
            place: None,
        })
        .collect()
}

/// Whether `number` looks like something `carrier` issues.
pub fn well_formed(carrier: &str, number: &str) -> bool {
    let n = number.trim().to_ascii_uppercase();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let s10 = n.len() == 13
        && n[..2].bytes().all(|b| b.is_ascii_alphabetic())
        && digits(&n[2..11])
        && n[11..].bytes().all(|b| b.is_ascii_alphabetic());
    match carrier {
        "ups" => n.len() == 18 && n.starts_with("1Z") && alnum(&n),
        "fedex" => digits(&n) && matches!(n.len(), 12 | 15 | 20 | 22),
        "usps" => (digits(&n) && (20..=34).contains(&n.len())) || s10,
        "dhl" => alnum(&n) && (10..=39).contains(&n.len()),
        "postnl-3s" => (n.starts_with("3S") && alnum(&n) && (13..=15).contains(&n.len())) || s10,
        "canada-post" => (digits(&n) && matches!(n.len(), 12 | 13 | 16)) || s10,
        "royal-mail" => s10 || (alnum(&n) && (13..=21).contains(&n.len())),
        "australia-post" => s10 || (alnum(&n) && (10..=23).contains(&n.len())),
        "laposte" => s10 || (alnum(&n) && (11..=15).contains(&n.len())),
        "postnord" => s10 || (alnum(&n) && (11..=20).contains(&n.len())),
        "gls" => (digits(&n) && matches!(n.len(), 11 | 12)) || (alnum(&n) && n.len() == 8),
        "dpd" => alnum(&n) && matches!(n.len(), 14 | 15 | 28),
        "purolator" => (digits(&n) && n.len() == 12) || (alnum(&n) && n.len() == 12),
        "aramex" => digits(&n) && (10..=12).contains(&n.len()),
        "bpost" => s10 || (digits(&n) && n.len() == 24),
        "deutsch-post" => s10 || (alnum(&n) && (10..=39).contains(&n.len())),
        // Aggregators take any courier's numbers: 17TRACK documents 5 to 50 letters and digits.
        "17track" | "aftership" | "trackingmore" => alnum(&n) && (5..=50).contains(&n.len()),
        _ => false,
    }
}

/// Each carrier's typical places, from `crates/sim/tables/places.tsv`.
static PLACES: std::sync::LazyLock<HashMap<String, Vec<Place>>> = std::sync::LazyLock::new(|| {
    let mut places: HashMap<String, Vec<Place>> = HashMap::new();
    let table = include_str!("../tables/places.tsv");
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [carrier, city, state, zip, country] = fields[..] else {
            panic!("sim tables/places.tsv: not five tab-separated fields: {line:?}");
        };
        let place = Place {
            city: city.into(),
            state: state.into(),
            zip: zip.into(),
            country: country.into(),
        };
        places.entry(carrier.into()).or_default().push(place);
    }
    places
});

/// Typical places per carrier, used along a generated journey: origin, hub, destination.
pub fn places(carrier: &str) -> [Place; 3] {
    let listed = PLACES.get(carrier).or_else(|| PLACES.get("*"));
    let place = |i: usize| listed.and_then(|p| p.get(i)).cloned().unwrap_or_default();
    [place(0), place(1), place(2)]
}

/// The place of event `index` of a journey with `len` events.
pub fn place_for(carrier: &str, event: &SimEvent, index: usize, len: usize) -> Place {
    if let Some(place) = &event.place {
        return place.clone();
    }
    let [origin, hub, destination] = places(carrier);
    match event.kind {
        EventKind::LabelCreated | EventKind::PickedUp => origin,
        EventKind::Refused
        | EventKind::ReturnToSender
        | EventKind::OutForDelivery
        | EventKind::AvailableForPickup
        | EventKind::DeliveryAttempted
        | EventKind::Delivered => destination,
        _ if index + 2 >= len => destination,
        _ => hub,
    }
}

/// The UTC offset (hours) simulated for a place: US and Canadian zones by state or province
/// with North American daylight saving, European ones with EU daylight saving.
pub fn offset_hours(place: &Place, at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    let na_dst = {
        // Second Sunday of March 07:00 UTC .. first Sunday of November 06:00 UTC (close enough).
        let year = at.year();
        let second_sunday_march = nth_sunday(year, 3, 2);
        let first_sunday_nov = nth_sunday(year, 11, 1);
        at >= second_sunday_march + Duration::hours(7) && at < first_sunday_nov + Duration::hours(6)
    };
    let eu_dst = {
        let year = at.year();
        at >= last_sunday(year, 3) + Duration::hours(1)
            && at < last_sunday(year, 10) + Duration::hours(1)
    };
    let state = place.state.to_ascii_uppercase();
    match place.country.to_ascii_uppercase().as_str() {
        "US" | "CA" => {
            let standard = match state.as_str() {
                "IL" | "TX" | "MN" | "MB" | "WI" | "MO" => -6,
                "CO" | "UT" | "AB" | "NM" => -7,
                "CA" | "WA" | "OR" | "BC" | "NV" => -8,
                "NS" | "NB" => -4,
                _ => -5,
            };
            standard + i32::from(na_dst)
        }
        "NL" | "DE" | "FR" | "BE" | "LU" | "SE" | "DK" | "NO" | "AT" | "IT" | "ES" | "PL"
        | "CH" => 1 + i32::from(eu_dst),
        "FI" => 2 + i32::from(eu_dst),
        "AE" => 4,
        "SA" => 3,
        "GB" => i32::from(eu_dst),
        "AU" => australian_offset(&state, at),
        _ => 0,
    }
}

/// South-eastern Australia's offset: +10, +11 from the first Sunday of October to the first
/// Sunday of April (at 16:00 UTC the Saturday before, close enough); Queensland keeps +10.
fn australian_offset(state: &str, at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    let year = at.year();
    let summer_ends = nth_sunday(year, 4, 1) - Duration::hours(8);
    let summer_starts = nth_sunday(year, 10, 1) - Duration::hours(8);
    let summer = at < summer_ends || at >= summer_starts;
    10 + i32::from(summer && state != "QLD")
}

fn nth_sunday(year: i32, month: u32, n: u32) -> DateTime<Utc> {
    use chrono::{Datelike, NaiveDate, Weekday};
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let offset =
        (7 + Weekday::Sun.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    let day = first + Duration::days(i64::from(offset + 7 * (n - 1)));
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

fn last_sunday(year: i32, month: u32) -> DateTime<Utc> {
    let fifth = nth_sunday(year, month, 5);
    use chrono::Datelike;
    if fifth.month() == month {
        fifth
    } else {
        nth_sunday(year, month, 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_journeys_are_deterministic_and_multi_event() {
        let seen: DateTime<Utc> = "2025-03-01T12:00:00Z".parse().unwrap();
        let a = generated("1Z999AA10123456784", seen);
        assert_eq!(a, generated("1Z999AA10123456784", seen));
        assert!(a.iter().filter(|e| e.at <= seen).count() >= 3);
    }

    #[test]
    fn daylight_saving_rules() {
        let ny = Place {
            country: "US".into(),
            state: "NY".into(),
            ..Place::default()
        };
        let nl = Place {
            country: "NL".into(),
            ..Place::default()
        };
        let cases = [
            (&ny, "2024-01-10T12:00:00Z", -5),
            (&ny, "2024-07-10T12:00:00Z", -4),
            (&nl, "2024-03-31T00:59:00Z", 1),
            (&nl, "2024-03-31T01:00:00Z", 2),
            (&nl, "2024-10-27T01:00:00Z", 1),
        ];
        for (place, at, hours) in cases {
            assert_eq!(
                offset_hours(place, at.parse().unwrap()),
                hours,
                "{} at {at}",
                place.country
            );
        }
    }

    #[test]
    fn every_carrier_has_three_places() {
        assert!(PLACES.values().all(|p| p.len() == 3), "{:?}", *PLACES);
        assert_eq!(places("royal-mail")[2].city, "Stafford DO");
        assert_eq!(places("ups")[0].city, "NEW YORK");
    }

    #[test]
    fn well_formed_numbers() {
        assert!(well_formed("ups", "1Z1442YY7229014688"));
        assert!(!well_formed("ups", "1Z14"));
        assert!(well_formed("fedex", "738488882438"));
        assert!(well_formed("usps", "9400109104250532908587"));
        assert!(well_formed("canada-post", "7023210039414604"));
        assert!(well_formed("postnl-3s", "3SDEVC288882229"));
    }
}
