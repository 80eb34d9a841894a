//! `/v1/stats` at size (issue #21), with the real release binary.
//!
//! `cargo bench -p flightrec --bench stats` fills a store with
//! `BENCH_STORE_EVENTS` (default 1,000,000) ~1 KB events spread over the
//! last 30 days — with durations, failures, governance blocks, dry runs
//! and idempotency hits — then times `GET /v1/stats` over all of them, with
//! each `group_by` and without, and over the last 7 days (a window whose
//! edges fall inside hours): p50 and p99 over `BENCH_REQUESTS` (default
//! 100) requests each, one at a time. PASS when every p50 is ≤ 50 ms.
//! Then the reports over all of them: a `compliance_summary` and an
//! `agent_activity` PDF, from the request to the ready file (each verifies
//! the whole log against its checkpoint first).
//!
//! Knobs (environment): BENCH_STORE (`sqlite`, the default, or
//! `postgres`: a fresh database on the local server), BENCH_STORE_EVENTS,
//! BENCH_REQUESTS, BENCH_SENDERS (default 2), BENCH_BIN.

mod support;

use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

const SPAN: Duration = Duration::from_secs(30 * 86_400);
const TARGET_P50_MS: f64 = 50.0;

/// Where the events begin (Unix ms), how far apart they are, how many.
static TIMELINE: OnceLock<(i64, f64, usize)> = OnceLock::new();

/// `support::event` at its place on the 30-day timeline (the log's order
/// follows time, as a live log's does), with what `/v1/stats` counts.
fn timed_event(i: usize) -> Value {
    let (start, step, total) = TIMELINE.get().expect("set before ingest");
    let mut e = event(i);
    let place = (total - 1 - i) as f64 * step;
    let at = chrono::DateTime::from_timestamp_millis(start + place as i64).unwrap();
    e["time"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    if i.is_multiple_of(31) {
        e["governance"] = json!({"status": "blocked", "policy": "no-force-push"});
    }
    e["dry_run"] = json!(i.is_multiple_of(17));
    e["idempotency_hit"] = json!(i.is_multiple_of(23));
    e
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let events = env_usize("BENCH_STORE_EVENTS", 1_000_000);
    let requests = env_usize("BENCH_REQUESTS", 100);
    let senders = env_usize("BENCH_SENDERS", 2);
    let on_postgres = support::postgres::on_postgres();
    let now = chrono::Utc::now().timestamp_millis();
    TIMELINE
        .set((
            now - SPAN.as_millis() as i64,
            SPAN.as_millis() as f64 / events as f64,
            events,
        ))
        .unwrap();
    println!(
        "flightrec /v1/stats benchmark on {} ({} cores)",
        if on_postgres { "PostgreSQL" } else { "SQLite" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    // Kept alive to the end: dropping either stops the server.
    let (_deployment, _server, base) = support::postgres::one_node(&dir.path().join("data"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let rate = batch_ingest(&base, 0, events, senders, timed_event).await;
        println!(
            "store: {events} events over 30 days, ingested in {:.0} s ({rate:.0}/s)",
            started.elapsed().as_secs_f64()
        );
        let http = reqwest::Client::new();
        let all = get_json(&http, &format!("{base}/v1/stats?since=all")).await;
        println!(
            "all time: {} records, {} blocked, {} dry runs, {} idempotency hits, duration p50 {} ms",
            all["total"], all["blocked"], all["dry_run"], all["idempotency_hits"],
            all["duration_ms"]["p50"]
        );

        println!("\nGET /v1/stats, {requests} requests each:");
        println!(
            "{:<34} {:>9} {:>9} {:>7}",
            "query", "p50 ms", "p99 ms", "groups"
        );
        let mut worst_p50: f64 = 0.0;
        for window in ["all", "7d"] {
            for group_by in ["", "verb", "provider", "agent", "type", "status", "day", "hour"] {
                let mut path = format!("/v1/stats?since={window}");
                if !group_by.is_empty() {
                    path.push_str(&format!("&group_by={group_by}"));
                }
                let latencies = query_latencies(&base, std::slice::from_ref(&path), requests).await;
                let answer = get_json(&http, &format!("{base}{path}")).await;
                let groups = answer["groups"].as_array().map_or(0, Vec::len);
                let p50 = percentile(&latencies, 0.5);
                worst_p50 = worst_p50.max(p50);
                println!(
                    "{:<34} {p50:>9.2} {:>9.2} {groups:>7}",
                    format!("since={window} group_by={group_by}"),
                    percentile(&latencies, 0.99)
                );
            }
        }
        println!(
            "\n{} slowest p50 {worst_p50:.2} ms (target ≤ {TARGET_P50_MS} ms)",
            if worst_p50 <= TARGET_P50_MS {
                "PASS"
            } else {
                "FAIL"
            }
        );

        println!("\nReports over all {} records:", all["total"]);
        for report_type in ["compliance_summary", "agent_activity"] {
            let (took, job) = report(&http, &base, report_type).await;
            println!(
                "{report_type} as PDF: ready in {:.1} s, {} bytes, verification passed: {}",
                took.as_secs_f64(),
                job["size"],
                job["basis"]["verification"]["passed"]
            );
        }
    });
}

/// Asks for a PDF report of `report_type` over the whole log; how long it
/// took to be ready, and the job.
async fn report(http: &reqwest::Client, base: &str, report_type: &str) -> (Duration, Value) {
    let started = Instant::now();
    let job: Value = http
        .post(format!("{base}/v1/reports"))
        .header("x-api-key", API_KEY)
        .json(&json!({"type": report_type, "format": "pdf"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("{base}/v1/reports/{}", job["id"].as_str().expect("a job"));
    loop {
        let job = get_json(http, &path).await;
        match job["status"].as_str() {
            Some("pending") => tokio::time::sleep(Duration::from_millis(100)).await,
            Some("ready") => return (started.elapsed(), job),
            _ => panic!("the report ended as {job}"),
        }
    }
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
