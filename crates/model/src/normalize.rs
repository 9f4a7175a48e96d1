//! Normalization shared by every carrier adapter and by whoever merges checkpoints: order,
//! de-duplication and the shipment status derived from the events.
//!
//! Carriers disagree on order (newest first, oldest first, ties, the odd event out of place) and
//! on which events carry a status at all, so adapters map each event on its own and then hand the
//! list to [`normalize`]. The rules live here once so that every carrier ends up with the same
//! semantics:
//!
//! * checkpoints are ordered newest first by their UTC instant, never by the carrier's list order;
//! * the same event twice (same [`Checkpoint::fingerprint`]) is kept once;
//! * the status comes from the newest *status-bearing* event; an informational event (an adapter
//!   marks it with the service-only status `pending`, see [`INFORMATIONAL`]) never decides it;
//! * terminal states are never downgraded: once delivered, or once a return has started (refused,
//!   returning, returned), later non-terminal scans keep the terminal status and its sub-status.

use std::collections::HashSet;

use crate::{Checkpoint, DeliveryStatus, SubStatus};

/// The status an adapter gives to an informational event (UPS `U` updates, Canada Post
/// "signature image recorded", PostNL status 99 …). `pending` never comes from a carrier, so it
/// is free to mean "this event carries no status of its own". [`normalize`] replaces it with the
/// status of the event before it.
pub const INFORMATIONAL: DeliveryStatus = DeliveryStatus::Pending;

/// Whether a checkpoint decides the shipment status. `pending` and `expired` are service-derived
/// and never come from a carrier, so events carrying them are informational.
pub fn is_status_bearing(checkpoint: &Checkpoint) -> bool {
    !matches!(
        checkpoint.status,
        DeliveryStatus::Pending | DeliveryStatus::Expired
    )
}

/// Whether a status / sub-status pair is terminal: delivered, or an exception that means the
/// parcel is going (or went) back to the sender.
pub fn is_terminal(status: DeliveryStatus, substatus: Option<SubStatus>) -> bool {
    match status {
        DeliveryStatus::Delivered => true,
        DeliveryStatus::Exception => matches!(
            substatus,
            Some(SubStatus::Exception009 | SubStatus::Exception010 | SubStatus::Exception011)
        ),
        _ => false,
    }
}

/// The shipment status of a set of checkpoints (any order): the newest status-bearing event by
/// UTC instant wins, except that a terminal state is only replaced by another terminal state.
/// A delivery scan after a return started means the parcel reached the sender again, so it
/// becomes "returned to sender" (`exception010`) rather than `delivered`.
///
/// With no status-bearing checkpoint the answer is `notfound` (the carrier answered but has
/// nothing yet).
pub fn derive_status(checkpoints: &[Checkpoint]) -> (DeliveryStatus, Option<SubStatus>) {
    let mut events: Vec<&Checkpoint> = checkpoints
        .iter()
        .filter(|c| is_status_bearing(c))
        .collect();
    // Oldest first; equal instants keep the carrier's order reversed (carriers list newest
    // first, so the later-listed event of a tie is the older one).
    events.reverse();
    events.sort_by_key(|c| c.time);

    let mut current: Option<(DeliveryStatus, Option<SubStatus>)> = None;
    for event in events {
        let next = (event.status, event.substatus);
        current = Some(match current {
            Some(state) if is_terminal(state.0, state.1) => {
                let returning = state.0 == DeliveryStatus::Exception
                    && matches!(
                        state.1,
                        Some(SubStatus::Exception009 | SubStatus::Exception011)
                    );
                if next.0 == DeliveryStatus::Delivered && returning {
                    (DeliveryStatus::Exception, Some(SubStatus::Exception010))
                } else if is_terminal(next.0, next.1) {
                    next
                } else {
                    state
                }
            }
            _ => next,
        });
    }
    current.unwrap_or((DeliveryStatus::Notfound, None))
}

/// Sorts checkpoints newest first by UTC instant. The sort is stable, so events with the same
/// instant keep the carrier's order.
pub fn sort_newest_first(checkpoints: &mut [Checkpoint]) {
    checkpoints.sort_by_key(|c| std::cmp::Reverse(c.time));
}

/// Drops checkpoints whose fingerprint was already seen, keeping the first occurrence.
pub fn dedup(checkpoints: &mut Vec<Checkpoint>) {
    let mut seen = HashSet::new();
    checkpoints.retain(|c| seen.insert(c.fingerprint()));
}

/// Gives each informational checkpoint the status of the newest status-bearing event at or
/// before its instant (or `inforeceived` when there is none), so stored checkpoints always show
/// a real status. A signature recorded in the same second as a delivery shows `delivered`.
pub fn fill_informational(checkpoints: &mut [Checkpoint]) {
    let bearing: Vec<(
        chrono::DateTime<chrono::Utc>,
        DeliveryStatus,
        Option<SubStatus>,
    )> = checkpoints
        .iter()
        .filter(|c| is_status_bearing(c))
        .map(|c| (c.time, c.status, c.substatus))
        .collect();
    for checkpoint in checkpoints.iter_mut().filter(|c| !is_status_bearing(c)) {
        let (status, substatus) = bearing
            .iter()
            .filter(|(time, ..)| *time <= checkpoint.time)
            .max_by_key(|(time, ..)| *time)
            .map(|(_, status, sub)| (*status, *sub))
            .unwrap_or((DeliveryStatus::Inforeceived, None));
        checkpoint.status = status;
        checkpoint.substatus = substatus;
    }
}

