//! Exports: a run or a filtered set of events written out for people and
//! for auditors, one event at a time, so any size streams in constant
//! memory.
//!
//! - `jsonl` ([`verifiable`]): one record per line with header, body and
//!   salt, then the checkpoint and public key; `flightrec verify --export`
//!   checks it offline.
//! - `json`, `csv`, `transcript` (Markdown), `asciicast` (v2) and `html`
//!   (one self-contained file with a player): [`Writer`]s over the
//!   canonical events.
//! - `gif` ([`animation`]): the replay as an animated image, a frame per
//!   event drawn from the run's state at that point.

pub mod animation;
mod asciicast;
mod csv;
mod html;
mod json;
mod transcript;
mod verifiable;

pub use csv::text_cell as csv_text_cell;
pub use html::escape as html_escape;
pub use verifiable::{ExportMismatch, ExportSummary, push_record_line, record_line, verify_export};

use serde_json::Value;

/// What an export is of, for its heading.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// "Run fix-1", or "Events" for a filtered export.
    pub title: String,
    pub run_id: Option<String>,
    /// When the export was made (RFC 3339).
    pub exported_at: String,
}

/// One export format: a head, a piece per event (in order), a tail.
pub trait Writer: Send {
    fn head(&mut self, subject: &Subject) -> String;
    /// `event` is the canonical event JSON, as the API shows it.
    fn event(&mut self, event: &Value) -> String;
    fn tail(&mut self) -> String;
}

/// The formats [`writer`] makes, and their media types and file extensions.
pub const FORMATS: &[(&str, &str, &str)] = &[
    ("json", "application/json", "json"),
    ("csv", "text/csv; charset=utf-8", "csv"),
    ("transcript", "text/markdown; charset=utf-8", "md"),
    ("asciicast", "application/x-asciicast", "cast"),
    ("html", "text/html; charset=utf-8", "html"),
];

/// A writer for `format` (`jsonl`, the verifiable export, is written by
/// [`record_line`] instead).
pub fn writer(format: &str) -> Option<Box<dyn Writer>> {
    Some(match format {
        "json" => Box::new(json::Json::default()),
        "csv" => Box::new(csv::Csv),
        "transcript" => Box::new(transcript::Transcript::default()),
        "asciicast" => Box::new(asciicast::Asciicast::default()),
        "html" => Box::new(html::Html::default()),
        _ => return None,
    })
}

/// A string field of an event.
fn text<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event.get(key).and_then(Value::as_str)
}

/// A value as one line of text: strings as they are, the rest as JSON.
/// `s` safe to print on a terminal: tabs and line breaks become spaces and
/// every other control character a visible `�`, so recorded text cannot
/// move the cursor, retitle the window or clear the screen.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\r' | '\n' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
