//! A proxied session as the `audit` tool tells it: its tool calls, each
//! with how it went (from its answer), which of them a replay would run
//! again, and the one-line and full reports.

use flightrec_client::{Action, ReexecuteOptions, action_of, skip_reason};
use flightrec_core::event::Status;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// A session's events, in run order.
#[derive(Debug, Clone)]
pub struct SessionLog {
    pub run_id: String,
    pub session_id: String,
    pub events: Vec<Value>,
}

/// One recorded tool call and its answer.
#[derive(Debug, Clone)]
pub struct RecordedCall<'a> {
    /// The call's position in the run, from 0.
    pub index: u64,
    pub call: &'a Value,
    pub answer: Option<&'a Value>,
}

impl RecordedCall<'_> {
    pub fn tool(&self) -> &str {
        self.call["tool"].as_str().unwrap_or("?")
    }

    /// Whether the call, or its answer, failed.
    pub fn failed(&self) -> bool {
        [Some(self.call), self.answer]
            .into_iter()
            .flatten()
            .any(|e| e["status"] == "fail")
    }

    /// The action a replay would run: failed when the call or its answer
    /// failed.
    pub fn action(&self) -> Option<Action> {
        let mut action = action_of(self.index, self.call)?;
        if self.failed() {
            action.recorded_status = Status::Fail;
        }
        Some(action)
    }

    /// Why a replay would pass over it, if it would.
    pub fn skip_reason(&self, options: &ReexecuteOptions) -> Option<String> {
        match self.action() {
            Some(a) => skip_reason(&a, options),
            None => Some("not an action".into()),
        }
    }
}

impl SessionLog {
    /// The MCP server the session was with.
    pub fn server(&self) -> Option<&str> {
        self.events
            .iter()
            .find(|e| e["type"] == "start")
            .or(self.events.first())
            .and_then(|e| e["provider"].as_str())
    }

    /// The session's tool calls, in order, each with its answer.
    pub fn calls(&self) -> Vec<RecordedCall<'_>> {
        let answers: HashMap<&str, &Value> = self
            .events
            .iter()
            .filter_map(|e| Some((e["parent_span_id"].as_str()?, e)))
            .collect();
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| e["type"] == "tool_call")
            .map(|(i, call)| RecordedCall {
                index: i as u64,
                call,
                answer: call["span_id"]
                    .as_str()
                    .and_then(|s| answers.get(s).copied()),
            })
            .collect()
    }

    /// `session=… | 5 actions: 2× write_file, 2× read_text_file, 1× move_file`
    /// — the most used tools first.
    pub fn summary(&self) -> String {
        let calls = self.calls();
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for c in &calls {
            match counts.iter_mut().find(|(t, _)| *t == c.tool()) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.tool(), 1)),
            }
        }
        // Stable: equal counts keep the order of first use.
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let tally: Vec<String> = counts.iter().map(|(t, n)| format!("{n}× {t}")).collect();
        let noun = if calls.len() == 1 {
            "action"
        } else {
            "actions"
        };
        let mut line = format!("session={} | {} {noun}", self.session_id, calls.len());
        if !tally.is_empty() {
            line += ": ";
            line += &tally.join(", ");
        }
        line
    }

    /// Every call, numbered and timestamped, `[✓]` on the ones a replay
    /// would run again, then a legend.
    pub fn full(&self, options: &ReexecuteOptions) -> String {
        let calls = self.calls();
        let mut out = format!(
            "session={} run={} server={} · {} tool calls\n",
            self.session_id,
            self.run_id,
            self.server().unwrap_or("?"),
            calls.len()
        );
        for (n, c) in calls.iter().enumerate() {
            let time = c.call["time"].as_str().unwrap_or("");
            let mark = if c.skip_reason(options).is_none() {
                "[✓]"
            } else {
                "[ ]"
            };
            let _ = write!(
                out,
                "{:>3}. {}  {mark} {}{}  {}",
                n + 1,
                clock(time),
                c.tool(),
                target(&c.call["input"]),
                outcome(c)
            );
            out.push('\n');
        }
        out += "Legend: [✓] replayable: `audit` with action=replay runs it again · \
                [ ] not replayed: read-only, blocked, a dry run, a masked credential in its \
                input, or failed (unless skip_errors=false)";
        out
    }
}

/// `12:00:01.123` of an RFC 3339 time.
fn clock(time: &str) -> &str {
    time.get(11..23).unwrap_or(time)
}

