//! What the guardrails cost at ingest.
//!
//! `cargo bench -p flightrec --bench guardrails` ingests the same events,
//! in batches of 1,000 over HTTP from 4 connections, into two fresh
//! servers: one with no compliance rules (credential masking, which is
//! always on, included), and one with the `hipaa`, `gdpr` and `finance`
//! packs installed. One event in ten carries personal data the packs
//! find (an email, a phone number, a card number), so alerts are raised
//! and values redacted at a steady rate. It prints both rates and their
//! ratio.
//!
//! Knobs (environment): BENCH_BATCH_EVENTS (default 200,000),
//! BENCH_DURABILITY (fsync | os), BENCH_BIN.

mod support;

use serde_json::{Value, json};
use support::*;

/// The ingest benchmark's event; every tenth with personal data in it.
fn event_with_pii(i: usize) -> Value {
    let mut e = event(i);
    if i.is_multiple_of(10) {
        e["message"] = json!(format!(
            "customer jane.doe{i}@example.com called from +1 415 555 0{:03}",
            i % 1000
        ));
        e["input"]["card"] = json!("4111 1111 1111 1111");
    }
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
        "flightrec guardrails benchmark ({} cores, {batch_events} events of ~1 KB, one in ten with personal data)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (plain, none) = measure(batch_events, &[]);
    println!("(a) masking only, no rules: {plain:.0} events/s ({none} alerts)");
    let (guarded, alerts) = measure(batch_events, &["hipaa", "gdpr", "finance"]);
    println!(
        "(b) masking + hipaa, gdpr and finance packs: {guarded:.0} events/s ({alerts} alerts)"
    );
    println!("    ratio (b)/(a): {:.0}%", guarded / plain * 100.0);
}
