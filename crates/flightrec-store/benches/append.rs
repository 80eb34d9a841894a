//! The ingest pipeline below HTTP, stage by stage, on ~1 KB events:
//! validation and sealing (flightrec-core), the store's append transaction
//! (with tiles, checkpoints and run summaries), and free-text indexing, on
//! SQLite and then on PostgreSQL (a fresh database on the test server, see
//! `conformance::postgres`; one node, one connection).
//! `cargo bench -p flightrec-store --bench append`.

use flightrec_core::clock::SystemClock;
use flightrec_core::event::{Limits, parse_event};
use flightrec_core::log::Signer;
use flightrec_core::record::{SealedEvent, SubmittedBy};
use flightrec_store::conformance::postgres::TestDatabase;
use flightrec_store::{AppendBatch, Checkpointing, PgStore, SqliteOptions, SqliteStore, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn event(i: usize) -> Value {
    let event_type = [
        "tool_call",
        "tool_result",
        "thinking",
        "llm_call",
        "read_file",
    ][i % 5];
    let filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    json!({
        "type": event_type,
        "run_id": format!("run-{}", i % 1000),
        "agent_id": format!("agent-{}", i % 20),
        "session_id": format!("session-{}", i % 500),
        "actor": {"type": "agent", "id": format!("agent-{}", i % 20)},
        "resource": {"type": "file", "id": format!("src/module_{}.rs", i % 300)},
        "tool": "bash",
        "provider": "sandbox",
        "status": if i.is_multiple_of(50) { "fail" } else { "ok" },
        "duration_ms": i % 3000,
        "input": {"command": format!("cargo test --package crate_{} -- --nocapture", i % 97)},
        "output": {"exit_code": i % 2, "stdout": filler.repeat(8)},
        "message": format!("step {i} of the benchmark run"),
    })
}

fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let now = chrono::Utc::now();
    let values: Vec<Value> = (0..n).map(event).collect();

    let started = Instant::now();
    let sealed: Vec<SealedEvent> = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let e = parse_event(v, now, &Limits::default(), || format!("id-{i:012}")).unwrap();
            SealedEvent::seal(&e, SubmittedBy::Key("bench".into()))
        })
        .collect();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "validate + seal:  {:>9.0} events/s (one core)",
        n as f64 / secs
    );

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    sqlite.set_checkpointing(checkpointing());
    measure("SQLite", &sqlite, &sealed);

    let db = TestDatabase::create();
    let postgres = PgStore::open_or_create(db.url()).unwrap();
    postgres.set_checkpointing(checkpointing());
    measure("PostgreSQL", &postgres, &sealed);
}

fn checkpointing() -> Checkpointing {
    let key = Signer::from_seed("bench.local", [1; 32]).unwrap();
    Checkpointing::new(key, Duration::from_secs(1), Arc::new(SystemClock)).unwrap()
}

fn measure(backend: &str, store: &impl Store, sealed: &[SealedEvent]) {
    let n = sealed.len();
    let started = Instant::now();
    for chunk in sealed.chunks(1000) {
        store
            .append(vec![AppendBatch::events("default", chunk.to_vec())])
            .unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{backend}: append (1,000 per transaction): {:>9.0} events/s",
        n as f64 / secs
    );

    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let k = store.index_search(5000).unwrap();
        if k == 0 {
            break;
        }
        indexed += k;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{backend}: free-text index:  {:>9.0} events/s",
        indexed as f64 / secs
    );
}
