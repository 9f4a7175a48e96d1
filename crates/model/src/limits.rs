//! Per-account request rate limits.
//!
//! Each API route belongs to one [`LimitClass`]; each class has a rate in requests per second,
//! from the server configuration unless the account has its own (set with
//! `parceld account set-limits`). Limits are per account, whichever of its keys is used.

use serde::{Deserialize, Serialize};

/// Declares every limit class once: its variant of [`LimitClass`], its configuration key (which
/// is also its field of [`RateLimits`]) and TrackingMore's published rate for it.
macro_rules! limit_classes {
    ($( $(#[$doc:meta])* $class:ident => $key:ident at $published:expr, )*) => {
        /// The groups of routes that share one budget.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LimitClass {
            $( $(#[$doc])* $class, )*
        }

        impl LimitClass {
            pub const ALL: [LimitClass; 6] = [$( LimitClass::$class, )*];

            /// The configuration key, e.g. `v4_create`.
            pub fn key(self) -> &'static str {
                match self {
                    $( LimitClass::$class => stringify!($key), )*
                }
            }
        }

        /// Requests per second for each class. As server defaults every field is set; as an
        /// account's overrides, `None` means "the server default".
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct RateLimits {
            $( pub $key: Option<f64>, )*
        }

        impl RateLimits {
            /// TrackingMore's published limits.
            pub const DEFAULTS: RateLimits = RateLimits {
                $( $key: Some($published), )*
            };

            fn slot(&mut self, class: LimitClass) -> &mut Option<f64> {
                match class {
                    $( LimitClass::$class => &mut self.$key, )*
                }
            }
        }
    };
}

limit_classes! {
    /// `POST /v4/trackings/create` (it may call the carrier in real time).
    V4Create => v4_create at 3.0,
    /// `POST /v4/trackings/realtime`.
    V4Realtime => v4_realtime at 3.0,
    /// Every other v4 route.
    V4Other => v4_other at 10.0,
    /// `POST /v2/trackings/realtime`.
    V2Realtime => v2_realtime at 3.0,
    /// `GET /v2/trackings/get`.
    V2List => v2_list at 1.0,
    /// Every other v2 route.
    V2Other => v2_other at 1.0,
}

impl LimitClass {
    pub fn from_key(key: &str) -> Option<LimitClass> {
        LimitClass::ALL.into_iter().find(|c| c.key() == key)
    }
}

impl RateLimits {
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
