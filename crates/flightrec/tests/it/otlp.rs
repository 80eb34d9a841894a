//! OTLP/HTTP ingest (`/v1/traces`, `/v1/logs`) against real exporters: the
//! OpenTelemetry Python SDK (protobuf) and Node SDK (JSON), installed
//! pinned into `tests/otlp` by its `install` script; and requests built
//! here with `opentelemetry-proto`'s messages for the edges of the
//! protocol (gzip, partial success, bad bodies, content types, keys).

use crate::support::{API_KEY, BOOTSTRAP_RECORDS, Server};
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::{Value, json};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// `tests/otlp`, with its peers installed.
fn peers() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/otlp");
        let dir = dir.canonicalize().expect("tests/otlp exists");
        let lock = File::create(dir.join(".install.lock")).unwrap();
        lock.lock().unwrap();
        let status = Command::new(dir.join("install"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/otlp/install");
        assert!(status.success(), "tests/otlp/install failed");
        dir
    })
}

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    (dir, server)
}

/// Runs a sender script with the exporter pointed at `server` the way a
/// user would, by the standard environment; what it printed.
fn send(server: &Server, program: &str, script: &str) -> Value {
    let dir = peers();
    let out = Command::new(program)
        .arg(dir.join(script))
        .current_dir(dir)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &server.base)
        .env("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={API_KEY}"))
        .output()
        .expect("run the sender");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(sent["exports_succeeded"], json!([true, true, true, true]));
    sent
}

