//! The span mapping of each convention, on spans built as their
//! instrumentations emit them.

use super::*;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, span};
use serde_json::json;

const TRACE: [u8; 16] = [0xab; 16];
const START: u64 = 1_780_000_000_000_000_000;

fn text(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn int(k: &str, v: i64) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

fn span_with(id: u8, parent: Option<u8>, name: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: START,
        end_time_unix_nano: START + 1_500_000,
        attributes,
        ..Default::default()
    }
}

fn events(span: &Span) -> Vec<Value> {
    span_events(span, &Origin::default(), None).unwrap()
}

fn run_id() -> String {
    hex::encode(TRACE)
}

#[test]
fn genai_agent_span_is_start_and_complete_with_ids_from_trace_and_span() {
    let s = span_with(
        1,
        None,
        "invoke_agent planner",
        vec![
            text("gen_ai.operation.name", "invoke_agent"),
            text("gen_ai.agent.id", "agent-7"),
            text("gen_ai.agent.name", "planner"),
            text("gen_ai.provider.name", "openai"),
            text(
                "gen_ai.input.messages",
                r#"[{"role":"user","parts":[{"type":"text","content":"plan"}]}]"#,
            ),
            text("app.custom", "kept"),
        ],
    );
    let e = events(&s);
    assert_eq!(e.len(), 2);
    let span_hex = hex::encode([1u8; 8]);
    assert_eq!(e[0]["id"], format!("otlp:{}:{span_hex}:start", run_id()));
    assert_eq!(e[1]["id"], format!("otlp:{}:{span_hex}:end", run_id()));
    assert_eq!(e[0]["type"], "start");
    assert_eq!(e[1]["type"], "complete");
    assert_eq!(e[0]["run_id"], run_id());
    assert_eq!(e[0]["span_id"], span_hex);
    assert!(e[0].get("parent_span_id").is_none());
    assert_eq!(e[0]["agent_id"], "agent-7");
    assert_eq!(e[0]["provider"], "openai");
    assert_eq!(e[0]["input"][0]["role"], "user");
    assert_eq!(e[0]["time"], "2026-05-28T20:26:40.000000Z");
    assert_eq!(e[1]["time"], "2026-05-28T20:26:40.001500Z");
    assert_eq!(e[1]["duration_ms"], 1.5);
    assert_eq!(
        e[0]["metadata"]["attributes"],
        json!({"app.custom": "kept"})
    );
    assert_eq!(e[0]["metadata"]["otel"]["operation"], "invoke_agent");
    assert_eq!(e[0]["metadata"]["otel"]["span_kind"], "client");
}

#[test]
fn a_failed_agent_span_ends_in_an_error_event() {
    let mut s = span_with(
        1,
        None,
        "invoke_agent",
        vec![
            text("gen_ai.operation.name", "invoke_agent"),
            text("error.type", "timeout"),
        ],
    );
    s.status = Some(Status {
        message: "the model timed out".into(),
        code: status::StatusCode::Error as i32,
    });
    let e = events(&s);
    assert_eq!(e[1]["type"], "error");
    assert_eq!(e[1]["status"], "fail");
    assert_eq!(
        e[1]["error"],
        json!({"message": "the model timed out", "code": "timeout"})
    );
}

#[test]
fn genai_tool_span_is_a_call_and_a_result() {
    let s = span_with(
        3,
        Some(1),
        "execute_tool get_weather",
        vec![
            text("gen_ai.operation.name", "execute_tool"),
            text("gen_ai.tool.name", "get_weather"),
            text("gen_ai.tool.call.id", "call_1"),
            text("gen_ai.tool.call.arguments", r#"{"city":"Paris"}"#),
            text("gen_ai.tool.call.result", r#"{"temp_c":21}"#),
        ],
    );
    let e = span_events(&s, &Origin::default(), Some("agent-7")).unwrap();
    assert_eq!(e[0]["type"], "tool_call");
    assert_eq!(e[0]["tool"], "get_weather");
    assert_eq!(e[0]["input"], json!({"city": "Paris"}));
    assert_eq!(e[0]["metadata"]["tool_call_id"], "call_1");
    assert_eq!(e[0]["parent_span_id"], hex::encode([1u8; 8]));
    assert_eq!(e[0]["agent_id"], "agent-7", "inherited from the agent span");
    assert_eq!(e[1]["type"], "tool_result");
    assert_eq!(e[1]["output"], json!({"temp_c": 21}));
    assert_eq!(e[1]["duration_ms"], 1.5);
    assert_eq!(e[1]["status"], "ok");
}

#[test]
fn genai_chat_span_is_an_llm_call_with_model_and_usage() {
    let s = span_with(
        2,
        Some(1),
        "chat gpt-4o",
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.request.model", "gpt-4o"),
            text("gen_ai.response.model", "gpt-4o-2024-08-06"),
            text("gen_ai.provider.name", "openai"),
            int("gen_ai.usage.input_tokens", 120),
            int("gen_ai.usage.output_tokens", 30),
            text(
                "gen_ai.system_instructions",
                r#"[{"type":"text","content":"be brief"}]"#,
            ),
            text(
                "gen_ai.output.messages",
                r#"[{"role":"assistant","parts":[]}]"#,
            ),
        ],
    );
    let e = events(&s);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["type"], "llm_call");
    assert_eq!(e[0]["verb"], "llm:chat");
    let m = &e[0]["metadata"];
    assert_eq!(m["model"], "gpt-4o-2024-08-06");
    assert_eq!(m["request_model"], "gpt-4o");
    assert_eq!(m["input_tokens"], 120);
    assert_eq!(m["output_tokens"], 30);
    assert_eq!(m["total_tokens"], 150);
    assert_eq!(m["system_instructions"][0]["content"], "be brief");
    assert_eq!(e[0]["output"][0]["role"], "assistant");
    assert!(m.get("attributes").is_none(), "every attribute was mapped");
}

