//! Pacing a replay: each event waits for the gap that preceded it in the
//! original run, divided by the speed, with long idle gaps capped.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long to wait before showing an event at `next` after one at
/// `prev`: the original gap over `speed`, at most `max_gap`. Events out of
/// time order (clients set `time`) wait nothing.
pub fn delay(prev: DateTime<Utc>, next: DateTime<Utc>, speed: f64, max_gap: Duration) -> Duration {
    let gap = (next - prev).to_std().unwrap_or(Duration::ZERO);
    if speed <= 0.0 || !speed.is_finite() {
        return max_gap.min(gap);
    }
    // A tiny speed makes the quotient overflow a Duration: that is a wait
    // longer than any cap, not a panic.
    Duration::try_from_secs_f64(gap.as_secs_f64() / speed)
        .unwrap_or(max_gap)
        .min(max_gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::event::parse_time(s).unwrap()
    }

    #[test]
    fn speed_1e_minus_300_waits_the_cap_instead_of_panicking() {
        let a = t("2026-11-22T10:00:00Z");
        let cap = Duration::from_secs(2);
        assert_eq!(delay(a, t("2026-11-22T10:00:01Z"), 1e-300, cap), cap);
        assert_eq!(
            delay(a, t("2026-11-22T10:00:01Z"), f64::MIN_POSITIVE, cap),
            cap
        );
    }

    #[test]
    fn gaps_are_divided_by_speed_and_capped() {
        let a = t("2026-11-22T10:00:00Z");
        let cap = Duration::from_secs(2);
        assert_eq!(
            delay(a, t("2026-11-22T10:00:01Z"), 1.0, cap),
            Duration::from_secs(1)
        );
        assert_eq!(
            delay(a, t("2026-11-22T10:00:01Z"), 4.0, cap),
            Duration::from_millis(250)
        );
        assert_eq!(
            delay(a, t("2026-11-22T10:00:00.5Z"), 0.5, cap),
            Duration::from_secs(1)
        );
        assert_eq!(
            delay(a, t("2026-11-22T11:00:00Z"), 1.0, cap),
            cap,
            "an idle hour is capped"
        );
        assert_eq!(
            delay(a, t("2026-11-22T09:59:00Z"), 1.0, cap),
            Duration::ZERO
        );
    }
}
