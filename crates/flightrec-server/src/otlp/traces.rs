//! Spans to events (the table in docs/otlp.md): an agent span becomes
//! `start` + `complete` (or `error`), a tool span `tool_call` +
//! `tool_result`, a model span one `llm_call`, a guardrail one
//! `guardrail_check`, anything else one `span` with its attributes.
//!
//! Every event's id is derived from its trace id, span id and place in the
//! pair, so an exporter that sends a span again (a retry) gets the first
//! receipt back instead of a second record. The events are JSON values in
//! the shape `/v1/events` takes, so the same pipeline validates, masks and
//! screens them.

use super::attributes::Attributes;
use super::genai;
use super::ids;
use super::origin::{Origin, string_attribute};
use super::semantics::{Kind, Semantics};
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The event id of one of a span's events: `otlp:<trace>:<span>:<role>`.
pub fn event_id(run_id: &str, span_id: &str, role: &str) -> String {
    format!("otlp:{run_id}:{span_id}:{role}")
}

/// A span's events, in the order they happened, or why the span cannot be
/// recorded (a sentence that never quotes the span's content).
/// `inherited_agent` is the agent of the nearest enclosing agent span,
/// for spans that name none themselves.
pub fn span_events(
    span: &Span,
    origin: &Origin,
    inherited_agent: Option<&str>,
) -> Result<Vec<Value>, String> {
    let run_id = ids::trace_id(&span.trace_id)?;
    let span_id = ids::span_id(&span.span_id)?;
    let parent = ids::parent_span_id(&span.parent_span_id)?;
    let start = ids::time(span.start_time_unix_nano).ok_or("it has no start time")?;
    let end_nanos = span.end_time_unix_nano.max(span.start_time_unix_nano);
    let end = ids::time(end_nanos).unwrap_or_else(|| start.clone());
    let duration = ids::duration_ms(span.start_time_unix_nano, end_nanos);

    let mut attributes = Attributes::from_key_values(&span.attributes);
    let mut sem = Semantics::read(&mut attributes);
    let used_events = genai::read_content_events(&span.events, &mut sem);
    let kind = sem.kind.unwrap_or(Kind::Other);

    let status_code = span.status.as_ref().map(|s| s.code).unwrap_or(0);
    let failed = status_code == status::StatusCode::Error as i32 || sem.error_type.is_some();
    let error = failed.then(|| {
        let message = span
            .status
            .as_ref()
            .map(|s| s.message.clone())
            .filter(|m| !m.is_empty())
            .or_else(|| sem.error_type.clone())
            .unwrap_or_else(|| "the span's status is ERROR".into());
        let mut e = json!({ "message": message });
        if let Some(code) = &sem.error_type {
            e["code"] = json!(code);
        }
        e
    });

    let mut common = Map::new();
    common.insert("run_id".into(), json!(run_id));
    common.insert("span_id".into(), json!(span_id));
    if let Some(p) = &parent {
        common.insert("parent_span_id".into(), json!(p));
    }
    let agent = sem
        .agent_id
        .clone()
        .or_else(|| sem.agent_name.clone())
        .or_else(|| inherited_agent.map(str::to_owned));
    if let Some(a) = agent {
        common.insert("agent_id".into(), json!(a));
    }
    if let Some(s) = &sem.session_id {
        common.insert("session_id".into(), json!(s));
    }
    if let Some(p) = &sem.provider {
        common.insert("provider".into(), json!(p));
    }

    let otel = otel_metadata(span, origin, &sem);
    let mut details = details_metadata(&mut sem, otel.clone());
    let leftover = attributes.into_map();
    if !leftover.is_empty() {
        details.insert("attributes".into(), Value::Object(leftover));
    }
    let other_events: Vec<Value> = span
        .events
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_events.contains(i))
        .map(|(_, e)| span_event_json(e))
        .collect();
    if !other_events.is_empty() {
        details.insert("span_events".into(), Value::Array(other_events));
    }
    let status = if failed { "fail" } else { "ok" };
    let tool = sem.tool_name.clone().unwrap_or_else(|| span.name.clone());

    let event = |role: &str, event_type: &str, time: &str, fields: Value| {
        let mut e = common.clone();
        e.insert("id".into(), json!(event_id(&run_id, &span_id, role)));
        e.insert("type".into(), json!(event_type));
        e.insert("time".into(), json!(time));
        if let Value::Object(f) = fields {
            for (k, v) in f {
                if !v.is_null() {
                    e.insert(k, v);
                }
            }
        }
        Value::Object(e)
    };
    let closing_metadata = json!({ "otel": otel });

    let events = match kind {
        Kind::Agent => {
            let name = sem.agent_name.clone();
            let opening = event(
                "start",
                "start",
                &start,
                json!({"input": sem.input, "message": name, "metadata": details}),
            );
            let closing_type = if failed { "error" } else { "complete" };
            let closing = event(
                "end",
                closing_type,
                &end,
                json!({"output": sem.output, "duration_ms": duration, "status": status,
                       "error": error, "metadata": closing_metadata}),
            );
            vec![opening, closing]
        }
        Kind::Tool => {
            let call = event(
                "call",
                "tool_call",
                &start,
                json!({"tool": tool, "input": sem.input, "metadata": details}),
            );
            let result = event(
                "result",
                "tool_result",
                &end,
                json!({"tool": tool, "output": sem.output, "duration_ms": duration,
                       "status": status, "error": error, "metadata": closing_metadata}),
            );
            vec![call, result]
        }
        Kind::Model => {
            let operation = sem.operation.as_deref().unwrap_or("chat");
            vec![event(
                "span",
                "llm_call",
                &start,
                json!({"verb": format!("llm:{operation}"), "input": sem.input, "output": sem.output,
                       "duration_ms": duration, "status": status, "error": error, "metadata": details}),
            )]
        }
        Kind::Guardrail => vec![event(
            "span",
            "guardrail_check",
            &start,
            json!({"input": sem.input, "output": sem.output, "duration_ms": duration,
                   "status": status, "error": error, "metadata": details}),
        )],
        Kind::Other => vec![event(
            "span",
            "span",
            &start,
            json!({"message": span.name, "input": sem.input, "output": sem.output,
                   "duration_ms": duration, "status": status, "error": error, "metadata": details}),
        )],
    };
    Ok(events)
}