async fn run_events(server: &Server, run_id: &str) -> Vec<Value> {
    let (status, body) = server
        .get(&format!("/v1/events?run_id={run_id}&limit=1000"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut events = body["events"].as_array().unwrap().clone();
    events.reverse(); // oldest first
    events
}

async fn event_count(server: &Server) -> usize {
    let (_, body) = server.get("/v1/events?limit=1000").await;
    body["events"].as_array().unwrap().len()
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

/// What both SDKs' runs must have become: the agent's start and complete,
/// the model call with its tokens, the tool's call and result, the user's
/// message and the closing log, each under the right span, and no
/// duplicates although everything was exported twice.
async fn assert_recorded_run(server: &Server, sent: &Value, input_tokens: u64, agent: &str) {
    let run_id = sent["trace_id"].as_str().unwrap();
    let span = |name: &str| sent["spans"][name].as_str().unwrap().to_owned();
    let events = run_events(server, run_id).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(events.len(), 7, "{types:?}");
    assert_eq!(
        event_count(server).await as u64,
        BOOTSTRAP_RECORDS + 7,
        "the re-export recorded nothing new"
    );

    let start = of_type(&events, "start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0]["span_id"], span("agent"));
    assert!(start[0].get("parent_span_id").is_none());
    assert_eq!(start[0]["agent_id"], agent);
    let complete = of_type(&events, "complete");
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0]["status"], "ok");

    let llm = of_type(&events, "llm_call");
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0]["span_id"], span("chat"));
    assert_eq!(llm[0]["parent_span_id"], span("agent"));
    assert_eq!(llm[0]["agent_id"], agent, "inherited from the agent span");
    assert_eq!(llm[0]["provider"], "openai");
    assert_eq!(llm[0]["metadata"]["model"], "gpt-4o-2024-08-06");
    assert_eq!(llm[0]["metadata"]["request_model"], "gpt-4o");
    assert_eq!(llm[0]["metadata"]["input_tokens"], input_tokens);
    assert!(llm[0]["metadata"]["output_tokens"].as_u64().unwrap() > 0);

    let call = of_type(&events, "tool_call");
    let result = of_type(&events, "tool_result");
    assert_eq!((call.len(), result.len()), (1, 1));
    assert_eq!(call[0]["tool"], "get_weather");
    assert_eq!(call[0]["span_id"], span("tool"));
    assert_eq!(call[0]["parent_span_id"], span("agent"));
    assert!(result[0]["duration_ms"].as_f64().is_some());
    assert!(result[0]["output"]["temp_c"].is_number());

    let said = of_type(&events, "user_input");
    assert_eq!(said.len(), 1);
    assert!(
        said[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("What is the weather")
    );
    assert_eq!(
        said[0]["span_id"],
        span("agent"),
        "logged inside the agent span"
    );
    let log = of_type(&events, "log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "warn");
    assert_eq!(log[0]["content"], "agent finished");

    // The run as the run page and replay show it.
    let (status, run) = server.get(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "completed");
    assert_eq!(run["event_count"], 7);
    let (status, state) = server
        .get(&format!("/v1/runs/{run_id}/state?event=6"))
        .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["status"], "completed");
    let context: Vec<&str> = state["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap_or(""))
        .collect();
    for t in ["user_input", "llm_call", "tool_call", "tool_result"] {
        assert!(context.contains(&t), "{t} in the replayed context: {state}");
    }
    let page = server
        .http
        .get(server.url(&format!("/runs/{run_id}")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("get_weather"),
        "the run page shows the tool call"
    );
}

#[tokio::test]
async fn python_sdk_records_an_agent_run_over_protobuf() {
    let (_d, s) = server();
    let python = peers().join(".venv/bin/python");
    let sent = send(&s, python.to_str().unwrap(), "send.py");
    assert_recorded_run(&s, &sent, 120, "agent-py").await;

    // The secret in the tool's arguments was masked before it was stored.
    let events = run_events(&s, sent["trace_id"].as_str().unwrap()).await;
    let call = of_type(&events, "tool_call")[0];
    assert_eq!(call["input"]["city"], "Paris");
    assert_eq!(call["input"]["api_key"], "[MASKED:api_key]");
    assert_eq!(call["credential_masked"], true);
}

#[tokio::test]
async fn node_sdk_records_an_agent_run_over_json() {
    let (_d, s) = server();
    let sent = send(&s, "node", "send.js");
    assert_recorded_run(&s, &sent, 80, "agent-js").await;
}

// ---- Requests built here: the protocol's edges. ----

fn text(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(trace: [u8; 16], id: u8, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: vec![id; 8],
        name: format!("span {id}"),
        start_time_unix_nano: 1_780_000_000_000_000_000,
        end_time_unix_nano: 1_780_000_000_250_000_000,
        attributes,
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn post(
    s: &Server,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    gzip: bool,
    key: Option<&str>,
) -> Answer {
    let mut request = s
        .http
        .post(s.url(path))
        .header("content-type", content_type);
    if let Some(k) = key {
        request = request.header("x-api-key", k);
    }
    let body = if gzip {
        request = request.header("content-encoding", "gzip");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&body).unwrap();
        encoder.finish().unwrap()
    } else {
        body
    };
    let r = request.body(body).send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        content_type: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

/// `google.rpc.Status`, as the failure bodies are read by exporters.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[tokio::test]
async fn gzipped_protobuf_is_recorded_and_answered_in_protobuf() {
    let (_d, s) = server();
    let trace = [0x11; 16];
    let request = traces(vec![span(
        trace,
        1,
        vec![
            text("openinference.span.kind", "TOOL"),
            text("tool.name", "search"),
        ],
    )]);
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        request.encode_to_vec(),
        true,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type, "application/x-protobuf");
    let answer = ExportTraceServiceResponse::decode(a.body.as_slice()).unwrap();
    assert_eq!(answer.partial_success, None, "everything was accepted");
    let events = run_events(&s, &hex::encode(trace)).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["tool_call", "tool_result"]);
    assert_eq!(events[1]["duration_ms"], 250.0);
}

#[tokio::test]
async fn otlp_json_ids_are_hex_and_its_int64s_strings() {
    let (_d, s) = server();
    // OTLP/JSON as the spec writes it: uppercase hex ids, 64-bit integers
    // as strings, enums as integers, lowerCamelCase names.
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-agent"}}]},
        "scopeSpans": [{"scope": {"name": "hand.written"}, "spans": [{
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "parentSpanId": "EEE19B7EC3C1B173",
            "name": "chat small-model",
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661000000000",
            "kind": 3,
            "status": {"code": 2, "message": "rate limited"},
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "small-model"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "42"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 7}}
            ]
        }]}]
    }]});
    let a = post(
        &s,
        "/v1/traces",
        "application/json",
        body.to_string().into_bytes(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.content_type, "application/json");
    assert_eq!(a.json(), json!({}));
    let events = run_events(&s, "5b8efff798038103d269b633813fc60c").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["type"], "llm_call");
    assert_eq!(e["span_id"], "eee19b7ec3c1b174");
    assert_eq!(e["parent_span_id"], "eee19b7ec3c1b173");
    assert_eq!(e["time"], "2018-12-13T14:51:00.000000Z");
    assert_eq!(e["duration_ms"], 1000.0);
    assert_eq!(e["status"], "fail");
    assert_eq!(e["error"]["message"], "rate limited");
    assert_eq!(e["metadata"]["input_tokens"], 42);
    assert_eq!(e["metadata"]["output_tokens"], 7);
    assert_eq!(e["metadata"]["otel"]["service"], "json-agent");
    assert_eq!(e["metadata"]["otel"]["span_kind"], "client");
}

