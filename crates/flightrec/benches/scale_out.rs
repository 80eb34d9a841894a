//! Scale-out benchmark (issue #18): stateless nodes on one PostgreSQL
//! database against one node on SQLite, with the real release binary.
//!
//! `cargo bench -p flightrec --bench scale_out` prints, in one run:
//!
//! 1. batch ingest over HTTP (batches of 1,000 events of ~1 KB, acknowledged
//!    only once committed), events/s, the same number of events per case:
//!    SQLite (one node, `--durability fsync`); PostgreSQL with 1, 2 and 3
//!    nodes into one tenant; 3 nodes into 3 tenants (one tenant per node);
//! 2. on PostgreSQL, the store filled to `BENCH_STORE_EVENTS` records
//!    through three nodes (how long that took), then `GET /v1/events` with
//!    filters and `GET /v1/runs/{id}`: p50/p99;
//! 3. PASS/FAIL beside the targets: one PostgreSQL node ≥ 10,000 events/s;
//!    more nodes never fewer events/s (ratios ≥ 0.90, the noise of a run);
//!    query p50 ≤ 10 ms.
//!
//! Each ingest case runs on a fresh database, after a `CHECKPOINT`, so no
//! case pays for the previous one's dirty pages. The figures are the
//! machine's, not the nodes': PostgreSQL, every node and the client share
//! its cores (see the "Benchmark" section of docs/scale-out.md for what
//! bounds them).
//!
//! Measured 2026-12-02 on 2 vCPU shared with two other builds (load
//! average 4–7), PostgreSQL 15 with its defaults (`synchronous_commit=on`,
//! `fsync=on`, `shared_buffers=128MB`), two runs, events/s: SQLite 468 /
//! 832; PostgreSQL 1 node 2,639 / 3,234 (target 10,000: FAIL); 2 nodes
//! 4,823 / 4,264; 3 nodes 4,783 / 3,950; 3 nodes into 3 tenants 4,687 /
//! 2,811. The fill to 1,000,000 records: 880 events/s; then `GET
//! /v1/events` with a filter p50 3.08 ms, p99 265 ms, `GET /v1/runs/{id}`
//! p50 0.80 ms. CPU bounds them, not commits: one group commit of 4,000
//! events takes 240–370 ms, while free-text indexing, run by the same
//! writer thread between commits, costs PostgreSQL about four times the
//! append; one tenant's appends are serial across nodes (its `log_heads`
//! row is locked to COMMIT), so more nodes into one tenant cannot pass one
//! head's commit rate, while tenants append in parallel. Details and the
//! problems found: docs/scale-out.md, "Benchmark".
//!
//! Knobs (environment): BENCH_SCALE_EVENTS (events per ingest case, default
//! 60,000), BENCH_STORE_EVENTS (default 1,000,000), BENCH_SENDERS_PER_NODE
//! (concurrent clients per node, default 4), BENCH_BIN (another build of
//! `flightrec`), FLIGHTREC_TEST_POSTGRES (the server the databases are made
//! on, default postgres://postgres@127.0.0.1:5432/postgres).

mod support;

use std::time::{Duration, Instant};
use support::postgres::{PgDeployment, create_tenant};
use support::*;

/// How much a ratio may fall short of 1 and still be noise.
const NOISE: f64 = 0.90;

/// Where a client sends its batches: a node and a tenant's key.
struct Target {
    base: String,
    key: String,
}

