//! OTLP ingest against batch ingest, on one server in one run.
//!
//! `cargo bench -p flightrec --bench otlp` prints:
//!
//! 1. `POST /v1/events/batch` (1,000 events of ~1 KB per request, 4
//!    connections): events/s to durable commit;
//! 2. `POST /v1/traces` as OTLP protobuf (500 spans per request, an
//!    exporter's default batch, 4 connections), each span a GenAI `chat`
//!    span that becomes one `llm_call` of about the same size: spans/s;
//! 3. the ratio of the two (the target is at least 80%); and, since the
//!    benchmark event of (1) is a dearer shape to index than a model
//!    call, (1b): the very `llm_call` events the spans become, sent to
//!    `/v1/events/batch`, which isolates what OTLP decoding and mapping
//!    cost.
//!
//! The two alternate in rounds so that neither gets the quieter moments
//! of a shared machine. Knobs (environment): BENCH_OTLP_SPANS (per kind,
//! default 120,000), BENCH_OTLP_ROUNDS (default 3),
//! BENCH_OTLP_SPANS_PER_REQUEST (default 500), BENCH_DURABILITY, BENCH_BIN.

mod support;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use std::sync::Arc;
use std::time::Instant;
use support::*;

/// Spans per request: 500 by default, about what an SDK's batch span
/// processor sends (512); `BENCH_OTLP_SPANS_PER_REQUEST` to change it.
fn spans_per_request() -> usize {
    env_usize("BENCH_OTLP_SPANS_PER_REQUEST", 500).max(1)
}

fn text(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
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

/// A `chat` span carrying what [`event`] carries: a command in, about
/// 600 bytes of output, an agent, a session, one of 1,000 runs (traces).
fn chat_span(i: usize) -> Span {
    let filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    let trace = (i % 1000) as u128 + 1;
    let start = 1_780_000_000_000_000_000 + i as u64 * 1_000_000;
    Span {
        trace_id: trace.to_be_bytes().to_vec(),
        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
        parent_span_id: Vec::new(),
        name: "chat large-model".into(),
        kind: 3,
        start_time_unix_nano: start,
        end_time_unix_nano: start + (i % 3000) as u64 * 1_000_000,
        attributes: vec![
            text("gen_ai.operation.name", "chat".into()),
            text("gen_ai.provider.name", "sandbox".into()),
            text("gen_ai.request.model", "large-model".into()),
            text("gen_ai.agent.id", format!("agent-{}", i % 20)),
            text("gen_ai.conversation.id", format!("session-{}", i % 500)),
            int("gen_ai.usage.input_tokens", 412),
            int("gen_ai.usage.output_tokens", 96),
            text(
                "gen_ai.input.messages",
                format!(
                    r#"[{{"role":"user","parts":[{{"type":"text","content":"cargo test --package crate_{} -- --nocapture"}}]}}]"#,
                    i % 97
                ),
            ),
            text(
                "gen_ai.output.messages",
                format!(
                    r#"[{{"role":"assistant","parts":[{{"type":"text","content":"{}"}}]}}]"#,
                    filler.repeat(8)
                ),
            ),
        ],
        ..Default::default()
    }
}

/// The `llm_call` that [`chat_span`] becomes, as a client of
/// `/v1/events/batch` would send it: the same work below the decoding.
fn mapped_event(i: usize) -> serde_json::Value {
    let filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    let start = 1_780_000_000_000_000_000u64 + i as u64 * 1_000_000;
    let time = chrono::DateTime::from_timestamp_nanos(start as i64)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    serde_json::json!({
        "type": "llm_call",
        "time": time,
        "run_id": format!("{:032x}", (i % 1000) as u128 + 1),
        "span_id": format!("{:016x}", i as u64 + 1),
        "agent_id": format!("agent-{}", i % 20),
        "session_id": format!("session-{}", i % 500),
        "provider": "sandbox",
        "verb": "llm:chat",
        "status": "ok",
        "duration_ms": (i % 3000) as f64,
        "input": [{"role": "user", "parts": [{"type": "text", "content": format!("cargo test --package crate_{} -- --nocapture", i % 97)}]}],
        "output": [{"role": "assistant", "parts": [{"type": "text", "content": filler.repeat(8)}]}],
        "metadata": {
            "otel": {"span_name": "chat large-model", "span_kind": "client", "convention": "gen_ai", "operation": "chat"},
            "model": "large-model", "request_model": "large-model",
            "input_tokens": 412, "output_tokens": 96, "total_tokens": 508
        }
    })
}

fn request(first: usize, count: usize) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (first..first + count).map(chat_span).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Sends `total` spans from `first` in requests of [`spans_per_request`]
/// from `senders` connections; spans/s to the last answer.
async fn otlp_ingest(base: &str, first: usize, total: usize, senders: usize) -> f64 {
    let bodies: Vec<Vec<u8>> = (first..first + total)
        .step_by(spans_per_request())
        .map(|start| request(start, spans_per_request().min(first + total - start)))
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let url = format!("{base}/v1/traces");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (queue, url) = (queue.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(body) = next else { break };
                let r = http
                    .post(&url)
                    .header("x-api-key", API_KEY)
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), 200);
                let answer = r.bytes().await.unwrap();
                assert!(answer.is_empty(), "no partial success expected");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let spans = env_usize("BENCH_OTLP_SPANS", 120_000);
    let rounds = env_usize("BENCH_OTLP_ROUNDS", 3).max(1);
    let per_round = spans / rounds;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    println!(
        "flightrec OTLP ingest benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  event size: {} bytes of JSON; span size: {} bytes of protobuf",
        event(1).to_string().len(),
        request(0, 1).len()
    );
    let (batch, same, otlp) = runtime.block_on(async {
        let (mut batch_secs, mut same_secs, mut otlp_secs) = (0.0, 0.0, 0.0);
        for round in 0..rounds {
            let first = round * per_round;
            let rate = batch_ingest(&server.base, first, per_round, 4, event).await;
            batch_secs += per_round as f64 / rate;
            let rate = batch_ingest(&server.base, first, per_round, 4, mapped_event).await;
            same_secs += per_round as f64 / rate;
            let rate = otlp_ingest(&server.base, first, per_round, 4).await;
            otlp_secs += per_round as f64 / rate;
            println!("  round {round}: done");
        }
        let total = (per_round * rounds) as f64;
        (total / batch_secs, total / same_secs, total / otlp_secs)
    });
    println!("(1) /v1/events/batch, 1,000 × ~1 KB per request, 4 connections: {batch:.0} events/s");
    println!("(1b) /v1/events/batch of the llm_call events the spans become: {same:.0} events/s");
    println!(
        "(2) /v1/traces, OTLP protobuf, {} chat spans per request, 4 connections: {otlp:.0} spans/s",
        spans_per_request()
    );
    println!(
        "(3) OTLP / batch: {:.0}% of (1), {:.0}% of (1b) (target ≥ 80%)",
        otlp / batch * 100.0,
        otlp / same * 100.0
    );
    println!(
        "  ({} of each, in {rounds} alternating rounds)",
        per_round * rounds
    );
}
