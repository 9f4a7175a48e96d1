//! Quiet hours: when a text may not reach a customer, as pure functions of the settings, the
//! tracking and the time (no I/O, like the refresh policy in `parceld-engine`'s `schedule.rs`),
//! so that every case — windows across midnight, daylight-saving gaps and repeats — is tested
//! without a clock or a store.
//!
//! A text due inside the window is held until the window ends in the customer's time zone, not
//! dropped and not sent early. The customer's zone is the account's explicit `time_zone` when it
//! names a valid IANA zone, else the zone of the tracking's destination (the merchant's
//! `destination_country_iso2`, else the carrier's destination country and state, where the
//! place pins a zone down), else UTC.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use parceld_model::Tracking;
use parceld_store::notifications::QuietHours;

/// Minutes in a day; a window's bounds must be below it.
const DAY: u16 = 24 * 60;

/// The customer's time zone for quiet hours: `explicit` (the account's setting) if it is a
/// valid zone, else the destination's, else UTC.
pub fn customer_zone(explicit: Option<&str>, tracking: &Tracking) -> Tz {
    if let Some(zone) = explicit.and_then(|z| z.trim().parse::<Tz>().ok()) {
        return zone;
    }
    let country = tracking
        .fields
        .destination_country_iso2
        .as_deref()
        .or(tracking.shipment.destination_country.as_deref())
        .unwrap_or_default();
    let state = tracking
        .shipment
        .destination_state
        .as_deref()
        .unwrap_or_default();
    parceld_carriers::time::zone_for(country, state).unwrap_or(Tz::UTC)
}

/// Whether `minute` (after midnight) falls in `quiet`; the end is not part of it. A window
/// whose start is after its end spans midnight; an empty window (start = end) holds nothing.
pub fn is_quiet(quiet: QuietHours, minute: u16) -> bool {
    let (start, end) = (quiet.start_minute, quiet.end_minute);
    if start >= DAY || end >= DAY || start == end {
        return false;
    }
    if start < end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

/// When a text due at `now` may go, if `now` is inside `quiet` in `zone`: the first instant at
/// which the customer's clock shows the window's end. `None`: it may go now. Bounds of a day
/// or more are ignored (settings are validated before they are stored).
pub fn held_until(quiet: QuietHours, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&zone);
    let minute = (local.hour() * 60 + local.minute()) as u16;
    if !is_quiet(quiet, minute) {
        return None;
    }
    let today = local.date_naive();
    // Past midnight in a window that spans it, the end is today; before, tomorrow. Without
    // midnight inside, the end is today.
    let end_day = if quiet.start_minute > quiet.end_minute && minute >= quiet.start_minute {
        today.succ_opt()?
    } else {
        today
    };
    Some(first_instant_at(zone, end_day, quiet.end_minute))
}

