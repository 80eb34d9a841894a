//! Retention benchmark (issue #21), with the real release binary on SQLite.
//!
//! `cargo bench -p flightrec --bench retention` prints:
//!
//! 1. the store filled with `BENCH_RETENTION_RECORDS` (default 1,000,000)
//!    ~1 KB events recorded ten days ago, and its size on disk per record;
//! 2. batch ingest of `BENCH_RETENTION_INGEST` (default 60,000) fresh
//!    events with no retention at work: events/s;
//! 3. the same ingest while retention (`auditLogRetention: "1d"`, set just
//!    before) erases every old body: events/s, and how many bodies
//!    retention erased per second, from the setting to the last body;
//! 4. PASS/FAIL: ingest during retention within 80% of its rate without.
//!
//! Knobs (environment): BENCH_RETENTION_RECORDS, BENCH_RETENTION_INGEST,
//! BENCH_SENDERS (concurrent clients, default 4), BENCH_DURABILITY (`fsync`
//! or `os`, default fsync), BENCH_BIN (another build of `flightrec`).

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

/// An [`event`] recorded ten days ago.
fn old_event(i: usize) -> Value {
    let mut e = event(i);
    let then = chrono::Utc::now() - chrono::Duration::days(10);
    e["time"] = json!(then.to_rfc3339());
    e
}

/// Bodies retention has erased so far, summed over its `log.erased`
/// records.
async fn erased_so_far(http: &reqwest::Client, base: &str) -> u64 {
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/events?type=log.erased&limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http
            .get(url)
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["events"].as_array().unwrap() {
            total += e["metadata"]["erased"].as_u64().unwrap_or(0);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return total,
        }
    }
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[tokio::main]
async fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let records = env_usize("BENCH_RETENTION_RECORDS", 1_000_000);
    let ingest = env_usize("BENCH_RETENTION_INGEST", 60_000);
    let senders = env_usize("BENCH_SENDERS", 4);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let base = server.base.clone();
    let http = reqwest::Client::new();

    let started = Instant::now();
    send_batches(&base, API_KEY, batch_bodies(0, records, old_event), senders).await;
    let fill = started.elapsed();
    println!(
        "filled: {records} events of ~1 KB recorded ten days ago in {:.0} s ({:.0} events/s); {:.0} bytes on disk per record",
        fill.as_secs_f64(),
        records as f64 / fill.as_secs_f64(),
        dir_bytes(&data) as f64 / records as f64
    );

    // The fill's free-text indexing done first, so that it weighs on
    // neither figure.
    search_lag(&base, Duration::from_secs(3600)).await;
    let without = batch_ingest(&base, records, ingest, senders, event).await;
    println!("ingest, no retention at work: {without:.0} events/s");

    let set = Instant::now();
    let r = http
        .patch(format!("{base}/v1/settings"))
        .header("x-api-key", API_KEY)
        .header("content-type", "application/json")
        .body(json!({"auditLogRetention": "1d"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let during = batch_ingest(&base, records + ingest, ingest, senders, event).await;
    let erased_during = erased_so_far(&http, &base).await;
    println!(
        "ingest while retention erases: {during:.0} events/s ({erased_during} bodies erased meanwhile)"
    );
    loop {
        let erased = erased_so_far(&http, &base).await;
        if erased >= records as u64 {
            break;
        }
        assert!(
            set.elapsed() < Duration::from_secs(3600),
            "retention erased {erased} of {records} in an hour"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = set.elapsed();
    println!(
        "retention: {records} bodies erased in {:.1} s: {:.0} records/s; {:.0} bytes on disk per record after",
        took.as_secs_f64(),
        records as f64 / took.as_secs_f64(),
        dir_bytes(&data) as f64 / (records + 2 * ingest) as f64
    );
    let ratio = during / without;
    println!(
        "{} ingest during retention at {:.2} of its rate without (target ≥ 0.80)",
        if ratio >= 0.8 { "PASS" } else { "FAIL" },
        ratio
    );
    drop(server);
}