/// What a call acted on, for the listing: its path, else its arguments in
/// short.
fn target(input: &Value) -> String {
    for key in [
        "path", "source", "uri", "url", "query", "command", "message",
    ] {
        if let Some(v) = input.get(key).and_then(Value::as_str) {
            return format!(" {v}");
        }
    }
    match input {
        Value::Object(m) if !m.is_empty() => {
            let text = input.to_string();
            match text.char_indices().nth(60) {
                Some((cut, _)) => format!(" {}…", &text[..cut]),
                None => format!(" {text}"),
            }
        }
        _ => String::new(),
    }
}

/// `ok · 12.2 ms`, `FAIL · ENOENT…`, `blocked — moves need a human`,
/// `dry run`, `no answer`.
fn outcome(c: &RecordedCall<'_>) -> String {
    let governance = c.call["governance"]["status"].as_str();
    let reason = c.call["governance"]["reason"].as_str();
    match governance {
        Some("blocked") => {
            return match reason {
                Some(r) => format!("blocked — {r}"),
                None => "blocked".into(),
            };
        }
        Some("dry_run") => return "dry run".into(),
        _ => {}
    }
    let Some(answer) = c.answer else {
        return "no answer".into();
    };
    let took = answer["duration_ms"]
        .as_f64()
        .map(|ms| format!(" · {ms:.1} ms"))
        .unwrap_or_default();
    if c.failed() {
        let why = answer["error"]["message"].as_str().unwrap_or("failed");
        let why: String = why.lines().next().unwrap_or("").chars().take(80).collect();
        format!("FAIL{took} · {why}")
    } else {
        format!("ok{took}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log() -> SessionLog {
        let call = |span: &str, tool: &str, input: Value, extra: Value| {
            let mut e = json!({"type": "tool_call", "tool": tool, "span_id": span,
                "time": "2026-11-23T01:01:39.870309Z", "input": input, "provider": "fs"});
            for (k, v) in extra.as_object().unwrap() {
                e[k] = v.clone();
            }
            e
        };
        let answer = |span: &str, status: &str| {
            json!({"type": "tool_result", "parent_span_id": span, "status": status,
                "duration_ms": 3.25, "error": {"message": "ENOENT: no such file\nat …"}})
        };
        SessionLog {
            run_id: "mcp-1".into(),
            session_id: "1".into(),
            events: vec![
                json!({"type": "start", "provider": "secure-filesystem-server"}),
                call(
                    "a",
                    "read_text_file",
                    json!({"path": "/p/a.txt"}),
                    json!({"metadata": {"annotations": {"readOnlyHint": true}}}),
                ),
                answer("a", "ok"),
                call(
                    "b",
                    "write_file",
                    json!({"path": "/p/b.txt", "content": "x"}),
                    json!({}),
                ),
                answer("b", "ok"),
                call(
                    "c",
                    "write_file",
                    json!({"path": "/nope/c.txt", "content": "x"}),
                    json!({}),
                ),
                answer("c", "fail"),
                call(
                    "d",
                    "move_file",
                    json!({"source": "/p/b.txt"}),
                    json!({"status": "fail",
                    "governance": {"status": "blocked", "reason": "moves need a human"}}),
                ),
                json!({"type": "complete"}),
            ],
        }
    }

    #[test]
    fn the_summary_counts_calls_by_tool() {
        assert_eq!(
            log().summary(),
            "session=1 | 4 actions: 2× write_file, 1× read_text_file, 1× move_file"
        );
        let empty = SessionLog {
            events: vec![],
            ..log()
        };
        assert_eq!(empty.summary(), "session=1 | 0 actions");
    }

    #[test]
    fn the_full_listing_marks_what_a_replay_would_run() {
        let text = log().full(&ReexecuteOptions::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "session=1 run=mcp-1 server=secure-filesystem-server · 4 tool calls"
        );
        assert_eq!(
            lines[1],
            "  1. 01:01:39.870  [ ] read_text_file /p/a.txt  ok · 3.2 ms"
        );
        assert_eq!(
            lines[2],
            "  2. 01:01:39.870  [✓] write_file /p/b.txt  ok · 3.2 ms"
        );
        assert_eq!(
            lines[3],
            "  3. 01:01:39.870  [ ] write_file /nope/c.txt  FAIL · 3.2 ms · ENOENT: no such file"
        );
        assert_eq!(
            lines[4],
            "  4. 01:01:39.870  [ ] move_file /p/b.txt  blocked — moves need a human"
        );
        assert!(lines[5].starts_with("Legend: [✓] replayable"));
        // With skip_errors off, the failed write is replayable; the blocked
        // move never is.
        let all = log().full(&ReexecuteOptions {
            include_failed: true,
        });
        assert!(all.lines().nth(3).unwrap().contains("[✓] write_file /nope"));
        assert!(all.lines().nth(4).unwrap().contains("[ ] move_file"));
    }
}