/// What OTel said of the span itself, on every event of it.
fn otel_metadata(span: &Span, origin: &Origin, sem: &Semantics) -> Value {
    let mut otel = Map::new();
    otel.insert("span_name".into(), json!(span.name));
    let kind = span::SpanKind::try_from(span.kind)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("SPAN_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "unspecified".into());
    otel.insert("span_kind".into(), json!(kind));
    if let Some(s) = &origin.service {
        otel.insert("service".into(), json!(s));
    }
    if let Some(s) = &origin.scope {
        otel.insert("scope".into(), json!(s));
    }
    if let Some(c) = sem.convention {
        otel.insert("convention".into(), json!(c));
    }
    if let Some(o) = &sem.operation {
        otel.insert("operation".into(), json!(o));
    }
    Value::Object(otel)
}

/// The facts the conventions named, under their metadata names.
fn details_metadata(sem: &mut Semantics, otel: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("otel".into(), otel);
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    put("model", sem.model().map(|s| json!(s)));
    put("request_model", sem.request_model.clone().map(Value::from));
    put(
        "response_model",
        sem.response_model.clone().map(Value::from),
    );
    put("input_tokens", sem.input_tokens.map(Value::from));
    put("output_tokens", sem.output_tokens.map(Value::from));
    let total = sem
        .total_tokens
        .or(match (sem.input_tokens, sem.output_tokens) {
            (Some(i), Some(o)) => Some(i + o),
            _ => None,
        });
    put("total_tokens", total.map(Value::from));
    put("system_instructions", sem.system_instructions.take());
    put("agent_name", sem.agent_name.clone().map(Value::from));
    put("tool_call_id", sem.tool_call_id.clone().map(Value::from));
    for (k, v) in std::mem::take(&mut sem.extra) {
        m.entry(k).or_insert(v);
    }
    m
}

fn span_event_json(event: &span::Event) -> Value {
    let mut e = json!({
        "name": event.name,
        "attributes": Attributes::from_key_values(&event.attributes).into_map(),
    });
    if let Some(t) = ids::time(event.time_unix_nano) {
        e["time"] = json!(t);
    }
    e
}

/// The agent each span of one request runs under: the one it names
/// (`gen_ai.agent.id`, else `gen_ai.agent.name`, else OpenInference's
/// `agent.name`), else its nearest
/// ancestor's among the spans of the same request, so a model or tool
/// span inside an agent span is that agent's too.
#[derive(Default)]
pub struct AgentScopes {
    spans: HashMap<SpanKey, Scope>,
}

/// A span by trace id and span id.
type SpanKey = (Vec<u8>, Vec<u8>);

/// The agent a span names itself, if any, and its parent's span id.
type Scope = (Option<String>, Vec<u8>);

impl AgentScopes {
    pub fn add(&mut self, span: &Span) {
        let own = ["gen_ai.agent.id", "gen_ai.agent.name", "agent.name"]
            .iter()
            .find_map(|k| string_attribute(&span.attributes, k));
        self.spans.insert(
            (span.trace_id.clone(), span.span_id.clone()),
            (own, span.parent_span_id.clone()),
        );
    }

    /// The agent of `span`'s nearest enclosing span that names one.
    pub fn inherited(&self, span: &Span) -> Option<&str> {
        let mut parent = span.parent_span_id.clone();
        // A bound on the walk: a request could send a cycle of parents.
        for _ in 0..256 {
            if parent.is_empty() {
                return None;
            }
            let (own, up) = self.spans.get(&(span.trace_id.clone(), parent))?;
            if let Some(agent) = own {
                return Some(agent);
            }
            parent = up.clone();
        }
        None
    }
}

#[cfg(test)]
mod tests;
