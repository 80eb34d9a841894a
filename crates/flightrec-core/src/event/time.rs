//! The one textual form of a timestamp.
//!
//! Every stored time is UTC with exactly six fractional digits, so that the
//! text sorts the way the instants do and a header hashes the same however
//! the client wrote its time.

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};

/// Formats `t` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses an RFC 3339 time (any offset, any precision) and normalises it to
/// UTC, truncated to microseconds. Years outside 1970..=9999 are refused, so
/// the text form stays fixed-width.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|e| format!("is not an RFC 3339 time ({e}), e.g. 2026-01-31T12:00:00Z"))?;
    normalise(parsed.with_timezone(&Utc))
}

/// Interprets a number as Unix epoch milliseconds.
pub fn time_from_epoch_millis(ms: f64) -> Result<DateTime<Utc>, String> {
    if !ms.is_finite() {
        return Err("is not a finite number of milliseconds".into());
    }
    let micros = (ms * 1000.0).trunc();
    if micros.abs() > 1e17 {
        return Err("is out of range".into());
    }
    let t = Utc
        .timestamp_micros(micros as i64)
        .single()
        .ok_or("is out of range")?;
    normalise(t)
}

/// Parses the start of a time window: an RFC 3339 time, or a span back from
/// `now` such as `15m`, `1h`, `24h`, `7d` or `30d`. `all` means no bound.
pub fn parse_window_start(s: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s == "all" {
        return Ok(None);
    }
    let span = s
        .char_indices()
        .last()
        .filter(|(_, unit)| matches!(unit, 's' | 'm' | 'h' | 'd'))
        .and_then(|(i, unit)| s[..i].parse::<u32>().ok().map(|n| (n, unit)));
    if let Some((n, unit)) = span {
        let seconds = i64::from(n)
            * match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => 86_400,
            };
        // u32::MAX days is within a TimeDelta but not within a DateTime's
        // range back from now: subtracting would panic.
        return now
            .checked_sub_signed(chrono::Duration::seconds(seconds))
            .map(Some)
            .ok_or_else(|| "is a span reaching back before any time there can be".into());
    }
    parse_time(s)
        .map(Some)
        .map_err(|_| "is neither an RFC 3339 time nor a span like 1h, 24h, 7d, 30d or all".into())
}

fn normalise(t: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if !(1970..=9999).contains(&t.year()) {
        return Err("must be between the years 1970 and 9999".into());
    }
    let micros = t.timestamp_micros();
    Ok(Utc.timestamp_micros(micros).single().expect("in range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_offsets_and_precision() {
        let t = parse_time("2026-03-01T10:00:00.123456789+02:00").unwrap();
        assert_eq!(format_time(&t), "2026-03-01T08:00:00.123456Z");
        let t = parse_time("2026-03-01T10:00:00Z").unwrap();
        assert_eq!(format_time(&t), "2026-03-01T10:00:00.000000Z");
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-03-01",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_starts() {
        let now = parse_time("2026-11-22T12:00:00Z").unwrap();
        let at = |s: &str| parse_window_start(s, now).map(|t| t.map(|t| format_time(&t)));
        assert_eq!(at("1h").unwrap().unwrap(), "2026-11-22T11:00:00.000000Z");
        assert_eq!(at("7d").unwrap().unwrap(), "2026-11-15T12:00:00.000000Z");
        assert_eq!(at("all").unwrap(), None);
        assert_eq!(
            at("2026-01-01T00:00:00Z").unwrap().unwrap(),
            "2026-01-01T00:00:00.000000Z"
        );
        assert!(at("7w").is_err());
        assert!(at("h").is_err());
    }

    #[test]
    fn a_window_start_too_far_back_is_refused_not_a_panic() {
        // Found by fuzz/fuzz_targets/event_parse.rs: `?since=800009702d`
        // panicked on `DateTime - TimeDelta` overflow.
        let now = parse_time("2026-11-22T12:00:00Z").unwrap();
        for span in ["800009702d", "4294967295d", "4294967295h"] {
            assert!(parse_window_start(span, now).is_err(), "{span}");
        }
        assert!(parse_window_start("4294967295s", now).unwrap().is_some());
    }

    #[test]
    fn epoch_millis() {
        let t = time_from_epoch_millis(1_767_225_600_000.0).unwrap();
        assert_eq!(format_time(&t), "2026-01-01T00:00:00.000000Z");
        assert!(time_from_epoch_millis(f64::NAN).is_err());
        assert!(time_from_epoch_millis(-1.0e15).is_err());
    }
}
