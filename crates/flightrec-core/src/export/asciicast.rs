//! `asciicast` (v2): the run as a terminal recording any asciicast player
//! plays — one coloured line per event at the moment it happened, idle
//! gaps capped by the header's `idle_time_limit`.

use super::{Subject, Writer, inline, text};
use crate::event::parse_time;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const WIDTH: usize = 120;
/// Lines of a tool's output shown under its event.
const OUTPUT_LINES: usize = 8;

#[derive(Default)]
pub struct Asciicast {
    start: Option<DateTime<Utc>>,
    /// Offsets never go back, even if events' times do.
    last: f64,
}

/// One line of recorded text for the screen: made printable (the player
/// writes it to a real terminal), cut to `width`.
fn clip(s: &str, width: usize) -> String {
    let one_line = super::printable(s);
    if one_line.chars().count() <= width {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

impl Writer for Asciicast {
    fn head(&mut self, s: &Subject) -> String {
        let header = json!({
            "version": 2,
            "width": WIDTH,
            "height": 40,
            "idle_time_limit": 2.0,
            "title": s.title,
            "env": {"TERM": "xterm-256color", "SHELL": "flightrec"},
        });
        format!("{header}\n")
    }

    fn event(&mut self, e: &Value) -> String {
        let time = text(e, "time").and_then(|t| parse_time(t).ok());
        let offset = match (self.start, time) {
            (None, Some(t)) => {
                self.start = Some(t);
                0.0
            }
            (Some(s), Some(t)) => (t - s).num_microseconds().unwrap_or(0) as f64 / 1e6,
            _ => self.last,
        };
        self.last = offset.max(self.last);
        let kind = &clip(text(e, "type").unwrap_or("event"), 40);
        let colour = match (kind.as_str(), text(e, "status")) {
            (_, Some("fail")) | ("error", _) => "31",
            ("thinking", _) => "35",
            ("user_input", _) => "32",
            ("tool_call" | "tool_result", _) => "36",
            (k, _) if k.ends_with("_file") || k == "file_edit" => "33",
            _ => "37",
        };
        let clock = clip(text(e, "time").and_then(|t| t.get(11..19)).unwrap_or(""), 8);
        let detail = text(e, "tool")
            .or(text(e, "verb"))
            .map(str::to_owned)
            .into_iter()
            .chain(e.get("input").map(inline))
            .chain(text(e, "content").or(text(e, "message")).map(str::to_owned))
            .collect::<Vec<_>>()
            .join("  ");
        let head = format!("{clock} {kind:<12} ");
        let mut screen = format!(
            "\u{1b}[2m{clock}\u{1b}[0m \u{1b}[1;{colour}m{kind:<12}\u{1b}[0m {}\r\n",
            clip(&detail, WIDTH.saturating_sub(head.chars().count()))
        );
        if let Some(out) = e.get("output") {
            for line in inline(out).lines().take(OUTPUT_LINES) {
                screen.push_str(&format!(
                    "  \u{1b}[2m│\u{1b}[0m {}\r\n",
                    clip(line, WIDTH - 4)
                ));
            }
        }
        if let Some(err) = e.get("error").and_then(|x| x.get("message")) {
            screen.push_str(&format!(
                "  \u{1b}[31m✗ {}\u{1b}[0m\r\n",
                clip(&inline(err), WIDTH - 4)
            ));
        }
        format!(
            "{}\n",
            json!([(self.last * 1e6).round() / 1e6, "o", screen])
        )
    }

    fn tail(&mut self) -> String {
        String::new()
    }
}
