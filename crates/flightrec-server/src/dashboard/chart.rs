//! Counts over time, stacked by kind: a bar chart the server draws as SVG
//! (no script, nothing the strict CSP would refuse), with the same figures
//! as a table for screen readers and for anyone who would rather read
//! numbers. The audit log stacks records by status (`GET
//! /v1/stats?group_by=hour` or `day` for its window: the hourly tallies,
//! exact); the alerts page stacks alerts by severity.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use flightrec_store::stats::{GroupBy, StatGroups};
use std::collections::BTreeMap;

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
    /// What each bar stacks.
    pub kinds: &'static Kinds,
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
    /// Per kind.
    pub counts: Vec<u64>,
    pub x: f64,
    pub width: f64,
    /// Top and height of each kind's part.
    pub parts: Vec<(f64, f64)>,
}

/// The window a chart covers, from the page's filter: `since` and `until`
/// as the API normalised them (until exclusive), and the time of the page.
pub struct Window<'a> {
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub now: DateTime<Utc>,
}

impl Window<'_> {
    fn start(&self) -> Option<DateTime<Utc>> {
        self.since.and_then(parse_time)
    }

    /// The last instant inside the window: before `until`, else now.
    fn end(&self) -> DateTime<Utc> {
        self.until
            .and_then(parse_time)
            .map(|t| t - Duration::microseconds(1))
            .unwrap_or(self.now)
    }

    /// Hours for a window of up to 48 hours (with a minute's slack: the
    /// filter read the clock a moment before the page did), days beyond.
    pub fn granularity(&self) -> GroupBy {
        match self.start() {
            Some(start) if self.end() - start <= HOURLY_UP_TO + Duration::minutes(1) => {
                GroupBy::Hour
            }
            _ => GroupBy::Day,
        }
    }
}

/// What a chart counts and how it stacks it, bottom up.
pub struct Kinds {
    /// "events", "alerts".
    pub noun: &'static str,
    /// "status", "severity".
    pub by: &'static str,
    /// The class each part is drawn with.
    pub classes: &'static [&'static str],
    /// The words for each part.
    pub labels: &'static [&'static str],
}

/// The audit log's chart: records by status.
pub const STATUSES: Kinds = Kinds {
    noun: "events",
    by: "status",
    classes: &["ok", "warn", "fail"],
    labels: &["OK", "WARN", "FAIL"],
};

/// The alerts page's chart: alerts by severity.
pub const SEVERITIES: Kinds = Kinds {
    noun: "alerts",
    by: "severity",
    classes: &["low", "medium", "high", "critical"],
    labels: &["Low", "Medium", "High", "Critical"],
};

impl Bar {
    /// What the bar holds, in words: `12 events: OK 9, WARN 1, FAIL 2`.
    pub fn describe(&self, kinds: &Kinds) -> String {
        let parts: Vec<String> = kinds
            .labels
            .iter()
            .zip(&self.counts)
            .map(|(label, n)| format!("{label} {n}"))
            .collect();
        format!(
            "{}: {} {}: {}",
            self.key,
            self.total,
            kinds.noun,
            parts.join(", ")
        )
    }
}

impl TimeChart {
    /// Records by status, from the window's tallies keyed by hour or day.
    pub fn of_statuses(groups: &StatGroups, group_by: GroupBy, window: &Window<'_>) -> TimeChart {
        let counts = groups
            .0
            .iter()
            .map(|(key, t)| {
                let c = t.counts;
                let ok = c.n.saturating_sub(c.warn + c.fail);
                (key.clone(), vec![ok, c.warn, c.fail])
            })
            .collect();
        TimeChart::new(&STATUSES, &counts, group_by, window)
    }

