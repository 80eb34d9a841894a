//! The player's screen as lines of text: a header, the timeline, the events
//! around the current one beside what that event did (a file's diff and
//! content, a message, a tool call), and the keys.

use super::model::{HELP, Player};
use crate::output;
use flightrec_client::RunState;
use serde_json::Value;

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// The title and the current event.
    Strong,
    Dim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub style: Style,
}

fn line(text: String, style: Style) -> Line {
    Line { text, style }
}

/// The screen, `height` lines of at most `width` characters.
pub fn render(p: &Player, width: usize, height: usize) -> Vec<Line> {
    let width = width.max(40);
    let height = height.max(8);
    let mut out = vec![
        line(fit(&header(p), width), Style::Strong),
        line(fit(&timeline(p, width), width), Style::Plain),
    ];
    let body = height - 4;
    let left_width = (width * 2 / 5).clamp(30, 60).min(width - 12);
    let right_width = width - left_width - 3;
    let left = event_list(p, left_width, body);
    let right = detail(p, right_width, body);
    out.push(line(
        format!(
            "{}┬{}",
            "─".repeat(left_width + 1),
            "─".repeat(width - left_width - 2)
        ),
        Style::Dim,
    ));
    for i in 0..body {
        let (l, style) = left.get(i).cloned().unwrap_or_default();
        let r = right.get(i).map(String::as_str).unwrap_or("");
        out.push(line(
            format!("{} │ {}", pad(&l, left_width), fit(r, right_width)),
            if style { Style::Strong } else { Style::Plain },
        ));
    }
    let foot = p.message.as_deref().unwrap_or(HELP);
    out.push(line(fit(foot, width), Style::Dim));
    out
}

fn header(p: &Player) -> String {
    let mode = match (&p.ended, p.playing) {
        (Some(why), _) => format!("■ ended ({why})"),
        (None, true) => "▶ playing".to_owned(),
        (None, false) => "❚❚ paused".to_owned(),
    };
    let at = p.current.map_or("-".to_owned(), |c| (c + 1).to_string());
    let status = if p.run_status.is_empty() {
        String::new()
    } else {
        format!(" · run {}", p.run_status)
    };
    format!(
        "flightrec · {} · {mode} ×{} · event {at}/{}{status}",
        p.run_id,
        speed(p.speed),
        p.total
    )
}