/// Sends each target its bodies, all targets at once with `senders`
/// connections each; how long until the last was acknowledged.
async fn send_all(targets: &[Target], bodies: Vec<Vec<String>>, senders: usize) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (t, bodies) in targets.iter().zip(bodies) {
        let (base, key) = (t.base.clone(), t.key.clone());
        tasks.push(tokio::spawn(async move {
            send_batches(&base, &key, bodies, senders).await
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

/// `total` events split evenly over `targets`, all sent at once with
/// `senders` connections per target; events/s from the first request to
/// the last acknowledgement.
async fn ingest(targets: &[Target], total: usize, senders: usize) -> f64 {
    // One batch per target first, untimed: connections and caches warm.
    for t in targets {
        send_batches(&t.base, &t.key, batch_bodies(0, 1000, event), 1).await;
    }
    let per = total / targets.len();
    let bodies = (0..targets.len())
        .map(|i| batch_bodies(i * per, per, event))
        .collect();
    let took = send_all(targets, bodies, senders).await;
    (per * targets.len()) as f64 / took.as_secs_f64()
}

fn one_tenant(deployment: &PgDeployment) -> Vec<Target> {
    deployment
        .bases()
        .into_iter()
        .map(|base| Target {
            base,
            key: API_KEY.to_owned(),
        })
        .collect()
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// Fills tenant `default` with `store_events` records through every node,
/// in rounds, so that the bodies of one round only are in memory; the
/// seconds spent sending.
async fn fill(deployment: &PgDeployment, store_events: usize, senders: usize) -> f64 {
    const ROUND: usize = 90_000;
    let targets = one_tenant(deployment);
    let mut sending = Duration::ZERO;
    let mut done = 0;
    while done < store_events {
        let n = ROUND.min(store_events - done);
        let per = n.div_ceil(targets.len());
        let bodies = (0..targets.len())
            .map(|i| {
                let first = done + i * per;
                batch_bodies(first, per.min((done + n).saturating_sub(first)), event)
            })
            .collect();
        sending += send_all(&targets, bodies, senders).await;
        done += n;
    }
    sending.as_secs_f64()
}

/// p50/p99 of `paths` over `rounds` requests, printed; the latencies.
async fn timed_queries(base: &str, label: &str, paths: &[String], rounds: usize) -> Vec<Duration> {
    let lat = query_latencies(base, paths, rounds).await;
    println!(
        "    {label}: p50 {:.2} ms, p99 {:.2} ms ({rounds} requests)",
        percentile(&lat, 0.50),
        percentile(&lat, 0.99)
    );
    lat
}

/// CPU seconds (user + system) used so far by the processes `pids`.
fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks_per_second = 100.0; // USER_HZ, 100 on every Linux ABI
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command's closing parenthesis; utime and
            // stime are the 14th and 15th of the whole line.
            let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(rest.get(11)?.parse::<f64>().ok()? + rest.get(12)?.parse::<f64>().ok()?)
        })
        .sum::<f64>()
        / ticks_per_second
}

/// Every PostgreSQL process on this machine (the server and its backends),
/// or none if the database is elsewhere.
fn postgres_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .collect()
}

/// `ingest`, and the CPU each event cost PostgreSQL and the nodes (µs, if
/// PostgreSQL runs here): figures the rest of the machine's load barely
/// moves, unlike events/s.
async fn ingest_with_cpu(
    deployment: &PgDeployment,
    total: usize,
    senders: usize,
) -> (f64, Option<(f64, f64)>) {
    let nodes: Vec<u32> = deployment.nodes.iter().map(|n| n.child.id()).collect();
    let (pg_before, nodes_before) = (cpu_seconds(&postgres_pids()), cpu_seconds(&nodes));
    let rate = ingest(&one_tenant(deployment), total, senders).await;
    // `ingest` also sent one untimed warm-up batch per node.
    let events = (total + 1000 * nodes.len()) as f64;
    let pg = (cpu_seconds(&postgres_pids()) - pg_before) / events * 1e6;
    let node = (cpu_seconds(&nodes) - nodes_before) / events * 1e6;
    (rate, (pg > 0.0).then_some((pg, node)))
}

/// The 1, 5 and 15 minute load averages: what else the machine was doing.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let total = env_usize("BENCH_SCALE_EVENTS", 60_000);
    let store_events = env_usize("BENCH_STORE_EVENTS", 1_000_000);
    let senders = env_usize("BENCH_SENDERS_PER_NODE", 4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "flightrec scale-out benchmark ({} cores shared by PostgreSQL, the nodes and the client)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  load average at the start: {}", load_average());
    println!(
        "  {total} events per ingest case, batches of 1,000 × {} bytes, {senders} clients per node",
        event(1).to_string().len()
    );

    // (1) Ingest.
    let sqlite = {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&dir.path().join("data"));
        let targets = [Target {
            base: server.base.clone(),
            key: API_KEY.to_owned(),
        }];
        runtime.block_on(ingest(&targets, total, senders))
    };
    println!("(1) SQLite, 1 node (--durability fsync):        {sqlite:>8.0} events/s");

    let mut rates = Vec::new();
    for nodes in 1..=3 {
        let deployment = PgDeployment::start(nodes);
        if nodes == 1 {
            println!("    {}", deployment.settings());
        }
        deployment.checkpoint();
        let (rate, cpu) = runtime.block_on(ingest_with_cpu(&deployment, total, senders));
        println!("    PostgreSQL, {nodes} node(s), 1 tenant:          {rate:>8.0} events/s");
        if let Some((pg, node)) = cpu {
            println!("        CPU per event: PostgreSQL {pg:.0} µs, the node(s) {node:.0} µs");
        }
        rates.push(rate);
    }
    let three_tenants = {
        let deployment = PgDeployment::start(3);
        let bases = deployment.bases();
        let targets: Vec<Target> = runtime.block_on(async {
            let mut targets = vec![Target {
                base: bases[0].clone(),
                key: API_KEY.to_owned(),
            }];
            for (i, base) in bases.iter().enumerate().skip(1) {
                let key = create_tenant(&bases[0], &format!("bench-{i}")).await;
                targets.push(Target {
                    base: base.clone(),
                    key,
                });
            }
            targets
        });
        deployment.checkpoint();
        runtime.block_on(ingest(&targets, total, senders))
    };
    println!("    PostgreSQL, 3 nodes, 3 tenants (one each):   {three_tenants:>8.0} events/s");

    // (2) Queries on a store of `store_events` records, on the deployment
    // of three nodes and one tenant.
    let deployment = PgDeployment::start(3);
    let base = deployment.bases()[0].clone();
    let sending = runtime.block_on(fill(&deployment, store_events, senders));
    println!(
        "(2) filled PostgreSQL with {store_events} records through 3 nodes in {sending:.0} s ({:.0} events/s)",
        store_events as f64 / sending
    );
    // Queries are timed once the writers have stopped indexing.
    let filled = Instant::now();
    while deployment.search_backlog() > 0 {
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "    free-text indexing caught up {:.0} s after the fill",
        filled.elapsed().as_secs_f64()
    );
    let (filter_lat, run_lat) = runtime.block_on(async {
        let mut filters = Vec::new();
        for path in [
            "/v1/events?type=llm_call&limit=50",
            "/v1/events?agent_id=agent-7&limit=50",
            "/v1/events?run_id=run-42&limit=50",
            "/v1/events?status=fail&type=tool_call&limit=50",
            "/v1/events?actor=agent-3&since=30d&limit=50",
        ] {
            filters.extend(timed_queries(&base, path, &[path.to_owned()], 200).await);
        }
        filters.sort();
        let runs: Vec<String> = (0..50)
            .map(|i| format!("/v1/runs/run-{}", i * 17))
            .collect();
        let run_lat = timed_queries(&base, "GET /v1/runs/{id} (50 runs)", &runs, 500).await;
        (filters, run_lat)
    });
    println!("    database size: {:.0} MB", deployment.size_mb());
    drop(deployment);

    println!("    load average at the end: {}", load_average());

    // (3) The targets.
    let filter_p50 = percentile(&filter_lat, 0.50);
    let run_p50 = percentile(&run_lat, 0.50);
    println!("(3) targets:");
    println!(
        "    1 PostgreSQL node ≥ 10,000 events/s: {:.0} events/s  {}",
        rates[0],
        verdict(rates[0] >= 10_000.0)
    );
    for (more, fewer) in [(1, 0), (2, 1)] {
        let ratio = rates[more] / rates[fewer];
        println!(
            "    {} nodes / {} node(s), one tenant: {ratio:.2} (≥ {NOISE:.2})  {}",
            more + 1,
            fewer + 1,
            verdict(ratio >= NOISE)
        );
    }
    println!(
        "    3 nodes, 3 tenants / 1 node: {:.2} (≥ {NOISE:.2})  {}",
        three_tenants / rates[0],
        verdict(three_tenants / rates[0] >= NOISE)
    );
    println!(
        "    GET /v1/events with a filter, p50 ≤ 10 ms: {filter_p50:.2} ms (p99 {:.2} ms, {} requests)  {}",
        percentile(&filter_lat, 0.99),
        filter_lat.len(),
        verdict(filter_p50 <= 10.0)
    );
    println!(
        "    GET /v1/runs/{{id}}, p50 ≤ 10 ms: {run_p50:.2} ms (p99 {:.2} ms)  {}",
        percentile(&run_lat, 0.99),
        verdict(run_p50 <= 10.0)
    );
}
