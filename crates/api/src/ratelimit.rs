//! Per-account rate limiting: one token bucket per (account, limit class).
//!
//! Every authenticated route passes through [`limit`], so v4 and v2 routes share one
//! mechanism; only the envelope of the 429 differs by face. The bucket holds up to one second's worth of requests (at least one) and refills
//! continuously; a request that finds it empty gets a 429 with `Retry-After`. Every response
//! carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds
//! when the bucket is full again).
//!
//! On a backend that several nodes share (PostgreSQL), an account's limit is one total across
//! them: the bucket is kept in the database (`Store::take_rate_tokens`) and this process's
//! buckets are used only when the backend keeps none (SQLite serves one node) or cannot be
//! reached. A statement per request on one shared row would put every node's requests of a busy
//! account in a queue on that row, so a node takes a small lease of tokens at a time
//! ([`next_lease_size`]): one token while its traffic is light — exact, nothing held back — and
//! twice as many each time a lease is used up within [`LEASE_LIFETIME`], up to a twentieth of
//! the bucket. Leased tokens are taken from the shared bucket, so the total across nodes is never
//! more than the limit; what a lease leaves unused when it expires is at most a twentieth of a
//! second's worth. One request at a time per bucket goes to the database for a new lease; the
//! requests that arrive meanwhile wait for it and share it, instead of each taking a lease of
//! its own (which put nearly every request of a busy account back in the row's queue). A refusal
//! is remembered until the bucket can hold a token again, so an account over its limit costs no
//! statement per refused request either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parceld_model::{LimitClass, RateLimits};
use parceld_store::{Account, AccountId, Store};

use crate::error::{ApiError, ErrorCode, V2Code, V2Error};
use crate::extract::Face;
use crate::AppState;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests per second allowed (rounded up for the header).
    pub rate: f64,
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// Until the next request would be allowed (zero when allowed).
    pub retry_after: Duration,
}

/// Tokens this node took from a shared bucket ahead of its requests.
#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Tokens still to hand out.
    left: u32,
    /// How many the last take asked for.
    size: u32,
    taken_at: Instant,
    /// The shared bucket's tokens after the last take, for the headers.
    shared_tokens: f64,
    /// When the last take was refused: the bucket cannot hold a whole token before then.
    refused_until: Option<Instant>,
}

impl Lease {
    /// The decision for one more request from this lease at `now`, when the lease can make it
    /// without the shared bucket: a token left in a fresh lease, or a refusal still standing.
    fn decide(&mut self, now: Instant, rate: f64, capacity: f64) -> Option<Decision> {
        if self.refused_until.is_some_and(|until| now < until) {
            let waited = now.saturating_duration_since(self.taken_at).as_secs_f64();
            return Some(decide(
                false,
                self.shared_tokens + waited * rate,
                rate,
                capacity,
            ));
        }
        let fresh = now.saturating_duration_since(self.taken_at) < LEASE_LIFETIME;
        if fresh && self.left > 0 {
            self.left -= 1;
            let tokens = self.shared_tokens + f64::from(self.left);
            return Some(decide(true, tokens, rate, capacity));
        }
        None
    }
}

/// How long leased tokens may be handed out: a lease older than this is dropped.
pub const LEASE_LIFETIME: Duration = Duration::from_millis(50);

/// The most tokens a node takes at once from a bucket of `capacity`: a twentieth of it, so that
/// what an expired lease leaves unused is never much of the limit.
fn largest_lease(capacity: f64) -> u32 {
    ((capacity / 20.0).floor() as u32).clamp(1, 64)
}

/// How many tokens to ask the shared bucket for, given the last lease (if any) at `now`: twice
/// the last size when it was used up within its lifetime (this node's traffic is brisk), half
/// when it expired unused, one for a first request.
pub fn next_lease_size(last: Option<(u32, u32, Instant)>, now: Instant, capacity: f64) -> u32 {
    let largest = largest_lease(capacity);
    match last {
        None => 1,
        Some((size, left, taken_at)) => {
            let fresh = now.saturating_duration_since(taken_at) < LEASE_LIFETIME;
            if left == 0 && fresh {
                size.saturating_mul(2).min(largest)
            } else if left > 0 {
                (size / 2).max(1).min(largest)
            } else {
                size.min(largest)
            }
        }
    }
}

/// Held by the one request taking a new lease for a bucket.
type RefillLock = tokio::sync::Mutex<()>;

/// All buckets of this process, and the store whose shared windows come first.
pub struct RateLimiter {
    defaults: RateLimits,
    buckets: Mutex<HashMap<(AccountId, LimitClass), Bucket>>,
    leases: Mutex<HashMap<(AccountId, LimitClass), Lease>>,
    /// One per shared bucket: held by the request that is taking a new lease for it.
    refills: Mutex<HashMap<(AccountId, LimitClass), Arc<RefillLock>>>,
    shared: Option<Arc<dyn Store>>,
}

