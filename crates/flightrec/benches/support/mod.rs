//! What the benchmarks share: the server under test, the events they
//! send, and batch ingest over HTTP. Each bench uses part of it.
#![allow(dead_code)]

pub mod postgres;

use serde_json::{Value, json};
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const API_KEY: &str = "fr_benchmark_key_0123456789abcdefghijklmn";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// An event of about 1 KB, like a tool call with arguments and a result.
pub fn event(i: usize) -> Value {
    let event_type = [
        "tool_call",
        "tool_result",
        "thinking",
        "llm_call",
        "read_file",
    ][i % 5];
    let tool = ["bash", "fs:read_file", "http:get", "git:commit"][i % 4];
    let filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    json!({
        "type": event_type,
        "run_id": format!("run-{}", i % 1000),
        "agent_id": format!("agent-{}", i % 20),
        "session_id": format!("session-{}", i % 500),
        "actor": {"type": "agent", "id": format!("agent-{}", i % 20)},
        "resource": {"type": "file", "id": format!("src/module_{}.rs", i % 300)},
        "tool": tool,
        "provider": "sandbox",
        "status": if i.is_multiple_of(50) { "fail" } else { "ok" },
        "risk_level": "medium",
        "duration_ms": i % 3000,
        "input": {"command": format!("cargo test --package crate_{} -- --nocapture", i % 97), "cwd": "/work/repo"},
        "output": {"exit_code": i % 2, "stdout": filler.repeat(8)},
        "message": format!("step {i} of the benchmark run"),
    })
}