/// The first instant at which `zone`'s clock shows `minute` on `day`, or, when that wall time is
/// skipped (a daylight-saving gap), the first instant after the gap.
fn first_instant_at(zone: Tz, day: NaiveDate, minute: u16) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)
        .unwrap_or(NaiveTime::MIN);
    let mut wall = day.and_time(time);
    // Gaps are at most a few hours; a day bounds the search whatever the zone data says.
    for _ in 0..DAY {
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(at) => return at.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => wall += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&wall)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const NIGHT: QuietHours = QuietHours {
        start_minute: 21 * 60,
        end_minute: 8 * 60,
    };

    #[test]
    fn windows_hold_their_start_not_their_end_and_may_span_midnight() {
        assert!(is_quiet(NIGHT, 21 * 60));
        assert!(is_quiet(NIGHT, 0));
        assert!(is_quiet(NIGHT, 8 * 60 - 1));
        assert!(!is_quiet(NIGHT, 8 * 60));
        assert!(!is_quiet(NIGHT, 12 * 60));
        let lunch = QuietHours {
            start_minute: 12 * 60,
            end_minute: 13 * 60,
        };
        assert!(is_quiet(lunch, 12 * 60 + 30) && !is_quiet(lunch, 13 * 60));
        assert!(!is_quiet(lunch, 11 * 60 + 59));
        let empty = QuietHours {
            start_minute: 600,
            end_minute: 600,
        };
        assert!(!is_quiet(empty, 600), "an empty window holds nothing");
        let bad = QuietHours {
            start_minute: 1500,
            end_minute: 60,
        };
        assert!(!is_quiet(bad, 30), "bounds past the day are ignored");
    }

    /// Each case: the window, the zone, when the text is due, when it may go (`None`: now).
    fn check(cases: &[(QuietHours, Tz, &str, Option<&str>)]) {
        for (quiet, zone, due, expected) in cases {
            let held = held_until(*quiet, *zone, at(due));
            assert_eq!(held, expected.map(at), "due {due} in {zone}");
        }
    }

    #[test]
    fn a_text_in_the_evening_waits_for_the_next_morning_in_the_customers_zone() {
        check(&[
            // 22:30 in Berlin (UTC+1 in January): held until 08:00 Berlin, 07:00 UTC.
            (
                NIGHT,
                Berlin,
                "2026-01-15T21:30:00Z",
                Some("2026-01-16T07:00:00Z"),
            ),
            // 03:00 in Berlin: the same morning.
            (
                NIGHT,
                Berlin,
                "2026-01-16T02:00:00Z",
                Some("2026-01-16T07:00:00Z"),
            ),
            // 08:00 sharp and noon: sent at once.
            (NIGHT, Berlin, "2026-01-16T07:00:00Z", None),
            (NIGHT, Berlin, "2026-01-16T11:00:00Z", None),
            // The same instant is daytime in Tokyo.
            (NIGHT, chrono_tz::Asia::Tokyo, "2026-01-16T02:00:00Z", None),
            // In summer Berlin is UTC+2: the end moves with the clock.
            (
                NIGHT,
                Berlin,
                "2026-07-01T01:00:00Z",
                Some("2026-07-01T06:00:00Z"),
            ),
        ]);
    }

    #[test]
    fn an_end_skipped_by_daylight_saving_is_the_first_instant_after_the_gap() {
        let early = QuietHours {
            start_minute: 22 * 60,
            end_minute: 2 * 60 + 30,
        };
        check(&[
            // Berlin, 29 March 2026: 02:00 jumps to 03:00, so 02:30 never shows; 03:00 CEST.
            (
                early,
                Berlin,
                "2026-03-28T23:30:00Z",
                Some("2026-03-29T01:00:00Z"),
            ),
            // 25 October 2026: 03:00 goes back to 02:00, so 02:30 shows twice; the first ends it.
            (
                early,
                Berlin,
                "2026-10-24T22:00:00Z",
                Some("2026-10-25T00:30:00Z"),
            ),
        ]);
    }

    #[test]
    fn the_zone_is_the_accounts_else_the_destinations_else_utc() {
        let mut tracking = parceld_store::NewTracking {
            tracking_number: "ZONE1".into(),
            courier_code: "sandbox".into(),
            courier_detected: false,
            fields: parceld_model::TrackingFields::default(),
            status_info: None,
            check_error: None,
        }
        .stored(parceld_model::TrackingId::generate(), Utc::now());
        assert_eq!(customer_zone(None, &tracking), Tz::UTC);
        tracking.shipment.destination_country = Some("US".into());
        tracking.shipment.destination_state = Some("CA".into());
        assert_eq!(
            customer_zone(None, &tracking),
            chrono_tz::America::Los_Angeles
        );
        tracking.fields.destination_country_iso2 = Some("DE".into());
        assert_eq!(
            customer_zone(None, &tracking),
            Berlin,
            "the merchant's first"
        );
        assert_eq!(
            customer_zone(Some("Asia/Tokyo"), &tracking),
            chrono_tz::Asia::Tokyo
        );
        assert_eq!(
            customer_zone(Some("Mars/Olympus"), &tracking),
            Berlin,
            "an invalid zone is no zone"
        );
    }
}