    /// The chart of `counts` (per hour or day key, one count per kind)
    /// over `window`: every hour or day of it a bar, the empty ones too,
    /// from its start (or the first key, for all time) to its end (or the
    /// last key, if records are timed later than now), the last
    /// [`MAX_BARS`] of them.
    pub fn new(
        kinds: &'static Kinds,
        counts: &BTreeMap<String, Vec<u64>>,
        group_by: GroupBy,
        window: &Window<'_>,
    ) -> TimeChart {
        let hourly = group_by == GroupBy::Hour;
        let (step, format) = if hourly {
            (Duration::hours(1), "%Y-%m-%dT%H")
        } else {
            (Duration::days(1), "%Y-%m-%d")
        };
        let floor = |t: DateTime<Utc>| {
            parse_key(&t.format(format).to_string()).expect("a key of our own format")
        };
        let first_key = counts.keys().next().and_then(|k| parse_key(k));
        let last_key = counts.keys().next_back().and_then(|k| parse_key(k));
        let end = match (window.until, last_key) {
            (None, Some(last)) => floor(window.end()).max(last),
            _ => floor(window.end()),
        };
        let mut keys = Vec::new();
        let mut left_out = 0;
        if let Some(start) = window.start().or(first_key).map(floor)
            && start <= end
        {
            let span = ((end - start).num_seconds() / step.num_seconds()) as usize + 1;
            left_out = span.saturating_sub(MAX_BARS);
            let mut t = end - step * (span - left_out - 1) as i32;
            while t <= end {
                keys.push(t.format(format).to_string());
                t += step;
            }
        }

        let rows: Vec<(String, Vec<u64>)> = keys
            .into_iter()
            .map(|k| {
                let c = counts
                    .get(&k)
                    .cloned()
                    .unwrap_or_else(|| vec![0; kinds.classes.len()]);
                (k, c)
            })
            .collect();
        let max = rows
            .iter()
            .map(|r| r.1.iter().sum::<u64>())
            .max()
            .unwrap_or(0);
        let slot = WIDTH / rows.len().max(1) as f64;
        let scale = if max == 0 { 0.0 } else { HEIGHT / max as f64 };
        let bars = rows
            .into_iter()
            .enumerate()
            .map(|(i, (key, counts))| {
                let mut bottom = HEIGHT;
                let parts = counts
                    .iter()
                    .map(|&n| {
                        let height = n as f64 * scale;
                        bottom -= height;
                        (bottom, height)
                    })
                    .collect();
                Bar {
                    key,
                    total: counts.iter().sum(),
                    counts,
                    x: i as f64 * slot + slot * 0.1,
                    width: slot * 0.8,
                    parts,
                }
            })
            .collect();
        TimeChart {
            unit: if hourly { "per hour" } else { "per day" },
            kinds,
            bars,
            max,
            width: WIDTH,
            height: HEIGHT,
            left_out,
        }
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
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

    fn window<'a>(since: Option<&'a str>, until: Option<&'a str>) -> Window<'a> {
        Window {
            since,
            until,
            now: at("2026-12-03T10:20:00Z"),
        }
    }

    fn keys(chart: &TimeChart) -> Vec<&str> {
        chart.bars.iter().map(|b| b.key.as_str()).collect()
    }

    #[test]
    fn every_hour_of_the_window_is_a_bar_the_empty_ones_too() {
        let w = window(Some("2026-12-03T07:20:00.000000Z"), None);
        assert_eq!(w.granularity(), GroupBy::Hour);
        let chart = TimeChart::of_statuses(
            &groups(&[("2026-12-03T07", 4, 1, 1), ("2026-12-03T09", 8, 0, 2)]),
            GroupBy::Hour,
            &w,
        );
        assert_eq!(
            keys(&chart),
            [
                "2026-12-03T07",
                "2026-12-03T08",
                "2026-12-03T09",
                "2026-12-03T10"
            ]
        );
        assert_eq!(chart.max, 8);
        let b = &chart.bars[0];
        assert_eq!(b.counts, [2, 1, 1]);
        // Stacked from the bottom, the tallest bar the full height.
        assert_eq!(b.parts[0], (HEIGHT - HEIGHT / 4.0, HEIGHT / 4.0));
        let tallest = &chart.bars[2];
        assert!((tallest.parts[2].0 - 0.0).abs() < 1e-9);
        assert_eq!(chart.bars[1].total, 0);
    }

    #[test]
    fn forty_eight_hours_are_hours_and_a_little_more_is_days() {
        // The filter read the clock a moment before the page.
        let w = window(Some("2026-12-01T10:19:59.990000Z"), None);
        assert_eq!(w.granularity(), GroupBy::Hour);
        let w = window(Some("2026-12-01T09:00:00.000000Z"), None);
        assert_eq!(w.granularity(), GroupBy::Day);
        assert_eq!(window(None, None).granularity(), GroupBy::Day);
    }

    #[test]
    fn a_window_that_ends_before_now_ends_there() {
        let w = window(
            Some("2025-01-01T00:00:00.000000Z"),
            Some("2025-01-02T00:00:00.000000Z"),
        );
        assert_eq!(w.granularity(), GroupBy::Hour);
        let chart =
            TimeChart::of_statuses(&groups(&[("2025-01-01T05", 3, 0, 0)]), GroupBy::Hour, &w);
        assert_eq!(chart.bars.len(), 24, "until is exclusive: 00..23");
        assert_eq!(chart.bars[23].key, "2025-01-01T23");
        assert_eq!((chart.max, chart.left_out), (3, 0));
    }

    #[test]
    fn all_time_starts_at_the_first_day_and_reaches_records_timed_later_than_now() {
        let chart = TimeChart::of_statuses(
            &groups(&[("2026-11-30", 3, 0, 0), ("2026-12-05", 1, 0, 0)]),
            GroupBy::Day,
            &window(None, None),
        );
        assert_eq!(chart.bars.len(), 6);
        assert_eq!(chart.bars[0].key, "2026-11-30");
        assert_eq!(chart.bars[5].key, "2026-12-05");
        let empty =
            TimeChart::of_statuses(&StatGroups::default(), GroupBy::Day, &window(None, None));
        assert!(empty.bars.is_empty() && empty.max == 0);
        let ahead = window(Some("2026-12-09T00:00:00.000000Z"), None);
        assert!(
            TimeChart::of_statuses(&StatGroups::default(), GroupBy::Day, &ahead)
                .bars
                .is_empty()
        );
    }

    #[test]
    fn centuries_of_days_show_the_last_ones_without_walking_them() {
        let w = window(Some("0003-01-01T00:00:00.000000Z"), None);
        let chart = TimeChart::of_statuses(&groups(&[("2026-12-03", 1, 0, 0)]), GroupBy::Day, &w);
        assert_eq!(chart.bars.len(), MAX_BARS);
        assert_eq!(chart.bars.last().unwrap().key, "2026-12-03");
        assert_eq!(chart.max, 1);
        assert!(chart.left_out > 700_000);
    }
}
