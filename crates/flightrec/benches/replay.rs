//! Run state and export at size.
//!
//! `cargo bench -p flightrec --bench replay` prints:
//!
//! 1. `GET /v1/runs/{id}/state?event=N` at random N on a run of
//!    `BENCH_RUN_EVENTS` (default 10,000) events touching 200 files:
//!    p50/p99, and the first request (which folds the run) on its own;
//! 2. `GET /v1/events/export` (the verifiable jsonl) of a log of
//!    `BENCH_EXPORT_EVENTS` (default 1,000,000) records: records/s, and the
//!    server's peak RSS during the export. The export is read over a bare
//!    socket, as curl would, so that the client's own work on these two
//!    cores is not counted against the server.
//!
//! Knobs (environment): BENCH_RUN_EVENTS, BENCH_EXPORT_EVENTS,
//! BENCH_DURABILITY (fsync | os), BENCH_BIN.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

/// A memory figure of a process from /proc (`VmRSS`: all resident
/// memory, including the database file's pages SQLite maps; `RssAnon`: the
/// process's own heap and stacks), in MB.
fn memory_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let run_events = env_usize("BENCH_RUN_EVENTS", 10_000);
    let export_events = env_usize("BENCH_EXPORT_EVENTS", 1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "flightrec replay benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut server = Server::start(&data_dir);
    runtime.block_on(async {
        let base = server.base.clone();
        batch_ingest(&base, 0, run_events, 2, |i| coding_run_event("bench-run", i)).await;
        let http = reqwest::Client::new();
        // The first request folds the run; the rest read what it kept.
        let cold = Instant::now();
        let check: Value = http
            .get(format!("{base}/v1/runs/bench-run/state"))
            .header("x-api-key", API_KEY)
            .send().await.unwrap().json().await.unwrap();
        let cold = cold.elapsed();
        assert_eq!(check["files"].as_object().map_or(0, |f| f.len()), CODING_RUN_FILES, "the run touches 200 files");
        assert_eq!(check["problems"].as_array().map_or(0, Vec::len), 0, "{}", check["problems"]);
        let mut latencies = Vec::new();
        for k in 0..200 {
            let n = (k * 7919) % run_events;
            let started = Instant::now();
            let r = http
                .get(format!("{base}/v1/runs/bench-run/state?event={n}"))
                .header("x-api-key", API_KEY)
                .send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            latencies.push(started.elapsed());
        }
        latencies.sort();
        println!(
            "(1) GET /v1/runs/{{id}}/state?event=N, run of {run_events} events over {CODING_RUN_FILES} files: p50 {:.1} ms, p99 {:.1} ms",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99)
        );
        println!("    the first request, which folds the whole run: {:.1} ms", cold.as_secs_f64() * 1000.0);

        // Fill the log, then export all of it.
        let have = run_events;
        if export_events > have {
            let started = Instant::now();
            batch_ingest(&base, have, export_events - have, 4, event).await;
            println!("    filled the log to {export_events} records in {:.0} s", started.elapsed().as_secs_f64());
        }
        // The export covers what the newest checkpoint does. A fresh server
        // on the same data, so that what filling the log left in memory is
        // not counted against the export.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = server.child.kill();
        let _ = server.child.wait();
        server = Server::start(&data_dir);
        let base = server.base.clone();
        let pid = server.child.id();
        let before = (memory_mb(pid, "VmRSS"), memory_mb(pid, "RssAnon"));
        // The server's memory, sampled while it exports.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut peak = (0f64, 0f64);
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    peak.0 = peak.0.max(memory_mb(pid, "VmRSS"));
                    peak.1 = peak.1.max(memory_mb(pid, "RssAnon"));
                    std::thread::sleep(Duration::from_millis(20));
                }
                peak
            })
        };
        let started = Instant::now();
        let exported = {
            let base = base.clone();
            tokio::task::spawn_blocking(move || raw_get_counting(&base, "/v1/events/export"))
        };
        let (status, bytes, lines) = exported.await.unwrap();
        assert!(status.contains(" 200 "), "{status}");
        let took = started.elapsed().as_secs_f64();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        let records = lines.saturating_sub(2);
        println!(
            "(2) GET /v1/events/export (jsonl), {records} records, {:.0} MB: {:.0} records/s",
            bytes as f64 / 1e6,
            records as f64 / took
        );
        println!(
            "    server memory during the export at most: RSS {:.1} MB, of which its own (RssAnon) {:.1} MB; before it: {:.1} / {:.1} MB",
            peak.0, peak.1, before.0, before.1
        );
    });
}
