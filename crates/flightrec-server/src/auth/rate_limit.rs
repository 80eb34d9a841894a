//! Request rate limits per credential and per tenant: token buckets, each
//! as deep as its rate (a burst of one second's worth).
//!
//! A noisy caller is turned away here, before it reaches the store, so it
//! spends none of the writer's time that other tenants need.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per second, `None` for no limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimits {
    pub per_key: Option<u32>,
    pub per_tenant: Option<u32>,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long are full again and can be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(300);

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the credential's and the tenant's buckets;
    /// `Err(seconds)` to wait when either is empty (then neither is charged).
    pub fn admit(&self, credential: &str, tenant: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.at) < FORGET_AFTER);
        }
        let checks = [
            (self.limits.per_key, format!("k\0{credential}")),
            (self.limits.per_tenant, format!("t\0{tenant}")),
        ];
        let mut refills = Vec::with_capacity(2);
        for (rate, name) in checks {
            let Some(rate) = rate else { continue };
            let rate = f64::from(rate.max(1));
            let bucket = buckets.get(&name).copied().unwrap_or(Bucket {
                tokens: rate,
                at: now,
            });
            let tokens =
                (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(rate);
            if tokens < 1.0 {
                return Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64);
            }
            refills.push((name, tokens - 1.0));
        }
        for (name, tokens) in refills {
            buckets.insert(name, Bucket { tokens, at: now });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_is_refused_then_recovers() {
        let limiter = RateLimiter::new(RateLimits {
            per_key: Some(5),
            per_tenant: None,
        });
        for _ in 0..5 {
            limiter.admit("k1", "t").unwrap();
        }
        assert_eq!(limiter.admit("k1", "t"), Err(1));
        // Another key is not slowed by the first.
        limiter.admit("k2", "t").unwrap();
        std::thread::sleep(Duration::from_millis(250));
        limiter.admit("k1", "t").unwrap();
    }

    #[test]
    fn the_tenant_bucket_holds_across_keys() {
        let limiter = RateLimiter::new(RateLimits {
            per_key: Some(100),
            per_tenant: Some(3),
        });
        for k in ["a", "b", "c"] {
            limiter.admit(k, "t").unwrap();
        }
        assert!(limiter.admit("d", "t").is_err());
        limiter.admit("d", "other").unwrap();
    }
}
