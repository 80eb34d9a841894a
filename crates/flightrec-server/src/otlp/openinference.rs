//! OpenInference's span attributes (Arize Phoenix and the
//! `openinference-instrumentation-*` libraries): `openinference.span.kind`,
//! `input.value`/`output.value`, `llm.*`, `tool.*`, `session.id`.

use super::attributes::Attributes;
use super::semantics::{Kind, Semantics, fill};
use serde_json::Value;

/// The kind of step an `openinference.span.kind` names.
pub fn kind_of_span_kind(kind: &str) -> Kind {
    match kind.to_ascii_uppercase().as_str() {
        "AGENT" => Kind::Agent,
        "LLM" | "EMBEDDING" => Kind::Model,
        "TOOL" | "RETRIEVER" | "RERANKER" => Kind::Tool,
        "GUARDRAIL" => Kind::Guardrail,
        // CHAIN, EVALUATOR, PROMPT, UNKNOWN: kept as spans.
        _ => Kind::Other,
    }
}

pub fn read(a: &mut Attributes, s: &mut Semantics) {
    let span_kind = a.take_str("openinference.span.kind");
    if let Some(k) = &span_kind {
        s.name_kind(
            kind_of_span_kind(k),
            "openinference",
            k.to_ascii_lowercase(),
        );
    }
    fill(&mut s.agent_name, a.take_str("agent.name"));
    fill(&mut s.tool_name, a.take_str("tool.name"));
    // A tool's declared parameters (its JSON schema), not a call's arguments.
    let schema = a.take_json("tool.parameters");
    s.keep("tool_parameters", schema);
    let description = a.take("tool.description");
    s.keep("tool_description", description);
    fill(&mut s.tool_call_id, a.take_str("tool_call.id"));
    fill(&mut s.request_model, a.take_str("llm.model_name"));
    fill(
        &mut s.provider,
        a.take_first_str(&["llm.provider", "llm.system"]),
    );
    fill(&mut s.input_tokens, a.take_count("llm.token_count.prompt"));
    fill(
        &mut s.output_tokens,
        a.take_count("llm.token_count.completion"),
    );
    fill(&mut s.total_tokens, a.take_count("llm.token_count.total"));
    // The messages, when a model span has them, else the raw input/output.
    fill(&mut s.input, a.take_flattened("llm.input_messages"));
    fill(&mut s.output, a.take_flattened("llm.output_messages"));
    if span_kind.is_some() || a.get("input.value").is_some() {
        fill(&mut s.input, typed_value(a, "input"));
        fill(&mut s.output, typed_value(a, "output"));
    }
    let invocation = a.take_json("llm.invocation_parameters");
    s.keep("invocation_parameters", invocation);
    fill(&mut s.session_id, a.take_str("session.id"));
    let user = a.take("user.id");
    s.keep("user_id", user);
}

/// `input.value` (or `output.value`), parsed when its `*.mime_type` says
/// JSON; its mime type is taken with it.
fn typed_value(a: &mut Attributes, which: &str) -> Option<Value> {
    let mime = a.take_str(&format!("{which}.mime_type"));
    let value = a.take(&format!("{which}.value"))?;
    match (&value, mime.as_deref()) {
        (Value::String(s), Some("application/json")) => {
            Some(serde_json::from_str(s).unwrap_or(value))
        }
        _ => Some(value),
    }
}
