//! Pairing a carrier's answers with the requests of one call. An adapter answers with
//! (number, outcome) pairs; the scheduler needs one outcome per claimed tracking, in order,
//! whether the carrier answered every number or not.

use std::collections::{HashMap, VecDeque};

use parceld_carriers::{CarrierError, TrackOutcome, TrackRequest};

/// Why a courier without an adapter on this node could not be tracked.
pub(crate) fn no_adapter(courier: &str) -> String {
    format!("no adapter is configured for {courier}")
}

/// Pairs a carrier's answers with the requests, in request order (the same number twice gets
/// its answers in turn); a number the carrier did not answer gets a retryable error.
pub(crate) fn match_answers(
    courier: &str,
    requests: &[TrackRequest],
    answers: Vec<(String, TrackOutcome)>,
) -> Vec<TrackOutcome> {
    let mut by_number: HashMap<String, VecDeque<TrackOutcome>> = HashMap::new();
    for (number, outcome) in answers {
        by_number.entry(number).or_default().push_back(outcome);
    }
    requests
        .iter()
        .map(|r| {
            by_number
                .get_mut(&r.tracking_number)
                .and_then(|v| v.pop_front())
                .unwrap_or_else(|| {
                    Err(CarrierError::retryable(format!(
                        "{courier} gave no answer for this number"
                    )))
                })
        })
        .collect()
}