/// The `flightrec` under test.
pub fn binary() -> String {
    std::env::var("BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_flightrec").to_owned())
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data_dir: &std::path::Path) -> Server {
        Self::start_with(data_dir, &[], &[])
    }

    /// [`Server::start`] with more flags and environment.
    pub fn start_with(data_dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let durability = std::env::var("BENCH_DURABILITY").unwrap_or_else(|_| "fsync".into());
        let mut store: Vec<OsString> = vec!["--durability".into(), durability.into()];
        store.push("--data-dir".into());
        store.push(data_dir.into());
        store.extend(args.iter().map(OsString::from));
        Self::spawn(&store, env)
    }

    /// A stateless node on the PostgreSQL database at `url`; `env` gives it
    /// the keys every node of the deployment shares.
    pub fn start_node(url: &str, env: &[(&str, &str)]) -> Server {
        Self::spawn(&["--database-url".into(), url.into()], env)
    }

    /// `flightrec serve` on port 0 with `args`, once it listens.
    fn spawn(args: &[OsString], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .env("FLIGHTREC_BOOTSTRAP_API_KEY", API_KEY)
            .env("FLIGHTREC_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start flightrec");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("server exited").unwrap();
            if let Some(rest) = line.strip_prefix("flightrec listening on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    pub fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn post(http: &reqwest::Client, url: &str, body: String) {
    post_as(http, url, API_KEY, body).await
}

/// [`post`] with another tenant's key.
pub async fn post_as(http: &reqwest::Client, url: &str, key: &str, body: String) {
    let r = http
        .post(url)
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// Sends `total` events in batches of 1,000 from `senders` connections.
pub async fn batch_ingest(
    base: &str,
    first: usize,
    total: usize,
    senders: usize,
    make: fn(usize) -> Value,
) -> f64 {
    let bodies = batch_bodies(first, total, make);
    let started = Instant::now();
    send_batches(base, API_KEY, bodies, senders).await;
    total as f64 / started.elapsed().as_secs_f64()
}

/// Events `first..first + total` as JSON batch bodies of 1,000, made
/// before any clock starts.
pub fn batch_bodies(first: usize, total: usize, make: fn(usize) -> Value) -> Vec<String> {
    (first..first + total)
        .step_by(1000)
        .map(|start| {
            let events: Vec<Value> = (start..(start + 1000).min(first + total))
                .map(make)
                .collect();
            serde_json::to_string(&events).unwrap()
        })
        .collect()
}

/// POSTs every body to `base`'s batch endpoint with `key`, from `senders`
/// connections that each take the next body as soon as theirs is answered.
pub async fn send_batches(base: &str, key: &str, bodies: Vec<String>, senders: usize) {
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let url = format!("{base}/v1/events/batch");
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let queue = queue.clone();
        let url = url.clone();
        let key = key.to_owned();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(body) = next else { break };
                post_as(&http, &url, &key, body).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// GETs `paths` in turn, `rounds` times in all, one at a time; the
/// latencies, sorted.
pub async fn query_latencies(base: &str, paths: &[String], rounds: usize) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for round in 0..rounds {
        let path = &paths[round % paths.len()];
        let t = Instant::now();
        let r = http
            .get(format!("{base}{path}"))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.bytes().await.unwrap();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    latencies
}

/// How long after its acknowledgement an event can be found by free text;
/// panics past `patience`.
pub async fn search_lag(base: &str, patience: Duration) -> Duration {
    let http = reqwest::Client::new();
    let token = format!("needle{}", std::process::id());
    post(
        &http,
        &format!("{base}/v1/events"),
        json!({"type": "thinking", "content": token}).to_string(),
    )
    .await;
    let acked = Instant::now();
    loop {
        let v: Value = http
            .get(format!("{base}/v1/events?q={token}"))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !v["events"].as_array().unwrap().is_empty() {
            return acked.elapsed();
        }
        assert!(acked.elapsed() < patience, "search never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// GETs `path` over a bare HTTP/1.0 socket (the body arrives unframed, as
/// curl would read it) and counts its bytes and lines: a client that costs
/// the machine little, so the figure is the server's. Answers the status
/// line, the body's bytes and its newlines.
pub fn raw_get_counting(base: &str, path: &str) -> (String, usize, usize) {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    write!(
        socket,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nX-API-Key: {API_KEY}\r\n\r\n"
    )
    .unwrap();
    let mut buffer = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let (mut bytes, mut lines) = (0usize, 0usize);
    let mut in_body = false;
    loop {
        let n = socket.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        let mut data = &buffer[..n];
        if !in_body {
            head.extend_from_slice(data);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let body_start = end + 4 - (head.len() - n);
            data = &buffer[body_start..n];
            head.truncate(end);
            in_body = true;
        }
        bytes += data.len();
        lines += data.iter().filter(|b| **b == b'\n').count();
    }
    let status = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (status, bytes, lines)
}

/// Files a coding run ([`coding_run_event`]) works on.
pub const CODING_RUN_FILES: usize = 200;

/// The i-th event of a coding run over 200 files, 100 ms apart: each file
/// is read whole once, then edited again and again in place, with
/// thinking and tool calls between.
pub fn coding_run_event(run_id: &str, i: usize) -> Value {
    let file = format!("src/module_{}.rs", i % CODING_RUN_FILES);
    let mut e = match (i / CODING_RUN_FILES) % 4 {
        0 if i < CODING_RUN_FILES => {
            let content: String = (0..60)
                .map(|l| format!("fn f{l}() -> u32 {{ {l} }}\n"))
                .collect();
            json!({"type": "read_file", "input": {"path": file}, "output": content})
        }
        1 | 3 => {
            json!({"type": "edit_file", "input": {"path": file, "old_str": format!("{{ {} }}", (i / CODING_RUN_FILES) % 60), "new_str": format!("{{ {} }}", i)}})
        }
        2 => {
            json!({"type": "tool_call", "tool": "bash", "input": {"command": format!("cargo test -p m{}", i % 7)}, "output": {"exit_code": 0}})
        }
        _ => {
            json!({"type": "thinking", "content": format!("step {i}: the next change goes into {file}")})
        }
    };
    e["run_id"] = json!(run_id);
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap();
    let time = start + chrono::Duration::milliseconds(100 * i as i64);
    e["time"] = json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    e["id"] = json!(format!("{run_id}-{i}"));
    e
}
