//! `/metrics` scrape time, idle and on a busy server, against the real
//! binary.
//!
//! `cargo bench -p flightrec --bench metrics` prints the scrape latency
//! (p50/p99/max) and size of `GET /metrics`:
//!
//! 1. on an idle server that holds `BENCH_STORE_EVENTS` (default 200,000)
//!    events;
//! 2. while ingest keeps it busy: batches of 1,000 events from two
//!    connections and single events from 16, for the whole run, with the
//!    events/s ingested meanwhile.
//!
//! Scrapes are back to back with a 20 ms pause (`BENCH_SCRAPES` of them,
//! default 300): far more often than any Prometheus, to get percentiles.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::*;

async fn scrapes(base: &str, n: usize) -> (Vec<Duration>, usize, usize) {
    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(n);
    let (mut bytes, mut series) = (0, 0);
    for _ in 0..n {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/metrics"))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        latencies.push(t.elapsed());
        bytes = body.len();
        series = body.lines().filter(|l| !l.starts_with('#')).count();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    (latencies, bytes, series)
}

fn report(what: &str, latencies: &[Duration], bytes: usize, series: usize) {
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} scrapes; {bytes} bytes, {series} samples",
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0),
        latencies.len(),
    );
}

/// Keeps ingesting until `stop`; returns the events sent.
fn busy(base: &str, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<usize>> {
    let sent = Arc::new(AtomicUsize::new(10_000_000));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (url, stop, sent) = (
            format!("{base}/v1/events/batch"),
            stop.clone(),
            sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let first = sent.fetch_add(1000, Ordering::Relaxed);
                let events: Vec<_> = (first..first + 1000).map(event).collect();
                post(&http, &url, serde_json::to_string(&events).unwrap()).await;
                n += 1000;
            }
            n
        }));
    }
    for _ in 0..16 {
        let (url, stop, sent) = (format!("{base}/v1/events"), stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let i = sent.fetch_add(1, Ordering::Relaxed);
                post(&http, &url, event(i).to_string()).await;
                n += 1;
            }
            n
        }));
    }
    tasks
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let events = env_usize("BENCH_STORE_EVENTS", 50_000);
    let n = env_usize("BENCH_SCRAPES", 300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "flightrec /metrics benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    runtime.block_on(async {
        let base = server.base.clone();
        let rate = batch_ingest(&base, 0, events, 2, event).await;
        println!("store filled: {events} events at {rate:.0} events/s");
        // Let search indexing catch up, so "idle" is idle.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (idle, bytes, series) = scrapes(&base, n).await;
        report("idle", &idle, bytes, series);

        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let load = busy(&base, stop.clone());
        // Let the load settle before measuring.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (loaded, bytes, series) = scrapes(&base, n).await;
        stop.store(true, Ordering::Relaxed);
        let mut ingested = 0;
        for t in load {
            ingested += t.await.unwrap();
        }
        report("busy", &loaded, bytes, series);
        println!(
            "ingest meanwhile: {:.0} events/s",
            ingested as f64 / started.elapsed().as_secs_f64()
        );
    });
}