#[test]
fn older_genai_prompt_attributes_and_content_events_are_a_model_call() {
    let mut s = span_with(
        2,
        None,
        "openai.chat",
        vec![
            text("gen_ai.system", "openai"),
            text("gen_ai.request.model", "gpt-3.5-turbo"),
            text("gen_ai.prompt.0.role", "user"),
            text("gen_ai.prompt.0.content", "hello"),
            text("gen_ai.completion.0.role", "assistant"),
            text("gen_ai.completion.0.content", "hi"),
            int("gen_ai.usage.prompt_tokens", 5),
            int("gen_ai.usage.completion_tokens", 2),
        ],
    );
    let e = events(&s);
    assert_eq!(e[0]["type"], "llm_call");
    assert_eq!(e[0]["provider"], "openai");
    assert_eq!(e[0]["input"], json!([{"role": "user", "content": "hello"}]));
    assert_eq!(
        e[0]["output"],
        json!([{"role": "assistant", "content": "hi"}])
    );
    assert_eq!(e[0]["metadata"]["input_tokens"], 5);
    assert_eq!(e[0]["metadata"]["output_tokens"], 2);

    // The same call with its content in span events instead.
    s.attributes = vec![text("gen_ai.system", "openai")];
    s.events = vec![
        span::Event {
            name: "gen_ai.user.message".into(),
            attributes: vec![text("content", "hello")],
            ..Default::default()
        },
        span::Event {
            name: "gen_ai.choice".into(),
            attributes: vec![int("index", 0), text("message", r#"{"content":"hi"}"#)],
            ..Default::default()
        },
        span::Event {
            name: "custom.checkpoint".into(),
            ..Default::default()
        },
    ];
    let e = events(&s);
    assert_eq!(e[0]["input"], json!([{"content": "hello", "role": "user"}]));
    assert_eq!(e[0]["output"][0]["message"], json!({"content": "hi"}));
    assert_eq!(
        e[0]["metadata"]["span_events"][0]["name"], "custom.checkpoint",
        "events no convention uses are kept"
    );

    // The oldest form: the whole prompt as one attribute of an event.
    s.events = vec![span::Event {
        name: "gen_ai.content.prompt".into(),
        attributes: vec![text(
            "gen_ai.prompt",
            r#"[{"role":"user","content":"hey"}]"#,
        )],
        ..Default::default()
    }];
    assert_eq!(events(&s)[0]["input"][0]["content"], "hey");
}

#[test]
fn openinference_spans_map_by_their_span_kind() {
    let llm = span_with(
        2,
        Some(1),
        "ChatCompletion",
        vec![
            text("openinference.span.kind", "LLM"),
            text("llm.model_name", "gpt-4o-mini"),
            text("llm.provider", "openai"),
            int("llm.token_count.prompt", 11),
            int("llm.token_count.completion", 4),
            int("llm.token_count.total", 15),
            text("llm.input_messages.0.message.role", "user"),
            text("llm.input_messages.0.message.content", "2+2?"),
            text("llm.output_messages.0.message.content", "4"),
            text("input.value", r#"{"messages":[]}"#),
            text("input.mime_type", "application/json"),
            text("session.id", "s-1"),
        ],
    );
    let e = events(&llm);
    assert_eq!(e[0]["type"], "llm_call");
    assert_eq!(e[0]["metadata"]["model"], "gpt-4o-mini");
    assert_eq!(e[0]["metadata"]["total_tokens"], 15);
    assert_eq!(
        e[0]["input"],
        json!([{"message": {"role": "user", "content": "2+2?"}}])
    );
    assert_eq!(e[0]["session_id"], "s-1");
    assert_eq!(e[0]["metadata"]["otel"]["convention"], "openinference");

    let tool = span_with(
        3,
        Some(1),
        "get_weather",
        vec![
            text("openinference.span.kind", "TOOL"),
            text("tool.name", "get_weather"),
            text("tool.parameters", r#"{"type":"object"}"#),
            text("input.value", r#"{"city":"Oslo"}"#),
            text("input.mime_type", "application/json"),
            text("output.value", "sunny"),
        ],
    );
    let e = events(&tool);
    assert_eq!(e[0]["type"], "tool_call");
    assert_eq!(e[0]["tool"], "get_weather");
    assert_eq!(e[0]["input"], json!({"city": "Oslo"}));
    assert_eq!(
        e[0]["metadata"]["tool_parameters"],
        json!({"type": "object"})
    );
    assert_eq!(e[1]["output"], "sunny");

    let agent = span_with(
        1,
        None,
        "Agent",
        vec![text("openinference.span.kind", "AGENT")],
    );
    assert_eq!(events(&agent)[0]["type"], "start");
    let guard = span_with(
        4,
        Some(1),
        "g",
        vec![text("openinference.span.kind", "GUARDRAIL")],
    );
    assert_eq!(events(&guard)[0]["type"], "guardrail_check");
    let chain = span_with(
        5,
        Some(1),
        "RunnableSequence",
        vec![text("openinference.span.kind", "CHAIN")],
    );
    let e = events(&chain);
    assert_eq!(e[0]["type"], "span");
    assert_eq!(e[0]["message"], "RunnableSequence");
}

#[test]
fn mcp_tool_calls_are_tool_events_of_their_session_and_other_methods_spans() {
    let call = span_with(
        6,
        Some(1),
        "tools/call read_file",
        vec![
            text("mcp.method.name", "tools/call"),
            text("gen_ai.tool.name", "read_file"),
            text("mcp.session.id", "mcp-session-9"),
            text("jsonrpc.request.id", "4"),
        ],
    );
    let e = events(&call);
    assert_eq!(e[0]["type"], "tool_call");
    assert_eq!(e[0]["tool"], "read_file");
    assert_eq!(e[0]["session_id"], "mcp-session-9");
    assert_eq!(e[1]["session_id"], "mcp-session-9");
    assert_eq!(e[0]["metadata"]["mcp_method"], "tools/call");

    let list = span_with(
        7,
        Some(1),
        "tools/list",
        vec![text("mcp.method.name", "tools/list")],
    );
    let e = events(&list);
    assert_eq!(e[0]["type"], "span");
    assert_eq!(e[0]["metadata"]["otel"]["operation"], "tools/list");
}

#[test]
fn any_other_span_is_a_span_event_with_its_attributes() {
    let s = span_with(
        8,
        Some(1),
        "GET /health",
        vec![
            text("http.request.method", "GET"),
            int("http.response.status_code", 200),
        ],
    );
    let e = events(&s);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["type"], "span");
    assert_eq!(
        e[0]["id"],
        format!("otlp:{}:{}:span", run_id(), hex::encode([8u8; 8]))
    );
    assert_eq!(
        e[0]["metadata"]["attributes"],
        json!({"http.request.method": "GET", "http.response.status_code": 200})
    );
}

#[test]
fn spans_with_bad_ids_or_no_start_are_refused_with_a_reason() {
    let mut s = span_with(1, None, "x", vec![]);
    s.trace_id = vec![1; 8];
    assert!(
        span_events(&s, &Origin::default(), None)
            .unwrap_err()
            .contains("trace_id is 8 bytes")
    );
    let mut s = span_with(1, None, "x", vec![]);
    s.span_id = vec![0; 8];
    assert!(
        span_events(&s, &Origin::default(), None)
            .unwrap_err()
            .contains("all zeros")
    );
    let mut s = span_with(1, None, "x", vec![]);
    s.start_time_unix_nano = 0;
    assert!(
        span_events(&s, &Origin::default(), None)
            .unwrap_err()
            .contains("no start time")
    );
}

#[test]
fn agents_are_inherited_from_the_nearest_agent_span_of_the_request() {
    let agent = span_with(1, None, "a", vec![text("gen_ai.agent.name", "planner")]);
    let middle = span_with(2, Some(1), "m", vec![]);
    let leaf = span_with(3, Some(2), "l", vec![]);
    let orphan = span_with(4, Some(9), "o", vec![]);
    let openinference = span_with(5, None, "oi", vec![text("agent.name", "researcher")]);
    let under_it = span_with(6, Some(5), "llm", vec![]);
    let mut scopes = AgentScopes::default();
    for s in [&agent, &middle, &leaf, &orphan, &openinference, &under_it] {
        scopes.add(s);
    }
    assert_eq!(scopes.inherited(&leaf), Some("planner"));
    assert_eq!(scopes.inherited(&under_it), Some("researcher"));
    assert_eq!(scopes.inherited(&agent), None);
    assert_eq!(scopes.inherited(&orphan), None);
}
