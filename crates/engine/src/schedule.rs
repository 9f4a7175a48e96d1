//! The refresh policy as a pure function: given a claimed tracking and the carrier's answer,
//! the tracking's next state and when to check it again.
//!
//! Kept free of I/O so every rule — cadence by courier type, early re-checks while pending,
//! expiry, back-off, stopping at the end of the journey — is tested directly.

use chrono::{DateTime, Duration, Utc};
use parceld_carriers::{CarrierError, TrackOutcome, TrackResult};
use parceld_model::normalize::is_terminal;
use parceld_model::{Checkpoint, CourierType, DeliveryStatus, SubStatus};
use parceld_store::{ClaimedTracking, RefreshUpdate};
use rand::Rng;

use crate::EngineSettings;

/// Final exceptions after which nothing more will happen.
fn is_final(status: DeliveryStatus, substatus: Option<SubStatus>) -> bool {
    status == DeliveryStatus::Delivered
        || status == DeliveryStatus::Expired
        || (status == DeliveryStatus::Exception
            && matches!(
                substatus,
                Some(
                    SubStatus::Exception007
                        | SubStatus::Exception008
                        | SubStatus::Exception009
                        | SubStatus::Exception010
                )
            ))
}

/// Whether a stored status came from carrier events (not a placeholder before any answer).
fn has_status(status: DeliveryStatus) -> bool {
    !matches!(
        status,
        DeliveryStatus::Pending | DeliveryStatus::Notfound | DeliveryStatus::Expired
    )
}

/// The journey is over (delivered, or a final exception): nothing the carrier answers later,
/// not even a failure or "not found", makes parceld check it again. An expired tracking is not
/// over in this sense: a retrack resumes it.
fn journey_over(claimed: &ClaimedTracking) -> bool {
    claimed.delivery_status != DeliveryStatus::Expired
        && is_final(claimed.delivery_status, claimed.substatus)
}

/// Moves `delay` by up to ±`jitter` of itself.
fn jittered(delay: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return delay;
    }
    let factor = rand::thread_rng().gen_range(1.0 - jitter..=1.0 + jitter);
    Duration::milliseconds((delay.num_milliseconds() as f64 * factor) as i64)
}

/// When to look again at a tracking that is still waiting for its first real answer.
fn early_or_cadence(
    claimed: &ClaimedTracking,
    now: DateTime<Utc>,
    cadence: Duration,
    settings: &EngineSettings,
) -> Duration {
    let age = now - claimed.created_at;
    let mut elapsed = Duration::zero();
    for delay in &settings.early_checks_secs {
        elapsed += Duration::seconds(*delay);
        if age < elapsed {
            return Duration::seconds(*delay).min(cadence);
        }
    }
    cadence
}

/// How an answer's events stand against the stored newest event.
struct Standing<'a> {
    /// The stored status stays: the answer does not show the journey's newest point.
    keep_status: bool,
    /// The event to show as the latest; `None` keeps the stored one.
    newest_event: Option<&'a Checkpoint>,
}

