//! Claude Code's OTel log events (`claude_code.user_prompt`, `api_request`,
//! `api_error`, `tool_result`, `tool_decision`), whose attributes its
//! monitoring docs name: the tool, its parameters and outcome, the model,
//! token counts and cost, and the permission decision.

use super::attributes::Attributes;
use serde_json::{Map, Value, json};

/// Maps Claude Code's event `name`'s attributes onto the event `e`.
pub fn map(
    name: &str,
    a: &mut Attributes,
    e: &mut Map<String, Value>,
    metadata: &mut Map<String, Value>,
) {
    if let Some(d) = a.take_number("duration_ms") {
        e.insert("duration_ms".into(), Value::Number(d));
    }
    if let Some(tool) = a.take_str("tool_name") {
        e.insert("tool".into(), json!(tool));
    }
    if let Some(id) = a.take_str("tool_use_id") {
        metadata.insert("tool_call_id".into(), json!(id));
    }
    if let Some(model) = a.take_str("model") {
        metadata.insert("model".into(), json!(model));
    }
    for count in [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
    ] {
        if let Some(n) = a.take_count(count) {
            metadata.insert(count.into(), json!(n));
        }
    }
    if let Some(cost) = a.take_number("cost_usd") {
        metadata.insert("cost_usd".into(), Value::Number(cost));
    }
    match name {
        "claude_code.user_prompt" => {
            if let Some(p) = a.take_str("prompt") {
                e.insert("content".into(), json!(p));
            }
        }
        "claude_code.tool_result" => {
            if let Some(params) = a.take_json("tool_parameters") {
                e.insert("input".into(), params);
            }
            let failed = a.take_str("success").is_some_and(|s| s == "false");
            let error = a.take_str("error");
            if failed || error.is_some() {
                e.insert("status".into(), json!("fail"));
                let message = error.unwrap_or_else(|| "the tool call failed".into());
                e.insert("error".into(), json!({ "message": message }));
            }
        }
        "claude_code.api_error" => {
            let message = a
                .take_str("error")
                .unwrap_or_else(|| "the API request failed".into());
            let code = a.take_str("status_code");
            e.insert("error".into(), json!({"message": message, "code": code}));
        }
        "claude_code.tool_decision" => {
            let decision = a.take_str("decision");
            let status = match decision.as_deref() {
                Some("accept") => "approved",
                Some("reject") => "blocked",
                _ => "pending",
            };
            let source = a.take_str("source");
            let mut governance = json!({ "status": status });
            if let Some(s) = source {
                governance["reason"] = json!(format!("decided by {s}"));
            }
            e.insert("governance".into(), governance);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::logs::log_event;
    use super::super::origin::Origin;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use serde_json::json;

    fn text(s: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s.into())),
        })
    }

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: text(v),
            ..Default::default()
        }
    }

    #[test]
    fn claude_code_tool_results_are_tool_results_of_their_session() {
        let record = LogRecord {
            time_unix_nano: 1_780_000_000_000_000_000,
            body: text("claude_code.tool_result"),
            attributes: vec![
                kv("event.name", "tool_result"),
                kv("session.id", "sess-1"),
                kv("tool_name", "Bash"),
                kv("success", "false"),
                kv("duration_ms", "42"),
                kv("error", "exit status 1"),
                kv("tool_parameters", r#"{"bash_command":"ls"}"#),
            ],
            ..Default::default()
        };
        let e = log_event(&record, &Origin::default()).unwrap();
        assert_eq!(e["type"], "tool_result");
        assert_eq!(e["run_id"], "sess-1");
        assert_eq!(e["session_id"], "sess-1");
        assert_eq!(e["tool"], "Bash");
        assert_eq!(e["status"], "fail");
        assert_eq!(e["duration_ms"], 42.0);
        assert_eq!(e["error"]["message"], "exit status 1");
        assert_eq!(e["input"], json!({"bash_command": "ls"}));
        assert_eq!(
            e["metadata"]["otel"]["event_name"],
            "claude_code.tool_result"
        );
        assert!(e.get("content").is_none(), "the body was only the name");
    }

    #[test]
    fn a_rejected_tool_is_a_blocked_guardrail_check() {
        let record = LogRecord {
            body: text("claude_code.tool_decision"),
            attributes: vec![
                kv("event.name", "tool_decision"),
                kv("tool_name", "Bash"),
                kv("decision", "reject"),
                kv("source", "user_reject"),
            ],
            ..Default::default()
        };
        let e = log_event(&record, &Origin::default()).unwrap();
        assert_eq!(e["type"], "guardrail_check");
        assert_eq!(e["tool"], "Bash");
        assert_eq!(
            e["governance"],
            json!({"status": "blocked", "reason": "decided by user_reject"})
        );
    }
}
