//! How what the proxy saw becomes flightrec events: a `tool_call` when a
//! call is asked for (with its risk and what the policy decided), and a
//! `tool_result` when it is answered, linked to it by span — or, when the
//! answer is a file tool's, the file operation it amounts to (see
//! [`crate::files`]). Each event gets its id and time when it is made, so
//! one delivered late (from the spool) keeps its place and is recorded
//! once however often it is sent.

use crate::files::file_operation;
use crate::policy::{Action, Decision};
use crate::risk::risk_level;
use crate::session::{Call, Outcome};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use std::time::Duration;

/// What every event of one proxied session shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub run_id: String,
    pub session_id: String,
    /// The MCP server: its name from `initialize`, else its command.
    pub provider: String,
}

/// The `resource.type` of every event of a proxied session: how the
/// `audit` tool finds the sessions among all runs.
pub const SESSION_RESOURCE: &str = "mcp_session";

impl Scope {
    /// A new event of this session, made now.
    pub fn event(&self, event_type: &str) -> Value {
        json!({
            "id": uuid::Uuid::now_v7().to_string(),
            "type": event_type,
            "time": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            "run_id": self.run_id,
            "session_id": self.session_id,
            "provider": self.provider,
            "actor": {"type": "agent", "id": format!("mcp:{}", self.provider)},
            "resource": {"type": SESSION_RESOURCE, "id": self.session_id},
        })
    }

    /// The span of a call: one per request id within the session (the
    /// id as JSON, so that `7` and `"7"` stay apart).
    pub fn span(&self, call: &Call) -> String {
        format!("{}:{}", self.session_id, call.id)
    }
}

/// The `tool_call` event for a call, with the policy's verdict.
pub fn call_event(scope: &Scope, call: &Call, decision: &Decision<'_>) -> Value {
    let mut e = scope.event("tool_call");
    e["tool"] = json!(call.tool);
    e["input"] = call.arguments.clone();
    e["span_id"] = json!(scope.span(call));
    e["risk_level"] = json!(risk_level(call.annotations.as_ref()).as_str());
    if let Some(a) = &call.annotations {
        // Re-execution reads `readOnlyHint` from here.
        e["metadata"] = json!({"annotations": a});
    }
    let reason = decision.rule.and_then(|r| r.reason.clone());
    let policy = decision.rule.map(|r| format!("tool = {:?}", r.tool));
    let status = match decision.action {
        Action::Allow if decision.rule.is_some() => "approved",
        Action::Allow => "auto",
        Action::Deny => "blocked",
        Action::DryRun => "dry_run",
    };
    e["governance"] = json!({"status": status});
    if let Some(p) = policy {
        e["governance"]["policy"] = json!(p);
    }
    if let Some(r) = reason {
        e["governance"]["reason"] = json!(r);
    }
    match decision.action {
        Action::Deny => e["status"] = json!("fail"),
        Action::DryRun => e["dry_run"] = json!(true),
        Action::Allow => {}
    }
    e
}

/// The event for a call's answer: the file operation it amounts to when it
/// is a file tool's success, else a `tool_result`.
pub fn answer_event(scope: &Scope, call: &Call, outcome: &Outcome, took: Duration) -> Value {
    let file = match outcome {
        Outcome::Result(result) if !outcome.failed() => {
            file_operation(&call.tool, &call.arguments, result)
        }
        _ => None,
    };
    let event_type = file.as_ref().map_or("tool_result", |f| f.event_type);
    let mut e = answer_head(scope, call, event_type, took);
    if let Some(f) = file {
        e["input"] = f.input;
        e["output"] = f.output;
    }
    e["status"] = json!(if outcome.failed() { "fail" } else { "ok" });
    match outcome {
        Outcome::Result(_) if e.get("output").is_some() => {}
        Outcome::Result(result) => {
            e["output"] = result.clone();
            if outcome.failed() {
                e["error"] = json!({"message": result_text(result)
                    .unwrap_or_else(|| "the tool reported an error".into())});
            }
        }
        Outcome::Error { code, message } => {
            e["error"] = json!({"message": message, "code": code});
        }
        Outcome::Cancelled { reason } => {
            let why = reason.as_deref().unwrap_or("no reason given");
            e["error"] = json!({"message": format!("cancelled by the client: {why}")});
        }
    }
    e
}

