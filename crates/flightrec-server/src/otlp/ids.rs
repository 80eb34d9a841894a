//! OTLP's trace and span ids, checked and written as lowercase hex (the
//! form OTLP/JSON uses), and the times it counts in nanoseconds.

use chrono::{DateTime, Utc};
use flightrec_core::event::format_time;

/// A trace id as a run id: 16 bytes, not all zero.
pub fn trace_id(bytes: &[u8]) -> Result<String, String> {
    id_hex(bytes, 16, "trace_id")
}

/// A span id: 8 bytes, not all zero.
pub fn span_id(bytes: &[u8]) -> Result<String, String> {
    id_hex(bytes, 8, "span_id")
}

/// A parent span id: absent (empty) for a root span, else a span id.
pub fn parent_span_id(bytes: &[u8]) -> Result<Option<String>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    id_hex(bytes, 8, "parent_span_id").map(Some)
}

fn id_hex(bytes: &[u8], len: usize, field: &str) -> Result<String, String> {
    if bytes.len() != len {
        return Err(format!(
            "its {field} is {} bytes; OTLP {field}s are {len} bytes",
            bytes.len()
        ));
    }
    if bytes.iter().all(|b| *b == 0) {
        return Err(format!(
            "its {field} is all zeros, which OTLP calls invalid"
        ));
    }
    Ok(hex::encode(bytes))
}

/// Nanoseconds since the Unix epoch as an RFC 3339 time (microseconds,
/// as flightrec keeps times).
pub fn time(unix_nanos: u64) -> Option<String> {
    if unix_nanos == 0 {
        return None;
    }
    let secs = (unix_nanos / 1_000_000_000) as i64;
    let nanos = (unix_nanos % 1_000_000_000) as u32;
    DateTime::<Utc>::from_timestamp(secs, nanos).map(|t| format_time(&t))
}

/// The milliseconds from `start` to `end` (nanoseconds), to the microsecond;
/// zero when the span ends before it starts.
pub fn duration_ms(start: u64, end: u64) -> serde_json::Number {
    let micros = end.saturating_sub(start) / 1_000;
    let ms = micros as f64 / 1_000.0;
    serde_json::Number::from_f64(ms).unwrap_or_else(|| 0.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_have_otlp_lengths_and_not_be_zero() {
        assert_eq!(
            trace_id(&[0x5b; 16]).unwrap(),
            "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b"
        );
        assert!(trace_id(&[1; 8]).unwrap_err().contains("8 bytes"));
        assert!(trace_id(&[0; 16]).unwrap_err().contains("all zeros"));
        assert!(span_id(&[1; 16]).is_err());
        assert_eq!(parent_span_id(&[]).unwrap(), None);
        assert!(parent_span_id(&[1; 3]).is_err());
    }

    #[test]
    fn times_and_durations_keep_microseconds() {
        assert_eq!(
            time(1_544_712_660_123_456_789).unwrap(),
            "2018-12-13T14:51:00.123456Z"
        );
        assert_eq!(time(0), None);
        assert_eq!(duration_ms(1_000_000, 13_345_678).to_string(), "12.345");
        assert_eq!(duration_ms(5, 1).to_string(), "0.0");
    }
}
