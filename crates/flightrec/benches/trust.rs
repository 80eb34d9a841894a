//! What checking the log costs, against the real binary.
//!
//! `cargo bench -p flightrec --bench trust` prints:
//!
//! 1. `flightrec verify --trust` of a store of `BENCH_VERIFY_RECORDS`
//!    (default 1,000,000) records of ~1 KB: records/s (target ≥ 300,000/s
//!    on 2 cores);
//! 2. cosigning latency with two local `flightrec witness serve`
//!    processes: from an acknowledged append to a checkpoint covering it
//!    that carries both cosignatures, p50/p99;
//! 3. batch ingest over HTTP with those witnesses configured and without:
//!    events/s (target: no measurable drop).
//!
//! The store of (1) is written through the store's own append (batches of
//! 1,000, checkpoints every 16 batches) rather than over HTTP, so the
//! million records take seconds to make; they are the same records.
//!
//! Knobs: BENCH_VERIFY_RECORDS, BENCH_VERIFY_ONLY (set: stop after (1)),
//! BENCH_INGEST_EVENTS (default 100,000), BENCH_DURABILITY (fsync | os),
//! BENCH_BIN.

mod support;

use flightrec_core::clock::SystemClock;
use flightrec_core::event::{Limits, parse_event};
use flightrec_core::log::Signer;
use flightrec_core::record::{SealedEvent, SubmittedBy};
use flightrec_store::{
    AppendBatch, Checkpointing, Durability, LogStore, RecordStore, SqliteOptions, SqliteStore,
};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // Making a million records takes minutes: a BENCH_VERIFY_DIR keeps
    // them for the next run.
    let verify_dir = std::env::var("BENCH_VERIFY_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().to_owned());
    verify_rate(&verify_dir, env_usize("BENCH_VERIFY_RECORDS", 1_000_000));
    if std::env::var_os("BENCH_VERIFY_ONLY").is_some() {
        return;
    }
    flightrec_server::webhooks::install_tls_provider();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(witnesses(
        dir.path(),
        env_usize("BENCH_INGEST_EVENTS", 100_000),
    ));
}

/// (1): a store of `records` records, then `flightrec verify` over it.
fn verify_rate(root: &Path, records: usize) {
    let data = root.join(format!("verify-store-{records}"));
    let trust = root.join("verify-trust.txt");
    if !data.exists() {
        make_store(&data, &trust, records);
    }
    let started = Instant::now();
    let out = Command::new(binary())
        .args(["verify", "--data-dir"])
        .arg(&data)
        .arg("--trust")
        .arg(&trust)
        .output()
        .expect("run verify");
    let secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdict = stdout
        .lines()
        .find(|l| l.starts_with("OK") || l.starts_with("MISMATCH"))
        .unwrap_or("no verdict");
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "(1) flightrec verify of {records} records: {secs:.1} s, {:.0} records/s, whole command ({verdict})",
        records as f64 / secs
    );
}

/// Writes `records` records of ~1 KB into a new store at `data` (batches
/// of 1,000, a checkpoint every 16), and the trust file of its log.
fn make_store(data: &Path, trust: &Path, records: usize) {
    let store = SqliteStore::create(
        data,
        SqliteOptions {
            durability: Durability::Os,
            ..Default::default()
        },
    )
    .unwrap();
    let key = Signer::from_seed("bench.local", [7; 32]).unwrap();
    let checkpointing =
        Checkpointing::new(key, Duration::from_secs(3600), Arc::new(SystemClock)).unwrap();
    std::fs::write(
        trust,
        format!(
            "{}\n",
            checkpointing.verifier("default").unwrap().to_key_string()
        ),
    )
    .unwrap();
    let now = chrono::Utc::now();
    let made = Instant::now();
    for (n, start) in (0..records).step_by(1000).enumerate() {
        let events = (start..(start + 1000).min(records))
            .map(|i| {
                let e =
                    parse_event(event(i), now, &Limits::default(), || format!("v-{i}")).unwrap();
                SealedEvent::seal(&e, SubmittedBy::Key("bench".into()))
            })
            .collect();
        store
            .append(vec![AppendBatch::events("default", events)])
            .unwrap()
            .pop()
            .unwrap()
            .unwrap();
        if n % 16 == 15 {
            store.set_checkpointing(checkpointing.clone());
            store.sign_checkpoints().unwrap();
        }
    }
    store.set_checkpointing(checkpointing.clone());
    store.sign_checkpoints().unwrap();
    while store.index_search(50_000).unwrap() > 0 {}
    eprintln!(
        "    (made {records} records in {:.0} s)",
        made.elapsed().as_secs_f64()
    );
}

/// A `flightrec witness serve` process, killed when dropped.
struct Witness {
    child: Child,
    url: String,
    vkey: String,
}

impl Witness {
    fn start(data_dir: &Path, name: &str, trust: &Path) -> Witness {
        let mut child = Command::new(binary())
            .args([
                "witness",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--name",
                name,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--trust")
            .arg(trust)
            .env("FLIGHTREC_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut vkey, mut url) = (String::new(), String::new());
        while url.is_empty() {
            let line = lines.next().expect("the witness exited").unwrap();
            if let Some(k) = line.strip_prefix("witness key:") {
                vkey = k.trim().to_owned();
            }
            if let Some(u) = line.strip_prefix("flightrec witness listening on ") {
                url = u.trim().to_owned();
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Witness { child, url, vkey }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn text(http: &reqwest::Client, url: &str) -> String {
    http.get(url)
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// (2) and (3).
async fn witnesses(root: &Path, events: usize) {
    // The log's keys, for the witnesses to follow.
    let data = root.join("witnessed");
    let server = Server::start(&data);
    let http = reqwest::Client::new();
    let trust = root.join("trust.txt");
    std::fs::write(
        &trust,
        text(&http, &format!("{}/v1/log/trust", server.base)).await,
    )
    .unwrap();
    drop(server);
    let w1 = Witness::start(&root.join("w1"), "w1.bench", &trust);
    let w2 = Witness::start(&root.join("w2"), "w2.bench", &trust);
    let config = format!("{} {},{} {}", w1.url, w1.vkey, w2.url, w2.vkey);
    let server = Server::start_with(
        &data,
        &["--checkpoint-interval-ms", "100"],
        &[("FLIGHTREC_WITNESSES", config.as_str())],
    );
    let url = format!("{}/v1/events", server.base);
    let mut latencies = Vec::new();
    for i in 0..50 {
        post(&http, &url, event(i).to_string()).await;
        let acked = Instant::now();
        loop {
            let note = text(&http, &format!("{}/v1/log/checkpoint", server.base)).await;
            let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
            let cosigned = note.lines().filter(|l| l.starts_with('\u{2014}')).count() == 3;
            // 3 bootstrap records, then i + 1 of ours.
            if size >= 4 + i as u64 && cosigned {
                break;
            }
            assert!(acked.elapsed() < Duration::from_secs(30), "never cosigned");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(acked.elapsed());
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    latencies.sort();
    println!(
        "(2) append acknowledged → checkpoint with both cosignatures (interval 100 ms): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    let with = batch_ingest(&server.base, 1_000_000, events, 4, event).await;
    drop(server);
    let plain = Server::start_with(
        &root.join("plain"),
        &["--checkpoint-interval-ms", "100"],
        &[],
    );
    let without = batch_ingest(&plain.base, 1_000_000, events, 4, event).await;
    println!(
        "(3) batch ingest of {events} events: {with:.0} events/s with two witnesses, {without:.0} without ({:+.1}%)",
        (with / without - 1.0) * 100.0
    );
}
