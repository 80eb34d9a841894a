//! The OpenTelemetry GenAI semantic conventions: `gen_ai.*` attributes on
//! spans and log events, and the older forms many libraries still emit
//! (`gen_ai.prompt`/`gen_ai.completion` attributes, flattened
//! `gen_ai.prompt.N.*`, `gen_ai.system`, and content carried by span
//! events such as `gen_ai.user.message` and `gen_ai.choice`).

use super::attributes::{Attributes, parse_embedded_json};
use super::semantics::{Kind, Semantics, fill};
use opentelemetry_proto::tonic::trace::v1::span;
use serde_json::{Value, json};

/// The kind of step a `gen_ai.operation.name` names.
pub fn kind_of_operation(operation: &str) -> Kind {
    match operation {
        "invoke_agent" | "invoke_workflow" => Kind::Agent,
        "execute_tool" | "retrieval" => Kind::Tool,
        "chat" | "text_completion" | "generate_content" | "embeddings" => Kind::Model,
        // `create_agent` and operations not defined yet: kept as spans.
        _ => Kind::Other,
    }
}

/// Reads the current `gen_ai.*` attributes.
pub fn read(a: &mut Attributes, s: &mut Semantics) {
    if let Some(op) = a.take_str("gen_ai.operation.name") {
        s.name_kind(kind_of_operation(&op), "gen_ai", op);
    }
    fill(&mut s.agent_id, a.take_str("gen_ai.agent.id"));
    fill(&mut s.agent_name, a.take_str("gen_ai.agent.name"));
    let description = a.take("gen_ai.agent.description");
    s.keep("agent_description", description);
    fill(&mut s.tool_name, a.take_str("gen_ai.tool.name"));
    fill(&mut s.tool_call_id, a.take_str("gen_ai.tool.call.id"));
    let tool_type = a.take("gen_ai.tool.type");
    s.keep("tool_type", tool_type);
    let tool_description = a.take("gen_ai.tool.description");
    s.keep("tool_description", tool_description);
    fill(&mut s.input, a.take_json("gen_ai.tool.call.arguments"));
    fill(&mut s.output, a.take_json("gen_ai.tool.call.result"));
    fill(&mut s.input, a.take_json("gen_ai.input.messages"));
    fill(&mut s.output, a.take_json("gen_ai.output.messages"));
    fill(
        &mut s.system_instructions,
        a.take_json("gen_ai.system_instructions"),
    );
    fill(&mut s.request_model, a.take_str("gen_ai.request.model"));
    fill(&mut s.response_model, a.take_str("gen_ai.response.model"));
    fill(
        &mut s.provider,
        a.take_first_str(&["gen_ai.provider.name", "gen_ai.system"]),
    );
    fill(
        &mut s.input_tokens,
        a.take_count("gen_ai.usage.input_tokens")
            .or_else(|| a.take_count("gen_ai.usage.prompt_tokens")),
    );
    fill(
        &mut s.output_tokens,
        a.take_count("gen_ai.usage.output_tokens")
            .or_else(|| a.take_count("gen_ai.usage.completion_tokens")),
    );
    fill(
        &mut s.total_tokens,
        a.take_count("gen_ai.usage.total_tokens"),
    );
    fill(&mut s.session_id, a.take_str("gen_ai.conversation.id"));
    fill(&mut s.error_type, a.take_str("error.type"));
    let finish_reasons = a.take("gen_ai.response.finish_reasons");
    s.keep("finish_reasons", finish_reasons);
    let response_id = a.take("gen_ai.response.id");
    s.keep("response_id", response_id);
    let data_source = a.take("gen_ai.data_source.id");
    s.keep("data_source_id", data_source);
    // The older content attributes: one JSON string, or flattened per
    // message (`gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`, …).
    let prompt = a
        .take_json("gen_ai.prompt")
        .or_else(|| a.take_flattened("gen_ai.prompt"));
    fill(&mut s.input, prompt);
    let completion = a
        .take_json("gen_ai.completion")
        .or_else(|| a.take_flattened("gen_ai.completion"));
    fill(&mut s.output, completion);
}

/// A span of the older conventions names no operation: one that names a
/// model, a provider or a prompt is a model call.
pub fn read_legacy_model(_a: &mut Attributes, s: &mut Semantics) {
    if s.kind.is_none()
        && (s.request_model.is_some() || s.response_model.is_some() || s.provider.is_some())
    {
        s.name_kind(Kind::Model, "gen_ai", "chat".into());
    }
}

/// Span events that carry a model call's content in the older
/// conventions, read into `s`; returns the indexes of the events it used,
/// so the rest are kept as they are.
pub fn read_content_events(events: &[span::Event], s: &mut Semantics) -> Vec<usize> {
    let mut used = Vec::new();
    let mut input = Vec::new();
    let mut output = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let mut a = Attributes::from_key_values(&event.attributes);
        match event.name.as_str() {
            "gen_ai.content.prompt" => {
                fill(&mut s.input, a.take_json("gen_ai.prompt"));
            }
            "gen_ai.content.completion" => {
                fill(&mut s.output, a.take_json("gen_ai.completion"));
            }
            "gen_ai.system.message"
            | "gen_ai.user.message"
            | "gen_ai.assistant.message"
            | "gen_ai.tool.message" => {
                let role = event
                    .name
                    .trim_start_matches("gen_ai.")
                    .trim_end_matches(".message");
                input.push(message(role, a));
            }
            "gen_ai.choice" => output.push(message("assistant", a)),
            "gen_ai.client.inference.operation.details" => {
                read(&mut a, s);
            }
            "exception" => {
                let text = a.take_str("exception.message");
                let kind = a.take_str("exception.type");
                s.keep("exception", Some(json!({"type": kind, "message": text})));
                fill(&mut s.error_type, kind);
            }
            _ => continue,
        }
        used.push(i);
    }
    if !input.is_empty() {
        fill(&mut s.input, Some(Value::Array(input)));
    }
    if !output.is_empty() {
        fill(&mut s.output, Some(Value::Array(output)));
    }
    used
}

/// One message of an older content event: its attributes, with the role
/// the event's name gives unless it names one itself.
fn message(role: &str, a: Attributes) -> Value {
    let mut m = a.into_map();
    for v in m.values_mut() {
        *v = parse_embedded_json(std::mem::take(v));
    }
    m.entry("role")
        .or_insert_with(|| Value::String(role.into()));
    Value::Object(m)
}