#[tokio::test]
async fn spans_that_cannot_be_recorded_are_refused_by_partial_success() {
    let (_d, s) = server();
    let good = span([0x22; 16], 1, vec![text("gen_ai.operation.name", "chat")]);
    let mut short_trace = span([0x22; 16], 2, vec![]);
    short_trace.trace_id = vec![0x22; 8];
    let mut no_start = span([0x22; 16], 3, vec![]);
    no_start.start_time_unix_nano = 0;
    let request = traces(vec![good, short_trace, no_start]);
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        request.encode_to_vec(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200);
    let partial = ExportTraceServiceResponse::decode(a.body.as_slice())
        .unwrap()
        .partial_success
        .expect("partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial
            .error_message
            .contains("span 1: its trace_id is 8 bytes")
            && partial
                .error_message
                .contains("span 2: it has no start time"),
        "{}",
        partial.error_message
    );
    assert_eq!(run_events(&s, &hex::encode([0x22; 16])).await.len(), 1);

    // In JSON, the same answer in OTLP/JSON's shape.
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "33333333333333333333333333333333", "spanId": "3333333333333333",
         "name": "ok", "startTimeUnixNano": "1780000000000000000", "endTimeUnixNano": "1780000000000000000"},
        {"traceId": "33333333333333333333333333333333", "spanId": "0000000000000000",
         "name": "zero span id", "startTimeUnixNano": "1780000000000000000"}
    ]}]}]});
    let a = post(
        &s,
        "/v1/traces",
        "application/json",
        body.to_string().into_bytes(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200);
    let answer = a.json();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1");
    assert!(
        answer["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("span 1: its span_id is all zeros"),
        "{answer}"
    );

    // A request of nothing but refused spans is a 400: nothing was recorded.
    let mut bad = span([0x44; 16], 1, vec![]);
    bad.span_id = vec![1; 3];
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        traces(vec![bad]).encode_to_vec(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 400);
    let status = RpcStatus::decode(a.body.as_slice()).unwrap();
    assert_eq!(status.code, 3);
    assert!(
        status.message.contains("span_id is 3 bytes")
            && status.message.contains("nothing was recorded"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn bodies_that_do_not_decode_are_400_with_a_status_saying_why() {
    let (_d, s) = server();
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        vec![0xff, 0xff, 0xff, 0x01, 0x02],
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.content_type, "application/x-protobuf");
    let status = RpcStatus::decode(a.body.as_slice()).unwrap();
    assert!(
        status.message.contains("not a valid OTLP protobuf message"),
        "{}",
        status.message
    );

    // Base64 ids (protobuf's usual JSON) are not OTLP/JSON; the value sent
    // is not echoed back.
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": "7uGbfsPBsXQ=", "name": "x"}
    ]}]}]});
    let a = post(
        &s,
        "/v1/traces",
        "application/json",
        body.to_string().into_bytes(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 400);
    let answer = a.json();
    assert_eq!(answer["code"], 3);
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("not valid OTLP/JSON"), "{message}");
    assert!(!message.contains("W47/95g"), "{message}");

    let a = post(
        &s,
        "/v1/logs",
        "application/json",
        b"{\"resourceLogs\": [".to_vec(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 400);
    let a = post(
        &s,
        "/v1/traces",
        "application/json",
        b"not gzip".to_vec(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 400);
    let mut gz = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        Vec::new(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(
        gz.status, 200,
        "an empty protobuf request is an empty export"
    );
    gz = {
        let r = s
            .http
            .post(s.url("/v1/traces"))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .header("x-api-key", API_KEY)
            .body("this is not gzip")
            .send()
            .await
            .unwrap();
        Answer {
            status: r.status().as_u16(),
            content_type: String::new(),
            headers: r.headers().clone(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    };
    assert_eq!(gz.status, 400);
    assert!(
        gz.json()["message"]
            .as_str()
            .unwrap()
            .contains("not valid gzip")
    );
    assert_eq!(event_count(&s).await as u64, BOOTSTRAP_RECORDS);
}

#[tokio::test]
async fn unknown_content_types_are_415_and_missing_keys_401() {
    let (_d, s) = server();
    let a = post(
        &s,
        "/v1/traces",
        "text/plain",
        b"hello".to_vec(),
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 415);
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("application/x-protobuf")
    );

    let body = traces(vec![span([0x55; 16], 1, vec![])]).encode_to_vec();
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        body.clone(),
        false,
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    assert!(a.headers.contains_key("www-authenticate"));
    let status = RpcStatus::decode(a.body.as_slice()).unwrap();
    assert_eq!(status.code, 16);
    let a = post(
        &s,
        "/v1/logs",
        "application/x-protobuf",
        body.clone(),
        false,
        Some("fr_not_a_key_0000000000000000"),
    )
    .await;
    assert_eq!(a.status, 401);

    // A key that may only read cannot record.
    let (status, key, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            &crate::support::Cred::Key(API_KEY.into()),
            Some(&json!({"name": "reader", "scopes": ["read"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let read_key = key["key"].as_str().unwrap();
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        body,
        false,
        Some(read_key),
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(RpcStatus::decode(a.body.as_slice()).unwrap().code, 7);
    assert_eq!(
        event_count(&s).await as u64,
        BOOTSTRAP_RECORDS + 1,
        "the key's creation"
    );
}

#[tokio::test]
async fn a_body_that_inflates_past_the_limit_is_413() {
    let (_d, s) = server();
    // 17 MiB of zeros gzip to a few kilobytes; the limit is 16 MiB.
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        vec![0u8; 17 * 1024 * 1024],
        true,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 413);
    assert!(
        RpcStatus::decode(a.body.as_slice())
            .unwrap()
            .message
            .contains("inflates to more than")
    );
}

#[tokio::test]
async fn logs_without_a_trace_belong_to_their_session() {
    let (_d, s) = server();
    let record = |name: &str, attributes: Vec<KeyValue>| LogRecord {
        time_unix_nano: 1_780_000_000_000_000_000,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(name.into())),
        }),
        attributes,
        ..Default::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(
                        "claude_code.user_prompt",
                        vec![
                            text("event.name", "user_prompt"),
                            text("session.id", "cc-session-1"),
                            text("prompt", "fix the failing test"),
                        ],
                    ),
                    record(
                        "claude_code.api_request",
                        vec![
                            text("event.name", "api_request"),
                            text("session.id", "cc-session-1"),
                            text("model", "claude-sonnet"),
                            text("input_tokens", "1200"),
                            text("output_tokens", "80"),
                            text("cost_usd", "0.0042"),
                        ],
                    ),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let a = post(
        &s,
        "/v1/logs",
        "application/x-protobuf",
        request.encode_to_vec(),
        true,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200);
    let events = run_events(&s, "cc-session-1").await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 2);
    assert!(
        types.contains(&"user_input") && types.contains(&"llm_call"),
        "{types:?}"
    );
    let llm = of_type(&events, "llm_call")[0];
    assert_eq!(llm["metadata"]["model"], "claude-sonnet");
    assert_eq!(llm["metadata"]["input_tokens"], 1200);
    assert_eq!(llm["session_id"], "cc-session-1");
    assert_eq!(
        of_type(&events, "user_input")[0]["content"],
        "fix the failing test"
    );
}

#[tokio::test]
async fn a_key_bound_to_an_agent_records_only_that_agents_spans() {
    let (_d, s) = server();
    let (status, key, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            &crate::support::Cred::Key(API_KEY.into()),
            Some(&json!({"name": "agent a", "scopes": ["ingest"], "agent_id": "agent-a"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let bound = key["key"].as_str().unwrap();
    let trace = [0x66; 16];
    let own = span(trace, 1, vec![text("gen_ai.operation.name", "chat")]);
    let other = span(
        trace,
        2,
        vec![
            text("gen_ai.operation.name", "invoke_agent"),
            text("gen_ai.agent.id", "agent-b"),
        ],
    );
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        traces(vec![own, other.clone()]).encode_to_vec(),
        false,
        Some(bound),
    )
    .await;
    assert_eq!(a.status, 200);
    let partial = ExportTraceServiceResponse::decode(a.body.as_slice())
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial
            .error_message
            .starts_with("span 1: its `agent_id` names another agent")
            && !partial.error_message.contains("agent-b"),
        "the value sent is not echoed: {}",
        partial.error_message
    );
    let events = run_events(&s, &hex::encode(trace)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["agent_id"], "agent-a", "the key's agent");

    // Only another agent's spans: refused, as `/v1/events` refuses them.
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        traces(vec![other]).encode_to_vec(),
        false,
        Some(bound),
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(RpcStatus::decode(a.body.as_slice()).unwrap().code, 7);
}

/// A real instrumentation on a real client: the `openai` Python client,
/// traced by `opentelemetry-instrumentation-openai-v2`, talking to an
/// OpenAI-compatible stub that asks for a tool call and then answers; the
/// agent loop around it opens the agent and tool spans as frameworks do.
#[tokio::test]
async fn an_openai_client_traced_by_openai_v2_records_a_replayable_run() {
    let (s, events) = instrumented_run(&[]).await;
    // The content the instrumentation logged: the question and the answer.
    assert!(
        of_type(&events, "user_input")
            .iter()
            .any(|e| e["content"] == "What is the weather in Paris?")
    );
    assert!(
        of_type(&events, "thinking")
            .iter()
            .any(|e| e["content"] == "It is 21 degrees in Paris.")
    );
    drop(s);
}

/// The same agent traced by `openinference-instrumentation-openai`, its
/// agent and tool spans in OpenInference's terms.
#[tokio::test]
async fn an_openai_client_traced_by_openinference_records_a_replayable_run() {
    let (_s, events) = instrumented_run(&["openinference"]).await;
    let calls = of_type(&events, "llm_call");
    assert_eq!(calls[0]["metadata"]["otel"]["convention"], "openinference");
    assert_eq!(
        calls[0]["input"][0]["message"]["content"],
        "What is the weather in Paris?"
    );
}

/// Runs `tests/otlp/agent_openai.py` with `args` against a fresh server
/// and checks what every instrumentation must give: the agent's start and
/// end, both model calls under it with their token counts, the tool's call
/// and result between them, and a run that replays to its end.
async fn instrumented_run(args: &[&str]) -> ((tempfile::TempDir, Server), Vec<Value>) {
    let (d, s) = server();
    let python = peers().join(".venv/bin/python");
    let out = Command::new(&python)
        .arg(peers().join("agent_openai.py"))
        .args(args)
        .current_dir(peers())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &s.base)
        .env("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={API_KEY}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sent["exports_succeeded"], json!([true, true, true, true]));
    assert_eq!(sent["model_requests"], 2, "a tool call, then the answer");
    assert_eq!(sent["final"], "It is 21 degrees in Paris.");
    let run_id = sent["trace_id"].as_str().unwrap();
    let events = run_events(&s, run_id).await;
    let before = event_count(&s).await;

    let start = of_type(&events, "start");
    assert_eq!(start.len(), 1);
    let agent_span = start[0]["span_id"].as_str().unwrap();
    assert_eq!(start[0]["agent_id"], "weather-agent");
    assert_eq!(of_type(&events, "complete").len(), 1);

    // The instrumentation's two chat spans, under the agent, with tokens.
    let calls: Vec<&Value> = of_type(&events, "llm_call")
        .into_iter()
        .filter(|e| e["metadata"]["otel"]["span_name"].is_string())
        .collect();
    assert_eq!(calls.len(), 2, "{events:?}");
    let tokens: Vec<(u64, u64)> = calls
        .iter()
        .map(|c| {
            assert_eq!(c["parent_span_id"], agent_span);
            assert_eq!(c["agent_id"], "weather-agent");
            assert_eq!(c["metadata"]["model"], "gpt-4o-mini-2024-07-18");
            assert_eq!(c["provider"], "openai");
            (
                c["metadata"]["input_tokens"].as_u64().unwrap(),
                c["metadata"]["output_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tokens, [(50, 10), (70, 12)]);

    // The tool, between the two calls, under the agent.
    let call = of_type(&events, "tool_call");
    let result = of_type(&events, "tool_result");
    let tool_call = call
        .iter()
        .find(|e| e["metadata"]["otel"]["span_name"].is_string())
        .unwrap();
    assert_eq!(tool_call["tool"], "get_weather");
    assert_eq!(tool_call["input"], json!({"city": "Paris"}));
    assert_eq!(tool_call["parent_span_id"], agent_span);
    assert_eq!(tool_call["metadata"]["tool_call_id"], "call_weather_1");
    let tool_result = result
        .iter()
        .find(|e| e["span_id"] == tool_call["span_id"])
        .unwrap();
    assert_eq!(tool_result["output"]["temp_c"], 21);
    assert!(calls[0]["time"].as_str() < tool_call["time"].as_str());
    assert!(tool_result["time"].as_str() < calls[1]["time"].as_str());

    // It replays: the state at the end, and the paced stream to its end.
    let (_, run) = s.get(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "completed");
    assert_eq!(run["agent_id"], "weather-agent");
    let last = events.len() - 1;
    let (status, state) = s
        .get(&format!("/v1/runs/{run_id}/state?event={last}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(state["status"], "completed");
    let stream = s
        .http
        .get(s.url(&format!("/v1/runs/{run_id}/replay?speed=1000")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let text = tokio::time::timeout(std::time::Duration::from_secs(30), stream.text())
        .await
        .expect("the replay ends")
        .unwrap();
    let replayed = text.lines().filter(|l| l.starts_with("data:")).count();
    assert!(text.contains("event: end"), "{text}");
    assert_eq!(replayed, events.len() + 1, "every event, then the end");
    assert_eq!(event_count(&s).await, before, "reading changed nothing");
    ((d, s), events)
}

/// While the store is away, an export is told to come back later (503,
/// `Retry-After`, retryable per OTLP); the exporter's retry of the same
/// spans is then recorded once.
#[tokio::test(flavor = "multi_thread")]
async fn an_export_while_postgresql_is_down_is_503_and_its_retry_is_recorded() {
    // A PostgreSQL server of this test's own: the shared one must never stop.
    let cluster = crate::private_postgres::PrivateCluster::start();
    let db = crate::support::PgDeployment::at(&cluster.url());
    let s = Server::start_node(&db, &[]);
    let trace = [0x77; 16];
    let body = traces(vec![span(
        trace,
        1,
        vec![text("gen_ai.operation.name", "chat")],
    )])
    .encode_to_vec();

    tokio::task::block_in_place(|| cluster.stop_immediately());
    let a = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        post(
            &s,
            "/v1/traces",
            "application/x-protobuf",
            body.clone(),
            false,
            Some(API_KEY),
        ),
    )
    .await
    .expect("an answer, not a hang");
    assert_eq!(a.status, 503, "{}", String::from_utf8_lossy(&a.body));
    assert!(a.headers.contains_key("retry-after"));
    assert_eq!(RpcStatus::decode(a.body.as_slice()).unwrap().code, 14);

    tokio::task::block_in_place(|| cluster.start_again());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let a = post(
            &s,
            "/v1/traces",
            "application/x-protobuf",
            body.clone(),
            false,
            Some(API_KEY),
        )
        .await;
        if a.status == 200 {
            break;
        }
        assert_eq!(a.status, 503, "only 503 while it comes back");
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // An exporter that retried once more (its answer lost) changes nothing.
    let a = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        body,
        false,
        Some(API_KEY),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(run_events(&s, &hex::encode(trace)).await.len(), 1);
    drop(s);
    drop(db);
}
