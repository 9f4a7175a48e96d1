//! Time zones, resolved the way each carrier needs.
//!
//! Carriers send instants in four ways: ISO-8601 with an offset (FedEx, DHL Express), local
//! wall-clock plus a separate offset or UTC stamp (USPS, UPS `gmt*`), local wall-clock plus a
//! zone abbreviation (Canada Post `EST`), and local wall-clock with nothing at all (PostNL,
//! DHL parcel-de, some FedEx and UPS events). The last kind is resolved from what is known about
//! the place: the carrier's home zone, or the zone of the event's state or country. Every
//! checkpoint keeps the carrier's wall-clock time in `checkpoint_date`, with the offset we
//! resolved, so the raw time is never lost.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The display form of a checkpoint time: local wall-clock with its offset.
pub fn display(dt: &DateTime<FixedOffset>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// ISO-8601 / RFC 3339 with an offset or `Z` (fractional seconds allowed).
pub fn parse_with_offset(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text.trim()).ok()
}

/// A local date-time without an offset: `2024-08-15T00:00:00`, `2024-11-15 11:09:19.000000`,
/// `2024-08-15T00:00`.
pub fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN))
}

/// A carrier's timestamp as written: its wall-clock time, and its offset when it gives one.
pub type Stamp = (NaiveDateTime, Option<FixedOffset>);

/// Reads a timestamp in any of the spellings carriers use: ISO-8601 with an offset (`Z`,
/// `+01:00`, or `+0200` as GLS writes it), ISO without one ([`parse_naive`]), DPD's US-style
/// `8/17/2021 7:11:26 PM`, and the WCF JSON date Aramex sends (`/Date(1706788140000+0300)/`:
/// milliseconds since the epoch, with the local offset).
pub fn parse_stamp(text: &str) -> Option<Stamp> {
    let text = text.trim();
    if let Some(dt) = parse_with_offset(text)
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
    {
        return Some((dt.naive_local(), Some(*dt.offset())));
    }
    if let Some(local) = parse_naive(text)
        .or_else(|| NaiveDateTime::parse_from_str(text, "%m/%d/%Y %I:%M:%S %p").ok())
    {
        return Some((local, None));
    }
    wcf_date(text)
}

/// `/Date(1706788140000+0300)/` (or without the offset, then UTC).
fn wcf_date(text: &str) -> Option<Stamp> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let split = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let millis: i64 = inner[..split].parse().ok()?;
    let offset = match &inner[split..] {
        "" => FixedOffset::east_opt(0)?,
        zone => parse_offset(zone)?,
    };
    let utc = DateTime::<Utc>::from_timestamp_millis(millis)?;
    Some((utc.with_timezone(&offset).naive_local(), Some(offset)))
}

/// `-05:00`, `+0100`, `Z`.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.is_empty() {
        return FixedOffset::east_opt(0).filter(|_| !text.is_empty());
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => (1, text),
    };
    let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 | 4 => {
            let split = digits.len() - 2;
            (
                digits[..split].parse::<i32>().ok()?,
                digits[split..].parse::<i32>().ok()?,
            )
        }
        _ => return None,
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Wall-clock time in a named zone. Ambiguous times (the repeated hour in autumn) take the
/// earlier instant; non-existent times (the skipped spring hour) move one hour on.
pub fn in_zone(local: NaiveDateTime, zone: Tz) -> DateTime<FixedOffset> {
    let resolved = match zone.from_local_datetime(&local) {
        LocalResult::Single(dt) => Some(dt),
        LocalResult::Ambiguous(early, _) => Some(early),
        LocalResult::None => zone
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest(),
    };
    match resolved {
        Some(dt) => dt.fixed_offset(),
        None => Utc.from_utc_datetime(&local).fixed_offset(),
    }
}

/// Wall-clock time at a fixed offset.
pub fn at_offset(local: NaiveDateTime, offset: FixedOffset) -> DateTime<FixedOffset> {
    match offset.from_local_datetime(&local) {
        LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => dt,
        LocalResult::None => Utc.from_utc_datetime(&local).fixed_offset(),
    }
}

/// Wall-clock time taken as UTC, for carriers that give no zone and no place to infer one from.
pub fn as_utc(local: NaiveDateTime) -> DateTime<FixedOffset> {
    Utc.from_utc_datetime(&local).fixed_offset()
}