/// The `tool_result` for a call the proxy answered itself, as `action`
/// said: never a file operation, since nothing reached the server. A
/// denied call failed; a dry run did what was asked of it.
pub fn intercepted_answer_event(
    scope: &Scope,
    call: &Call,
    action: Action,
    result: &Value,
) -> Value {
    let mut e = answer_head(scope, call, "tool_result", Duration::ZERO);
    e["output"] = result.clone();
    match action {
        Action::DryRun => e["dry_run"] = json!(true),
        _ => {
            e["status"] = json!("fail");
            e["error"] = json!({"message": result_text(result).unwrap_or_default()});
        }
    }
    e
}

/// What every answer carries: the tool, its span under the call's, and
/// how long it took.
fn answer_head(scope: &Scope, call: &Call, event_type: &str, took: Duration) -> Value {
    let mut e = scope.event(event_type);
    e["tool"] = json!(call.tool);
    e["span_id"] = json!(format!("{}:result", scope.span(call)));
    e["parent_span_id"] = json!(scope.span(call));
    e["duration_ms"] = json!((took.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0);
    e
}

/// The most of an event's `input` or `output` that is recorded: flightrec
/// takes events of up to 1 MiB, and a tool may be given or answer far more.
pub const MAX_FIELD_BYTES: usize = 256 * 1024;

/// Replaces an `input` or `output` larger than [`MAX_FIELD_BYTES`] with a
/// note of its size and a preview, and lists it in `metadata.truncated`,
/// so that the event is still recorded — and nothing reads the cut value
/// as if it were whole (replay then knows a read's file as unknown, and
/// re-execution passes the call over).
pub fn bound_fields(event: &mut Value) {
    for key in ["input", "output"] {
        let Some(value) = event.get(key) else {
            continue;
        };
        let text = value.to_string();
        if text.len() <= MAX_FIELD_BYTES {
            continue;
        }
        let preview: String = text.chars().take(1024).collect();
        event[key] = json!({"truncated": true, "bytes": text.len(), "preview": preview});
        if !event["metadata"].is_object() {
            event["metadata"] = json!({});
        }
        match &mut event["metadata"]["truncated"] {
            Value::Array(keys) => keys.push(json!(key)),
            slot => *slot = json!([key]),
        }
    }
}

/// The text of a result's text content, joined.
pub fn result_text(result: &Value) -> Option<String> {
    let texts: Vec<&str> = result
        .get("content")?
        .as_array()?
        .iter()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use flightrec_core::event::{Limits, parse_event};

    fn scope() -> Scope {
        Scope {
            run_id: "mcp-run".into(),
            session_id: "mcp-session".into(),
            provider: "secure-filesystem-server".into(),
        }
    }

    fn call(tool: &str, annotations: Option<Value>) -> Call {
        Call {
            id: "7".into(),
            tool: tool.into(),
            arguments: json!({"path": "notes.txt"}),
            annotations,
        }
    }

    /// Every event the proxy writes is one the server accepts.
    fn valid(e: &Value) {
        parse_event(e.clone(), chrono::Utc::now(), &Limits::default(), || {
            "id".into()
        })
        .unwrap_or_else(|err| panic!("{e}: {err}"));
    }

    #[test]
    fn calls_carry_risk_and_the_policy_verdict() {
        let policy = Policy::parse(
            "[[rule]]\ntool = \"move_*\"\naction = \"deny\"\nreason = \"moves need a human\"\n\
             [[rule]]\ntool = \"write_*\"\naction = \"dry_run\"\n[[rule]]\ntool = \"read_*\"\naction = \"allow\"\n",
        )
        .unwrap();
        let read = call(
            "read_file",
            Some(json!({"readOnlyHint": true, "openWorldHint": false})),
        );
        let e = call_event(&scope(), &read, &policy.decide("read_file"));
        valid(&e);
        assert_eq!(e["risk_level"], "low");
        assert_eq!(
            e["governance"],
            json!({"status": "approved", "policy": "tool = \"read_*\""})
        );
        assert_eq!(e["span_id"], "mcp-session:7");

        let moved = call_event(
            &scope(),
            &call("move_file", None),
            &policy.decide("move_file"),
        );
        valid(&moved);
        assert_eq!(moved["status"], "fail");
        assert_eq!(moved["governance"]["status"], "blocked");
        assert_eq!(moved["governance"]["reason"], "moves need a human");
        assert_eq!(moved["risk_level"], "critical");

        let dry = call_event(
            &scope(),
            &call("write_file", None),
            &policy.decide("write_file"),
        );
        valid(&dry);
        assert_eq!(
            (dry["dry_run"].clone(), dry["governance"]["status"].clone()),
            (json!(true), json!("dry_run"))
        );

        let other = call_event(
            &scope(),
            &call("echo", None),
            &Policy::default().decide("echo"),
        );
        assert_eq!(other["governance"], json!({"status": "auto"}));
    }

    #[test]
    fn what_is_too_large_to_record_is_cut_and_said_to_be() {
        let c = call("read_text_file", None);
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let read = Outcome::Result(json!({"content": [{"type": "text", "text": big}]}));
        let mut e = answer_event(&scope(), &c, &read, Duration::ZERO);
        bound_fields(&mut e);
        valid(&e);
        assert!(e.to_string().len() < 8 * 1024);
        assert_eq!(e["output"]["truncated"], true);
        assert_eq!(e["metadata"]["truncated"], json!(["output"]));
        // The read is still a read, of a file whose content is unknown.
        assert_eq!(e["type"], "read_file");
        assert!(e["output"]["content"].is_null());

        let mut small = answer_event(&scope(), &c, &Outcome::Result(json!({})), Duration::ZERO);
        let before = small.clone();
        bound_fields(&mut small);
        assert_eq!(small, before);
    }

    #[test]
    fn answers_say_how_the_call_went() {
        let c = call("read_file", None);
        let ok = Outcome::Result(json!({"content": [{"type": "text", "text": "hello"}]}));
        let e = answer_event(&scope(), &c, &ok, Duration::from_micros(1500));
        valid(&e);
        assert_eq!(
            (e["status"].clone(), e["duration_ms"].clone()),
            (json!("ok"), json!(1.5))
        );
        assert_eq!(e["parent_span_id"], "mcp-session:7");

        let tool_error = Outcome::Result(
            json!({"isError": true, "content": [{"type": "text", "text": "ENOENT: no such file"}]}),
        );
        let e = answer_event(&scope(), &c, &tool_error, Duration::ZERO);
        valid(&e);
        assert_eq!(e["status"], "fail");
        assert_eq!(e["error"]["message"], "ENOENT: no such file");

        let rpc = Outcome::Error {
            code: -32602,
            message: "Unknown tool".into(),
        };
        let e = answer_event(&scope(), &c, &rpc, Duration::ZERO);
        valid(&e);
        assert_eq!(
            e["error"],
            json!({"message": "Unknown tool", "code": -32602})
        );

        // A filesystem server's read is recorded as the read it was; a
        // failed one stays a tool result.
        let read = Call {
            tool: "read_text_file".into(),
            ..c.clone()
        };
        let content = Outcome::Result(json!({"content": [{"type": "text", "text": "hello"}]}));
        let e = answer_event(&scope(), &read, &content, Duration::ZERO);
        valid(&e);
        assert_eq!(
            (e["type"].clone(), e["output"].clone()),
            (json!("read_file"), json!({"content": "hello"}))
        );
        assert_eq!(e["parent_span_id"], "mcp-session:7");
        let e = answer_event(&scope(), &read, &tool_error, Duration::ZERO);
        assert_eq!(e["type"], "tool_result");

        let gone = Outcome::Cancelled { reason: None };
        let e = answer_event(&scope(), &c, &gone, Duration::ZERO);
        valid(&e);
        assert_eq!(
            e["error"]["message"],
            "cancelled by the client: no reason given"
        );
    }
}
