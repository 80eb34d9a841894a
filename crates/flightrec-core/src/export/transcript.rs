//! `transcript`: the run as readable Markdown — who said and did what,
//! the agent's thinking, tool calls with their inputs and results, file
//! operations, errors — for people who were not there.

use super::{Subject, Writer, inline, text};
use serde_json::Value;

#[derive(Default)]
pub struct Transcript {
    events: u64,
    fails: u64,
}

/// A fenced block long enough not to be closed by the text inside it.
fn fenced(lang: &str, body: &str) -> String {
    let mut fence = "```".to_owned();
    while body.contains(&fence) {
        fence.push('`');
    }
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

fn pretty(v: &Value) -> (String, &'static str) {
    match v {
        Value::String(s) => (s.clone(), "text"),
        other => (
            serde_json::to_string_pretty(other).unwrap_or_default(),
            "json",
        ),
    }
}

fn quoted(text: &str) -> String {
    text.lines().map(|l| format!("> {l}\n")).collect()
}

impl Writer for Transcript {
    fn head(&mut self, s: &Subject) -> String {
        format!(
            "# {}\n\nExported {} by flightrec.\n\n",
            s.title, s.exported_at
        )
    }

    fn event(&mut self, e: &Value) -> String {
        self.events += 1;
        let kind = text(e, "type").unwrap_or("event");
        let failed = text(e, "status") == Some("fail");
        if failed {
            self.fails += 1;
        }
        let time = text(e, "time").unwrap_or("");
        let clock = time.get(11..19).unwrap_or(time);
        let who = e
            .get("actor")
            .and_then(|a| a.get("email").or(a.get("name")).or(a.get("id")))
            .and_then(Value::as_str)
            .or(text(e, "agent_id"));
        let tool = text(e, "tool").or(text(e, "verb"));
        let mut title = format!("### {clock} · {kind}");
        if let Some(t) = tool {
            title.push_str(&format!(" · `{t}`"));
        }
        if let Some(w) = who {
            title.push_str(&format!(" — {w}"));
        }
        if failed {
            title.push_str(" — **failed**");
        }
        let mut out = format!("{title}\n\n");
        let words = text(e, "content").or(text(e, "message"));
        match kind {
            "thinking" => {
                if let Some(w) = words {
                    out.push_str(&quoted(w));
                    out.push('\n');
                }
            }
            _ => {
                if let Some(w) = words {
                    out.push_str(w);
                    out.push_str("\n\n");
                }
            }
        }
        if let Some(input) = e.get("input") {
            let (body, lang) = pretty(input);
            out.push_str(&format!("Input:\n\n{}\n", fenced(lang, &body)));
        }
        if let Some(output) = e.get("output") {
            let (body, lang) = pretty(output);
            out.push_str(&format!("Result:\n\n{}\n", fenced(lang, &body)));
        }
        if let Some(err) = e.get("error") {
            let message = err.get("message").map(inline).unwrap_or_default();
            out.push_str(&format!("**Error:** {message}\n\n"));
        }
        if let Some(r) = e
            .get("redactions")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
        {
            let paths: Vec<String> = r.iter().filter_map(|x| x.get("path")).map(inline).collect();
            out.push_str(&format!("_Masked or redacted: {}._\n\n", paths.join(", ")));
        }
        out
    }

    fn tail(&mut self) -> String {
        format!("---\n\n{} events, {} failed.\n", self.events, self.fails)
    }
}
