//! Encryption at rest through the real binary, on both stores: a marker
//! written by an agent never reaches the store's files in plain text, yet
//! reads and is found by search; the master key is rotated; the tenant's
//! data key is destroyed (crypto-shredding) and the log still verifies.

use crate::support::{
    API_KEY, Backend, Cred, PgDeployment, Server, flightrec, off_runtime, save_trust_file,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MARKER: &str = "qzxencryptedmarkerwv";

/// Where the store is, with what every node needs.
enum Store {
    Sqlite(tempfile::TempDir),
    Postgres(PgDeployment),
}

impl Store {
    fn new(backend: Backend) -> Store {
        match backend {
            Backend::Sqlite => Store::Sqlite(tempfile::tempdir().unwrap()),
            Backend::Postgres => Store::Postgres(PgDeployment::new()),
        }
    }

    fn data_dir(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("data")
    }

    /// `--data-dir DIR` or `--database-url URL`.
    fn args(&self) -> Vec<String> {
        match self {
            Store::Sqlite(dir) => vec![
                "--data-dir".into(),
                Self::data_dir(dir).display().to_string(),
            ],
            Store::Postgres(db) => vec!["--database-url".into(), db.url().into()],
        }
    }

    fn env(&self, master: &Path) -> Vec<(&'static str, String)> {
        let mut env = match self {
            Store::Sqlite(_) => Vec::new(),
            Store::Postgres(db) => db.env(),
        };
        env.push(("FLIGHTREC_MASTER_KEY_FILE", master.display().to_string()));
        env
    }

    fn start(&self, master: &Path) -> Server {
        let env = self.env(master);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match self {
            Store::Sqlite(dir) => Server::start_with_env(&Self::data_dir(dir), &[], &env),
            Store::Postgres(db) => Server::start_on_database(db.url(), &env),
        }
    }

    /// Runs `flightrec ARGS…` against the store with `master` as the master
    /// key (or none); its success and output.
    fn run(&self, master: Option<&Path>, args: &[&str]) -> (bool, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flightrec"));
        command.args(args).args(self.args());
        if let Some(master) = master {
            command.env("FLIGHTREC_MASTER_KEY_FILE", master);
        }
        if let Store::Postgres(db) = self {
            command.envs(db.env());
        }
        let out = command.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn verify(&self, server: &Server, master: Option<&Path>) -> (bool, String) {
        let trust_dir = tempfile::tempdir().unwrap();
        let trust = save_trust_file(server, &trust_dir.path().join("trust"));
        self.run(master, &["verify", "--trust", trust.to_str().unwrap()])
    }

    /// Where the marker is in plain text: files of the data dir, or
    /// PostgreSQL tables.
    fn holding_marker(&self) -> Vec<String> {
        match self {
            Store::Sqlite(dir) => crate::erasure::files_holding(dir.path(), MARKER.as_bytes()),
            Store::Postgres(db) => {
                let url = db.url().to_owned();
                off_runtime(move || {
                    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    let mut found = Vec::new();
                    for (table, column) in [
                        ("records", "body"),
                        ("record_search", "document::text::bytea"),
                        ("alerts", "convert_to(excerpt, 'UTF8')"),
                        ("reports", "file"),
                        ("webhook_deliveries", "convert_to(payload, 'UTF8')"),
                    ] {
                        let n: i64 = client
                            .query_one(
                                &format!(
                                    "SELECT count(*) FROM {table} \
                                     WHERE position(convert_to($1, 'UTF8') IN {column}) > 0"
                                ),
                                &[&MARKER],
                            )
                            .unwrap()
                            .get(0);
                        if n > 0 {
                            found.push(format!("{table}.{column}"));
                        }
                    }
                    found
                })
            }
        }
    }
}

async fn call(s: &Server, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, body, _) = s.call(method, path, &Cred::Key(API_KEY.into()), body).await;
    (status, body)
}

async fn ok(s: &Server, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, body) = call(s, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
}

async fn events(s: &Server, query: &str) -> Vec<Value> {
    ok(s, "GET", &format!("/v1/events?{query}"), None).await["events"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until a search for `q` finds `n` records (the index trails
/// appends by a moment).
async fn wait_found(s: &Server, q: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = events(s, &format!("q={q}")).await;
        if found.len() == n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "search for {q:?} found {}, not {n}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn new_master(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let (made, out) = flightrec(&["keys", "new-master", "-o", path.to_str().unwrap()]);
    assert!(made, "keys new-master: {out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    path
}

async fn encryption_at_rest(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let old_master = new_master(keys.path(), "master-1");
    let store = Store::new(backend);
    let s = store.start(&old_master);

    let settings = ok(
        &s,
        "PATCH",
        "/v1/settings",
        Some(&json!({"auditLogEncryption": true})),
    )
    .await;
    assert_eq!(settings["audit_log_encryption"], true);
    for (run, text) in [
        ("r1", format!("{MARKER} shipped order-5678")),
        ("r2", "an ordinary note".to_owned()),
    ] {
        ok(
            &s,
            "POST",
            "/v1/events",
            Some(&json!({"type": "tool_call", "run_id": run, "tool": "shell",
                         "message": text, "output": {"stdout": text}})),
        )
        .await;
    }
    let found = wait_found(&s, MARKER, 1).await;
    assert_eq!(
        found[0]["output"]["stdout"],
        format!("{MARKER} shipped order-5678")
    );
    wait_found(&s, "order-5678", 1).await;
    wait_found(&s, "ordinary", 1).await;
    let (status, report) = call(
        &s,
        "POST",
        "/v1/reports",
        Some(&json!({"type": "audit_trail", "format": "csv"})),
    )
    .await;
    assert_eq!(status, 202, "{report}");
    let report_id = report["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = ok(&s, "GET", &format!("/v1/reports/{report_id}"), None).await;
        if job["status"] == "ready" {
            break;
        }
        assert!(Instant::now() < deadline, "the report was not built: {job}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let file = s
        .get_text(&format!("/v1/reports/{report_id}/download"))
        .await;
    assert!(file.contains(MARKER), "the report reads back whole");

    let holding = store.holding_marker();
    assert!(
        holding.is_empty(),
        "the marker is in plain text in {holding:?}"
    );
    let (verified, out) = store.verify(&s, Some(&old_master));
    assert!(verified, "verify with the master key: {out}");
    let (verified, out) = store.verify(&s, None);
    assert!(
        verified && out.contains("not checked"),
        "verify without it: {out}"
    );

    // A new master key: every node restarts with it; the old one is refused.
    drop(s);
    let new = new_master(keys.path(), "master-2");
    let (rotated, out) = store.run(
        Some(&old_master),
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            new.to_str().unwrap(),
        ],
    );
    assert!(
        rotated && out.contains("Wrapped 1 data key"),
        "rotate-master: {out}"
    );
    let (started, out) = store.run(Some(&old_master), &["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        !started && out.contains("master key"),
        "started with the old master key: {out}"
    );
    let (started, out) = store.run(None, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        !started && out.contains("FLIGHTREC_MASTER_KEY"),
        "started without one: {out}"
    );
    let s = store.start(&new);
    assert_eq!(
        wait_found(&s, MARKER, 1).await[0]["output"]["stdout"],
        format!("{MARKER} shipped order-5678")
    );

    // Crypto-shredding: refused without the tenant's id typed again.
    let (status, err) = call(
        &s,
        "POST",
        "/v1/encryption/shred",
        Some(&json!({"confirm": "someone-else", "reason": "offboarding"})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let shred = json!({"confirm": "default", "reason": "customer offboarded"});
    ok(&s, "POST", "/v1/encryption/shred", Some(&shred)).await;
    let (status, err) = call(&s, "POST", "/v1/encryption/shred", Some(&shred)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("no_data_keys")),
        "{err}"
    );
    let r1 = events(&s, "run_id=r1").await;
    assert_eq!(r1[0]["erased"], true, "{r1:?}");
    assert!(events(&s, &format!("q={MARKER}")).await.is_empty());
    assert!(ok(&s, "GET", "/v1/settings", None).await["audit_log_encryption"].is_null());
    let told = events(&s, "type=encryption.keys_destroyed").await;
    assert_eq!(told.len(), 1);
    let (status, _) = call(
        &s,
        "GET",
        &format!("/v1/reports/{report_id}/download"),
        None,
    )
    .await;
    assert_eq!(status, 410, "the report's file went with the key");
    let (verified, out) = store.verify(&s, Some(&new));
    assert!(
        verified && out.contains("crypto-shredded"),
        "verify after shredding: {out}"
    );
    let export = s.get_text("/v1/events/export").await;
    let export_file = keys.path().join("export.jsonl");
    std::fs::write(&export_file, export).unwrap();
    let trust = save_trust_file(&s, &keys.path().join("trust"));
    let (verified, out) = flightrec(&[
        "verify",
        "--export",
        export_file.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert!(verified, "the export verifies: {out}");
}

/// Asks to destroy the tenant's keys, and expects a 409 with `code`.
async fn refused_shredding(s: &Server, code: &str) {
    let shred = json!({"confirm": "default", "reason": "x"});
    let (status, err) = call(s, "POST", "/v1/encryption/shred", Some(&shred)).await;
    assert_eq!((status, err["code"].as_str()), (409, Some(code)), "{err}");
}

/// Without a master key, encryption cannot be turned on, and shredding
/// has nothing to destroy.
async fn encryption_needs_a_master_key(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let (status, err) = call(
        &s,
        "PATCH",
        "/v1/settings",
        Some(&json!({"auditLogEncryption": true})),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("no_master_key")),
        "{err}"
    );
    refused_shredding(&s, "no_data_keys").await;
    ok(
        &s,
        "PATCH",
        "/v1/settings",
        Some(&json!({"immutableAuditLogs": true})),
    )
    .await;
    refused_shredding(&s, "immutable_audit_logs").await;
}

on_both_backends!(encryption_at_rest, encryption_needs_a_master_key);
