//! The server on PostgreSQL (docs/scale-out.md): real `flightrec serve`
//! processes as stateless nodes on one fresh database, given the same keys.

use crate::receiver::Receiver;
use crate::replay::{open_replay, read_sse};
use crate::support::{
    API_KEY, BOOTSTRAP_RECORDS, Cred, DropOffRuntime, OWNER_EMAIL, OWNER_PASSWORD, PgDeployment,
    Server, cli, flightrec, off_runtime, save_trust_file,
};
use flightrec_core::log::{Verifier, open_checkpoint};
use flightrec_store::conformance::postgres::{TestDatabase, TestRole};
use flightrec_store::verify::{SearchIndex, verify_store};
use flightrec_store::{PgStore, StoreError};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

const BATCHES_PER_NODE: usize = 20;
const EVENTS_PER_BATCH: usize = 50;

/// `batches` batches of client-named events (`<tag>-<batch>-<i>`); their
/// receipts in order.
async fn ingest(s: &Server, tag: &str, batches: usize) -> Vec<Value> {
    let mut receipts = Vec::new();
    for b in 0..batches {
        let events: Vec<Value> = (0..EVENTS_PER_BATCH)
            .map(|i| {
                json!({
                    "id": format!("{tag}-{b}-{i}"),
                    "type": "tool_call",
                    "run_id": format!("run-{tag}"),
                    "verb": "bash",
                    "content": format!("{tag} batch {b} event {i}"),
                })
            })
            .collect();
        let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
        assert_eq!(status, 201, "{body}");
        receipts.extend(body["receipts"].as_array().unwrap().iter().cloned());
    }
    receipts
}

pub(crate) async fn public_key(s: &Server) -> Verifier {
    let text = s.get_text("/v1/log/public-key").await;
    Verifier::parse(text.trim()).unwrap()
}

/// Waits until the newest checkpoint covers `size` records.
pub(crate) async fn wait_for_checkpoint(s: &Server, key: &Verifier, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let note = s.get_text("/v1/log/checkpoint").await;
        if let Ok(cp) = open_checkpoint(&note, key.name(), std::slice::from_ref(key))
            && cp.size() >= size
        {
            return;
        }
        assert!(Instant::now() < deadline, "no checkpoint covered {size}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole database through the same check `flightrec verify` makes:
/// every leaf recomputed, the tree rebuilt, every checkpoint's signature
/// and root. Returns the records verified.
pub(crate) fn verify_database(url: &str, key: &Verifier) -> u64 {
    off_runtime(|| verify_database_here(url, key))
}

fn verify_database_here(url: &str, key: &Verifier) -> u64 {
    let store = PgStore::open_snapshot(url).unwrap();
    let report = verify_store(
        &store,
        &|tenant| (tenant == "default").then(|| (key.name().to_owned(), vec![key.clone()])),
        SearchIndex::Skip,
        &mut |_| {},
    )
    .unwrap();
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);
    assert!(report.tenants[0].checkpoints > 0);
    report.records()
}

#[test]
fn a_node_without_the_shared_keys_refuses_to_start_and_writes_nothing() {
    let db = TestDatabase::create();
    let out = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            db.url(),
        ])
        .env_remove("FLIGHTREC_LOG_KEY")
        .env_remove("FLIGHTREC_LOG_KEY_FILE")
        .env_remove("FLIGHTREC_SESSION_KEY")
        .env("FLIGHTREC_WEBHOOK_KEY", hex::encode([7u8; 32]))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needed in [
        "FLIGHTREC_LOG_KEY",
        "--log-key-file",
        "flightrec log new-key",
        "FLIGHTREC_SESSION_KEY",
    ] {
        assert!(err.contains(needed), "{needed} not named in: {err}");
    }
    assert!(
        !err.contains("FLIGHTREC_WEBHOOK_KEY"),
        "it was given: {err}"
    );
    assert!(
        matches!(
            PgStore::open(db.url()),
            Err(StoreError::DatabaseEmpty { .. })
        ),
        "the database was written to"
    );
}