/// North American zone abbreviations as Canada Post sends them (`EST`, `PDT`, …).
pub fn abbreviation_offset(abbreviation: &str) -> Option<FixedOffset> {
    let hours_x2 = match abbreviation.trim().to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" => 0,
        "NST" => -7,
        "NDT" => -5,
        "AST" => -8,
        "ADT" => -6,
        "EST" => -10,
        "EDT" => -8,
        "CST" => -12,
        "CDT" => -10,
        "MST" => -14,
        "MDT" => -12,
        "PST" => -16,
        "PDT" => -14,
        "AKST" => -18,
        "AKDT" => -16,
        "HST" => -20,
        _ => return None,
    };
    FixedOffset::east_opt(hours_x2 * 1800)
}

/// The zone of a US state or Canadian province (its most populous zone), or of a country with
/// one zone. `None` when the place does not pin a zone down.
pub fn zone_for(country: &str, state: &str) -> Option<Tz> {
    use chrono_tz::America as A;
    let country = country.trim().to_ascii_uppercase();
    let state = state.trim().to_ascii_uppercase();
    match country.as_str() {
        "US" | "USA" | "" if !state.is_empty() => Some(match state.as_str() {
            "CT" | "DE" | "DC" | "FL" | "GA" | "IN" | "ME" | "MD" | "MA" | "MI" | "NH" | "NJ"
            | "NY" | "NC" | "OH" | "PA" | "RI" | "SC" | "VT" | "VA" | "WV" | "KY" => A::New_York,
            "AL" | "AR" | "IL" | "IA" | "KS" | "LA" | "MN" | "MS" | "MO" | "NE" | "ND" | "OK"
            | "SD" | "TN" | "TX" | "WI" => A::Chicago,
            "CO" | "MT" | "NM" | "UT" | "WY" | "ID" => A::Denver,
            "AZ" => A::Phoenix,
            "CA" | "NV" | "OR" | "WA" => A::Los_Angeles,
            "AK" => A::Anchorage,
            "HI" => chrono_tz::Pacific::Honolulu,
            "PR" | "VI" => A::Puerto_Rico,
            _ => return None,
        }),
        "CA" => Some(match state.as_str() {
            // `PQ` is Quebec's old abbreviation, still in Purolator's depot names.
            "ON" | "QC" | "PQ" => A::Toronto,
            "NS" | "NB" | "PE" => A::Halifax,
            "NL" => A::St_Johns,
            "MB" => A::Winnipeg,
            "SK" => A::Regina,
            "AB" | "NT" => A::Edmonton,
            "BC" | "YT" => A::Vancouver,
            "NU" => A::Iqaluit,
            _ => return None,
        }),
        "NL" => Some(chrono_tz::Europe::Amsterdam),
        "DE" => Some(chrono_tz::Europe::Berlin),
        "BE" => Some(chrono_tz::Europe::Brussels),
        "FR" => Some(chrono_tz::Europe::Paris),
        "GB" | "UK" => Some(chrono_tz::Europe::London),
        "IE" => Some(chrono_tz::Europe::Dublin),
        "IT" => Some(chrono_tz::Europe::Rome),
        "ES" => Some(chrono_tz::Europe::Madrid),
        "AT" => Some(chrono_tz::Europe::Vienna),
        "CH" => Some(chrono_tz::Europe::Zurich),
        "PL" => Some(chrono_tz::Europe::Warsaw),
        "CZ" => Some(chrono_tz::Europe::Prague),
        "DK" => Some(chrono_tz::Europe::Copenhagen),
        "SE" => Some(chrono_tz::Europe::Stockholm),
        "NO" => Some(chrono_tz::Europe::Oslo),
        "FI" => Some(chrono_tz::Europe::Helsinki),
        "LU" => Some(chrono_tz::Europe::Luxembourg),
        "AE" => Some(chrono_tz::Asia::Dubai),
        "SA" => Some(chrono_tz::Asia::Riyadh),
        "CN" => Some(chrono_tz::Asia::Shanghai),
        "HK" => Some(chrono_tz::Asia::Hong_Kong),
        "JP" => Some(chrono_tz::Asia::Tokyo),
        "SG" => Some(chrono_tz::Asia::Singapore),
        _ => None,
    }
}

