//! Disk bytes per record (issue #21), with the real release binary.
//!
//! `cargo bench -p flightrec --bench disk` records `BENCH_DISK_EVENTS`
//! (default 1,000,000) ~1 KB events, waits for the free-text index to take
//! them all, and prints what the store takes on disk per record, in all
//! and table by table and index by index, with the bytes the store keeps
//! for a body beside the size of its event.
//!
//! The events are `support::event` with a tool output of varied words
//! drawn from a vocabulary, rather than one phrase repeated, so that
//! compression meets text more like an agent's. `BENCH_DISK_EVENTS_KIND=
//! repeated` measures the other benchmarks' events instead.
//!
//! To compare with another build (one before compression, say), point
//! BENCH_BIN at its `flightrec`.
//!
//! Knobs (environment): BENCH_STORE (`sqlite`, the default, or
//! `postgres`: a fresh database on the local server), BENCH_DISK_EVENTS,
//! BENCH_DISK_EVENTS_KIND, BENCH_SENDERS (default 2), BENCH_BIN.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use support::postgres::PgDeployment;
use support::*;

/// Words a tool's output is made of: code, paths, log words, numbers.
const VOCABULARY: &[&str] = &[
    "error",
    "warning",
    "ok",
    "test",
    "passed",
    "failed",
    "running",
    "compiling",
    "finished",
    "src/main.rs",
    "src/lib.rs",
    "Cargo.toml",
    "fn",
    "let",
    "mut",
    "impl",
    "pub",
    "struct",
    "return",
    "match",
    "Some",
    "None",
    "Result",
    "String",
    "Vec",
    "usize",
    "self",
    "async",
    "await",
    "request",
    "response",
    "status",
    "200",
    "404",
    "500",
    "GET",
    "POST",
    "http",
    "https",
    "json",
    "user",
    "token",
    "session",
    "database",
    "query",
    "select",
    "from",
    "where",
    "insert",
    "update",
    "delete",
    "index",
    "table",
    "row",
    "column",
    "value",
    "key",
    "cache",
    "miss",
    "hit",
    "retry",
    "timeout",
    "connection",
    "refused",
    "listening",
    "port",
    "0.0.0.0",
    "127.0.0.1",
    "docker",
    "build",
    "image",
    "layer",
    "push",
    "pull",
    "commit",
    "branch",
    "merge",
    "rebase",
    "diff",
    "patch",
    "line",
    "file",
    "directory",
    "created",
    "removed",
    "modified",
    "bytes",
    "ms",
    "seconds",
    "memory",
    "cpu",
    "thread",
    "panic",
    "unwrap",
    "expected",
    "found",
    "mismatched",
    "types",
    "borrow",
    "lifetime",
    "trait",
];

/// A pseudo-random stream (xorshift64*), the same for the same seed.
struct Words(u64);

impl Words {
    fn next(&mut self) -> &'static str {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        VOCABULARY[(n >> 33) as usize % VOCABULARY.len()]
    }
}

/// [`event`] with ~640 bytes of varied words as its tool's output.
fn varied_event(i: usize) -> Value {
    let mut words = Words(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
    let mut stdout = String::with_capacity(700);
    while stdout.len() < 640 {
        stdout.push_str(words.next());
        stdout.push(if stdout.len().is_multiple_of(9) {
            '\n'
        } else {
            ' '
        });
    }
    let mut e = event(i);
    e["output"]["stdout"] = json!(stdout);
    e
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let events = env_usize("BENCH_DISK_EVENTS", 1_000_000);
    let senders = env_usize("BENCH_SENDERS", 2);
    let on_postgres = support::postgres::on_postgres();
    let repeated = std::env::var("BENCH_DISK_EVENTS_KIND").is_ok_and(|s| s == "repeated");
    let make: fn(usize) -> Value = if repeated { event } else { varied_event };
    let jcs_bytes: usize = (0..1000).map(|i| make(i).to_string().len()).sum::<usize>() / 1000;
    println!(
        "flightrec disk benchmark on {}: {events} events of ~{jcs_bytes} bytes ({} output)",
        if on_postgres { "PostgreSQL" } else { "SQLite" },
        if repeated {
            "a repeated phrase as"
        } else {
            "varied words as"
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Kept alive to the end: dropping either stops the server.
    let (deployment, server, base) = support::postgres::one_node(&data);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let rate = batch_ingest(&base, 0, events, senders, make).await;
        println!(
            "recorded in {:.0} s ({rate:.0} events/s)",
            started.elapsed().as_secs_f64()
        );
    });
    let waited = Instant::now();
    match &deployment {
        // A `q=` query for a fresh word scans the log on PostgreSQL: the
        // backlog is read from the database instead (a blocking client,
        // outside the runtime).
        Some(deployment) => {
            while deployment.search_backlog() > 0 {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        None => drop(runtime.block_on(search_lag(&base, Duration::from_secs(1800)))),
    }
    println!(
        "free-text index caught up {:.1} s later",
        waited.elapsed().as_secs_f64()
    );
    match deployment {
        Some(deployment) => {
            deployment.checkpoint();
            print_postgres(&deployment, events);
        }
        None => {
            // Stopped, so the WAL is checkpointed into the file.
            drop(server);
            print_sqlite(&data.join("flightrec.db"), events);
        }
    }
}

/// The data dir's size and SQLite's own account of its pages (`dbstat`,
/// through Debian's `sqlite3`).
fn print_sqlite(db: &Path, events: usize) {
    let dir_bytes: u64 = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "\ndata dir: {:.1} MB, {:.0} bytes per record",
        dir_bytes as f64 / 1e6,
        dir_bytes as f64 / events as f64
    );
    let sql = "SELECT s.name, sum(s.pgsize), sum(s.pgsize) - sum(s.unused) FROM dbstat s \
               GROUP BY 1 ORDER BY 2 DESC LIMIT 20; \
               SELECT avg(length(CAST(body AS BLOB))) FROM records WHERE body IS NOT NULL;";
    let out = std::process::Command::new("sqlite3")
        .args(["-readonly", "-separator", "\t"])
        .arg(db)
        .arg(sql)
        .output()
        .expect("Debian's sqlite3 (apt-get install sqlite3) for the breakdown");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines: Vec<&str> = text.lines().collect();
    let stored_body = lines.pop().unwrap_or("?");
    println!(
        "{:<28} {:>12} {:>12}",
        "table (with its indexes)", "B/record", "used B/rec"
    );
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, size, used] = cols[..] else {
            continue;
        };
        let per = |v: &str| v.parse::<f64>().unwrap_or(0.0) / events as f64;
        println!("{name:<28} {:>12.0} {:>12.0}", per(size), per(used));
    }
    println!(
        "a body as stored: {:.0} bytes on average",
        stored_body.parse::<f64>().unwrap_or(0.0)
    );
}

fn print_postgres(deployment: &PgDeployment, events: usize) {
    let total = deployment.size_mb() * 1e6;
    println!(
        "\ndatabase: {:.1} MB, {:.0} bytes per record",
        total / 1e6,
        total / events as f64
    );
    println!("{:<28} {:>12}", "table (with indexes, TOAST)", "B/record");
    for (table, bytes) in deployment.table_sizes() {
        println!("{table:<28} {:>12.0}", bytes as f64 / events as f64);
    }
    println!(
        "a body as stored: {:.0} bytes on average",
        deployment.average_body_bytes()
    );
}
