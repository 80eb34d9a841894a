//! The fault tests of issue #18, with real processes: real `flightrec
//! serve` nodes on a real PostgreSQL, clients ingesting into one tenant
//! while a node is killed with SIGKILL, while PostgreSQL is stopped and
//! started again, and while two nodes race.
//!
//! Clients behave as a real one should: a batch is resent, with the same
//! event ids, until it is acknowledged; after a 503 it waits `Retry-After`;
//! when its node is gone it sends to the next node (as a load balancer
//! would). Anything else (a 500, a 503 without `Retry-After`, a request
//! that hangs) fails the test.
//!
//! After each fault the log is checked from the database and through the
//! nodes still up ([`check_log`]): every receipt a client was given is
//! there, with its seq and leaf hash; the seqs are one gapless range and no
//! id is there twice; every batch is whole (its seqs consecutive) and no
//! record is there that no client was acknowledged; and the whole tree
//! verifies against every checkpoint (`flightrec verify`'s check).

use crate::private_postgres::PrivateCluster;
use crate::scale_out::{public_key, verify_database, wait_for_checkpoint};
use crate::support::{API_KEY, BOOTSTRAP_RECORDS, PgDeployment, Server, off_runtime};
use flightrec_core::log::{Checkpoint, Verifier, open_checkpoint, verify_consistency};
use flightrec_store::{LogStore, PgStore};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Small batches: many transactions, so a fault lands in the middle of one.
const EVENTS_PER_BATCH: usize = 20;
/// A request that takes longer has hung.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A batch not acknowledged by then is lost to its client.
const BATCH_DEADLINE: Duration = Duration::from_secs(90);
/// The pause before resending to the next node when a node is gone.
const FAILOVER_PAUSE: Duration = Duration::from_millis(100);
/// How long a test waits for its clients to make the progress it expects.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(60);

/// One event's receipt, as a client was given it.
#[derive(Debug, Clone)]
struct Receipt {
    id: String,
    seq: u64,
    leaf_hash: String,
}

/// A batch a client was given receipts for.
struct Acked {
    /// The index of the node that answered.
    node: usize,
    at: Instant,
    receipts: Vec<Receipt>,
}

/// Everything one client saw.
struct ClientLog {
    tag: String,
    acked: Vec<Acked>,
    /// When it was answered 503 (with `Retry-After`).
    unavailable: Vec<Instant>,
    /// When its node was gone and it moved to the next.
    failovers: Vec<Instant>,
}

impl ClientLog {
    fn acked_after(&self, t: Instant) -> usize {
        self.acked.iter().filter(|a| a.at > t).count()
    }
}

/// What a test watches while its clients run.
#[derive(Default)]
struct Progress {
    acked: AtomicUsize,
    unavailable: AtomicUsize,
}

/// Clients ingesting until told to stop.
struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<(Arc<Progress>, JoinHandle<ClientLog>)>,
}

impl Load {
    /// `per_node` clients for each node, each sending to its own node
    /// first. With `failover`, a client whose node is gone moves to the
    /// next; without, a node that drops a request fails the test.
    fn start(nodes: &[&Server], per_node: usize, failover: bool) -> Load {
        let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for node in 0..nodes.len() {
            for k in 0..per_node {
                let progress = Arc::new(Progress::default());
                let tag = format!("n{node}c{k}");
                let task = tokio::spawn(client(
                    tag,
                    bases.clone(),
                    node,
                    failover,
                    stop.clone(),
                    progress.clone(),
                ));
                clients.push((progress, task));
            }
        }
        Load { stop, clients }
    }

    fn acked(&self) -> Vec<usize> {
        self.clients
            .iter()
            .map(|(p, _)| p.acked.load(Ordering::SeqCst))
            .collect()
    }

    fn unavailable(&self) -> Vec<usize> {
        self.clients
            .iter()
            .map(|(p, _)| p.unavailable.load(Ordering::SeqCst))
            .collect()
    }