#[test]
fn new_key_writes_a_private_file_once_and_prints_its_verifier_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log-key");
    let path_arg = path.to_str().unwrap();
    let (ok, out) = flightrec(&[
        "log",
        "new-key",
        "--origin",
        "log.example.com",
        "-o",
        path_arg,
    ]);
    assert!(ok, "{out}");
    let vkey = out
        .lines()
        .find(|l| l.starts_with("log.example.com+"))
        .unwrap();
    Verifier::parse(vkey).unwrap();
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(
        secret.starts_with("PRIVATE+KEY+log.example.com+"),
        "{secret}"
    );
    assert!(!out.contains(secret.trim()), "the secret was printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, out) = flightrec(&["log", "new-key", "-o", path_arg]);
    assert!(!ok && out.contains("never overwritten"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
}

#[tokio::test]
async fn two_nodes_share_one_gapless_log_sessions_and_retries() {
    let db = PgDeployment::new();
    // Both start at once on the empty database: exactly one of them
    // bootstraps the tenant, the other finds it done.
    let (a, b) = std::thread::scope(|scope| {
        let start =
            || scope.spawn(|| Server::start_node(&db, &["--checkpoint-interval-ms", "100"]));
        let (a, b) = (start(), start());
        (a.join().unwrap(), b.join().unwrap())
    });
    let bootstrapped = [&a, &b]
        .iter()
        .filter(|s| s.banner.contains("First start"))
        .count();
    assert_eq!(bootstrapped, 1, "{}\n{}", a.banner, b.banner);
    let key = public_key(&a).await;
    assert_eq!(key, public_key(&b).await, "one log key for every node");

    // Both nodes append to the one tenant at once.
    let (from_a, from_b) = tokio::join!(
        ingest(&a, "a", BATCHES_PER_NODE),
        ingest(&b, "b", BATCHES_PER_NODE)
    );
    let total = BOOTSTRAP_RECORDS + (2 * BATCHES_PER_NODE * EVENTS_PER_BATCH) as u64;
    let seqs: BTreeSet<u64> = from_a
        .iter()
        .chain(&from_b)
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs.len() as u64,
        total - BOOTSTRAP_RECORDS,
        "a seq given twice"
    );
    assert_eq!(seqs.first(), Some(&BOOTSTRAP_RECORDS));
    assert_eq!(seqs.last(), Some(&(total - 1)), "a gap in the log");

    // A retry sent to the other node gets the first receipt, and records
    // nothing.
    let first = &from_a[0];
    let (status, again) = b
        .post(
            "/v1/events",
            &json!({"id": "a-0-0", "type": "tool_call", "verb": "retried"}),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["receipt"], *first);

    // Each node reads what the other wrote.
    let (status, list) = a.get("/v1/events?run_id=run-b&limit=1000").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list["events"].as_array().unwrap().len(),
        BATCHES_PER_NODE * EVENTS_PER_BATCH
    );
    let (status, event) = b.get("/v1/events/a-3-7").await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["content"], "a batch 3 event 7");

    // A person signed in on one node is signed in on every node.
    let (status, login, _) = a.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    let token = Cred::Token(login["accessToken"].as_str().unwrap().to_owned());
    let (status, body, _) = b.call("GET", "/v1/events?limit=1", &token, None).await;
    assert_eq!(status, 200, "node b refused node a's session: {body}");

    // The log the two wrote verifies as one tree, from the database...
    wait_for_checkpoint(&a, &key, total).await;
    assert_eq!(verify_database(db.database().url(), &key), total);

    // ...and through a third node: proofs of records each node wrote,
    // checked by the CLI against keys the user trusts, and offline.
    let c = Server::start_node(&db, &[]);
    assert!(!c.banner.contains("First start"), "{}", c.banner);
    let dir = tempfile::tempdir().unwrap();
    let trust = save_trust_file(&c, &dir.path().join("trust.txt"));
    for id in ["a-19-49", "b-0-0", "b-12-3"] {
        let proof = dir.path().join(format!("{id}.proof"));
        let (ok, out, err) = cli(
            &c,
            &[
                "log",
                "proof",
                id,
                "--trust",
                trust.to_str().unwrap(),
                "-o",
                proof.to_str().unwrap(),
            ],
        );
        assert!(ok, "{err}");
        assert!(out.contains("included in flightrec.local/default"), "{out}");
        let record = dir.path().join(format!("{id}.json"));
        let (ok, out) = flightrec(&[
            "verify",
            "--proof",
            proof.to_str().unwrap(),
            "--record",
            record.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ]);
        assert!(ok, "{out}");
        let served = c
            .http
            .get(c.url(&format!("/v1/events/{id}/proof?format=tlog-proof")))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(served.starts_with("c2sp.org/tlog-proof@v1\n"), "{served}");
    }

    // ...and by `flightrec verify --database-url`, with only the trust file,
    // while the nodes are still up.
    let (ok, out) = flightrec(&[
        "verify",
        "--database-url",
        db.database().url(),
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("OK: {total} records")), "{out}");
}

