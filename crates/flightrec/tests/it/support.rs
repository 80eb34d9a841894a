//! Starting the real server and talking to it.

use flightrec_store::conformance::postgres::TestDatabase;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const API_KEY: &str = "fr_integration_test_key_0123456789abcdef";

/// Every tenant's log opens with the records of its creation: the tenant,
/// its owner and its first key.
pub const BOOTSTRAP_RECORDS: u64 = 3;

/// How a test request authenticates.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    Key(String),
    Token(String),
    /// The dashboard's way: the session cookie, and the CSRF token when the
    /// request changes something.
    Cookie {
        token: String,
        csrf: Option<String>,
    },
}

/// The owner the test servers start with.
pub const OWNER_EMAIL: &str = "owner@test.invalid";
pub const OWNER_PASSWORD: &str = "correct horse battery staple";

/// Where a test server keeps its store.
enum StoreAt<'a> {
    Dir(&'a Path),
    Database(&'a str),
}

/// A fresh PostgreSQL database (dropped with this) and the keys every node
/// of one deployment is given: a log key file made by `flightrec log
/// new-key`, a session key and a webhook key.
pub struct PgDeployment {
    /// `Some` until dropped (off the test's runtime); `None` for a
    /// deployment on a database the test runs itself ([`PgDeployment::at`]).
    database: Option<TestDatabase>,
    url: String,
    pub log_key_file: std::path::PathBuf,
    session_key: String,
    webhook_key: String,
    _keys: tempfile::TempDir,
}

impl PgDeployment {
    pub fn new() -> PgDeployment {
        let database = off_runtime(TestDatabase::create);
        let mut deployment = PgDeployment::at(database.url());
        deployment.database = Some(database);
        deployment
    }

    /// A deployment on the database at `url`, which the caller created and
    /// removes (a PostgreSQL server of the test's own, say).
    pub fn at(url: &str) -> PgDeployment {
        let keys = tempfile::tempdir().unwrap();
        let log_key_file = keys.path().join("log-key");
        let (ok, out) = flightrec(&[
            "log",
            "new-key",
            "--origin",
            "flightrec.local",
            "-o",
            log_key_file.to_str().unwrap(),
        ]);
        assert!(ok, "log new-key: {out}");
        PgDeployment {
            database: None,
            url: url.to_owned(),
            log_key_file,
            session_key: hex::encode(rand::random::<[u8; 32]>()),
            webhook_key: hex::encode(rand::random::<[u8; 32]>()),
            _keys: keys,
        }
    }

    pub fn database(&self) -> &TestDatabase {
        self.database
            .as_ref()
            .expect("a database of the shared test server")
    }

    /// The URL every node connects with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The environment of every node.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "FLIGHTREC_LOG_KEY_FILE",
                self.log_key_file.display().to_string(),
            ),
            ("FLIGHTREC_SESSION_KEY", self.session_key.clone()),
            ("FLIGHTREC_WEBHOOK_KEY", self.webhook_key.clone()),
        ]
    }
}

impl Drop for PgDeployment {
    fn drop(&mut self) {
        if let Some(db) = self.database.take() {
            off_runtime(move || drop(db));
        }
    }
}

/// Runs `f` on a thread of its own: the blocking PostgreSQL client starts
/// a runtime of its own, which it cannot inside a `#[tokio::test]`.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(t) => t,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Holds a `T` whose drop blocks on PostgreSQL (a `TestRole`), and drops
/// it off the test's runtime, also when a failing test unwinds.
pub struct DropOffRuntime<T: Send>(Option<T>);

impl<T: Send> DropOffRuntime<T> {
    pub fn new(t: T) -> Self {
        DropOffRuntime(Some(t))
    }
}

impl<T: Send> std::ops::Deref for DropOffRuntime<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("not dropped yet")
    }
}

impl<T: Send> Drop for DropOffRuntime<T> {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            off_runtime(move || drop(t));
        }
    }
}

/// The store a test server runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test server's store lives in, removed when dropped.
pub struct StoreGuard {
    _dir: Option<tempfile::TempDir>,
    _database: Option<PgDeployment>,
}

/// A running `flightrec serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    /// Everything the server printed on stdout before it listened.
    pub banner: String,
}

impl Server {
    pub fn start(data_dir: &Path, extra_args: &[&str]) -> Server {
        Self::start_with_env(data_dir, extra_args, &[])
    }

    pub fn start_with_env(data_dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(&StoreAt::Dir(data_dir), "127.0.0.1:0", extra_args, env)
    }

    /// A server on the address an earlier one had (`http://host:port`), so
    /// that clients of that one find this one.
    pub fn start_at(data_dir: &Path, base: &str) -> Server {
        let listen = base.trim_start_matches("http://");
        Self::spawn(&StoreAt::Dir(data_dir), listen, &[], &[])
    }