    /// Waits until `done` holds, failing at once if a client failed.
    async fn wait_until(&mut self, what: &str, done: impl Fn(&Load) -> bool) {
        self.wait_until_by(Instant::now() + PROGRESS_DEADLINE, what, done)
            .await
    }

    /// Lets the clients run for `time`, failing at once if one failed.
    async fn run_for(&mut self, time: Duration) {
        let end = Instant::now() + time;
        self.wait_until_by(end + PROGRESS_DEADLINE, "the end of the run", |_| {
            Instant::now() >= end
        })
        .await
    }

    async fn wait_until_by(&mut self, deadline: Instant, what: &str, done: impl Fn(&Load) -> bool) {
        while !done(self) {
            if self.clients.iter().any(|(_, task)| task.is_finished()) {
                self.finish().await; // a client failed: its panic surfaces here
                panic!("a client stopped before {what}");
            }
            assert!(
                Instant::now() < deadline,
                "not {what} in time: acked {:?}, 503s {:?}",
                self.acked(),
                self.unavailable()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the clients (each finishes the batch it is sending) and
    /// returns what they saw.
    async fn finish(&mut self) -> Vec<ClientLog> {
        self.stop.store(true, Ordering::SeqCst);
        let mut logs = Vec::new();
        for (_, task) in self.clients.drain(..) {
            match task.await {
                Ok(log) => logs.push(log),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        logs
    }
}

/// One client: batches of events named `<tag>-<batch>-<i>` in run `<tag>`,
/// each resent until acknowledged.
async fn client(
    tag: String,
    nodes: Vec<String>,
    mut node: usize,
    failover: bool,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
) -> ClientLog {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let mut log = ClientLog {
        tag: tag.clone(),
        acked: Vec::new(),
        unavailable: Vec::new(),
        failovers: Vec::new(),
    };
    for b in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let ids: Vec<String> = (0..EVENTS_PER_BATCH)
            .map(|i| format!("{tag}-{b}-{i}"))
            .collect();
        let events: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({
                    "id": id,
                    "type": "tool_call",
                    "run_id": tag,
                    "verb": "bash",
                    "content": format!("{id}: {}", "x".repeat(200)),
                })
            })
            .collect();
        let body = Value::from(events).to_string();
        let deadline = Instant::now() + BATCH_DEADLINE;
        loop {
            assert!(
                Instant::now() < deadline,
                "{tag}: batch {b} not acknowledged in {BATCH_DEADLINE:?}"
            );
            let sent = http
                .post(format!("{}/v1/events/batch", nodes[node]))
                .header("x-api-key", API_KEY)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => panic!("{tag}: node {node} hung on batch {b}: {e}"),
                Err(e) => {
                    assert!(
                        failover,
                        "{tag}: node {node} dropped batch {b} with no node down: {e}"
                    );
                    log.failovers.push(Instant::now());
                    node = (node + 1) % nodes.len();
                    tokio::time::sleep(FAILOVER_PAUSE).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let answer = match response.text().await {
                Ok(text) => text,
                Err(_) if failover => {
                    // The node died while answering.
                    log.failovers.push(Instant::now());
                    node = (node + 1) % nodes.len();
                    tokio::time::sleep(FAILOVER_PAUSE).await;
                    continue;
                }
                Err(e) => panic!("{tag}: node {node} broke off its answer to batch {b}: {e}"),
            };
            match status {
                201 => {
                    let answer: Value = serde_json::from_str(&answer).unwrap();
                    let receipts = receipts_of(&answer, &ids, &tag, b);
                    log.acked.push(Acked {
                        node,
                        at: Instant::now(),
                        receipts,
                    });
                    progress.acked.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                503 => {
                    let wait = retry_after.unwrap_or_else(|| {
                        panic!("{tag}: node {node} answered 503 without Retry-After: {answer}")
                    });
                    assert!(wait >= 1, "{tag}: Retry-After {wait}");
                    assert!(answer.contains(r#""code":"unavailable""#), "{answer}");
                    log.unavailable.push(Instant::now());
                    progress.unavailable.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                _ => panic!("{tag}: node {node} answered batch {b} with {status}: {answer}"),
            }
        }
    }
    log
}

/// The receipts of one batch's answer, one per event, in order.
fn receipts_of(answer: &Value, ids: &[String], tag: &str, b: usize) -> Vec<Receipt> {
    let receipts: Vec<Receipt> = answer["receipts"]
        .as_array()
        .unwrap_or_else(|| panic!("{tag}: batch {b} acknowledged without receipts: {answer}"))
        .iter()
        .map(|r| Receipt {
            id: r["id"].as_str().unwrap().to_owned(),
            seq: r["seq"].as_u64().unwrap(),
            leaf_hash: r["leaf_hash"].as_str().unwrap().to_owned(),
        })
        .collect();
    let got: Vec<&str> = receipts.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(got, ids, "{tag}: batch {b}'s receipts");
    receipts
}

/// Every record of tenant `default` in the database: (seq, id, leaf hash
/// in hex), in seq order.
fn records_in(url: &str) -> Vec<(u64, String, String)> {
    off_runtime(|| {
        let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
        db.query(
            "SELECT seq, id, leaf_hash FROM records WHERE tenant = 'default' ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| {
            let seq: i64 = row.get(0);
            let leaf: Vec<u8> = row.get(2);
            (seq as u64, row.get(1), hex::encode(leaf))
        })
        .collect()
    })
}

/// Every event of the tenant as `node` lists them: id → seq.
async fn listed_by(node: &Server) -> HashMap<String, u64> {
    let mut listed = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/events?limit=1000&cursor={c}"),
            None => "/v1/events?limit=1000".to_owned(),
        };
        let (status, page) = node.get(&path).await;
        assert_eq!(status, 200, "{page}");
        for event in page["events"].as_array().unwrap() {
            let id = event["id"].as_str().unwrap().to_owned();
            assert!(
                listed.insert(id, event["seq"].as_u64().unwrap()).is_none(),
                "an event listed twice: {event}"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return listed,
        }
    }
}

/// The checks every fault test ends with (see the module's doc); `nodes`
/// are the nodes still up. Returns the log's size.
async fn check_log(url: &str, logs: &[ClientLog], nodes: &[&Server]) -> u64 {
    let rows = records_in(url);
    for (i, (seq, id, _)) in rows.iter().enumerate() {
        assert_eq!(*seq, i as u64, "a gap in the log before {id}");
    }
    let stored: HashMap<&str, (u64, &str)> = rows
        .iter()
        .map(|(seq, id, leaf)| (id.as_str(), (*seq, leaf.as_str())))
        .collect();
    assert_eq!(stored.len(), rows.len(), "an id recorded twice");

    let mut acked_ids = HashSet::new();
    for log in logs {
        for batch in &log.acked {
            let first = batch.receipts[0].seq;
            for (k, r) in batch.receipts.iter().enumerate() {
                assert_eq!(
                    r.seq,
                    first + k as u64,
                    "{}: a batch was not recorded whole: {:?}",
                    log.tag,
                    batch.receipts
                );
                assert_eq!(
                    stored.get(r.id.as_str()),
                    Some(&(r.seq, r.leaf_hash.as_str())),
                    "{}: a receipt given is not what the log holds: {r:?}",
                    log.tag
                );
                assert!(
                    acked_ids.insert(r.id.as_str()),
                    "{} acknowledged twice",
                    r.id
                );
            }
        }
    }
    // Clients resend every batch until it is acknowledged, so every record
    // past the tenant's creation is one a client was given a receipt for:
    // none is left over from a batch written in part, or written twice.
    let unacked: Vec<&str> = rows[BOOTSTRAP_RECORDS as usize..]
        .iter()
        .map(|(_, id, _)| id.as_str())
        .filter(|id| !acked_ids.contains(id))
        .collect();
    assert!(
        unacked.is_empty(),
        "records no client was acknowledged: {unacked:?}"
    );

    // What the nodes still up serve holds every receipt.
    for node in nodes {
        let listed = listed_by(node).await;
        for log in logs {
            for r in log.acked.iter().flat_map(|a| &a.receipts) {
                assert_eq!(
                    listed.get(&r.id),
                    Some(&r.seq),
                    "{} does not serve {}",
                    node.base,
                    r.id
                );
            }
        }
    }

    let size = rows.len() as u64;
    let key = public_key(nodes[0]).await;
    wait_for_checkpoint(nodes[0], &key, size).await;
    assert_eq!(verify_database(url, &key), size);
    size
}

fn total_acked(logs: &[ClientLog]) -> usize {
    logs.iter().map(|l| l.acked.len()).sum()
}

/// One line per client, printed with the test's output.
fn summary(logs: &[ClientLog]) -> String {
    logs.iter()
        .map(|l| {
            format!(
                "{}: {} batches acknowledged, {} answers 503, {} failovers\n",
                l.tag,
                l.acked.len(),
                l.unavailable.len(),
                l.failovers.len()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_under_load_loses_no_acknowledged_event() {
    let db = PgDeployment::new();
    let args = ["--checkpoint-interval-ms", "100"];
    let mut doomed = Server::start_node(&db, &args);
    let (b, c) = (
        Server::start_node(&db, &args),
        Server::start_node(&db, &args),
    );
    let mut load = Load::start(&[&doomed, &b, &c], 2, true);

    // Mid-load: each client has been acknowledged a few batches.
    load.wait_until("every client acknowledged", |l| {
        l.acked().iter().all(|&n| n >= 5)
    })
    .await;
    let before = load.acked();
    doomed.kill_hard();
    let killed_at = Instant::now();
    // The survivors keep ingesting, for their own clients and the doomed
    // node's.
    load.wait_until("every client acknowledged after the kill", |l| {
        l.acked().iter().zip(&before).all(|(n, b)| *n >= b + 10)
    })
    .await;
    let logs = load.finish().await;
    eprint!("{}", summary(&logs));

    for log in &logs {
        assert!(log.acked_after(killed_at) >= 10, "{}", log.tag);
    }
    for log in &logs[..2] {
        // The doomed node's clients: answered by it before, by another after.
        assert!(log.acked.iter().any(|a| a.node == 0 && a.at < killed_at));
        assert!(!log.failovers.is_empty(), "{} never noticed", log.tag);
        assert!(log.acked.iter().all(|a| a.node != 0 || a.at < killed_at));
    }
    for survivor in [1, 2] {
        let after = logs
            .iter()
            .flat_map(|l| &l.acked)
            .filter(|a| a.node == survivor && a.at > killed_at)
            .count();
        assert!(after > 0, "node {survivor} stopped ingesting");
    }
    let size = check_log(db.url(), &logs, &[&b, &c]).await;
    assert_eq!(
        size,
        BOOTSTRAP_RECORDS + (total_acked(&logs) * EVENTS_PER_BATCH) as u64
    );
}

/// When each node answered 503, per node.
struct Unready {
    reads: Vec<Vec<Instant>>,
    readyz: Vec<Vec<Instant>>,
}

/// Reads from every node until told to stop: `/v1/events` must answer 200,
/// or 503 with `Retry-After`; `/readyz` 200 or 503.
async fn reader(nodes: Vec<String>, stop: Arc<AtomicBool>) -> Unready {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let mut unready = Unready {
        reads: vec![Vec::new(); nodes.len()],
        readyz: vec![Vec::new(); nodes.len()],
    };
    while !stop.load(Ordering::SeqCst) {
        for (n, base) in nodes.iter().enumerate() {
            let r = http
                .get(format!("{base}/v1/events?limit=5"))
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap_or_else(|e| panic!("node {n} dropped a read: {e}"));
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key(reqwest::header::RETRY_AFTER);
            let body = r.text().await.unwrap();
            match status {
                200 => {}
                503 if retry_after => unready.reads[n].push(Instant::now()),
                _ => panic!("node {n} answered a read {status}: {body}"),
            }
            let r = http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("node {n} dropped /readyz: {e}"));
            match r.status().as_u16() {
                200 => {}
                503 => unready.readyz[n].push(Instant::now()),
                status => panic!("node {n}: /readyz {status}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unready
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_answers_503_and_loses_no_acknowledged_event() {
    // A server of this test's own: the shared one must never be restarted.
    let cluster = PrivateCluster::start();
    let url = cluster.url();
    let db = PgDeployment::at(&url);
    let args = ["--checkpoint-interval-ms", "100"];
    let (a, b) = (
        Server::start_node(&db, &args),
        Server::start_node(&db, &args),
    );
    let mut load = Load::start(&[&a, &b], 2, false);
    let stop_reading = Arc::new(AtomicBool::new(false));
    let reads = tokio::spawn(reader(
        vec![a.base.clone(), b.base.clone()],
        stop_reading.clone(),
    ));

    load.wait_until("every client acknowledged", |l| {
        l.acked().iter().all(|&n| n >= 3)
    })
    .await;
    let before = load.unavailable();
    tokio::task::block_in_place(|| cluster.stop_immediately());
    let stopped_at = Instant::now();
    // Every client is told to come back later...
    load.wait_until("every client answered 503", |l| {
        l.unavailable().iter().zip(&before).all(|(n, b)| n > b)
    })
    .await;
    // ...for as long as the database is away.
    tokio::time::sleep_until((stopped_at + Duration::from_secs(3)).into()).await;
    tokio::task::block_in_place(|| cluster.start_again());
    let restarted_at = Instant::now();
    // The nodes reconnect by themselves.
    let at_restart = load.acked();
    load.wait_until("every client acknowledged after the restart", |l| {
        l.acked().iter().zip(&at_restart).all(|(n, b)| *n >= b + 5)
    })
    .await;
    let logs = load.finish().await;
    stop_reading.store(true, Ordering::SeqCst);
    let unready = reads.await.unwrap();
    eprint!("{}", summary(&logs));
    eprintln!(
        "database away for {:?}; {} answers 503 after it was back; first acknowledgment {:?} after",
        restarted_at - stopped_at,
        logs.iter()
            .flat_map(|l| &l.unavailable)
            .filter(|t| **t > restarted_at)
            .count(),
        logs.iter()
            .flat_map(|l| &l.acked)
            .map(|a| a.at)
            .filter(|t| *t > restarted_at)
            .min()
            .map(|t| t - restarted_at)
    );

    for log in &logs {
        assert!(
            log.unavailable
                .iter()
                .any(|t| (stopped_at..restarted_at).contains(t)),
            "{} was never told the database was away",
            log.tag
        );
        // A receipt is given only for what PostgreSQL committed: none while
        // it was away (a reply to a COMMIT made just before the stop may
        // arrive just after it, later still on a busy machine).
        let while_away = log
            .acked
            .iter()
            .filter(|a| (stopped_at + Duration::from_millis(1500)..restarted_at).contains(&a.at))
            .count();
        assert_eq!(while_away, 0, "{} acknowledged with no database", log.tag);
        assert!(log.acked_after(restarted_at) >= 5, "{}", log.tag);
    }
    for n in 0..2 {
        let away = |times: &[Instant]| times.iter().any(|t| (stopped_at..restarted_at).contains(t));
        assert!(
            away(&unready.reads[n]),
            "node {n} never answered a read 503 while the database was away"
        );
        assert!(
            away(&unready.readyz[n]),
            "node {n} was ready while the database was away"
        );
    }
    let size = check_log(&url, &logs, &[&a, &b]).await;
    assert_eq!(
        size,
        BOOTSTRAP_RECORDS + (total_acked(&logs) * EVENTS_PER_BATCH) as u64
    );
}

/// How long the nodes race: `FLIGHTREC_RACE_SECONDS` (the issue's minute is
/// `FLIGHTREC_RACE_SECONDS=60`), 15 s by default to keep CI quick.
fn race_time() -> Duration {
    let seconds = std::env::var("FLIGHTREC_RACE_SECONDS")
        .ok()
        .map(|s| {
            s.parse()
                .expect("FLIGHTREC_RACE_SECONDS: a number of seconds")
        })
        .unwrap_or(15);
    Duration::from_secs(seconds)
}

/// The newest checkpoint of each node in turn, about 60 times over `time`;
/// every one opened with `key`.
async fn watch_checkpoints(nodes: Vec<String>, key: Verifier, time: Duration) -> Vec<Checkpoint> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let every = (time / 60).max(Duration::from_millis(100));
    let end = Instant::now() + time;
    let mut seen = Vec::new();
    for n in (0..nodes.len()).cycle() {
        if Instant::now() >= end {
            break;
        }
        let note = http
            .get(format!("{}/v1/log/checkpoint", nodes[n]))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let checkpoint = open_checkpoint(&note, key.name(), std::slice::from_ref(&key))
            .unwrap_or_else(|e| {
                panic!("node {n} served a checkpoint not signed by the log key ({e}): {note}")
            });
        seen.push(checkpoint);
        tokio::time::sleep(every).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_on_one_tenant_keep_one_tree_and_consistent_checkpoints() {
    let race = race_time();
    let db = PgDeployment::new();
    let args = ["--checkpoint-interval-ms", "100"];
    let (a, b) = (
        Server::start_node(&db, &args),
        Server::start_node(&db, &args),
    );
    let key = public_key(&a).await;
    let mut load = Load::start(&[&a, &b], 2, false);
    let watcher = tokio::spawn(watch_checkpoints(
        vec![a.base.clone(), b.base.clone()],
        key.clone(),
        race,
    ));
    load.run_for(race).await;
    let logs = load.finish().await;
    eprint!("{}", summary(&logs));
    let mut seen = watcher.await.unwrap();

    for node in 0..2 {
        let acked = logs
            .iter()
            .flat_map(|l| &l.acked)
            .filter(|a| a.node == node);
        assert!(acked.count() > 0, "node {node} never appended");
    }
    let size = check_log(db.url(), &logs, &[&a, &b]).await;
    // The checkpoint that covers the whole race is the latest of all.
    let note = a.get_text("/v1/log/checkpoint").await;
    let last = open_checkpoint(&note, key.name(), std::slice::from_ref(&key)).unwrap();
    assert_eq!(last.size(), size);
    seen.push(last);
    let sizes: HashSet<u64> = seen.iter().map(|c| c.size()).collect();
    assert!(
        sizes.len() >= 10,
        "the log hardly grew during the race: {sizes:?}"
    );

    // Each checkpoint, in the order the nodes served them, is extended by
    // every later one: never smaller (a rollback), and proved a prefix by
    // the tiles in the database.
    let url = db.url().to_owned();
    let proofs = off_runtime(move || {
        let store = PgStore::open_snapshot(&url).unwrap();
        let mut proofs = 0;
        for (i, old) in seen.iter().enumerate() {
            for new in &seen[i + 1..] {
                assert!(
                    old.size() <= new.size(),
                    "ROLLBACK: a checkpoint of {} served after one of {}",
                    new.size(),
                    old.size()
                );
                let proof = store
                    .consistency_proof("default", old.size(), new.size())
                    .unwrap();
                verify_consistency(old.root(), new.root(), &proof).unwrap_or_else(|e| {
                    panic!("FORK: {} does not extend {}: {e}", new.size(), old.size())
                });
                proofs += 1;
            }
        }
        proofs
    });
    eprintln!("race of {race:?}: {size} records, {proofs} consistency proofs checked");
}
