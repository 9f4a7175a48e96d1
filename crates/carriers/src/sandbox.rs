//! The `sandbox` courier: no network, scripted journeys for trying parceld out and for tests.
//!
//! A number `SANDBOX-<JOURNEY>-<anything>` names its journey (stored normalized, as every number
//! is: `SANDBOXDELIVERED1` for `sandbox-delivered-1`, which names the same journey). Its events unfold one step per
//! `step_minutes` from the tracking's creation instant (passed in [`TrackRequest::created_at`]),
//! so the same number asked at the same instant always answers the same — tests control time by
//! passing instants to [`journey_at`] or by giving [`Sandbox::with_clock`] a clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parceld_model::{ShipmentInfo, SubStatus as Sub};

use crate::event::{checkpoint, Mapped, Place};
use crate::settings::CarrierSettings;
use crate::{Carrier, Shipment, TrackOutcome, TrackRequest, TrackResult};

/// Minutes between two sandbox events unless configured.
pub const DEFAULT_STEP_MINUTES: u64 = 5;

/// The journeys a sandbox number can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    Delivered,
    Undelivered,
    Exception,
    Returned,
    Customs,
    NotFound,
    Expired,
}

impl Journey {
    /// The journey a number names, if it is a sandbox number (case-insensitive; written with its
    /// dashes or normalized without them).
    pub fn of(number: &str) -> Option<Journey> {
        let upper: String = number
            .chars()
            .filter(|c| !parceld_model::is_number_separator(*c))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let rest = upper.strip_prefix("SANDBOX")?;
        [
            ("DELIVERED", Journey::Delivered),
            ("UNDELIVERED", Journey::Undelivered),
            ("EXCEPTION", Journey::Exception),
            ("RETURNED", Journey::Returned),
            ("CUSTOMS", Journey::Customs),
            ("NOTFOUND", Journey::NotFound),
            ("EXPIRED", Journey::Expired),
        ]
        .into_iter()
        .find(|(name, _)| rest.starts_with(name))
        .map(|(_, journey)| journey)
    }
}

type Step = (Mapped, &'static str, &'static str, Place);

fn place(city: &str, country: &str) -> Place {
    Place::new(city, "", "", country)
}

/// One scripted event: its sub-status (which names its status), raw code, text and place.
fn step(sub: Sub, code: &'static str, text: &'static str, city: &str, country: &str) -> Step {
    ((sub.status(), Some(sub)), code, text, place(city, country))
}

fn steps(journey: Journey) -> Vec<Step> {
    let label = step(
        Sub::Inforeceived001,
        "SB-LABEL",
        "Shipping label created, awaiting item",
        "Springfield",
        "US",
    );
    let picked = step(
        Sub::Transit001,
        "SB-PICKUP",
        "Picked up by the courier",
        "Springfield",
        "US",
    );
    let hub = step(
        Sub::Transit002,
        "SB-HUB",
        "Arrived at sorting hub",
        "Riverside",
        "US",
    );
    let depot = step(
        Sub::Transit003,
        "SB-DEPOT",
        "Arrived at delivery facility",
        "Shelbyville",
        "US",
    );
    let ofd = step(
        Sub::Pickup001,
        "SB-OFD",
        "Out for delivery",
        "Shelbyville",
        "US",
    );
    // Every journey starts along the same route; `along(n, more)` is its first `n` steps, then
    // `more`.
    let route = [label, picked, hub.clone(), depot, ofd];
    let along = |n: usize, more: Vec<Step>| -> Vec<Step> {
        route[..n].iter().cloned().chain(more).collect()
    };
    match journey {
        Journey::Delivered => along(
            5,
            vec![step(
                Sub::Delivered001,
                "SB-DELIVERED",
                "Delivered, front door",
                "Shelbyville",
                "US",
            )],
        ),
        Journey::Undelivered => along(
            5,
            vec![step(
                Sub::Undelivered002,
                "SB-NOTHOME",
                "Delivery attempted, nobody home; we will try again",
                "Shelbyville",
                "US",
            )],
        ),
        Journey::Exception => along(
            3,
            vec![step(
                Sub::Exception007,
                "SB-DAMAGED",
                "Package damaged in transit",
                "Riverside",
                "US",
            )],
        ),
        Journey::Returned => along(
            5,
            vec![
                step(
                    Sub::Exception009,
                    "SB-REFUSED",
                    "Refused by the recipient",
                    "Shelbyville",
                    "US",
                ),
                step(
                    Sub::Exception011,
                    "SB-RTS",
                    "Returning to sender",
                    "Shelbyville",
                    "US",
                ),
                hub,
                step(
                    Sub::Exception010,
                    "SB-RETURNED",
                    "Returned to sender",
                    "Springfield",
                    "US",
                ),
            ],
        ),
        Journey::Customs => along(
            1,
            vec![
                step(
                    Sub::Transit001,
                    "SB-PICKUP",
                    "Picked up by the courier",
                    "Shenzhen",
                    "CN",
                ),
                step(
                    Sub::Transit007,
                    "SB-DEPART",
                    "Departed from the airport",
                    "Hong Kong",
                    "HK",
                ),
                step(
                    Sub::Transit004,
                    "SB-ARRIVE",
                    "Arrived in the destination country",
                    "Amsterdam",
                    "NL",
                ),
                step(
                    Sub::Exception006,
                    "SB-CUSTOMS",
                    "Held by customs: documents required",
                    "Amsterdam",
                    "NL",
                ),
            ],
        ),
        Journey::Expired => along(2, vec![]),
        Journey::NotFound => vec![],
    }
}