fn speed(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// `[=====>-----] 10:00:05`
fn timeline(p: &Player, width: usize) -> String {
    let time = p
        .current_event()
        .and_then(|e| e["time"].as_str())
        .map(clock)
        .unwrap_or_default();
    let bar = width.saturating_sub(time.len() + 4).max(10);
    let done = match (p.current, p.total) {
        (Some(c), t) if t > 1 => ((c as f64 / (t - 1) as f64) * (bar - 1) as f64).round() as usize,
        (Some(_), _) => bar - 1,
        _ => 0,
    };
    format!(
        "[{}>{}] {time}",
        "=".repeat(done),
        "-".repeat(bar - 1 - done)
    )
}

/// `HH:MM:SS.mmm` of an RFC 3339 time.
fn clock(time: &str) -> String {
    time.get(11..23).unwrap_or(time).to_owned()
}

/// The events around the current one; `true` marks the current.
fn event_list(p: &Player, width: usize, rows: usize) -> Vec<(String, bool)> {
    let Some(current) = p.current else {
        return vec![("waiting for the run's first event…".into(), false)];
    };
    let before = rows / 2;
    let first = current.saturating_sub(before as u64);
    p.events
        .range(first..)
        .take(rows)
        .map(|(i, e)| {
            let mark = if *i == current { "▶" } else { " " };
            let status = match e["status"].as_str() {
                Some("fail") => "FAIL ",
                Some("warn") => "WARN ",
                _ => "",
            };
            let text = format!(
                "{mark}{i:>5} {} {:<11} {status}{}",
                e["time"].as_str().map(clock).unwrap_or_default(),
                output::text(&e["type"]),
                output::summary(e)
            );
            (fit(&text, width), *i == current)
        })
        .collect()
}

/// What the current event did.
fn detail(p: &Player, width: usize, rows: usize) -> Vec<String> {
    let Some(e) = p.current_event() else {
        return vec![];
    };
    let index = p.current.unwrap_or_default();
    let kind = output::text(&e["type"]);
    let mut out = vec![format!(
        "{kind}{}",
        e["tool"]
            .as_str()
            .or(e["input"]["path"].as_str())
            .map(|t| format!(" · {t}"))
            .unwrap_or_default()
    )];
    if let Some(state) = &p.state {
        out.push(format!(
            "context {} · files {} · {}",
            state.context.len(),
            state.files.len(),
            serde_json::to_value(state.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
        for problem in state.problems.iter().filter(|pr| pr.index == index) {
            out.push(format!("problem: {}", problem.message));
        }
    }
    out.push(String::new());
    if let Some(change) = p
        .state
        .as_ref()
        .and_then(|s| s.changes.iter().find(|c| c.index == index))
    {
        file_view(p.state.as_ref(), &change.path, &change.diff, &mut out);
    } else if kind == "read_file" {
        let path = e["input"]["path"].as_str().unwrap_or_default();
        file_view(p.state.as_ref(), path, "", &mut out);
    } else {
        fields(e, &mut out, width);
    }
    out.truncate(rows);
    out
}

/// A change's diff, then the file as it now is.
fn file_view(state: Option<&RunState>, path: &str, diff: &str, out: &mut Vec<String>) {
    if !diff.is_empty() {
        out.extend(diff.lines().map(str::to_owned));
        out.push(String::new());
    }
    match state.and_then(|s| s.files.get(path)) {
        Some(file) => match &file.content {
            Some(content) => {
                out.push(format!("── {path} ({} lines) ──", content.lines().count()));
                out.extend(
                    content
                        .lines()
                        .enumerate()
                        .map(|(n, l)| format!("{:>4} {l}", n + 1)),
                );
            }
            None => out.push(format!("── {path}: content not known ──")),
        },
        None if state.is_some() => out.push(format!("── {path}: deleted ──")),
        None => out.push("loading the state…".into()),
    }
}

/// A message, an error, a tool's input and output.
fn fields(e: &Value, out: &mut Vec<String>, width: usize) {
    for key in ["content", "message"] {
        if let Some(text) = e[key].as_str() {
            out.extend(wrap(text, width));
        }
    }
    if let Some(m) = e["error"]["message"].as_str() {
        out.push(format!("error: {m}"));
    }
    for key in ["input", "output"] {
        if !e[key].is_null() {
            out.push(format!("{key}:"));
            let pretty = serde_json::to_string_pretty(&e[key]).unwrap_or_default();
            out.extend(pretty.lines().map(|l| format!("  {l}")));
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.lines() {
        let chars: Vec<char> = para.chars().collect();
        if chars.is_empty() {
            out.push(String::new());
        }
        for chunk in chars.chunks(width.max(1)) {
            out.push(chunk.iter().collect());
        }
    }
    out
}

/// `s` cut to `width` characters, with control characters made visible:
/// a recorded event must not be able to drive the terminal.
fn fit(s: &str, width: usize) -> String {
    output::shorten(&flightrec_core::export::printable(s), width.max(1))
}

/// `s` cut or padded to exactly `width` characters.
fn pad(s: &str, width: usize) -> String {
    let s = fit(s, width);
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width - n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_client::RunEvent;
    use flightrec_core::event::{Limits, parse_event};
    use flightrec_core::replay::{Step, fold};
    use serde_json::json;

    /// A player paused on a fixing edit, with the state after it.
    fn player() -> Player {
        let events = [
            json!({"type": "user_input", "content": "the total is off by one"}),
            json!({"type": "read_file", "input": {"path": "src/sum.rs"},
                   "output": "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n"}),
            json!({"type": "thinking", "content": "the range should include n\u{1b}[2J"}),
            json!({"type": "edit_file", "input": {"path": "src/sum.rs", "old_str": "(0..n)", "new_str": "(0..=n)"}}),
            json!({"type": "tool_call", "tool": "bash", "status": "fail", "input": {"command": "cargo test"}}),
        ];
        let mut p = Player::new("fix-1", 2.0);
        p.total = 9;
        p.run_status = "running".into();
        let mut parsed = Vec::new();
        for (i, mut e) in events.into_iter().enumerate() {
            e["time"] = json!(format!("2026-11-22T10:00:0{i}.250Z"));
            e["id"] = json!(format!("e{i}"));
            let event = parse_event(
                e.clone(),
                chrono::Utc::now(),
                &Limits::default(),
                || unreachable!(),
            )
            .unwrap();
            parsed.push(event);
            p.shown(RunEvent {
                index: i as u64,
                event: e,
            });
        }
        p.current = Some(3);
        p.playing = false;
        let times: Vec<String> = parsed
            .iter()
            .map(|e| flightrec_core::event::format_time(&e.time))
            .collect();
        p.state = Some(fold(parsed.iter().take(4).enumerate().map(|(i, e)| Step {
            index: i as u64,
            seq: i as u64,
            time: &times[i],
            event_type: &e.event_type,
            status: e.status,
            body: &e.body,
        })));
        p
    }

    #[test]
    fn the_screen_matches_its_snapshot() {
        let screen: String = render(&player(), 100, 22)
            .iter()
            .map(|l| format!("{}\n", l.text.trim_end()))
            .collect();
        assert!(!screen.contains('\u{1b}'), "no escape reaches the terminal");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/snapshots/player.txt");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(path, &screen).unwrap();
        }
        let expected = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(screen, expected, "UPDATE_SNAPSHOTS=1 writes a new snapshot");
    }

    #[test]
    fn every_line_fits_the_terminal() {
        for (w, h) in [(40, 8), (80, 24), (200, 50), (10, 3)] {
            let lines = render(&player(), w, h);
            assert_eq!(lines.len(), h.max(8));
            for l in &lines {
                assert!(l.text.chars().count() <= w.max(40), "{w}x{h}: {:?}", l.text);
            }
        }
    }
}