/// Compares the answer's newest events (those at its latest instant, to the second, as stored)
/// with the stored newest event, so that the status and latest event follow the merged
/// checkpoints rather than the answer alone:
/// - no stored event, or a newer instant: the answer leads;
/// - an older instant (old scans dropped): the stored status and event stay;
/// - the same instant, where time cannot tell which came later: the answer leads only if it
///   still shows the stored newest event (same description), so it is a full view of that
///   instant, or if it is terminal (delivered or a final exception is never held back). An
///   answer that shows other events at that instant but not the stored one may have dropped it:
///   the stored status and event stay.
///
/// When the answer leads, its first event at that instant is the latest. The answer is newest
/// first with the events of one instant in the carrier's order (carriers list newest first), the
/// order its status is derived in too (`parceld_model::normalize`), so the latest event and the
/// status name the same event. The outcome depends only on the answer and the stored state.
fn against_stored<'a>(
    claimed: &ClaimedTracking,
    answer: &'a [Checkpoint],
    answer_terminal: bool,
) -> Standing<'a> {
    let Some(answer_time) = answer.iter().map(|c| c.time.timestamp()).max() else {
        return Standing {
            keep_status: true,
            newest_event: None,
        };
    };
    let at_newest = || answer.iter().filter(|c| c.time.timestamp() == answer_time);
    let leads = |newest_event| Standing {
        keep_status: false,
        newest_event,
    };
    let stays = Standing {
        keep_status: true,
        newest_event: None,
    };
    let Some(stored_time) = claimed.latest_checkpoint_time.map(|t| t.timestamp()) else {
        return leads(at_newest().next());
    };
    let stored_event = claimed.latest_event.as_deref();
    let is_stored = |c: &Checkpoint| Some(c.detail.as_str()) == stored_event;
    match answer_time.cmp(&stored_time) {
        std::cmp::Ordering::Greater => leads(at_newest().next()),
        std::cmp::Ordering::Less => stays,
        std::cmp::Ordering::Equal if answer_terminal || at_newest().any(is_stored) => {
            leads(at_newest().next())
        }
        std::cmp::Ordering::Equal => stays,
    }
}

/// The next state of `claimed` after the carrier answered `outcome` at `now`.
pub fn next_state(
    claimed: &ClaimedTracking,
    outcome: TrackOutcome,
    courier_type: CourierType,
    now: DateTime<Utc>,
    settings: &EngineSettings,
) -> RefreshUpdate {
    let cadence = settings.cadence(&claimed.courier_code, courier_type);
    let mut update = RefreshUpdate {
        pk: claimed.pk,
        checkpoints: Vec::new(),
        shipment: None,
        delivery_status: claimed.delivery_status,
        substatus: claimed.substatus,
        status_info: None,
        latest_event: None,
        latest_checkpoint_time: claimed.latest_checkpoint_time,
        check_error: None,
        check_failures: 0,
        notfound_since: None,
        next_check_at: None,
        checked_at: now,
    };
    match outcome {
        Ok(TrackResult::Found(shipment)) if !shipment.checkpoints.is_empty() => {
            let (mut status, mut substatus) = (shipment.status, shipment.substatus);
            // Carriers drop old scans, so an answer can be shorter than what is stored. The
            // stored checkpoints stay (they are merged by fingerprint), so the status and the
            // latest event must follow the merged list (see `against_stored`); an answer that
            // carries no status at all leaves the status as it is. A retracked tracking is
            // `pending` again and takes the answer's status.
            let standing = against_stored(
                claimed,
                &shipment.checkpoints,
                is_terminal(status, substatus),
            );
            let statusless = matches!(status, DeliveryStatus::Notfound | DeliveryStatus::Pending);
            if has_status(claimed.delivery_status) && (standing.keep_status || statusless) {
                status = claimed.delivery_status;
                substatus = claimed.substatus;
            }
            // A terminal state already reached is never replaced by a non-terminal one.
            if is_terminal(claimed.delivery_status, claimed.substatus)
                && !is_terminal(status, substatus)
            {
                status = claimed.delivery_status;
                substatus = claimed.substatus;
            }
            update.delivery_status = status;
            update.substatus = substatus;
            // `latest_event: None` keeps the stored one.
            if let Some(newest) = standing.newest_event {
                update.latest_event = Some(newest.detail.clone());
                update.latest_checkpoint_time = Some(newest.time);
            }
            update.checkpoints = shipment.checkpoints;
            update.shipment = Some(shipment.info);
            let stale_since = update.latest_checkpoint_time.unwrap_or(now);
            if is_final(status, substatus) {
                update.next_check_at = None;
            } else if now - stale_since > settings.stale_expiry(courier_type) {
                expire(
                    &mut update,
                    format!(
                        "No new tracking event for {} days",
                        (now - stale_since).num_days()
                    ),
                );
            } else {
                update.next_check_at = Some(now + jittered(cadence, settings.jitter));
            }
        }
        Ok(_) => {
            // The carrier knows nothing (yet). A tracking that already had events keeps them
            // and its status; a new one becomes `notfound`.
            if matches!(
                claimed.delivery_status,
                DeliveryStatus::Pending | DeliveryStatus::Notfound
            ) {
                update.delivery_status = DeliveryStatus::Notfound;
                update.substatus = Some(SubStatus::Notfound002);
            }
            let since = claimed.notfound_since.unwrap_or(now);
            update.notfound_since = Some(since);
            if journey_over(claimed) {
                update.notfound_since = None;
                update.next_check_at = None;
            } else if now - since > Duration::seconds(settings.notfound_expire_secs) {
                expire(
                    &mut update,
                    format!(
                        "The courier has not known this number for {} days",
                        (now - since).num_days()
                    ),
                );
            } else {
                update.status_info =
                    Some("The courier has no information about this number yet.".to_string());
                update.next_check_at = Some(
                    now + jittered(
                        early_or_cadence(claimed, now, cadence, settings),
                        settings.jitter,
                    ),
                );
            }
        }
        Err(error) => {
            let failures = claimed.check_failures + 1;
            update.check_failures = failures;
            update.notfound_since = claimed.notfound_since;
            update.check_error = Some(error.to_string());
            update.status_info = Some(format!(
                "The last check failed ({} in a row); stored data is kept and parceld will try again.",
                failures
            ));
            let exponent = (failures - 1).clamp(0, 20) as u32;
            let backoff =
                Duration::seconds(settings.backoff_base_secs.saturating_mul(1 << exponent))
                    .min(cadence);
            let wait = match &error {
                CarrierError::Retryable {
                    retry_after: Some(after),
                    ..
                } => backoff.max(Duration::from_std(*after).unwrap_or(backoff)),
                _ => backoff,
            };
            update.next_check_at =
                (!journey_over(claimed)).then(|| now + jittered(wait, settings.jitter));
        }
    }
    update
}