/// The whole pipeline adapters run on a carrier answer: de-duplicate, sort newest first, derive
/// the status (ignoring informational events), then fill informational events in.
pub fn normalize(checkpoints: &mut Vec<Checkpoint>) -> (DeliveryStatus, Option<SubStatus>) {
    sort_newest_first(checkpoints);
    dedup(checkpoints);
    let status = derive_status(checkpoints);
    fill_informational(checkpoints);
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(time: &str, status: DeliveryStatus, sub: Option<SubStatus>, code: &str) -> Checkpoint {
        Checkpoint {
            checkpoint_date: time.into(),
            substatus: sub,
            detail: format!("event {code}"),
            raw_status: code.into(),
            ..Checkpoint::at(time.parse().unwrap(), status)
        }
    }

    /// A checkpoint with sub-status `sub`, and the status it refines.
    fn sub_cp(time: &str, sub: SubStatus, code: &str) -> Checkpoint {
        cp(time, sub.status(), Some(sub), code)
    }

    use DeliveryStatus::*;

    /// Each list of checkpoints derives the status and sub-status beside it.
    #[test]
    fn derived_statuses() {
        let cases = vec![
            (
                "the newest event by instant wins, not list order",
                vec![
                    cp("2024-01-01T10:00:00Z", Transit, None, "a"),
                    sub_cp("2024-01-03T10:00:00Z", SubStatus::Pickup001, "c"),
                    cp("2024-01-02T10:00:00Z", Transit, None, "b"),
                ],
                (Pickup, Some(SubStatus::Pickup001)),
            ),
            (
                "informational events do not decide",
                vec![
                    cp("2024-01-05T10:00:00Z", INFORMATIONAL, None, "info"),
                    sub_cp("2024-01-03T10:00:00Z", SubStatus::Delivered001, "d"),
                ],
                (Delivered, Some(SubStatus::Delivered001)),
            ),
            ("no events is notfound", vec![], (Notfound, None)),
            (
                "only informational events is notfound",
                vec![cp("2024-01-05T10:00:00Z", INFORMATIONAL, None, "i")],
                (Notfound, None),
            ),
            (
                "a transit scan after the return started keeps the exception",
                vec![
                    sub_cp("2024-01-04T10:00:00Z", SubStatus::Transit002, "t"),
                    sub_cp("2024-01-03T10:00:00Z", SubStatus::Exception011, "rts"),
                    sub_cp("2024-01-02T10:00:00Z", SubStatus::Pickup001, "ofd"),
                ],
                (Exception, Some(SubStatus::Exception011)),
            ),
            (
                "delivered is not downgraded by a later transit scan",
                vec![
                    sub_cp("2024-01-02T10:00:00Z", SubStatus::Delivered003, "d"),
                    cp("2024-01-03T10:00:00Z", Transit, None, "t"),
                ],
                (Delivered, Some(SubStatus::Delivered003)),
            ),
            (
                "a delay (not a return) is superseded by a later transit scan",
                vec![
                    sub_cp("2024-01-02T10:00:00Z", SubStatus::Exception005, "x"),
                    cp("2024-01-03T10:00:00Z", Transit, None, "t"),
                ],
                (Transit, None),
            ),
            (
                "a delivery after the return started is returned to sender",
                vec![
                    sub_cp("2024-01-02T10:00:00Z", SubStatus::Exception011, "rts"),
                    sub_cp("2024-01-05T10:00:00Z", SubStatus::Delivered001, "d"),
                ],
                (Exception, Some(SubStatus::Exception010)),
            ),
        ];
        for (what, list, expected) in cases {
            assert_eq!(derive_status(&list), expected, "{what}");
        }
    }

    #[test]
    fn normalize_sorts_dedups_and_fills_informational() {
        let mut list = vec![
            cp("2024-01-01T10:00:00Z", Inforeceived, None, "a"),
            sub_cp("2024-01-03T10:00:00Z", SubStatus::Delivered001, "c"),
            cp("2024-01-03T10:00:00Z", INFORMATIONAL, None, "sig"),
            cp("2024-01-02T10:00:00Z", Transit, None, "b"),
            cp("2024-01-02T10:00:00Z", Transit, None, "b"),
        ];
        let status = normalize(&mut list);
        assert_eq!(status, (Delivered, Some(SubStatus::Delivered001)));
        let codes: Vec<&str> = list.iter().map(|c| c.raw_status.as_str()).collect();
        assert_eq!(codes, ["c", "sig", "b", "a"]);
        assert_eq!(list[1].status, Delivered);
        assert!(list.iter().all(is_status_bearing));
    }

    #[test]
    fn informational_before_any_status_becomes_inforeceived() {
        let mut list = vec![cp("2024-01-01T10:00:00Z", INFORMATIONAL, None, "i")];
        fill_informational(&mut list);
        assert_eq!(list[0].status, Inforeceived);
    }
}
