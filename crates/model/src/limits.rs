//! Per-account request rate limits.
//!
//! Each API route belongs to one [`LimitClass`]; each class has a rate in requests per second,
//! from the server configuration unless the account has its own (set with
//! `parceld account set-limits`). Limits are per account, whichever of its keys is used.

use serde::{Deserialize, Serialize};

/// The groups of routes that share one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitClass {
    /// `POST /v4/trackings/create` (it may call the carrier in real time).
    V4Create,
    /// `POST /v4/trackings/realtime`.
    V4Realtime,
    /// Every other v4 route.
    V4Other,
    /// `POST /v2/trackings/realtime`.
    V2Realtime,
    /// `GET /v2/trackings/get`.
    V2List,
    /// Every other v2 route.
    V2Other,
}

impl LimitClass {
    pub const ALL: [LimitClass; 6] = [
        LimitClass::V4Create,
        LimitClass::V4Realtime,
        LimitClass::V4Other,
        LimitClass::V2Realtime,
        LimitClass::V2List,
        LimitClass::V2Other,
    ];

    /// The configuration key, e.g. `v4_create`.
    pub fn key(self) -> &'static str {
        match self {
            LimitClass::V4Create => "v4_create",
            LimitClass::V4Realtime => "v4_realtime",
            LimitClass::V4Other => "v4_other",
            LimitClass::V2Realtime => "v2_realtime",
            LimitClass::V2List => "v2_list",
            LimitClass::V2Other => "v2_other",
        }
    }

    pub fn from_key(key: &str) -> Option<LimitClass> {
        LimitClass::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Requests per second for each class. As server defaults every field is set; as an account's
/// overrides, `None` means "the server default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub v4_create: Option<f64>,
    pub v4_realtime: Option<f64>,
    pub v4_other: Option<f64>,
    pub v2_realtime: Option<f64>,
    pub v2_list: Option<f64>,
    pub v2_other: Option<f64>,
}

impl RateLimits {
    /// TrackingMore's published limits.
    pub const DEFAULTS: RateLimits = RateLimits {
        v4_create: Some(3.0),
        v4_realtime: Some(3.0),
        v4_other: Some(10.0),
        v2_realtime: Some(3.0),
        v2_list: Some(1.0),
        v2_other: Some(1.0),
    };

    fn slot(&mut self, class: LimitClass) -> &mut Option<f64> {
        match class {
            LimitClass::V4Create => &mut self.v4_create,
            LimitClass::V4Realtime => &mut self.v4_realtime,
            LimitClass::V4Other => &mut self.v4_other,
            LimitClass::V2Realtime => &mut self.v2_realtime,
            LimitClass::V2List => &mut self.v2_list,
            LimitClass::V2Other => &mut self.v2_other,
        }
    }

    pub fn get(&self, class: LimitClass) -> Option<f64> {
        let mut copy = *self;
        *copy.slot(class)
    }

    pub fn set(&mut self, class: LimitClass, rate: Option<f64>) {
        *self.slot(class) = rate;
    }

    /// The rate for `class`: this (an account's override) if set, else `defaults`, else
    /// TrackingMore's published limit.
    pub fn rate(&self, class: LimitClass, defaults: &RateLimits) -> f64 {
        self.get(class)
            .or_else(|| defaults.get(class))
            .or_else(|| RateLimits::DEFAULTS.get(class))
            .unwrap_or(1.0)
    }

    pub fn is_empty(&self) -> bool {
        LimitClass::ALL.iter().all(|c| self.get(*c).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_overrides_win_over_server_defaults() {
        let defaults = RateLimits {
            v4_other: Some(20.0),
            ..RateLimits::DEFAULTS
        };
        let mut account = RateLimits::default();
        assert_eq!(account.rate(LimitClass::V4Other, &defaults), 20.0);
        assert_eq!(account.rate(LimitClass::V2List, &defaults), 1.0);
        account.set(LimitClass::V4Other, Some(50.0));
        assert_eq!(account.rate(LimitClass::V4Other, &defaults), 50.0);
        assert!(!account.is_empty());
        for class in LimitClass::ALL {
            assert_eq!(LimitClass::from_key(class.key()), Some(class));
        }
    }
}