    /// A server on a new, empty store of `backend` (a node of a new
    /// deployment on PostgreSQL). Drop the server before the guard.
    pub fn start_on(
        backend: Backend,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> (StoreGuard, Server) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let server = Self::start_with_env(&dir.path().join("data"), extra_args, env);
                let guard = StoreGuard {
                    _dir: Some(dir),
                    _database: None,
                };
                (guard, server)
            }
            Backend::Postgres => {
                let db = PgDeployment::new();
                let shared = db.env();
                let all: Vec<(&str, &str)> = shared
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .chain(env.iter().copied())
                    .collect();
                let server = Self::spawn(
                    &StoreAt::Database(db.database().url()),
                    "127.0.0.1:0",
                    extra_args,
                    &all,
                );
                let guard = StoreGuard {
                    _dir: None,
                    _database: Some(db),
                };
                (guard, server)
            }
        }
    }

    /// A node of `db`'s deployment (its database and shared keys).
    pub fn start_node(db: &PgDeployment, extra_args: &[&str]) -> Server {
        Self::start_node_at(db, db.url(), extra_args)
    }

    /// A node of `db`'s deployment that connects with `url` (as another
    /// role, say).
    pub fn start_node_at(db: &PgDeployment, url: &str, extra_args: &[&str]) -> Server {
        let env = db.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Self::spawn(&StoreAt::Database(url), "127.0.0.1:0", extra_args, &env)
    }

    /// A node on the database at `url` with the environment `env` (keys
    /// of the test's own choosing).
    pub fn start_on_database(url: &str, env: &[(&str, &str)]) -> Server {
        Self::spawn(&StoreAt::Database(url), "127.0.0.1:0", &[], env)
    }

    fn spawn(store: &StoreAt, listen: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flightrec"));
        command.arg("serve").arg("--listen").arg(listen);
        match store {
            StoreAt::Dir(dir) => command.arg("--data-dir").arg(dir),
            StoreAt::Database(url) => command.arg("--database-url").arg(url),
        };
        let mut child = command
            .args(extra_args)
            .env("FLIGHTREC_BOOTSTRAP_API_KEY", API_KEY)
            .env("FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL", OWNER_EMAIL)
            .env("FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD", OWNER_PASSWORD)
            .env("FLIGHTREC_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flightrec");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            assert!(Instant::now() < deadline, "server did not start: {banner}");
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("server exited before listening: {banner}"))
                .unwrap();
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.strip_prefix("flightrec listening on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            http: {
                flightrec_server::webhooks::install_tls_provider();
                reqwest::Client::new()
            },
            banner,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET with the test key, its body as text (exports, notes, proofs).
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: String) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("x-api-key", API_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Any request, with any credential; the status, JSON body (or null)
    /// and headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<&Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, self.url(path));
        request = match cred {
            Cred::None => request,
            Cred::Key(k) | Cred::Token(k) => request.bearer_auth(k),
            Cred::Cookie { token, csrf } => {
                let r = request.header("cookie", format!("fr_session={token}"));
                match csrf {
                    Some(c) => r.header("x-csrf-token", c),
                    None => r,
                }
            }
        };
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Value::Null), headers)
    }

    /// Signs in; the login response.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        self.call(
            "POST",
            "/v1/auth/login",
            &Cred::None,
            Some(&serde_json::json!({"email": email, "password": password})),
        )
        .await
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// Runs the CLI against a server; returns (exit success, stdout, stderr).
pub fn cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    cli_with_key(server, API_KEY, args)
}

/// Runs the CLI with another API key.
pub fn cli_with_key(server: &Server, key: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(args)
        .env("FLIGHTREC_SERVER", &server.base)
        .env("FLIGHTREC_API_KEY", key)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Saves the server's trust file (`flightrec log trust`, with the bootstrap
/// key: every tenant's keys) to `path`, as a user would once.
pub fn save_trust_file(server: &Server, path: &Path) -> std::path::PathBuf {
    let (ok, out, err) = cli(server, &["log", "trust"]);
    assert!(ok, "log trust: {err}");
    std::fs::write(path, out).unwrap();
    path.to_owned()
}

/// Runs `flightrec ARGS` (no server needed: `verify` and friends); whether
/// it succeeded, and what it printed on stdout and stderr together.
pub fn flightrec(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `tests/readers`, with the readers that are not ours installed (pinned:
/// python-jsonschema, Pillow), once per test process and one process at
/// a time.
pub fn readers_dir() -> &'static Path {
    static INSTALLED: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/readers");
        let dir = dir.canonicalize().expect("tests/readers exists");
        let lock = std::fs::File::create(dir.join(".install.lock")).unwrap();
        lock.lock().unwrap();
        let status = Command::new(dir.join("install"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/readers/install");
        assert!(status.success(), "tests/readers/install failed");
        dir
    })
}

/// Runs `tests/readers/SCRIPT` with Python from the readers' venv, `input`
/// on its stdin; its stdout as JSON.
pub fn read_with(script: &str, args: &[&Path], input: &[u8]) -> Value {
    use std::io::Write;
    let dir = readers_dir();
    let mut child = Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run tests/readers/{script}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tests/readers/{script} refused it:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}
