//! Ingest, query and log benchmark against the real binary.
//!
//! `cargo bench -p flightrec --bench ingest` prints, in one run on one
//! machine:
//!
//! 1. batch ingest over HTTP (batches of 1,000 events of ~1 KB), events/s
//!    to durable commit;
//! 2. single-event ingest from 64 concurrent connections: events/s, p50/p99;
//! 3. `GET /v1/events` with filters and `GET /v1/runs/{id}` on a store of
//!    `BENCH_STORE_EVENTS` (default 1,000,000) events: p50/p99;
//! 4. a raw rusqlite insert of the same rows into the same schema, one
//!    transaction per 1,000 rows: the ceiling, and the ratio 1/4;
//! 5. inclusion proofs over HTTP on that store: p50/p99;
//! 6. `flightrec verify` of that store: records/s;
//!
//! plus the idle server's RSS and how far free-text search lags ingest.
//!
//! Knobs (environment): BENCH_STORE_EVENTS, BENCH_SINGLE_EVENTS,
//! BENCH_BATCH_EVENTS, BENCH_DURABILITY (fsync | os), BENCH_ENCRYPT=1 (the
//! tenant encrypts its bodies at rest, under a master key of the run's
//! own), and BENCH_BIN to measure another build of `flightrec` (e.g. an
//! older commit's) the same way.

mod support;

use flightrec_core::event::{Limits, parse_event};
use flightrec_core::record::{SealedEvent, SubmittedBy};
use flightrec_store::{SqliteOptions, SqliteStore};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