/// What the sandbox says about `number` at `now` for a tracking created at `created_at`.
///
/// Step *i* happens at `created_at + i × step`, and is visible once `now` reaches it; the first
/// step is there right away. `EXPIRED` numbers instead carry two events dated 45 and 44 days
/// before creation and never move again, so parceld's expiry rule applies to them.
pub fn journey_at(
    number: &str,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    step: Duration,
) -> TrackResult {
    let Some(journey) = Journey::of(number) else {
        return TrackResult::NotFound;
    };
    let step = chrono::Duration::from_std(step).unwrap_or(chrono::Duration::minutes(5));
    // Instants past chrono's range (a huge configured step, a creation instant near its ends)
    // are steps never reached, not an overflow panic.
    let start = if journey == Journey::Expired {
        created_at.checked_sub_signed(chrono::Duration::days(45))
    } else {
        Some(created_at)
    };
    let Some(start) = start else {
        return TrackResult::NotFound;
    };
    let expired_step = chrono::Duration::days(1);
    let checkpoints: Vec<_> = steps(journey)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (mapped, code, text, place))| {
            let gap = if journey == Journey::Expired {
                expired_step
            } else {
                step
            };
            let at = gap
                .checked_mul(i as i32)
                .and_then(|offset| start.checked_add_signed(offset))?;
            Some((at, mapped, code, text, place))
        })
        .filter(|(at, ..)| *at <= now)
        .map(|(at, mapped, code, text, place)| {
            checkpoint(
                at.fixed_offset(),
                mapped,
                code,
                text,
                &place,
                &at.to_rfc3339(),
            )
        })
        .collect();
    if checkpoints.is_empty() {
        return TrackResult::NotFound;
    }
    let info = ShipmentInfo {
        service_code: Some("SANDBOX-GROUND".into()),
        weight: Some("1.2 kg".into()),
        weight_kg: Some("1.2".into()),
        pieces: Some("1".into()),
        origin_country: Some(
            if journey == Journey::Customs {
                "CN"
            } else {
                "US"
            }
            .into(),
        ),
        destination_country: Some(
            if journey == Journey::Customs {
                "NL"
            } else {
                "US"
            }
            .into(),
        ),
        signed_by: checkpoints
            .iter()
            .any(|c| c.raw_status == "SB-DELIVERED")
            .then(|| "J. DOE".to_string()),
        scheduled_delivery_date: step
            .checked_mul(5)
            .and_then(|offset| created_at.checked_add_signed(offset))
            .map(|at| at.format("%Y-%m-%d").to_string()),
        ..ShipmentInfo::default()
    };
    TrackResult::Found(Shipment::new(checkpoints, info))
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The sandbox courier.
#[derive(Clone)]
pub struct Sandbox {
    step: Duration,
    clock: Clock,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("step", &self.step).finish()
    }
}

impl Sandbox {
    pub fn new(step: Duration) -> Self {
        Sandbox {
            step,
            clock: Arc::new(Utc::now),
        }
    }

    pub fn from_settings(settings: &CarrierSettings) -> Self {
        let minutes = settings.step_minutes.unwrap_or(DEFAULT_STEP_MINUTES).max(1);
        Sandbox::new(Duration::from_secs(minutes * 60))
    }

    /// Uses `clock` instead of the wall clock for "now".
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

#[async_trait::async_trait]
impl Carrier for Sandbox {
    fn code(&self) -> &'static str {
        "sandbox"
    }

    fn max_batch(&self) -> usize {
        100
    }

