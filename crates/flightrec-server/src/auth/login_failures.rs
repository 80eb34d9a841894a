//! Failed sign-ins, counted per email over a sliding window.
//!
//! A burst of failures against one account is worth an entry in its
//! tenant's log (someone may be guessing its password), once per window;
//! past a harder limit the account's sign-in is paused until the window
//! has passed, which slows guessing to a crawl.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures in a window that make a burst worth recording.
pub const BURST: u32 = 5;
/// Failures in a window after which sign-in waits for the window to pass.
pub const LOCKOUT: u32 = 10;
/// Accounts tracked at most: a flood of failures for distinct emails
/// (from many addresses) cannot grow the map past this.
const MAX_TRACKED: usize = 100_000;
/// The longest email an address can have (RFC 3696 errata); a longer key
/// is cut, so the map's size is bounded in bytes too.
const MAX_EMAIL_BYTES: usize = 320;

#[derive(Debug, Default)]
pub struct LoginFailures {
    by_email: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// What a failure amounts to.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Nothing worth recording yet.
    Counted,
    /// This failure completes a burst: record it.
    Burst { failures: u32 },
}

impl LoginFailures {
    fn current(map: &mut HashMap<String, Window>, email: &str, now: Instant) -> Window {
        let w = map.get(email).copied();
        match w {
            Some(w) if now.duration_since(w.started) < WINDOW => w,
            _ => Window {
                started: now,
                failures: 0,
            },
        }
    }

    /// `Err(seconds)` while the account's sign-in is paused.
    pub fn check(&self, email: &str) -> Result<(), u64> {
        let email = bounded(email);
        let now = Instant::now();
        let mut map = self.by_email.lock().unwrap_or_else(|p| p.into_inner());
        let w = Self::current(&mut map, email, now);
        if w.failures >= LOCKOUT {
            let left = WINDOW.saturating_sub(now.duration_since(w.started));
            return Err(left.as_secs().max(1));
        }
        Ok(())
    }

    pub fn fail(&self, email: &str) -> Failure {
        let now = Instant::now();
        let email = bounded(email);
        let mut map = self.by_email.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED && !map.contains_key(email) {
            map.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        if map.len() >= MAX_TRACKED && !map.contains_key(email) {
            // Single failures say least about an attack on one account.
            map.retain(|_, w| w.failures > 1);
        }
        let mut w = Self::current(&mut map, email, now);
        w.failures += 1;
        if map.len() < MAX_TRACKED || map.contains_key(email) {
            map.insert(email.to_owned(), w);
        }
        if w.failures == BURST {
            Failure::Burst {
                failures: w.failures,
            }
        } else {
            Failure::Counted
        }
    }

    /// A successful sign-in starts the count again.
    pub fn succeed(&self, email: &str) {
        self.by_email
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(bounded(email));
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.by_email.lock().unwrap().len()
    }
}

fn bounded(email: &str) -> &str {
    let mut end = email.len().min(MAX_EMAIL_BYTES);
    while !email.is_char_boundary(end) {
        end -= 1;
    }
    &email[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_reported_once_and_then_sign_in_pauses() {
        let f = LoginFailures::default();
        for _ in 1..BURST {
            assert_eq!(f.fail("a@x"), Failure::Counted);
        }
        assert_eq!(f.fail("a@x"), Failure::Burst { failures: BURST });
        for _ in BURST..LOCKOUT {
            assert!(f.check("a@x").is_ok());
            assert_eq!(f.fail("a@x"), Failure::Counted);
        }
        assert!(f.check("a@x").is_err());
        assert!(f.check("b@x").is_ok());
        f.succeed("a@x");
        assert!(f.check("a@x").is_ok());
    }

    #[test]
    fn login_failures_stay_bounded_under_distinct_emails() {
        let f = LoginFailures::default();
        for _ in 0..LOCKOUT {
            f.fail("target@x");
        }
        for i in 0..MAX_TRACKED + 5_000 {
            f.fail(&format!("{i}@{}", "x".repeat(1_000)));
        }
        assert!(f.tracked() <= MAX_TRACKED);
        assert!(
            f.check("target@x").is_err(),
            "a locked account stays locked"
        );
    }
}
