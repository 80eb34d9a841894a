//! Totals for a time window from hourly counts: the whole hours inside the
//! window come from a table of counts per hour (one row per tenant, hour and
//! status, kept by every append), the partial hours at its edges from the
//! records themselves. Both backends count this way, from `record_stats`,
//! for the dashboard's totals and for `/v1/stats`.

use crate::model::RecordCounts;
use crate::stats::hour_of;
use chrono::{NaiveDateTime, TimeDelta};

/// Sorts before and after every hour key (times compare bytewise).
const NO_HOUR_BEFORE: &str = "";
const NO_HOUR_AFTER: &str = "~";

/// What can be summed over the parts of a window.
pub trait WindowSum: Default {
    fn add(&mut self, more: Self);
}

impl WindowSum for RecordCounts {
    fn add(&mut self, more: RecordCounts) {
        self.total += more.total;
        self.fail += more.fail;
        self.warn += more.warn;
    }
}

/// The records with a `time` in `[since, until)`, from `hours(from_hour,
/// before_hour)` (the hourly counts of the hour keys in that range) and
/// `records(from, before)` (the records with a time in that range).
pub fn window_counts<T: WindowSum, E>(
    since: Option<&str>,
    until: Option<&str>,
    mut hours: impl FnMut(&str, &str) -> Result<T, E>,
    mut records: impl FnMut(&str, &str) -> Result<T, E>,
) -> Result<T, E> {
    let mut records = |from: &str, before: &str| {
        if from >= before {
            Ok(T::default())
        } else {
            records(from, before)
        }
    };
    // Times are fixed-width UTC text, so an hour key (`2026-11-23T02`)
    // compares with them as text: every time in that hour sorts after it
    // and before the next hour's key.
    let first_whole = since.map(|s| next_hour(hour_of(s)));
    let last_partial = until.map(hour_of);
    let mut counts = hours(
        first_whole.as_deref().unwrap_or(NO_HOUR_BEFORE),
        last_partial.unwrap_or(NO_HOUR_AFTER),
    )?;
    if let (Some(since), Some(hour_end)) = (since, first_whole.as_deref()) {
        // From `since` to the end of its hour (or `until`, if sooner).
        let end = until.map_or(hour_end, |u| hour_end.min(u));
        counts.add(records(since, end)?);
    }
    if let Some(until) = until {
        // From the start of `until`'s hour (unless `since` is later, in
        // which case the range above covered it) to `until`.
        let hour = hour_of(until);
        let start = first_whole.as_deref().map_or(hour, |h| h.max(hour));
        counts.add(records(start, until)?);
    }
    Ok(counts)
}

/// The key of the hour after `hour`.
fn next_hour(hour: &str) -> String {
    NaiveDateTime::parse_from_str(&format!("{hour}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .and_then(|t| t.checked_add_signed(TimeDelta::hours(1)))
        .map(|t| t.format("%Y-%m-%dT%H").to_string())
        .filter(|key| key.len() == 13)
        .unwrap_or_else(|| NO_HOUR_AFTER.to_owned())
}

#[cfg(test)]
mod tests {
    use super::next_hour;

    #[test]
    fn next_hour_crosses_days_and_years() {
        assert_eq!(next_hour("2026-11-23T02"), "2026-11-23T03");
        assert_eq!(next_hour("2026-12-31T23"), "2027-01-01T00");
        assert_eq!(next_hour("2028-02-28T23"), "2028-02-29T00");
        assert_eq!(next_hour("9999-12-31T23"), "~");
    }
}
