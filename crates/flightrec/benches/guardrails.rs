//! What the guardrails cost at ingest.
//!
//! `cargo bench -p flightrec --bench guardrails` ingests the same events,
//! in batches of 1,000 over HTTP from 4 connections, into two fresh
//! servers: one with no compliance rules (credential masking, which is
//! always on, included), and one with the `hipaa`, `gdpr` and `finance`
//! packs installed. Each event's `message` is a line of the labelled
//! personal-data corpus (`crates/flightrec-core/tests/pii/corpus.txt`, in
//! turn): about half carry values the packs find (cards with their CVV,
//! IBANs, emails, phone numbers, …), the rest look-alikes and ordinary
//! text, so alerts are raised and values redacted at the corpus's rate. It
//! prints both rates and their ratio.
//!
//! Knobs (environment): BENCH_BATCH_EVENTS (default 200,000),
//! BENCH_DURABILITY (fsync | os), BENCH_BIN.

mod support;

#[path = "../../flightrec-core/tests/pii/mod.rs"]
mod pii;

use serde_json::{Value, json};
use std::sync::LazyLock;
use support::*;

/// The corpus's lines, and how many of them hold values the packs find.
static CORPUS: LazyLock<(Vec<String>, usize)> = LazyLock::new(|| {
    let cases = pii::cases();
    let with_values = cases.iter().filter(|c| !c.values.is_empty()).count();
    (cases.into_iter().map(|c| c.text).collect(), with_values)
});

/// The ingest benchmark's event, its message the corpus's next line.
fn event_with_pii(i: usize) -> Value {
    let mut e = event(i);
    let lines = &CORPUS.0;
    e["message"] = json!(lines[i % lines.len()]);
    e
}

fn measure(batch_events: usize, packs: &[&str]) -> (f64, usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for pack in packs {
            let body = json!({"packId": pack}).to_string();
            post(
                &http,
                &format!("{}/v1/compliance-rules/packs", server.base),
                body,
            )
            .await;
        }
        // Warm up: the first requests compile the rules.
        batch_ingest(&server.base, 0, 2_000, 1, event_with_pii).await;
        let rate = batch_ingest(&server.base, 2_000, batch_events, 4, event_with_pii).await;
        let mut alerts = 0;
        let mut url = format!("{}/v1/alerts?limit=1000", server.base);
        loop {
            let page: Value = http
                .get(&url)
                .header("x-api-key", API_KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            alerts += page["alerts"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("{}/v1/alerts?limit=1000&cursor={c}", server.base),
                None => break,
            }
        }
        (rate, alerts)
    })
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let batch_events = env_usize("BENCH_BATCH_EVENTS", 200_000);
    println!(
        "flightrec guardrails benchmark ({} cores, {batch_events} events of ~1 KB, messages from the PII corpus: {} lines, {} with values)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        CORPUS.0.len(),
        CORPUS.1
    );
    let (plain, none) = measure(batch_events, &[]);
    println!("(a) masking only, no rules: {plain:.0} events/s ({none} alerts)");
    let (guarded, alerts) = measure(batch_events, &["hipaa", "gdpr", "finance"]);
    println!(
        "(b) masking + hipaa, gdpr and finance packs: {guarded:.0} events/s ({alerts} alerts)"
    );
    println!("    ratio (b)/(a): {:.0}%", guarded / plain * 100.0);
}
