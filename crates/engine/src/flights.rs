//! Real-time fetches in progress, one per tracking, shared by the requests that ask at once.
//!
//! A request that finds a fetch of its tracking in progress waits for that fetch's result
//! instead of calling the carrier again. The map must not keep a flight nobody waits for: a
//! client that disconnects drops its request's future, and if every waiter of a flight went that
//! way before the fetch finished, the fetch's own clean-up never ran and the entry stayed for the
//! life of the process, one per abandoned request. So each waiter holds a [`FlightShare`], and
//! the last share to go, finished or cancelled, takes the flight out of the map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use parceld_model::TrackingId;
use parceld_store::AccountId;
use tokio::sync::OnceCell;

use crate::RealtimeResult;

/// One fetch's result, once it has one; shared by its waiters.
pub(crate) type Flight = Arc<OnceCell<Result<RealtimeResult, String>>>;

type Key = (AccountId, TrackingId);

#[derive(Default)]
pub(crate) struct Flights(Mutex<HashMap<Key, Flight>>);

impl Flights {
    /// Joins the fetch of `key` in progress, or starts a new one.
    pub(crate) fn join(&self, key: Key) -> FlightShare<'_> {
        let flight = self.lock().entry(key.clone()).or_default().clone();
        FlightShare {
            flights: self,
            key,
            flight,
        }
    }

    /// Takes the flight of `key` out of the map (its fetch is done): later requests start anew.
    pub(crate) fn finish(&self, key: &Key) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A waiter's hold on a flight.
pub(crate) struct FlightShare<'a> {
    flights: &'a Flights,
    key: Key,
    pub(crate) flight: Flight,
}

impl Drop for FlightShare<'_> {
    fn drop(&mut self) {
        let mut map = self.flights.lock();
        // Shares are taken under the same lock, so two references (the map's and this one)
        // mean no other waiter is left.
        let last = map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight) && Arc::strong_count(f) == 2);
        if last {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_flight_leaves_the_map_with_its_last_waiter() {
        let flights = Flights::default();
        let key = (1, TrackingId::generate());
        let first = flights.join(key.clone());
        let second = flights.join(key.clone());
        assert!(
            Arc::ptr_eq(&first.flight, &second.flight),
            "one flight shared"
        );
        drop(first);
        assert_eq!(flights.len(), 1, "still awaited by the second request");
        drop(second);
        assert_eq!(flights.len(), 0, "nobody waits: gone");

        // A finished fetch is taken out at once; its waiters leaving later change nothing.
        let waiting = flights.join(key.clone());
        flights.finish(&key);
        let next = flights.join(key.clone());
        assert!(!Arc::ptr_eq(&waiting.flight, &next.flight), "a new fetch");
        drop(waiting);
        assert_eq!(flights.len(), 1, "the new flight stays while awaited");
        drop(next);
        assert_eq!(flights.len(), 0);
    }
}