/// A node of `db`'s deployment that may send webhooks to this machine.
fn node_sending_webhooks_locally(db: &PgDeployment) -> Server {
    let mut env = db.env();
    env.push(("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_on_database(db.url(), &env)
}

#[tokio::test]
async fn rules_alerts_webhooks_and_live_runs_work_across_nodes() {
    let db = PgDeployment::new();
    let a = node_sending_webhooks_locally(&db);
    let b = node_sending_webhooks_locally(&db);
    let receiver = Receiver::start("127.0.0.1:0", &[]).await;

    // Rules and a webhook set up through node A...
    let (status, hook) = a
        .post(
            "/v1/webhooks",
            &json!({"url": receiver.url(), "events": ["alert.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let (status, _) = a
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert_eq!(status, 201);

    // ...apply on node B within its rule cache's few seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    for i in 0.. {
        let id = format!("probe-{i}");
        let event =
            json!({"id": id, "type": "tool_call", "input": {"card": "4111 1111 1111 1111"}});
        let (status, _) = b.post("/v1/events", &event).await;
        assert_eq!(status, 201);
        let (_, stored) = b.get(&format!("/v1/events/{id}")).await;
        if stored["input"]["card"] == "[REDACTED:credit_card]" {
            break;
        }
        assert!(Instant::now() < deadline, "node B never applied A's rules");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Alerts raised on both nodes: each delivered once, by one node.
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let event = json!({"id": format!("charge-{i}"), "type": "tool_call",
                           "input": {"card": "4111 1111 1111 1111"}});
        let (status, body) = node.post("/v1/events", &event).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, alerts) = a.get("/v1/alerts?limit=100").await;
    let raised = alerts["alerts"].as_array().unwrap().len();
    assert!(raised >= 11, "{alerts}");
    receiver.wait_for(raised, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ids: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), raised, "every alert delivered");
    assert_eq!(ids.len(), raised, "and none twice: {ids:?}");
    let (_, on_b) = b.get("/v1/alerts?limit=100").await;
    assert_eq!(on_b["alerts"], alerts["alerts"]);

    // A replay opened on B follows a run appended through A.
    let (status, _) = a
        .post(
            "/v1/events",
            &json!({"id": "live-0", "type": "start", "run_id": "live"}),
        )
        .await;
    assert_eq!(status, 201);
    let stream = open_replay(&b, "live/replay?speed=1000").await;
    let reader = tokio::spawn(read_sse(stream, Duration::from_secs(20)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (id, kind) in [("live-1", "thinking"), ("live-2", "complete")] {
        let (status, _) = a
            .post(
                "/v1/events",
                &json!({"id": id, "type": kind, "run_id": "live"}),
            )
            .await;
        assert_eq!(status, 201);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (seqs, events, end) = reader.await.unwrap();
    assert_eq!(seqs, [0, 1, 2]);
    assert_eq!(events[2]["id"], "live-2");
    assert_eq!(end.unwrap()["reason"], "completed");
}

#[tokio::test]
async fn a_node_runs_as_a_role_with_only_the_printed_grants() {
    // Dropped after the database that grants it rights.
    let role = DropOffRuntime::new(off_runtime(TestRole::create));
    let db = PgDeployment::new();
    // The first start, as the schema's owner, creates the store.
    drop(Server::start_node(&db, &[]));
    let (ok, grants) = flightrec(&["db", "grants", role.name()]);
    assert!(ok, "{grants}");
    assert!(grants.contains("GRANT INSERT ON records"), "{grants}");
    off_runtime(|| db.database().connect().batch_execute(&grants).unwrap());

    let node = Server::start_node_at(&db, &db.database().url_as(role.name()), &[]);
    let receipts = ingest(&node, "r", 2).await;
    assert_eq!(receipts[0]["seq"], BOOTSTRAP_RECORDS);
    let (status, login, _) = node.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    let key = public_key(&node).await;
    let total = BOOTSTRAP_RECORDS + 2 * EVENTS_PER_BATCH as u64;
    wait_for_checkpoint(&node, &key, total).await;
    assert_eq!(verify_database(db.database().url(), &key), total);
    // The role cannot rewrite history, whatever the triggers say.
    let refused = off_runtime(|| {
        let url = db.database().url_as(role.name());
        let mut as_role = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let e = as_role.batch_execute("DELETE FROM records").unwrap_err();
        e.as_db_error().map(|d| d.message().to_owned())
    });
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.contains("permission denied")),
        "{refused:?}"
    );
}
