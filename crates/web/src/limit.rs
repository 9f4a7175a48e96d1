//! Per-client rate limits for the public pages, in memory of a fixed size.
//!
//! Anyone can ask the tracking page for numbers, so the page limits each client address to a
//! steady rate with a burst (a token bucket), which makes guessing numbers or second factors
//! slow. The buckets live in a table of a fixed number of slots chosen by a keyed hash of the
//! address: no client, however many addresses it uses, can make the table grow, and nothing
//! needs evicting. Two addresses that land in the same slot share one budget, which can only
//! make the limit stricter for them; the hash key is random per process, so a client cannot
//! aim at another's slot. IPv6 clients are counted by their /64 network, which is what one
//! subscriber usually gets, so cycling through one's own addresses does not buy more budget.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Slots in the table (a power of two); 16 bytes each.
const SLOTS: usize = 1 << 16;
/// Locks over the table, so that concurrent requests rarely wait for each other.
const SHARDS: usize = 64;

#[derive(Clone, Copy, Default)]
struct Bucket {
    tokens: f32,
    /// Microseconds since the limiter started, at the last refill; 0 = never used.
    at_micros: u64,
}

/// The per-address token buckets.
pub struct ClientLimiter {
    per_second: f64,
    burst: f64,
    hasher: RandomState,
    started: Instant,
    shards: Vec<Mutex<Vec<Bucket>>>,
}

/// The header a reverse proxy puts the client's address in, as configured (`client_ip_header`);
/// empty or not a header name: none.
pub fn address_header(configured: &str) -> Option<axum::http::HeaderName> {
    let name = configured.trim();
    (!name.is_empty())
        .then(|| axum::http::HeaderName::from_bytes(name.as_bytes()).ok())
        .flatten()
}

/// A request's client address: the last address in `header` when one is configured and
/// readable, else the connection's peer (unspecified when the server did not record it).
pub fn client_address<B>(
    request: &axum::http::Request<B>,
    header: Option<&axum::http::HeaderName>,
) -> IpAddr {
    if let Some(name) = header {
        let forwarded = request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(address) = forwarded {
            return address;
        }
    }
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// What a refused request is told: seconds until one request is allowed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl ClientLimiter {
    /// `per_minute` requests a minute on average, up to `burst` at once. A `per_minute` of 0
    /// turns the limit off.
    pub fn new(per_minute: u32, burst: u32) -> ClientLimiter {
        ClientLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            hasher: RandomState::new(),
            started: Instant::now(),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(vec![Bucket::default(); SLOTS / SHARDS]))
                .collect(),
        }
    }

    /// The address a client is counted by: itself for IPv4, its /64 for IPv6.
    fn key(address: IpAddr) -> u128 {
        match address {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => u128::from(u32::from(v4)),
                None => (u128::from(v6) >> 64) | (1 << 127),
            },
        }
    }

    /// Takes `cost` tokens from the client's bucket, or says how long to wait.
    pub fn check(&self, address: IpAddr, cost: f64) -> Result<(), RetryAfter> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let slot = (self.hasher.hash_one(Self::key(address)) as usize) % SLOTS;
        let now = (self.started.elapsed().as_micros() as u64).max(1);
        let mut shard = self.shards[slot % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let bucket = &mut shard[slot / SHARDS];
        let mut tokens = if bucket.at_micros == 0 {
            self.burst
        } else {
            let elapsed = (now - bucket.at_micros.min(now)) as f64 / 1e6;
            (f64::from(bucket.tokens) + elapsed * self.per_second).min(self.burst)
        };
        bucket.at_micros = now;
        let outcome = if tokens >= cost {
            tokens -= cost;
            Ok(())
        } else {
            let wait = ((cost - tokens) / self.per_second).ceil().max(1.0);
            Err(RetryAfter(wait as u64))
        };
        bucket.tokens = tokens as f32;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_while_others_are_unaffected() {
        let limiter = ClientLimiter::new(60, 5);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..5 {
            limiter.check(a, 1.0).unwrap();
        }
        assert_eq!(limiter.check(a, 1.0), Err(RetryAfter(1)));
        limiter.check(b, 1.0).unwrap();
    }

    #[test]
    fn one_ipv6_network_shares_one_budget() {
        let limiter = ClientLimiter::new(60, 2);
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let second: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        limiter.check(first, 1.0).unwrap();
        limiter.check(second, 1.0).unwrap();
        assert!(limiter.check(first, 1.0).is_err());
        limiter.check(elsewhere, 1.0).unwrap();
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = ClientLimiter::new(0, 1);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            limiter.check(a, 5.0).unwrap();
        }
    }
}