    fn default_rate(&self) -> f64 {
        1000.0
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        let now = (self.clock)();
        batch
            .iter()
            .map(|r| {
                let created = r.created_at.unwrap_or(now);
                (
                    r.tracking_number.clone(),
                    Ok(journey_at(&r.tracking_number, created, now, self.step)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_model::DeliveryStatus as S;

    fn at(minutes: i64) -> DateTime<Utc> {
        "2025-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + chrono::Duration::minutes(minutes)
    }

    fn status(number: &str, minutes: i64) -> (S, Option<Sub>, usize) {
        match journey_at(number, at(0), at(minutes), Duration::from_secs(300)) {
            TrackResult::Found(s) => (s.status, s.substatus, s.checkpoints.len()),
            TrackResult::NotFound => (S::Notfound, None, 0),
        }
    }

    #[test]
    fn instants_out_of_chrono_range_are_steps_never_reached_not_a_panic() {
        let huge_step = Duration::from_secs(u64::from(u32::MAX) * 1_000_000);
        assert!(matches!(
            journey_at("SANDBOX-DELIVERED-1", at(0), at(1), huge_step),
            TrackResult::Found(ref s) if s.checkpoints.len() == 1
        ));
        let near_the_end = DateTime::<Utc>::MAX_UTC - chrono::Duration::minutes(1);
        assert!(matches!(
            journey_at("SANDBOX-DELIVERED-1", near_the_end, DateTime::<Utc>::MAX_UTC, Duration::from_secs(300)),
            TrackResult::Found(ref s) if s.checkpoints.len() == 1
        ));
        assert!(matches!(
            journey_at(
                "SANDBOX-EXPIRED-1",
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MAX_UTC,
                Duration::from_secs(300)
            ),
            TrackResult::NotFound
        ));
    }

    #[test]
    fn delivered_journey_unfolds_step_by_step() {
        for (number, minutes, expected) in [
            (
                "SANDBOX-DELIVERED-1",
                0,
                (S::Inforeceived, Some(Sub::Inforeceived001), 1),
            ),
            (
                "SANDBOX-DELIVERED-1",
                4,
                (S::Inforeceived, Some(Sub::Inforeceived001), 1),
            ),
            (
                "SANDBOX-DELIVERED-1",
                5,
                (S::Transit, Some(Sub::Transit001), 2),
            ),
            (
                "SANDBOX-DELIVERED-1",
                20,
                (S::Pickup, Some(Sub::Pickup001), 5),
            ),
            (
                "sandbox-delivered-x",
                25,
                (S::Delivered, Some(Sub::Delivered001), 6),
            ),
            (
                "SANDBOX-DELIVERED-1",
                9999,
                (S::Delivered, Some(Sub::Delivered001), 6),
            ),
        ] {
            assert_eq!(status(number, minutes), expected, "{number} at {minutes}");
        }
    }

    #[test]
    fn every_journey_ends_where_its_name_says() {
        assert_eq!(status("SANDBOX-UNDELIVERED-1", 999).0, S::Undelivered);
        assert_eq!(
            status("SANDBOX-EXCEPTION-1", 999).1,
            Some(Sub::Exception007)
        );
        assert_eq!(status("SANDBOX-RETURNED-1", 999).1, Some(Sub::Exception010));
        assert_eq!(status("SANDBOX-CUSTOMS-1", 999).1, Some(Sub::Exception006));
        assert_eq!(status("SANDBOX-NOTFOUND-1", 999).0, S::Notfound);
        assert_eq!(status("SANDBOX-BOGUS-1", 999).0, S::Notfound);
        assert_eq!(status("1Z999", 999).0, S::Notfound);
    }

    #[test]
    fn normalized_numbers_name_the_same_journey() {
        for (number, journey) in [
            ("SANDBOXDELIVERED1", Journey::Delivered),
            ("sandbox-undelivered-7", Journey::Undelivered),
            ("SANDBOXRETURNEDB0001", Journey::Returned),
            ("SANDBOX EXPIRED 2", Journey::Expired),
        ] {
            assert_eq!(Journey::of(number), Some(journey), "{number}");
        }
        assert_eq!(Journey::of("SANDBOXBOGUS1"), None);
        assert_eq!(Journey::of("DELIVERED1"), None);
    }

    #[test]
    fn transit_scan_during_return_keeps_the_exception() {
        // Step 7 is a hub scan after "returning to sender".
        assert_eq!(
            status("SANDBOX-RETURNED-1", 35),
            (S::Exception, Some(Sub::Exception011), 8)
        );
    }

    #[test]
    fn expired_events_are_old_and_never_move() {
        let TrackResult::Found(s) = journey_at(
            "SANDBOX-EXPIRED-1",
            at(0),
            at(60 * 24 * 10),
            Duration::from_secs(300),
        ) else {
            panic!("expected events");
        };
        assert_eq!(s.checkpoints.len(), 2);
        assert!(s.checkpoints[0].time < at(-60 * 24 * 40));
    }

    #[tokio::test]
    async fn track_is_reproducible_with_a_fixed_clock() {
        let sandbox = Sandbox::new(Duration::from_secs(300)).with_clock(|| at(12));
        let request = TrackRequest {
            created_at: Some(at(0)),
            ..TrackRequest::new("SANDBOX-DELIVERED-7")
        };
        let a = sandbox.track(std::slice::from_ref(&request)).await;
        let b = sandbox.track(&[request]).await;
        assert_eq!(a, b);
        let Ok(TrackResult::Found(s)) = &a[0].1 else {
            panic!("{a:?}")
        };
        assert_eq!(s.checkpoints.len(), 3);
        assert_eq!(s.checkpoints[0].raw_status, "SB-HUB");
    }
}
