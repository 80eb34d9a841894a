//! What the recording proxy adds to a tool call.
//!
//! `cargo bench -p flightrec --bench mcp_proxy` makes `BENCH_CALLS`
//! (default 1,000) `echo` calls on the reference `everything` MCP server
//! (`tests/mcp`, installed by its script) with rmcp's client, directly and
//! through `flightrec proxy` recording into a local server, in alternating
//! rounds of 100 so that both see the same machine. It prints p50/p99 per
//! call for each and the difference, then checks that every proxied call
//! was recorded.

mod support;

use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

const ROUND: usize = 100;

fn peers() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mcp")
        .canonicalize()
        .unwrap();
    let ok = std::process::Command::new(dir.join("install"))
        .status()
        .expect("run tests/mcp/install")
        .success();
    assert!(ok, "tests/mcp/install failed");
    dir
}

async fn connect(command: &[String], env: &[(&str, &str)]) -> RunningService<RoleClient, ()> {
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]).envs(env.iter().copied());
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.expect("MCP handshake")
}

async fn echo(client: &RunningService<RoleClient, ()>, i: usize) -> Duration {
    let mut args = serde_json::Map::new();
    args.insert("message".into(), format!("call {i}").into());
    let params = CallToolRequestParams::new("echo").with_arguments(args);
    let started = Instant::now();
    let result = client.call_tool(params).await.expect("echo");
    let took = started.elapsed();
    assert_ne!(result.is_error, Some(true));
    took
}

fn report(name: &str, sorted: &[Duration]) {
    println!(
        "{name:<22} p50 {:>7.3} ms   p99 {:>7.3} ms",
        percentile(sorted, 0.50),
        percentile(sorted, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let calls = env_usize("BENCH_CALLS", 1_000);
    let dir = peers();
    let everything = vec![
        dir.join("node_modules/.bin/mcp-server-everything")
            .display()
            .to_string(),
        "stdio".to_owned(),
    ];
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let spool = data.path().join("spool").display().to_string();
    let mut proxied_command = vec![binary(), "proxy".into(), "--spool-dir".into(), spool];
    proxied_command.push("--".into());
    proxied_command.extend(everything.iter().cloned());
    let env = [
        ("FLIGHTREC_SERVER", server.base.as_str()),
        ("FLIGHTREC_API_KEY", API_KEY),
    ];

    let direct = connect(&everything, &[]).await;
    let proxied = connect(&proxied_command, &env).await;
    // Warm both paths (node's JIT, the connections).
    for i in 0..ROUND {
        echo(&direct, i).await;
        echo(&proxied, i).await;
    }
    let (mut d, mut p) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    let mut i = 0;
    while i < calls {
        let n = ROUND.min(calls - i);
        for k in 0..n {
            d.push(echo(&direct, i + k).await);
        }
        for k in 0..n {
            p.push(echo(&proxied, i + k).await);
        }
        i += n;
    }
    // Recording keeps up: every proxied call (warm-up included) is
    // recorded, a call and its result each, after the session's start.
    // (Checked before the client hangs up: rmcp's client kills the
    // servers it started.)
    let expected = 2 * (calls + ROUND) as u64 + 1;
    let recorded = recorded_events(&server.base, expected).await;
    direct.cancel().await.unwrap();
    proxied.cancel().await.unwrap();
    d.sort();
    p.sort();
    println!("{calls} echo calls on server-everything, rmcp client:");
    report("direct", &d);
    report("through the proxy", &p);
    println!(
        "{:<22} p50 {:>7.3} ms   p99 {:>7.3} ms",
        "added by the proxy",
        percentile(&p, 0.50) - percentile(&d, 0.50),
        percentile(&p, 0.99) - percentile(&d, 0.99)
    );

    println!("recorded {recorded} of {expected} events of the proxied session");
    assert_eq!(recorded, expected, "the proxy lost events");
}

/// The proxied session's event count once it reaches `expected`, or after
/// 30 s.
async fn recorded_events(base: &str, expected: u64) -> u64 {
    flightrec_server::webhooks::install_tls_provider();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs: serde_json::Value = http
            .get(format!("{base}/v1/runs"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let recorded = runs["runs"][0]["event_count"].as_u64().unwrap_or(0);
        if recorded >= expected || Instant::now() > deadline {
            return recorded;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
