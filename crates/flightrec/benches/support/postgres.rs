//! A deployment on PostgreSQL: a fresh database on the server at
//! `FLIGHTREC_TEST_POSTGRES` (by default the local one), dropped when done,
//! and the keys every node of it is given (docs/scale-out.md).

use super::{API_KEY, Server, binary};
use flightrec_store::conformance::postgres::TestDatabase;
use serde_json::{Value, json};
use std::process::Command;

pub struct PgDeployment {
    /// Nodes are dropped (killed) before the database they write to.
    pub nodes: Vec<Server>,
    database: TestDatabase,
    env: Vec<(&'static str, String)>,
    _keys: tempfile::TempDir,
}

/// The store a bench chose with `BENCH_STORE`: one node on a fresh
/// PostgreSQL database (`postgres`), or else a server on a SQLite data dir
/// at `data`. Both are kept alive by the caller (dropping one stops it);
/// the last is the node's base URL.
pub fn one_node(data: &std::path::Path) -> (Option<PgDeployment>, Option<Server>, String) {
    if on_postgres() {
        let deployment = PgDeployment::start(1);
        let base = deployment.bases()[0].clone();
        (Some(deployment), None, base)
    } else {
        let server = Server::start(data);
        let base = server.base.clone();
        (None, Some(server), base)
    }
}

/// Whether `BENCH_STORE=postgres`.
pub fn on_postgres() -> bool {
    std::env::var("BENCH_STORE").is_ok_and(|s| s == "postgres")
}

impl PgDeployment {
    /// A new database and keys, and `nodes` nodes on it: the first one
    /// alone, so that it is the one that bootstraps tenant `default` with
    /// [`API_KEY`]. Call off any async runtime (the PostgreSQL client
    /// blocks).
    pub fn start(nodes: usize) -> PgDeployment {
        let database = TestDatabase::create();
        let keys = tempfile::tempdir().unwrap();
        let log_key = keys.path().join("log-key");
        let out = Command::new(binary())
            .args(["log", "new-key", "--origin", "bench.local", "-o"])
            .arg(&log_key)
            .output()
            .expect("run flightrec log new-key");
        assert!(out.status.success(), "log new-key: {out:?}");
        let env = vec![
            ("FLIGHTREC_LOG_KEY_FILE", log_key.display().to_string()),
            (
                "FLIGHTREC_SESSION_KEY",
                hex::encode(rand::random::<[u8; 32]>()),
            ),
            (
                "FLIGHTREC_WEBHOOK_KEY",
                hex::encode(rand::random::<[u8; 32]>()),
            ),
        ];
        let mut deployment = PgDeployment {
            nodes: Vec::new(),
            database,
            env,
            _keys: keys,
        };
        for _ in 0..nodes {
            deployment.add_node();
        }
        deployment
    }

    pub fn add_node(&mut self) {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let node = Server::start_node(self.database.url(), &env);
        self.nodes.push(node);
    }

    pub fn bases(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.base.clone()).collect()
    }

    /// Writes out every dirty page of the server (superuser), so that the
    /// next measurement does not pay for an earlier one's.
    pub fn checkpoint(&self) {
        self.database.connect().batch_execute("CHECKPOINT").unwrap();
    }

    /// Records not yet in the free-text index, which the nodes' writers
    /// fill between commits: read from the database, since a `q=` query
    /// for a fresh word scans the whole log on PostgreSQL (see
    /// docs/scale-out.md).
    pub fn search_backlog(&self) -> i64 {
        self.database
            .connect()
            .query_one(
                "SELECT coalesce(sum(h.size - coalesce(p.indexed_size, 0)), 0)::bigint \
                 FROM log_heads h LEFT JOIN search_progress p USING (tenant)",
                &[],
            )
            .unwrap()
            .get(0)
    }

    /// The database's size on disk, in MB.
    pub fn size_mb(&self) -> f64 {
        let bytes: i64 = self
            .database
            .connect()
            .query_one("SELECT pg_database_size(current_database())", &[])
            .unwrap()
            .get(0);
        bytes as f64 / 1e6
    }

    /// Each of the store's tables with its indexes and TOAST, largest
    /// first, in bytes.
    pub fn table_sizes(&self) -> Vec<(String, i64)> {
        self.database
            .connect()
            .query(
                "SELECT relname::text, pg_total_relation_size(oid) FROM pg_class \
                 WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace \
                 ORDER BY 2 DESC LIMIT 12",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// The bytes the store keeps for a body, on average.
    pub fn average_body_bytes(&self) -> f64 {
        self.database
            .connect()
            .query_one(
                "SELECT coalesce(avg(octet_length(body)), 0)::float8 FROM records \
                 WHERE body IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0)
    }

    /// The server's version and the settings that bound a commit.
    pub fn settings(&self) -> String {
        let mut client = self.database.connect();
        let version: String = client.query_one("SHOW server_version", &[]).unwrap().get(0);
        let mut shown = vec![format!("PostgreSQL {version}")];
        for name in [
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
            "commit_delay",
            "shared_buffers",
        ] {
            let value: String = client
                .query_one(&format!("SHOW {name}"), &[])
                .unwrap()
                .get(0);
            shown.push(format!("{name}={value}"));
        }
        shown.join(", ")
    }
}

impl Drop for PgDeployment {
    fn drop(&mut self) {
        // Before the database is dropped with them connected.
        self.nodes.clear();
    }
}

/// Creates tenant `name` through `base` with the operator's key; the new
/// tenant's API key.
pub async fn create_tenant(base: &str, name: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/admin/tenants"))
        .header("x-api-key", API_KEY)
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("create a tenant");
    assert_eq!(r.status(), 201, "creating tenant {name}");
    let created: Value = r.json().await.unwrap();
    created["api_key"]["key"].as_str().unwrap().to_owned()
}