/// How an event's wall-clock time is tied to an instant, when the carrier says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

impl Zone {
    pub fn resolve(self, local: NaiveDateTime) -> DateTime<FixedOffset> {
        match self {
            Zone::Fixed(offset) => at_offset(local, offset),
            Zone::Named(zone) => in_zone(local, zone),
        }
    }
}

/// Resolves wall-clock times whose zone may be unknown: an event without a zone borrows the
/// zone of the nearest event (by list position) that has one — events of one shipment are
/// usually near each other — and falls back to UTC when no event has one.
pub fn resolve_with_neighbours(
    items: &[(NaiveDateTime, Option<Zone>)],
) -> Vec<DateTime<FixedOffset>> {
    items
        .iter()
        .enumerate()
        .map(|(i, (local, zone))| {
            let zone = zone.or_else(|| {
                (1..items.len()).find_map(|d| {
                    let before = i.checked_sub(d).and_then(|j| items[j].1);
                    before.or_else(|| items.get(i + d).and_then(|item| item.1))
                })
            });
            match zone {
                Some(zone) => zone.resolve(*local),
                None => as_utc(*local),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_in_all_spellings() {
        assert_eq!(parse_offset("-05:00"), FixedOffset::west_opt(5 * 3600));
        assert_eq!(parse_offset("+0130"), FixedOffset::east_opt(5400));
        assert_eq!(parse_offset("Z"), FixedOffset::east_opt(0));
        assert_eq!(parse_offset(""), None);
    }

    #[test]
    fn zones_follow_daylight_saving() {
        let winter = parse_naive("2022-11-08 10:13:20").unwrap();
        let summer = parse_naive("2022-07-08T10:13:20").unwrap();
        let ams = chrono_tz::Europe::Amsterdam;
        assert_eq!(display(&in_zone(winter, ams)), "2022-11-08T10:13:20+01:00");
        assert_eq!(display(&in_zone(summer, ams)), "2022-07-08T10:13:20+02:00");
        // The skipped hour moves on; the repeated hour takes the earlier instant.
        let gap = parse_naive("2024-03-31T02:30:00").unwrap();
        assert_eq!(display(&in_zone(gap, ams)), "2024-03-31T03:30:00+02:00");
        let fold = parse_naive("2024-10-27T02:30:00").unwrap();
        assert_eq!(display(&in_zone(fold, ams)), "2024-10-27T02:30:00+02:00");
    }

    #[test]
    fn stamps_in_every_spelling() {
        // (text, local wall-clock, offset in hours when the text gives one)
        let cases = [
            ("2024-10-07T10:46:14+0200", "2024-10-07 10:46:14", Some(2)),
            ("2023-03-09T09:38:00+01:00", "2023-03-09 09:38:00", Some(1)),
            ("8/17/2021 7:11:26 PM", "2021-08-17 19:11:26", None),
            ("2019-03-05T13:07:00", "2019-03-05 13:07:00", None),
            // 1706788140000 ms is 2024-02-01T11:49:00Z; +0300 is Dubai's wall clock.
            ("/Date(1706788140000+0300)/", "2024-02-01 14:49:00", Some(3)),
            ("/Date(1706788140000)/", "2024-02-01 11:49:00", Some(0)),
        ];
        for (text, local, hours) in cases {
            let offset = hours.and_then(|h| FixedOffset::east_opt(h * 3600));
            let read = parse_stamp(text).map(|(l, o)| (l.to_string(), o));
            assert_eq!(read, Some((local.to_string(), offset)), "{text}");
        }
        for bad in ["", "soon", "/Date(x)/", "/Date(99999999999999999999)/"] {
            assert_eq!(parse_stamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn abbreviations_and_places() {
        assert_eq!(abbreviation_offset("est"), FixedOffset::west_opt(5 * 3600));
        assert_eq!(
            abbreviation_offset("NST"),
            FixedOffset::west_opt(3 * 3600 + 1800)
        );
        assert_eq!(zone_for("US", "NJ"), Some(chrono_tz::America::New_York));
        assert_eq!(zone_for("US", ""), None);
        assert_eq!(zone_for("nl", ""), Some(chrono_tz::Europe::Amsterdam));
    }
}
