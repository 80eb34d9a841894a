//! What stands between an anonymous client and a password check.
//!
//! Checking a password runs argon2, which takes about 19 MiB and tens of
//! milliseconds for every attempt, known email or not (so that the answer
//! does not tell which). Unchecked, a few hundred concurrent bad sign-ins
//! took the server to gigabytes. So, before argon2 runs:
//!
//! - each client address has a token bucket of attempts (a burst, then a
//!   steady rate), and past it gets 429 with `Retry-After`;
//! - the whole server runs at most a few checks at once, and refuses the
//!   rest with 429 at once rather than queue them, so memory stays flat
//!   however many arrive.
//!
//! Not here: counting failures per account (`login_failures`), or limits
//! on authenticated traffic (`rate_limit`), which this leaves untouched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Password checks that may run at once across the server.
pub const CONCURRENT_CHECKS: usize = 4;
/// Attempts a client address may make in a burst…
pub const BURST_PER_ADDRESS: f64 = 20.0;
/// …and per second after it (one every six seconds).
pub const RATE_PER_ADDRESS: f64 = 1.0 / 6.0;
/// Addresses remembered at most; past it, those whose bucket has refilled
/// (idle ones) are forgotten first.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug)]
pub struct SignInGuard {
    checks: Semaphore,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        Bucket {
            tokens: (self.tokens + elapsed * RATE_PER_ADDRESS).min(BURST_PER_ADDRESS),
            at: now,
        }
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard {
            checks: Semaphore::new(CONCURRENT_CHECKS),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

/// Why an attempt may not be checked now, and when to retry (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address tried too often.
    Address { retry_after: u64 },
    /// The server is checking as many passwords as it will at once.
    Busy { retry_after: u64 },
}

impl SignInGuard {
    /// Admits one attempt from `address` (unknown: only the global bound
    /// applies). The permit is held while the password is checked.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<SemaphorePermit<'_>, Refusal> {
        if let Some(address) = address {
            self.take_token(address, Instant::now())?;
        }
        self.checks
            .try_acquire()
            .map_err(|_| Refusal::Busy { retry_after: 1 })
    }

    fn take_token(&self, address: IpAddr, now: Instant) -> Result<(), Refusal> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&address) {
            buckets.retain(|_, b| b.refilled(now).tokens < BURST_PER_ADDRESS);
            if buckets.len() >= MAX_ADDRESSES {
                // Every remembered address is busy: a flood from very many
                // addresses. The global bound still holds memory flat.
                return Ok(());
            }
        }
        let bucket = buckets.get(&address).map_or(
            Bucket {
                tokens: BURST_PER_ADDRESS,
                at: now,
            },
            |b| b.refilled(now),
        );
        if bucket.tokens < 1.0 {
            buckets.insert(address, bucket);
            let retry_after = ((1.0 - bucket.tokens) / RATE_PER_ADDRESS).ceil() as u64;
            return Err(Refusal::Address {
                retry_after: retry_after.max(1),
            });
        }
        buckets.insert(
            address,
            Bucket {
                tokens: bucket.tokens - 1.0,
                ..bucket
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let guard = SignInGuard::default();
        for _ in 0..BURST_PER_ADDRESS as usize {
            drop(guard.admit(ip(1)).unwrap());
        }
        match guard.admit(ip(1)) {
            Err(Refusal::Address { retry_after }) => assert!((1..=6).contains(&retry_after)),
            other => panic!("{other:?}"),
        }
        // Another address is not held back by the first.
        assert!(guard.admit(ip(2)).is_ok());
        // Time refills the bucket.
        let later = Instant::now() + Duration::from_secs(7);
        assert!(guard.take_token(ip(1).unwrap(), later).is_ok());
    }

    #[test]
    fn at_most_a_few_checks_run_at_once() {
        let guard = SignInGuard::default();
        let held: Vec<_> = (0..CONCURRENT_CHECKS as u8)
            .map(|i| guard.admit(ip(10 + i)).unwrap())
            .collect();
        assert_eq!(
            guard.admit(ip(100)).unwrap_err(),
            Refusal::Busy { retry_after: 1 }
        );
        drop(held);
        assert!(guard.admit(ip(100)).is_ok());
    }
}