/// Stops refreshing the tracking for `why`: it becomes `expired` and a retrack resumes it.
fn expire(update: &mut RefreshUpdate, why: String) {
    update.delivery_status = DeliveryStatus::Expired;
    update.substatus = Some(SubStatus::Expired001);
    update.status_info = Some(format!("{why}; refresh stopped. Retrack to resume."));
    update.next_check_at = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_carriers::Shipment;
    use parceld_model::{ShipmentInfo, TrackingFields, TrackingId};

    fn claimed(
        status: DeliveryStatus,
        created_ago: Duration,
        now: DateTime<Utc>,
    ) -> ClaimedTracking {
        ClaimedTracking {
            pk: 1,
            id: TrackingId::generate(),
            account_id: 1,
            tracking_number: "N".into(),
            courier_code: "ups".into(),
            fields: TrackingFields::default(),
            created_at: now - created_ago,
            delivery_status: status,
            substatus: None,
            latest_event: None,
            latest_checkpoint_time: None,
            check_failures: 0,
            notfound_since: None,
        }
    }

    fn event(time: DateTime<Utc>, status: DeliveryStatus, sub: Option<SubStatus>) -> Checkpoint {
        Checkpoint {
            substatus: sub,
            detail: format!("{status}"),
            ..Checkpoint::at(time, status)
        }
    }

    /// The state after a check with the test settings (no jitter).
    fn checked(
        c: &ClaimedTracking,
        outcome: TrackOutcome,
        courier_type: CourierType,
        now: DateTime<Utc>,
    ) -> RefreshUpdate {
        let settings = EngineSettings {
            jitter: 0.0,
            ..EngineSettings::default()
        };
        next_state(c, outcome, courier_type, now, &settings)
    }

    /// A tracking three days old in transit, and its one transit event an hour ago.
    fn in_transit(now: DateTime<Utc>) -> (ClaimedTracking, Vec<Checkpoint>) {
        let c = claimed(DeliveryStatus::Transit, Duration::days(3), now);
        let events = vec![event(
            now - Duration::hours(1),
            DeliveryStatus::Transit,
            None,
        )];
        (c, events)
    }

    fn found(events: Vec<Checkpoint>) -> TrackOutcome {
        Ok(TrackResult::Found(Shipment::new(
            events,
            ShipmentInfo::default(),
        )))
    }

    #[test]
    fn cadence_follows_the_courier_type() {
        let now = Utc::now();
        let (c, events) = in_transit(now);
        let express = checked(&c, found(events.clone()), CourierType::Express, now);
        assert_eq!(express.next_check_at, Some(now + Duration::hours(3)));
        let postal = checked(&c, found(events), CourierType::Postal, now);
        assert_eq!(postal.next_check_at, Some(now + Duration::hours(6)));
        assert_eq!(postal.delivery_status, DeliveryStatus::Transit);
        assert_eq!(postal.latest_event.as_deref(), Some("transit"));
    }

    #[test]
    fn jitter_spreads_checks_within_its_bounds() {
        let now = Utc::now();
        let (c, events) = in_transit(now);
        let s = EngineSettings::default();
        let times: std::collections::HashSet<_> = (0..20)
            .map(|_| {
                next_state(&c, found(events.clone()), CourierType::Express, now, &s)
                    .next_check_at
                    .unwrap()
            })
            .collect();
        assert!(times.len() > 1, "not all the same");
        for t in times {
            let delay = (t - now).num_seconds();
            assert!((9720..=11880).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn new_trackings_are_rechecked_early_while_not_found() {
        let now = Utc::now();
        let fresh = claimed(DeliveryStatus::Pending, Duration::minutes(1), now);
        let u = checked(&fresh, Ok(TrackResult::NotFound), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Notfound);
        assert_eq!(u.next_check_at, Some(now + Duration::minutes(15)));
        assert_eq!(u.notfound_since, Some(now));
        let older = claimed(DeliveryStatus::Notfound, Duration::minutes(30), now);
        let u = checked(&older, Ok(TrackResult::NotFound), CourierType::Express, now);
        assert_eq!(u.next_check_at, Some(now + Duration::hours(1)));
        let old = claimed(DeliveryStatus::Notfound, Duration::hours(5), now);
        let u = checked(&old, Ok(TrackResult::NotFound), CourierType::Postal, now);
        assert_eq!(u.next_check_at, Some(now + Duration::hours(6)));
    }

    #[test]
    fn expiry_rules() {
        let now = Utc::now();
        let mut c = claimed(DeliveryStatus::Notfound, Duration::days(40), now);
        c.notfound_since = Some(now - Duration::days(31));
        let u = checked(&c, Ok(TrackResult::NotFound), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Expired);
        assert_eq!(u.next_check_at, None);

        let c = claimed(DeliveryStatus::Transit, Duration::days(80), now);
        let stale = vec![event(
            now - Duration::days(31),
            DeliveryStatus::Transit,
            None,
        )];
        let u = checked(&c, found(stale.clone()), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Expired);
        assert_eq!(u.next_check_at, None);
        let u = checked(&c, found(stale), CourierType::Postal, now);
        assert_eq!(
            u.delivery_status,
            DeliveryStatus::Transit,
            "postal waits 60 days"
        );
        assert!(u.next_check_at.is_some());
    }

    #[test]
    fn refresh_stops_when_delivered_or_finally_excepted() {
        let now = Utc::now();
        let c = claimed(DeliveryStatus::Transit, Duration::days(3), now);
        let delivered = vec![
            event(now - Duration::hours(5), DeliveryStatus::Transit, None),
            event(
                now - Duration::hours(1),
                DeliveryStatus::Delivered,
                Some(SubStatus::Delivered001),
            ),
        ];
        let u = checked(&c, found(delivered), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Delivered);
        assert_eq!(u.next_check_at, None);
        // Each exception, and whether refreshing goes on after it.
        for (sub, goes_on, why) in [
            (
                SubStatus::Exception010,
                false,
                "returned to the sender: final",
            ),
            (
                SubStatus::Exception006,
                true,
                "a customs hold may still resolve",
            ),
        ] {
            let exception = vec![event(now, DeliveryStatus::Exception, Some(sub))];
            let u = checked(&c, found(exception), CourierType::Express, now);
            assert_eq!(u.next_check_at.is_some(), goes_on, "{why}");
        }
    }

    #[test]
    fn a_terminal_state_is_not_downgraded_by_a_later_refresh() {
        let now = Utc::now();
        let mut c = claimed(DeliveryStatus::Exception, Duration::days(3), now);
        c.substatus = Some(SubStatus::Exception011);
        let transit_only = vec![event(now, DeliveryStatus::Transit, None)];
        let u = checked(&c, found(transit_only), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Exception);
        assert_eq!(u.substatus, Some(SubStatus::Exception011));
    }

    #[test]
    fn a_shorter_answer_never_moves_status_or_latest_event_backwards() {
        let now = Utc::now();
        let label = event(
            now - Duration::hours(10),
            DeliveryStatus::Inforeceived,
            Some(SubStatus::Inforeceived001),
        );
        let pickup = event(
            now - Duration::hours(2),
            DeliveryStatus::Pickup,
            Some(SubStatus::Pickup001),
        );
        let mut c = claimed(DeliveryStatus::Pickup, Duration::days(1), now);
        c.substatus = Some(SubStatus::Pickup001);
        c.latest_checkpoint_time = Some(pickup.time);
        // The carrier dropped the pickup scan and answers with the label event alone.
        let u = checked(&c, found(vec![label.clone()]), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Pickup);
        assert_eq!(u.substatus, Some(SubStatus::Pickup001));
        assert_eq!(u.latest_event, None, "the stored latest event is kept");
        assert_eq!(u.latest_checkpoint_time, Some(pickup.time));
        assert!(u.next_check_at.is_some());
        assert_eq!(u.checkpoints, vec![label.clone()], "still merged");

        // A delivered tracking stays delivered, keeps its latest event and is not rechecked.
        let mut d = claimed(DeliveryStatus::Delivered, Duration::days(2), now);
        d.substatus = Some(SubStatus::Delivered001);
        d.latest_checkpoint_time = Some(now - Duration::hours(1));
        let u = checked(&d, found(vec![label.clone()]), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Delivered);
        assert_eq!(u.latest_event, None);
        assert_eq!(u.latest_checkpoint_time, d.latest_checkpoint_time);
        assert_eq!(u.next_check_at, None);
        for outcome in [
            Ok(TrackResult::NotFound),
            Err(CarrierError::retryable("HTTP 503")),
        ] {
            let u = checked(&d, outcome, CourierType::Express, now);
            assert_eq!(u.delivery_status, DeliveryStatus::Delivered);
            assert_eq!(u.next_check_at, None, "a delivered tracking stops");
        }

        // A newer answer still moves the tracking on.
        let transit = event(now, DeliveryStatus::Transit, Some(SubStatus::Transit001));
        let u = checked(&c, found(vec![transit.clone()]), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Transit);
        assert_eq!(u.latest_event.as_deref(), Some("transit"));
        assert_eq!(u.latest_checkpoint_time, Some(transit.time));

        // A retracked (pending again) tracking takes the answer's status.
        let mut r = c.clone();
        r.delivery_status = DeliveryStatus::Pending;
        r.substatus = None;
        let u = checked(&r, found(vec![label]), CourierType::Express, now);
        assert_eq!(u.delivery_status, DeliveryStatus::Inforeceived);
    }

    #[test]
    fn a_tie_at_the_newest_instant_follows_what_the_answer_shows() {
        let now = Utc::now();
        let at = now - Duration::hours(2);
        let label = event(
            now - Duration::hours(10),
            DeliveryStatus::Inforeceived,
            Some(SubStatus::Inforeceived001),
        );
        let pickup = event(at, DeliveryStatus::Pickup, Some(SubStatus::Pickup001));
        let transit = event(at, DeliveryStatus::Transit, Some(SubStatus::Transit001));
        let delivered = event(at, DeliveryStatus::Delivered, Some(SubStatus::Delivered001));
        let mut c = claimed(DeliveryStatus::Pickup, Duration::days(1), now);
        c.substatus = Some(SubStatus::Pickup001);
        c.latest_event = Some(pickup.detail.clone());
        c.latest_checkpoint_time = Some(at);
        let check = |events: Vec<Checkpoint>| checked(&c, found(events), CourierType::Express, now);

        // The same answer again: nothing moves.
        let u = check(vec![pickup.clone(), label.clone()]);
        assert_eq!(u.delivery_status, DeliveryStatus::Pickup);
        assert_eq!(u.latest_event.as_deref(), Some("pickup"));
        assert_eq!(u.latest_checkpoint_time, Some(at));

        // The stored newest event is dropped and another of the same second remains: the
        // answer may have lost the journey's newest point, so nothing moves.
        let u = check(vec![
            event(
                at,
                DeliveryStatus::Inforeceived,
                Some(SubStatus::Inforeceived001),
            ),
            label.clone(),
        ]);
        assert_eq!(u.delivery_status, DeliveryStatus::Pickup);
        assert_eq!(u.substatus, Some(SubStatus::Pickup001));
        assert_eq!(u.latest_event, None);

        // The stored event is still there and a new one shares its second: the answer leads,
        // and the carrier's order (newest first) decides which of the two is the latest, the
        // same order its status comes from, so both name the same event.
        for (events, latest, status) in [
            (
                vec![transit.clone(), pickup.clone(), label.clone()],
                "transit",
                DeliveryStatus::Transit,
            ),
            (
                vec![pickup.clone(), transit.clone(), label.clone()],
                "pickup",
                DeliveryStatus::Pickup,
            ),
        ] {
            let u = check(events.clone());
            assert_eq!(u.latest_event.as_deref(), Some(latest), "{events:?}");
            assert_eq!(u.delivery_status, status, "{events:?}");
            assert_eq!(u.latest_checkpoint_time, Some(at));
        }

        // A delivery at the same second is never held back, even without the stored event.
        let u = check(vec![delivered.clone(), label.clone()]);
        assert_eq!(u.delivery_status, DeliveryStatus::Delivered);
        assert_eq!(u.latest_event.as_deref(), Some("delivered"));
        assert_eq!(u.next_check_at, None);

        // Each outcome is the same on every run: it depends on the answer and the stored state.
        for _ in 0..3 {
            let u = check(vec![transit.clone(), pickup.clone(), label.clone()]);
            assert_eq!(u.latest_event.as_deref(), Some("transit"));
        }
    }

    #[test]
    fn errors_back_off_exponentially_keep_the_status_and_honour_retry_after() {
        let now = Utc::now();
        let mut c = claimed(DeliveryStatus::Transit, Duration::days(3), now);
        c.latest_checkpoint_time = Some(now - Duration::hours(2));
        let mut waits = Vec::new();
        for failures in 0..7 {
            c.check_failures = failures;
            let u = checked(
                &c,
                Err(CarrierError::retryable("HTTP 503")),
                CourierType::Express,
                now,
            );
            assert_eq!(u.delivery_status, DeliveryStatus::Transit);
            assert_eq!(u.check_failures, failures + 1);
            assert_eq!(u.latest_checkpoint_time, c.latest_checkpoint_time);
            assert!(u.check_error.as_deref().unwrap().contains("503"));
            waits.push((u.next_check_at.unwrap() - now).num_seconds());
        }
        assert_eq!(
            waits,
            [300, 600, 1200, 2400, 4800, 9600, 10800],
            "capped at the cadence"
        );
        c.check_failures = 0;
        let u = checked(
            &c,
            Err(CarrierError::Retryable {
                reason: "429".into(),
                retry_after: Some(std::time::Duration::from_secs(900)),
            }),
            CourierType::Express,
            now,
        );
        assert_eq!(u.next_check_at, Some(now + Duration::seconds(900)));
    }
}
