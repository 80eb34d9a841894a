//! A run's replay exported as an animated GIF.
//!
//! `cargo bench -p flightrec --bench gif_export` prints, for the 29-event
//! demo run and a 1,000-event coding run (`BENCH_GIF_EVENTS`), how long
//! `GET /v1/runs/{id}/export?format=gif` takes (median of
//! `BENCH_GIF_ROUNDS`, default 5), the file's size and its frames.
//!
//! Knobs (environment): BENCH_GIF_EVENTS, BENCH_GIF_ROUNDS, BENCH_BIN.

mod support;

use std::time::Instant;
use support::*;

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let events = env_usize("BENCH_GIF_EVENTS", 1_000);
    let rounds = env_usize("BENCH_GIF_ROUNDS", 5).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "flightrec GIF export benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(&dir.path().join("data"), &["--demo"], &[]);
    runtime.block_on(async {
        let base = server.base.clone();
        batch_ingest(&base, 0, events, 1, |i| coding_run_event("gif-run", i)).await;
        let http = reqwest::Client::new();
        for (run, label) in [
            ("demo-run-fix-pagination", "the demo run"),
            ("gif-run", "a coding run"),
        ] {
            let summary: serde_json::Value = http
                .get(format!("{base}/v1/runs/{run}"))
                .header("x-api-key", API_KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let frames = summary["event_count"].as_f64().expect("the run exists");
            let mut took = Vec::new();
            let mut bytes = 0;
            for _ in 0..rounds {
                let started = Instant::now();
                let r = http
                    .get(format!("{base}/v1/runs/{run}/export?format=gif"))
                    .header("x-api-key", API_KEY)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                bytes = r.bytes().await.unwrap().len();
                took.push(started.elapsed());
            }
            took.sort();
            println!(
                "GIF of {label} ({frames} events): {:.2} s (median of {rounds}), {:.2} MB, {:.1} KB a frame",
                took[took.len() / 2].as_secs_f64(),
                bytes as f64 / 1e6,
                bytes as f64 / 1024.0 / frames
            );
        }
    });
}