async fn single_ingest(
    base: &str,
    first: usize,
    total: usize,
    connections: usize,
) -> (f64, Vec<Duration>) {
    let url = format!("{base}/v1/events");
    let per = total / connections;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut latencies = Vec::with_capacity(per);
            for i in 0..per {
                let body = event(first + c * per + i).to_string();
                let t = Instant::now();
                post(&http, &url, body).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// The ceiling: the same rows into the same schema, without HTTP, JSON,
/// validation or hashing in the timed part.
fn raw_insert(rows: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SqliteStore::create(&data, SqliteOptions::default()).unwrap());
    let mut conn = rusqlite::Connection::open(data.join("flightrec.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    conn.pragma_update(None, "synchronous", "full").unwrap();
    let now = chrono::Utc::now();
    let sealed: Vec<SealedEvent> = (0..rows)
        .map(|i| {
            let e = parse_event(event(i), now, &Limits::default(), || format!("raw-{i}")).unwrap();
            SealedEvent::seal(&e, SubmittedBy::Key("bench".into()))
        })
        .collect();
    let leaves: Vec<Vec<u8>> = sealed
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.header("default", i as u64)
                .leaf_hash()
                .as_bytes()
                .to_vec()
        })
        .collect();
    let started = Instant::now();
    for (chunk_no, chunk) in sealed.chunks(1000).enumerate() {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO records (tenant, seq, id, time, received_at, type, run_id, span_id, \
                     parent_span_id, status, body_hash, leaf_hash, body, salt, session_id, agent_id, actor, \
                     actor_type, resource_type, resource_id, verb, provider, governance_status, v, \
                     submitted_by) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
                     ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
                )
                .unwrap();
            for (j, e) in chunk.iter().enumerate() {
                let seq = chunk_no * 1000 + j;
                let ix = &e.index;
                stmt.execute(rusqlite::params![
                    "default",
                    seq as i64,
                    e.id,
                    e.time,
                    e.received_at,
                    e.event_type,
                    e.run_id,
                    e.span_id,
                    e.parent_span_id,
                    e.status.as_str(),
                    e.body_hash,
                    leaves[seq],
                    flightrec_store::body_codec::pack(&e.body),
                    e.salt.as_slice(),
                    ix.session_id,
                    ix.agent_id,
                    ix.actor,
                    ix.actor_type,
                    ix.resource_type,
                    ix.resource_id,
                    ix.verb,
                    ix.provider,
                    ix.governance_status,
                    2,
                    "key:bench",
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

/// Runs `flightrec verify` on the stopped server's store.
fn verify(
    data_dir: &std::path::Path,
    trust: &std::path::Path,
    records: usize,
    env: &[(&str, &str)],
) {
    let started = Instant::now();
    let out = Command::new(binary())
        .args(["verify", "--data-dir"])
        .arg(data_dir)
        .arg("--trust")
        .arg(trust)
        .envs(env.iter().copied())
        .output()
        .expect("run verify");
    let secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let outcome = stdout
        .lines()
        .chain(stderr.lines())
        .find(|l| l.starts_with("OK") || l.starts_with("MISMATCH") || l.starts_with("error"))
        .unwrap_or("no verdict");
    println!(
        "(6) flightrec verify of {records} records: {secs:.1} s, {:.0} records/s ({outcome})",
        records as f64 / secs
    );
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let store_events = env_usize("BENCH_STORE_EVENTS", 1_000_000);
    let single_events = env_usize("BENCH_SINGLE_EVENTS", 64 * 500);
    let batch_events = env_usize("BENCH_BATCH_EVENTS", 200_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let master = (std::env::var("BENCH_ENCRYPT").as_deref() == Ok("1"))
        .then(flightrec_store::encryption::LocalMasterKey::generate);
    let env: Vec<(&str, &str)> = master
        .iter()
        .map(|key| ("FLIGHTREC_MASTER_KEY", key.as_str()))
        .collect();
    let server = Server::start_with(&data_dir, &[], &env);
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss = server.rss_mb();
    println!(
        "flightrec ingest benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  event size: {} bytes of JSON", event(1).to_string().len());
    println!("  idle server RSS: {idle_rss:.1} MB");

    let trust = dir.path().join("trust.txt");
    let batch_rate = runtime.block_on(async {
        let base = server.base.clone();
        let keys = reqwest::Client::new()
            .get(format!("{base}/v1/log/trust"))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        std::fs::write(&trust, keys).unwrap();
        if master.is_some() {
            let settings = reqwest::Client::new()
                .patch(format!("{base}/v1/settings"))
                .header("x-api-key", API_KEY)
                .json(&serde_json::json!({"auditLogEncryption": true}))
                .send()
                .await
                .unwrap();
            assert!(settings.status().is_success(), "encryption not turned on");
            println!("  bodies encrypted at rest (BENCH_ENCRYPT=1)");
        }
        let rate = batch_ingest(&base, 0, batch_events, 4, event).await;
        println!("(1) batch ingest, 1,000 × ~1 KB per request, 4 connections: {rate:.0} events/s ({batch_events} events)");
        let batch_rate = rate;

        let (rate, lat) = single_ingest(&base, batch_events, single_events, 64).await;
        println!(
            "(2) single-event ingest, 64 connections: {rate:.0} events/s, p50 {:.2} ms, p99 {:.2} ms ({} events)",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            lat.len()
        );
        let lag = search_lag(&base, Duration::from_secs(60)).await;
        println!("    free-text search caught up {:.0} ms after the acknowledgement", lag.as_secs_f64() * 1000.0);

        let have = batch_events + single_events + 1;
        let store_events = store_events.max(have);
        if store_events > have {
            let started = Instant::now();
            batch_ingest(&base, have, store_events - have, 4, event).await;
            println!("    filled the store to {store_events} events in {:.0} s", started.elapsed().as_secs_f64());
        }
        let lag = search_lag(&base, Duration::from_secs(60)).await;
        println!("    free-text search caught up {:.0} ms after the acknowledgement (after the fill)", lag.as_secs_f64() * 1000.0);
        let filters = [
            "/v1/events?type=llm_call&limit=50",
            "/v1/events?agent_id=agent-7&limit=50",
            "/v1/events?run_id=run-42&limit=50",
            "/v1/events?status=fail&type=tool_call&limit=50",
            "/v1/events?actor=agent-3&since=30d&limit=50",
        ];
        let mut all = Vec::new();
        for path in filters {
            let lat = query_latencies(&base, &[path.to_string()], 200).await;
            println!(
                "    {path}: p50 {:.2} ms, p99 {:.2} ms",
                percentile(&lat, 0.50),
                percentile(&lat, 0.99)
            );
            all.extend(lat);
        }
        all.sort();
        println!(
            "(3) GET /v1/events with a filter, 50 rows, store of {store_events}: p50 {:.2} ms, p99 {:.2} ms (all filters)",
            percentile(&all, 0.50),
            percentile(&all, 0.99)
        );
        let runs: Vec<String> = (0..50).map(|i| format!("/v1/runs/run-{}", i * 17)).collect();
        let lat = query_latencies(&base, &runs, 1000).await;
        println!(
            "    GET /v1/runs/{{id}}: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99)
        );
        let logs: Vec<String> = (0..50)
            .map(|i| format!("/v1/runs/run-{}?include=audit_log&limit=100", i * 17))
            .collect();
        let lat = query_latencies(&base, &logs, 300).await;
        println!(
            "    GET /v1/runs/{{id}}?include=audit_log&limit=100: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99)
        );
        let search: Vec<String> = (0..20).map(|i| format!("/v1/events?q=crate_{i}&limit=50")).collect();
        let lat = query_latencies(&base, &search, 200).await;
        println!(
            "    GET /v1/events?q=<word>, 50 rows: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99)
        );
        println!("    server RSS after the run: {:.1} MB", server.rss_mb());

        let proofs: Vec<String> = (0..200)
            // Records the newest checkpoint surely covers.
            .map(|i| format!("/v1/log/proof/inclusion?seq={}", (i * 4999) % (store_events / 2)))
            .collect();
        let lat = query_latencies(&base, &proofs, 2000).await;
        println!(
            "(5) GET /v1/log/proof/inclusion, store of {store_events}: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99)
        );

        batch_rate
    });
    // The ceiling is measured with the server stopped, so that nothing it
    // still does in the background (search catching up) competes.
    drop(server);
    let raw = raw_insert(batch_events);
    println!(
        "(4) raw rusqlite insert, same rows and schema, 1,000 rows per transaction: {raw:.0} rows/s"
    );
    println!("    ratio (1)/(4): {:.0}%", batch_rate / raw * 100.0);
    // Everything ingested, plus the two search-lag probes.
    let records = store_events.max(batch_events + single_events + 1) + 1;
    verify(&data_dir, &trust, records, &env);
}
