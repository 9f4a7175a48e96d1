//! Each courier's recent health as the engine's calls find it: the share of numbers answered
//! (found or not found, rather than failing) and the calls' latency, over the last
//! [`WINDOW`] calls of this process. `couriers/all` shows it, so an operator sees at a glance
//! which couriers (and which upstreams) are failing before customers notice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::{Carrier, TrackOutcome, TrackRequest};

/// How many recent calls a courier's health covers.
pub const WINDOW: usize = 100;

/// One call: how many numbers it carried, how many were answered, how long it took.
#[derive(Debug, Clone, Copy)]
struct Call {
    numbers: u32,
    answered: u32,
    millis: u64,
}

/// A courier's recent health.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthReport {
    /// Calls in the window.
    pub calls: usize,
    /// Answered numbers over numbers asked, 0 to 1.
    pub success_rate: f64,
    /// Mean latency of the calls in the window, in milliseconds.
    pub latency_ms: u64,
}

/// The recent calls of every courier. Bounded: [`WINDOW`] calls per configured courier.
#[derive(Debug, Default)]
pub struct Health {
    calls: Mutex<HashMap<String, VecDeque<Call>>>,
}

impl Health {
    fn record(&self, courier: &str, call: Call) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let window = calls.entry(courier.to_string()).or_default();
        if window.len() == WINDOW {
            window.pop_front();
        }
        window.push_back(call);
    }

    /// `courier`'s health, or `None` before its first call.
    pub fn report(&self, courier: &str) -> Option<HealthReport> {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let window = calls.get(courier).filter(|w| !w.is_empty())?;
        let numbers: u64 = window.iter().map(|c| u64::from(c.numbers)).sum();
        let answered: u64 = window.iter().map(|c| u64::from(c.answered)).sum();
        let millis: u64 = window.iter().map(|c| c.millis).sum();
        Some(HealthReport {
            calls: window.len(),
            success_rate: if numbers == 0 {
                1.0
            } else {
                answered as f64 / numbers as f64
            },
            latency_ms: millis / window.len() as u64,
        })
    }
}

/// A carrier whose calls are recorded in [`Health`] under one courier code.
pub(crate) struct Measured {
    pub(crate) inner: Arc<dyn Carrier>,
    pub(crate) courier: String,
    pub(crate) health: Arc<Health>,
}

#[async_trait::async_trait]
impl Carrier for Measured {
    fn code(&self) -> &'static str {
        self.inner.code()
    }

    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }

    fn default_rate(&self) -> f64 {
        self.inner.default_rate()
    }

    async fn track(&self, batch: &[TrackRequest]) -> Vec<(String, TrackOutcome)> {
        let started = Instant::now();
        let outcomes = self.inner.track(batch).await;
        let answered = outcomes.iter().filter(|(_, o)| o.is_ok()).count();
        self.health.record(
            &self.courier,
            Call {
                numbers: batch.len() as u32,
                answered: answered as u32,
                millis: started.elapsed().as_millis() as u64,
            },
        );
        outcomes
    }

    async fn stop(&self, numbers: &[String]) {
        self.inner.stop(numbers).await
    }

    fn upstream(&self) -> Option<&'static str> {
        self.inner.upstream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_covers_the_last_calls_only() {
        let health = Health::default();
        assert_eq!(health.report("x"), None);
        for _ in 0..WINDOW {
            health.record(
                "x",
                Call {
                    numbers: 2,
                    answered: 0,
                    millis: 500,
                },
            );
        }
        for _ in 0..WINDOW / 2 {
            health.record(
                "x",
                Call {
                    numbers: 2,
                    answered: 2,
                    millis: 100,
                },
            );
        }
        let report = health.report("x").unwrap();
        assert_eq!(report.calls, WINDOW);
        assert!((report.success_rate - 0.5).abs() < 1e-9, "{report:?}");
        assert_eq!(report.latency_ms, 300);
    }
}
