//! Records over time, stacked by status: a bar chart the server draws as
//! SVG (no script, nothing the strict CSP would refuse), with the same
//! figures as a table for screen readers and for anyone who would rather
//! read numbers. Its figures are `GET /v1/stats?group_by=hour` (or `day`)
//! for the page's window: the hourly tallies, exact.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use flightrec_store::stats::{GroupBy, StatGroups};

/// Windows up to this long are drawn an hour a bar; longer ones a day.
const HOURLY_UP_TO: Duration = Duration::hours(48);
/// Bars at most: an "all time" window over years shows its last ones.
const MAX_BARS: usize = 400;

/// The drawing's size in its own units (the SVG scales to the page).
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 120.0;

pub struct TimeChart {
    /// "per hour" or "per day".
    pub unit: &'static str,
    pub bars: Vec<Bar>,
    /// The tallest bar's count, the top of the scale.
    pub max: u64,
    pub width: f64,
    pub height: f64,
    /// Bars left out at the start, when there were more than fit.
    pub left_out: usize,
}

pub struct Bar {
    /// The hour (`2026-11-23T02`) or day (`2026-11-23`), as `/v1/stats`
    /// keys it.
    pub key: String,
    pub total: u64,
    pub ok: u64,
    pub warn: u64,
    pub fail: u64,
    pub x: f64,
    pub width: f64,
    /// Top and height of each part, from the bottom up: ok, warn, fail.
    pub parts: [(f64, f64); 3],
}

/// How to group a window that starts at `since` (none: all time).
pub fn granularity(since: Option<&str>, now: DateTime<Utc>) -> GroupBy {
    let start = since.and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    match start {
        Some(start) if now - start.with_timezone(&Utc) <= HOURLY_UP_TO => GroupBy::Hour,
        _ => GroupBy::Day,
    }
}

impl TimeChart {
    /// The chart of `groups` (keyed by `group_by`, hour or day) over the
    /// window from `since` (or the first group) to `now`, every hour or
    /// day of it a bar, the empty ones too.
    pub fn new(
        groups: &StatGroups,
        group_by: GroupBy,
        since: Option<&str>,
        now: DateTime<Utc>,
    ) -> TimeChart {
        let hourly = group_by == GroupBy::Hour;
        let key = |t: DateTime<Utc>| {
            t.format(if hourly { "%Y-%m-%dT%H" } else { "%Y-%m-%d" })
                .to_string()
        };
        let first = since
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| groups.0.keys().next().and_then(|k| parse_key(k)));
        let step = if hourly {
            Duration::hours(1)
        } else {
            Duration::days(1)
        };
        let mut keys = Vec::new();
        if let Some(mut t) = first {
            let last = key(now);
            loop {
                let k = key(t);
                let done = k >= last;
                keys.push(k);
                if done {
                    break;
                }
                t += step;
            }
        }
        let left_out = keys.len().saturating_sub(MAX_BARS);
        keys.drain(..left_out);

        let counts: Vec<(String, u64, u64, u64)> = keys
            .into_iter()
            .map(|k| {
                let c = groups.0.get(&k).map(|t| t.counts).unwrap_or_default();
                (k, c.n, c.warn, c.fail)
            })
            .collect();
        let max = counts.iter().map(|c| c.1).max().unwrap_or(0);
        let slot = WIDTH / counts.len().max(1) as f64;
        let scale = if max == 0 { 0.0 } else { HEIGHT / max as f64 };
        let bars = counts
            .into_iter()
            .enumerate()
            .map(|(i, (key, total, warn, fail))| {
                let ok = total.saturating_sub(warn + fail);
                let mut bottom = HEIGHT;
                let parts = [ok, warn, fail].map(|n| {
                    let height = n as f64 * scale;
                    bottom -= height;
                    (bottom, height)
                });
                Bar {
                    key,
                    total,
                    ok,
                    warn,
                    fail,
                    x: i as f64 * slot + slot * 0.1,
                    width: slot * 0.8,
                    parts,
                }
            })
            .collect();
        TimeChart {
            unit: if hourly { "per hour" } else { "per day" },
            bars,
            max,
            width: WIDTH,
            height: HEIGHT,
            left_out,
        }
    }
}

/// The start of an hour or day key.
fn parse_key(key: &str) -> Option<DateTime<Utc>> {
    if key.len() == 13 {
        NaiveDateTime::parse_from_str(&format!("{key}:00:00"), "%Y-%m-%dT%H:%M:%S")
            .ok()
            .map(|t| t.and_utc())
    } else {
        NaiveDate::parse_from_str(key, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_store::stats::Tally;

    fn groups(rows: &[(&str, u64, u64, u64)]) -> StatGroups {
        let mut groups = StatGroups::default();
        for &(key, n, warn, fail) in rows {
            let mut tally = Tally::default();
            tally.counts.n = n;
            tally.counts.warn = warn;
            tally.counts.fail = fail;
            groups.0.insert(key.into(), tally);
        }
        groups
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_hour_of_the_window_is_a_bar_the_empty_ones_too() {
        let now = at("2026-12-03T10:20:00Z");
        let since = "2026-12-03T07:20:00Z";
        assert_eq!(granularity(Some(since), now), GroupBy::Hour);
        let chart = TimeChart::new(
            &groups(&[("2026-12-03T07", 4, 1, 1), ("2026-12-03T09", 8, 0, 2)]),
            GroupBy::Hour,
            Some(since),
            now,
        );
        let keys: Vec<&str> = chart.bars.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "2026-12-03T07",
                "2026-12-03T08",
                "2026-12-03T09",
                "2026-12-03T10"
            ]
        );
        assert_eq!(chart.max, 8);
        let b = &chart.bars[0];
        assert_eq!((b.ok, b.warn, b.fail), (2, 1, 1));
        // Stacked from the bottom, the tallest bar the full height.
        assert_eq!(b.parts[0], (HEIGHT - HEIGHT / 4.0, HEIGHT / 4.0));
        let tallest = &chart.bars[2];
        assert!((tallest.parts[2].0 - 0.0).abs() < 1e-9);
        assert_eq!(chart.bars[1].total, 0);
    }

    #[test]
    fn long_windows_go_by_day_and_all_time_starts_at_the_first_day() {
        let now = at("2026-12-03T10:20:00Z");
        assert_eq!(granularity(Some("2026-11-26T10:20:00Z"), now), GroupBy::Day);
        assert_eq!(granularity(None, now), GroupBy::Day);
        let chart = TimeChart::new(&groups(&[("2026-11-30", 3, 0, 0)]), GroupBy::Day, None, now);
        assert_eq!(chart.bars.len(), 4);
        assert_eq!(chart.bars[0].key, "2026-11-30");
        assert_eq!(chart.bars[3].key, "2026-12-03");
        let empty = TimeChart::new(&StatGroups::default(), GroupBy::Day, None, now);
        assert!(empty.bars.is_empty() && empty.max == 0);
    }

    #[test]
    fn years_of_days_show_the_last_ones() {
        let now = at("2026-12-03T10:20:00Z");
        let chart = TimeChart::new(&groups(&[("2024-01-01", 1, 0, 0)]), GroupBy::Day, None, now);
        assert_eq!(chart.bars.len(), MAX_BARS);
        assert_eq!(chart.bars.last().unwrap().key, "2026-12-03");
        assert!(chart.left_out > 0);
    }
}
