//! Log records and OTel events to events (the table in docs/otlp.md).
//!
//! An event's name (the record's `event_name`, else its `event.name`
//! attribute, else a body that is just a dotted name, as Claude Code sends)
//! picks its flightrec type; unknown names are kept as the type as they
//! are, and a record with no name is a `log`. The body becomes `content`
//! (text) or `metadata.body`; attributes no mapping used stay under
//! `metadata.attributes`. The trace id is the run; without one, the
//! record's `session.id` (or `gen_ai.conversation.id`) is, and without
//! that it belongs to no run.
//!
//! A record's id is a hash of the record itself, so a retried export is
//! recorded once.

use super::attributes::{Attributes, any_value_json, parse_embedded_json};
use super::claude_code;
use super::genai;
use super::ids;
use super::origin::Origin;
use super::semantics::Semantics;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The flightrec type of each well-known event name.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("gen_ai.client.inference.operation.details", "llm_call"),
    ("gen_ai.user.message", "user_input"),
    // The model's answer, as the assistant's text: the call itself is the
    // span's `llm_call`, so counting it again would double the calls.
    ("gen_ai.choice", "thinking"),
    ("gen_ai.tool.message", "tool_result"),
    ("claude_code.user_prompt", "user_input"),
    ("claude_code.api_request", "llm_call"),
    ("claude_code.api_error", "error"),
    ("claude_code.tool_result", "tool_result"),
    ("claude_code.tool_decision", "guardrail_check"),
    ("exception", "error"),
];

/// Severity numbers from here up are errors, and from WARN up warnings
/// (the OTel log data model's ranges).
const SEVERITY_WARN: i32 = 13;
const SEVERITY_ERROR: i32 = 17;

/// A log record's event, or why it cannot be recorded (never quoting it).
pub fn log_event(record: &LogRecord, origin: &Origin) -> Result<Value, String> {
    let mut attributes = Attributes::from_key_values(&record.attributes);
    let body = record.body.as_ref().map(any_value_json);
    let name = event_name(record, &mut attributes, body.as_ref());
    let event_type = match name.as_deref() {
        Some(n) => EVENT_TYPES
            .iter()
            .find(|(known, _)| *known == n)
            .map(|(_, t)| (*t).to_owned())
            .unwrap_or_else(|| n.to_owned()),
        None => "log".to_owned(),
    };

    let mut e = Map::new();
    e.insert("id".into(), json!(record_id(record)));
    e.insert("type".into(), json!(event_type));
    let time =
        ids::time(record.time_unix_nano).or_else(|| ids::time(record.observed_time_unix_nano));
    if let Some(t) = time {
        e.insert("time".into(), json!(t));
    }
    let session = attributes
        .get_str("session.id")
        .or_else(|| attributes.get_str("gen_ai.conversation.id"));
    if !record.trace_id.is_empty() {
        e.insert("run_id".into(), json!(ids::trace_id(&record.trace_id)?));
    } else if let Some(s) = &session {
        e.insert("run_id".into(), json!(s));
    }
    if !record.span_id.is_empty() {
        e.insert("span_id".into(), json!(ids::span_id(&record.span_id)?));
    }
    if record.severity_number >= SEVERITY_ERROR {
        e.insert("status".into(), json!("fail"));
    } else if record.severity_number >= SEVERITY_WARN {
        e.insert("status".into(), json!("warn"));
    }

    let mut metadata = Map::new();
    let mut otel = Map::new();
    if let Some(n) = &name {
        otel.insert("event_name".into(), json!(n));
    }
    if !record.severity_text.is_empty() {
        otel.insert("severity".into(), json!(record.severity_text));
    }
    if record.severity_number != 0 {
        otel.insert("severity_number".into(), json!(record.severity_number));
    }
    if let Some(s) = &origin.service {
        otel.insert("service".into(), json!(s));
    }
    if let Some(s) = &origin.scope {
        otel.insert("scope".into(), json!(s));
    }
    metadata.insert("otel".into(), Value::Object(otel));

    let body = body.map(parse_embedded_json);
    match name.as_deref() {
        Some(n) if n.starts_with("claude_code.") => {
            claude_code::map(n, &mut attributes, &mut e, &mut metadata)
        }
        Some(n) if n.starts_with("gen_ai.") => {
            gen_ai_event(n, &mut attributes, body.clone(), &mut e, &mut metadata)
        }
        Some("exception") => {
            let message = attributes
                .take_str("exception.message")
                .unwrap_or_else(|| "an exception was logged".into());
            let kind = attributes.take_str("exception.type");
            e.insert("error".into(), json!({"message": message, "code": kind}));
            e.insert("status".into(), json!("fail"));
        }
        _ => {}
    }
    // Whatever body no mapping used: text is the event's content.
    if !e.contains_key("input") && !e.contains_key("output") && !e.contains_key("content") {
        match body {
            Some(Value::String(text)) if Some(text.as_str()) != name.as_deref() => {
                e.insert("content".into(), json!(text));
            }
            Some(Value::String(_)) | None | Some(Value::Null) => {}
            Some(other) => {
                metadata.insert("body".into(), other);
            }
        }
    }
    if let Some(s) = session {
        e.entry("session_id").or_insert(json!(s));
        attributes.take("session.id");
    }
    let leftover = attributes.into_map();
    if !leftover.is_empty() {
        metadata.insert("attributes".into(), Value::Object(leftover));
    }
    e.insert("metadata".into(), Value::Object(metadata));
    Ok(Value::Object(e))
}