impl RateLimiter {
    /// A limiter of this process alone.
    pub fn new(defaults: RateLimits) -> Self {
        RateLimiter {
            defaults,
            buckets: Mutex::new(HashMap::new()),
            leases: Mutex::new(HashMap::new()),
            refills: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// The same, counting in `store`'s shared windows when the backend keeps them.
    pub fn sharing_through(self, store: Arc<dyn Store>) -> Self {
        RateLimiter {
            shared: Some(store),
            ..self
        }
    }

    fn rate_of(&self, account: &Account, class: LimitClass) -> f64 {
        account.rate_limits.rate(class, &self.defaults).max(0.001)
    }

    /// Takes one request from the account's bucket for `class`: the shared one when the
    /// backend keeps it, otherwise this process's.
    pub async fn check(&self, account: &Account, class: LimitClass) -> Decision {
        if let Some(store) = &self.shared {
            let rate = self.rate_of(account, class);
            let capacity = rate.max(1.0);
            let key = (account.id, class);
            if let Some(decision) = self.decide_by_lease(key, rate, capacity) {
                return decision;
            }
            // One take at a time per bucket; whoever waited for it may find the new lease.
            let refill = {
                let mut refills = self.refills.lock().unwrap_or_else(|p| p.into_inner());
                Arc::clone(refills.entry(key).or_default())
            };
            let _refilling = refill.lock().await;
            if let Some(decision) = self.decide_by_lease(key, rate, capacity) {
                return decision;
            }
            let wanted = {
                let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
                let last = leases.get(&key).map(|l| (l.size, l.left, l.taken_at));
                next_lease_size(last, Instant::now(), capacity)
            };
            match store
                .take_rate_tokens(account.id, class.key(), rate, capacity, wanted)
                .await
            {
                Ok(Some(bucket)) => {
                    let left = bucket.granted.saturating_sub(1);
                    let taken_at = Instant::now();
                    let refused_until = (!bucket.allowed()).then(|| {
                        taken_at + Duration::from_secs_f64((1.0 - bucket.tokens).max(0.0) / rate)
                    });
                    let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
                    leases.insert(
                        key,
                        Lease {
                            left,
                            size: wanted,
                            taken_at,
                            shared_tokens: bucket.tokens,
                            refused_until,
                        },
                    );
                    let tokens = bucket.tokens + f64::from(left);
                    return decide(bucket.allowed(), tokens, rate, capacity);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "shared rate limits unreachable; this node's own apply")
                }
            }
        }
        self.check_at(account, class, Instant::now())
    }

    /// The decision the lease of `key` can make alone, if it can.
    fn decide_by_lease(
        &self,
        key: (AccountId, LimitClass),
        rate: f64,
        capacity: f64,
    ) -> Option<Decision> {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.get_mut(&key)?.decide(Instant::now(), rate, capacity)
    }

    fn check_at(&self, account: &Account, class: LimitClass, now: Instant) -> Decision {
        let rate = self.rate_of(account, class);
        let capacity = rate.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry((account.id, class)).or_insert(Bucket {
            tokens: capacity,
            refilled_at: now,
        });
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.refilled_at = now;
        // A hair of tolerance so that waiting exactly the advertised time is always enough.
        let allowed = bucket.tokens >= 1.0 - 1e-9;
        if allowed {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
        }
        decide(allowed, bucket.tokens, rate, capacity)
    }
}

/// The decision on a request that left a bucket of `capacity`, filling at `rate`, with `tokens`.
fn decide(allowed: bool, tokens: f64, rate: f64, capacity: f64) -> Decision {
    let retry_after = if allowed {
        Duration::ZERO
    } else {
        Duration::from_secs_f64((1.0 - tokens).max(0.0) / rate)
    };
    Decision {
        allowed,
        rate,
        remaining: tokens.floor() as u32,
        reset_after: Duration::from_secs_f64((capacity - tokens).max(0.0) / rate),
        retry_after,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn set_headers(headers: &mut HeaderMap, decision: &Decision) {
    let reset = unix_now() + decision.reset_after.as_secs_f64().ceil() as u64;
    for (name, value) in [
        ("x-ratelimit-limit", decision.rate.ceil() as u64),
        ("x-ratelimit-remaining", u64::from(decision.remaining)),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    if !decision.allowed {
        let seconds = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        headers.insert("retry-after", HeaderValue::from(seconds));
    }
}

fn face_of(class: LimitClass) -> Face {
    match class {
        LimitClass::V4Create | LimitClass::V4Realtime | LimitClass::V4Other => Face::V4,
        LimitClass::V2Realtime | LimitClass::V2List | LimitClass::V2Other => Face::V2,
    }
}

/// Middleware for the routes of one limit class; runs after authentication.
pub async fn limit(
    State((state, class)): State<(AppState, LimitClass)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(account) = request.extensions().get::<Account>().cloned() else {
        return next.run(request).await;
    };
    let decision = state.limiter.check(&account, class).await;
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let seconds = decision.retry_after.as_secs_f64().ceil().max(1.0);
        let detail = format!(
            "This account may send {} requests per second to this endpoint; retry after {seconds} s.",
            decision.rate
        );
        match face_of(class) {
            Face::V4 => ApiError::new(ErrorCode::TooManyRequests, detail).into_response(),
            Face::V2 => V2Error::new(V2Code::TooManyRequests, detail).into_response(),
        }
    };
    set_headers(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: AccountId, limits: RateLimits) -> Account {
        Account {
            id,
            name: format!("a{id}"),
            disabled: false,
            created_at: chrono::Utc::now(),
            rate_limits: limits,
        }
    }

    #[test]
    fn a_bucket_allows_its_rate_then_refuses_then_refills() {
        let limiter = RateLimiter::new(RateLimits::DEFAULTS);
        let a = account(1, RateLimits::default());
        let t0 = Instant::now();
        for i in 0..3 {
            let d = limiter.check_at(&a, LimitClass::V4Create, t0);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 2 - i);
        }
        let refused = limiter.check_at(&a, LimitClass::V4Create, t0);
        assert!(!refused.allowed);
        assert!((refused.retry_after.as_secs_f64() - 1.0 / 3.0).abs() < 1e-6);
        // Other classes and other accounts have their own buckets.
        assert!(limiter.check_at(&a, LimitClass::V4Other, t0).allowed);
        assert!(
            limiter
                .check_at(&account(2, RateLimits::default()), LimitClass::V4Create, t0)
                .allowed
        );
        // After the advertised wait, one more request goes through.
        let later = t0 + refused.retry_after;
        assert!(limiter.check_at(&a, LimitClass::V4Create, later).allowed);
        assert!(!limiter.check_at(&a, LimitClass::V4Create, later).allowed);
    }

    #[test]
    fn a_lease_grows_while_used_up_quickly_and_shrinks_when_left_unused() {
        let t0 = Instant::now();
        let soon = t0 + LEASE_LIFETIME / 2;
        let late = t0 + LEASE_LIFETIME * 2;
        // Light traffic: one token at a time, exactly like a take per request.
        assert_eq!(next_lease_size(None, t0, 1000.0), 1);
        assert_eq!(next_lease_size(Some((1, 0, t0)), late, 1000.0), 1);
        // Used up within its lifetime: twice as many, up to a twentieth of the bucket.
        assert_eq!(next_lease_size(Some((1, 0, t0)), soon, 1000.0), 2);
        assert_eq!(next_lease_size(Some((32, 0, t0)), soon, 1000.0), 50);
        assert_eq!(next_lease_size(Some((50, 0, t0)), soon, 1000.0), 50);
        // Expired with tokens left: half.
        assert_eq!(next_lease_size(Some((16, 5, t0)), late, 1000.0), 8);
        // A small bucket never leases more than one: its limit stays exact.
        assert_eq!(next_lease_size(Some((1, 0, t0)), soon, 10.0), 1);
        assert_eq!(next_lease_size(Some((8, 0, t0)), soon, 3.0), 1);
    }

    #[test]
    fn a_lease_hands_out_its_tokens_while_fresh_and_a_refusal_stands_until_a_token_can_be_there() {
        let t0 = Instant::now();
        let mut lease = Lease {
            left: 2,
            size: 3,
            taken_at: t0,
            shared_tokens: 10.0,
            refused_until: None,
        };
        assert!(lease.decide(t0, 100.0, 100.0).unwrap().allowed);
        assert!(lease.decide(t0, 100.0, 100.0).unwrap().allowed);
        assert!(lease.decide(t0, 100.0, 100.0).is_none(), "used up");
        lease.left = 1;
        assert!(
            lease.decide(t0 + LEASE_LIFETIME, 100.0, 100.0).is_none(),
            "expired"
        );
        // The shared bucket refused with 0.5 tokens at 10/s: nothing can pass for 50 ms.
        let mut refused = Lease {
            left: 0,
            size: 1,
            taken_at: t0,
            shared_tokens: 0.5,
            refused_until: Some(t0 + Duration::from_millis(50)),
        };
        let early = refused.decide(t0 + Duration::from_millis(20), 10.0, 10.0);
        let early = early.expect("refused without asking");
        assert!(!early.allowed);
        assert!(early.retry_after <= Duration::from_millis(31), "{early:?}");
        assert!(refused
            .decide(t0 + Duration::from_millis(50), 10.0, 10.0)
            .is_none());
    }

    #[test]
    fn an_accounts_own_limit_replaces_the_default() {
        let limiter = RateLimiter::new(RateLimits::DEFAULTS);
        let mut limits = RateLimits::default();
        limits.set(LimitClass::V2List, Some(5.0));
        let a = account(1, limits);
        let t0 = Instant::now();
        let allowed = (0..10)
            .filter(|_| limiter.check_at(&a, LimitClass::V2List, t0).allowed)
            .count();
        assert_eq!(allowed, 5);
    }
}
