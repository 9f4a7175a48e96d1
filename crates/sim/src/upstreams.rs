//! What the simulated aggregator upstreams remember: the numbers registered with each (with the
//! courier they were registered for and the id the upstream gave them) and the numbers stopped,
//! so that tests can see registration, its idempotence, and stopping happen over real HTTP.

use std::collections::{BTreeMap, HashMap};

use crate::Simulator;

/// A number registered with an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The courier it was registered for, in the upstream's words (`""`: left to detection).
    pub courier: String,
    /// The upstream's id for it (AfterShip's and TrackingMore's 32-hex ids).
    pub id: String,
    /// The caller's tag (17TRACK's `tag`, echoed in its webhook; `""`: none).
    pub tag: String,
}

/// Every upstream's registrations, and what was stopped.
#[derive(Debug, Default)]
pub(crate) struct Registrations {
    live: HashMap<String, BTreeMap<String, Registered>>,
    stopped: HashMap<String, Vec<String>>,
    serial: u64,
}

/// What registering a number did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Registration {
    New(Registered),
    Already(Registered),
    QuotaExhausted,
}

impl Simulator {
    /// Registers `number` with `upstream` for `courier` (with `tag`), unless its quota is used
    /// up. A new registration's newest event counts as pushed already: the upstream pushes
    /// only what moves after it.
    pub(crate) fn register(
        &self,
        upstream: &str,
        number: &str,
        courier: &str,
        tag: &str,
    ) -> Registration {
        let exhausted = self.faults_of(upstream).is_some_and(|f| f.quota_exhausted);
        let key = number.trim().to_ascii_uppercase();
        let registration = {
            let mut state = self.lock();
            let registrations = &mut state.upstreams;
            match registrations.live.get(upstream).and_then(|l| l.get(&key)) {
                Some(known) => Registration::Already(known.clone()),
                None if exhausted => Registration::QuotaExhausted,
                None => {
                    registrations.serial += 1;
                    let registered = Registered {
                        courier: courier.to_string(),
                        id: format!("{:032x}", 0x5eed_0000_u64 + registrations.serial),
                        tag: tag.to_string(),
                    };
                    registrations
                        .live
                        .entry(upstream.to_string())
                        .or_default()
                        .insert(key, registered.clone());
                    Registration::New(registered)
                }
            }
        };
        if matches!(registration, Registration::New(_)) {
            self.newly_pushed(upstream, number);
        }
        registration
    }

    /// `number`'s registration with `upstream`, if it is registered.
    pub(crate) fn registration(&self, upstream: &str, number: &str) -> Option<Registered> {
        let key = number.trim().to_ascii_uppercase();
        self.lock().upstreams.live.get(upstream)?.get(&key).cloned()
    }

    /// The number registered with `upstream` under `id`.
    pub(crate) fn number_of(&self, upstream: &str, id: &str) -> Option<String> {
        let state = self.lock();
        let live = state.upstreams.live.get(upstream)?;
        live.iter()
            .find(|(_, r)| r.id == id)
            .map(|(n, _)| n.clone())
    }

    /// Stops (forgets) `number` at `upstream`; whether it was registered.
    pub(crate) fn stop_number(&self, upstream: &str, number: &str) -> bool {
        let key = number.trim().to_ascii_uppercase();
        let mut state = self.lock();
        let registrations = &mut state.upstreams;
        let removed = registrations
            .live
            .get_mut(upstream)
            .and_then(|l| l.remove(&key))
            .is_some();
        if removed {
            registrations
                .stopped
                .entry(upstream.to_string())
                .or_default()
                .push(key);
        }
        removed
    }

    /// Stops the number registered with `upstream` under `id`; the number, if there was one.
    pub(crate) fn delete_by_id(&self, upstream: &str, id: &str) -> Option<String> {
        let number = self.number_of(upstream, id)?;
        self.stop_number(upstream, &number);
        Some(number)
    }

    /// The numbers registered with `upstream` and not stopped, sorted.
    pub fn registered(&self, upstream: &str) -> Vec<String> {
        let state = self.lock();
        state
            .upstreams
            .live
            .get(upstream)
            .map(|l| l.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The numbers stopped at `upstream`, in order.
    pub fn stopped(&self, upstream: &str) -> Vec<String> {
        let state = self.lock();
        state
            .upstreams
            .stopped
            .get(upstream)
            .cloned()
            .unwrap_or_default()
    }
}