/// The record's event name: its `event_name`, its `event.name`
/// attribute, or a body that is only a dotted name; a known one of these
/// wins over an unknown (Claude Code names `tool_result` in the attribute
/// and `claude_code.tool_result` in the body).
fn event_name(record: &LogRecord, a: &mut Attributes, body: Option<&Value>) -> Option<String> {
    let attribute = a.take_str("event.name");
    let body_name = body
        .and_then(Value::as_str)
        .filter(|s| looks_like_event_name(s))
        .map(str::to_owned);
    let candidates: Vec<String> = [
        Some(record.event_name.clone()).filter(|n| !n.is_empty()),
        attribute,
        body_name,
    ]
    .into_iter()
    .flatten()
    .collect();
    candidates
        .iter()
        .find(|c| EVENT_TYPES.iter().any(|(known, _)| known == c))
        .or_else(|| candidates.first())
        .cloned()
}

fn looks_like_event_name(s: &str) -> bool {
    s.len() <= 128
        && s.contains('.')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// `otlp-log:` and the first 128 bits of SHA-256 over the record's
/// protobuf encoding: the same record sent again has the same id.
fn record_id(record: &LogRecord) -> String {
    let digest = Sha256::digest(record.encode_to_vec());
    format!("otlp-log:{}", hex::encode(&digest[..16]))
}

/// The GenAI events: content in the body, details in attributes.
fn gen_ai_event(
    name: &str,
    a: &mut Attributes,
    body: Option<Value>,
    e: &mut Map<String, Value>,
    metadata: &mut Map<String, Value>,
) {
    let mut sem = Semantics::default();
    genai::read(a, &mut sem);
    match name {
        "gen_ai.user.message" => {
            let text = body.as_ref().and_then(content_text);
            if let Some(t) = text {
                e.insert("content".into(), json!(t));
            }
            if let Some(b) = body {
                e.insert("input".into(), b);
            }
        }
        "gen_ai.choice" => {
            let text = body
                .as_ref()
                .and_then(|b| b.get("message"))
                .and_then(content_text);
            if let Some(t) = text {
                e.insert("content".into(), json!(t));
            }
            if let Some(b) = body {
                e.insert("output".into(), b);
            }
        }
        "gen_ai.tool.message" => {
            if let Some(b) = &body {
                if let Some(id) = b.get("id").and_then(Value::as_str) {
                    metadata.insert("tool_call_id".into(), json!(id));
                }
                if let Some(content) = b.get("content") {
                    e.insert("output".into(), content.clone());
                }
            }
            if let Some(b) = body.filter(|_| !e.contains_key("output")) {
                e.insert("output".into(), b);
            }
        }
        _ => {
            if let Some(i) = sem.input.take() {
                e.insert("input".into(), i);
            }
            if let Some(o) = sem.output.take() {
                e.insert("output".into(), o);
            }
            if let Some(b) = body {
                metadata.insert("body".into(), b);
            }
        }
    }
    if let Some(p) = &sem.provider {
        e.insert("provider".into(), json!(p));
    }
    if let Some(s) = &sem.session_id {
        e.insert("session_id".into(), json!(s));
    }
    if let Some(m) = sem.model() {
        metadata.insert("model".into(), json!(m));
    }
    for (k, v) in [
        ("input_tokens", sem.input_tokens),
        ("output_tokens", sem.output_tokens),
        ("total_tokens", sem.total_tokens),
    ] {
        if let Some(v) = v {
            metadata.insert(k.into(), json!(v));
        }
    }
    if let Some(s) = sem.system_instructions.take() {
        metadata.insert("system_instructions".into(), s);
    }
    if let Some(t) = &sem.error_type {
        e.insert("status".into(), json!("fail"));
        e.insert("error".into(), json!({"message": t, "code": t}));
    }
    for (k, v) in sem.extra {
        metadata.entry(k).or_insert(v);
    }
}

/// The text of a message body: itself when a string, else its `content`
/// (also when the message is a string holding a JSON object).
fn content_text(body: &Value) -> Option<String> {
    match parse_embedded_json(body.clone()) {
        Value::String(s) => Some(s),
        Value::Object(m) => m.get("content").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValueList, any_value};

    fn text(s: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s.into())),
        })
    }

    #[test]
    fn unnamed_records_are_logs_and_the_same_record_has_the_same_id() {
        let record = LogRecord {
            body: text("disk almost full"),
            severity_number: 13,
            trace_id: vec![7; 16],
            span_id: vec![8; 8],
            ..Default::default()
        };
        let a = log_event(&record, &Origin::default()).unwrap();
        let b = log_event(&record.clone(), &Origin::default()).unwrap();
        assert_eq!(a["type"], "log");
        assert_eq!(a["status"], "warn");
        assert_eq!(a["content"], "disk almost full");
        assert_eq!(a["run_id"], hex::encode([7; 16]));
        assert_eq!(a["id"], b["id"]);
        let mut other = record;
        other.body = text("disk full");
        assert_ne!(
            log_event(&other, &Origin::default()).unwrap()["id"],
            a["id"]
        );
    }

    fn map_body(entries: serde_json::Value) -> Option<AnyValue> {
        let values = entries
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| opentelemetry_proto::tonic::common::v1::KeyValue {
                key: k.clone(),
                value: text(v.as_str().unwrap()),
                ..Default::default()
            })
            .collect();
        Some(AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList { values })),
        })
    }

    #[test]
    fn genai_content_events_map_to_the_question_the_answer_and_the_tool_output() {
        let choice = LogRecord {
            event_name: "gen_ai.choice".into(),
            body: map_body(json!({"finish_reason": "stop", "message": "{\"content\":\"4\"}"})),
            ..Default::default()
        };
        let e = log_event(&choice, &Origin::default()).unwrap();
        assert_eq!(e["type"], "thinking", "the answer, not a second llm_call");
        assert_eq!(e["content"], "4");
        let tool = LogRecord {
            event_name: "gen_ai.tool.message".into(),
            body: map_body(json!({"id": "call_1", "content": "21 degrees"})),
            ..Default::default()
        };
        let e = log_event(&tool, &Origin::default()).unwrap();
        assert_eq!(e["type"], "tool_result");
        assert_eq!(e["output"], "21 degrees");
        assert_eq!(e["metadata"]["tool_call_id"], "call_1");
        let user = LogRecord {
            event_name: "gen_ai.user.message".into(),
            body: map_body(json!({"content": "2+2?"})),
            ..Default::default()
        };
        assert_eq!(
            log_event(&user, &Origin::default()).unwrap()["content"],
            "2+2?"
        );
    }

    #[test]
    fn a_record_with_a_short_trace_id_is_refused() {
        let record = LogRecord {
            trace_id: vec![1; 4],
            ..Default::default()
        };
        let why = log_event(&record, &Origin::default()).unwrap_err();
        assert!(why.contains("trace_id is 4 bytes"), "{why}");
    }
}
