//! `flightrec proxy` between the official Python MCP client and the
//! reference filesystem server: the session works as without it, and is
//! recorded — governance, risk, file operations, the run's state — even
//! while flightrec is down.

use crate::mcp_peers::{filesystem_server, python_client};
use crate::support::{API_KEY, Server};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const POLICY: &str = r#"
[[rule]]
tool = "move_*"
action = "deny"
reason = "moves need a human"

[[rule]]
tool = "create_*"
action = "dry_run"
"#;

/// The command an MCP client runs: the proxy in front of `upstream`.
fn proxied(spool: &Path, policy: Option<&Path>, upstream: &[String]) -> Vec<String> {
    let mut command = vec![
        env!("CARGO_BIN_EXE_flightrec").to_owned(),
        "proxy".into(),
        "--spool-dir".into(),
        spool.display().to_string(),
    ];
    if let Some(p) = policy {
        command.extend(["--policy".into(), p.display().to_string()]);
    }
    command.push("--".into());
    command.extend(upstream.iter().cloned());
    command
}

/// The proxy on pipes of the test's own, recording into `server`.
fn spawn_proxy(server: &str, spool: &Path, upstream: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(proxied(spool, None, upstream).iter().skip(1))
        .env("FLIGHTREC_SERVER", server)
        .env("FLIGHTREC_API_KEY", API_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The address of a flightrec that has been stopped: nothing answers
/// there until `Server::start_at` brings it back on the same data.
fn address_of_a_stopped_server(data: &Path) -> String {
    let mut server = Server::start(data, &[]);
    server.kill_hard();
    server.base.clone()
}

/// Every event of the proxied sessions, in log order.
pub async fn session_events(server: &Server) -> Vec<Value> {
    let (status, body) = server
        .get("/v1/events?resource_type=mcp_session&limit=1000")
        .await;
    assert_eq!(status, 200, "{body}");
    let mut events = body["events"].as_array().unwrap().clone();
    events.sort_by_key(|e| e["seq"].as_u64());
    events
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

#[tokio::test]
async fn a_whole_session_is_relayed_governed_and_recorded() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("project");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "alpha\nbeta\ngamma\n").unwrap();
    let policy = work.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let p = |name: &str| root.join(name).display().to_string();

    let calls = json!([
        {"tool": "list_directory", "arguments": {"path": p("")}},
        {"tool": "read_text_file", "arguments": {"path": p("notes.txt")}},
        {"tool": "write_file", "arguments": {"path": p("todo.txt"), "content": "ship it\n"}},
        {"tool": "edit_file", "arguments": {"path": p("notes.txt"),
            "edits": [{"oldText": "beta", "newText": "BETA"}]}},
        {"tool": "read_text_file", "arguments": {"path": p("missing.txt")}},
        {"tool": "move_file", "arguments": {"source": p("todo.txt"), "destination": p("done.txt")}},
        {"tool": "create_directory", "arguments": {"path": p("build")}},
    ]);
    let command = proxied(
        &work.path().join("spool"),
        Some(&policy),
        &filesystem_server(&root),
    );
    let run = python_client(
        &calls,
        &command,
        &[
            ("FLIGHTREC_SERVER", &server.base),
            ("FLIGHTREC_API_KEY", API_KEY),
        ],
    );
    assert!(run.ok, "{}", run.stderr);

    // The client saw the real server through the proxy.
    assert_eq!(run.lines[0]["server"], "secure-filesystem-server");
    assert!(
        run.answer(0)["text"]
            .as_str()
            .unwrap()
            .contains("notes.txt")
    );
    assert_eq!(run.answer(1)["text"], "alpha\nbeta\ngamma\n");
    assert_eq!(run.answer(2)["isError"], false);
    assert_eq!(run.answer(4)["isError"], true, "the missing file fails");
    let denied = &run.answer(5);
    assert_eq!(denied["isError"], true);
    assert!(
        denied["text"]
            .as_str()
            .unwrap()
            .contains("moves need a human"),
        "{denied}"
    );
    assert!(
        run.answer(6)["text"]
            .as_str()
            .unwrap()
            .starts_with("Dry run")
    );
    // What was allowed happened; what was not, did not.
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).unwrap(),
        "alpha\nBETA\ngamma\n"
    );
    assert!(root.join("todo.txt").exists() && !root.join("done.txt").exists());
    assert!(!root.join("build").exists(), "a dry run is not forwarded");

    // The record, once delivered (the proxy has exited: it was flushed).
    let events = session_events(&server).await;
    let run_id = events[0]["run_id"].as_str().unwrap().to_owned();
    assert!(events.iter().all(|e| e["run_id"] == run_id.as_str()));
    assert_eq!(events[0]["type"], "start");
    assert_eq!(events[0]["provider"], "secure-filesystem-server");
    assert_eq!(events.last().unwrap()["type"], "complete");

    let calls_recorded = of_type(&events, "tool_call");
    let tools: Vec<&str> = calls_recorded
        .iter()
        .map(|e| e["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "list_directory",
            "read_text_file",
            "write_file",
            "edit_file",
            "read_text_file",
            "move_file",
            "create_directory"
        ]
    );
    let call = |tool: &str| *calls_recorded.iter().find(|e| e["tool"] == tool).unwrap();
    assert_eq!(call("list_directory")["risk_level"], "low");
    assert_eq!(call("list_directory")["governance"]["status"], "auto");
    assert_eq!(call("write_file")["risk_level"], "high", "destructiveHint");
    assert_eq!(call("create_directory")["risk_level"], "medium");
    assert_eq!(call("write_file")["input"]["content"], "ship it\n");
    assert_eq!(call("move_file")["governance"]["status"], "blocked");
    assert_eq!(
        call("move_file")["governance"]["reason"],
        "moves need a human"
    );
    assert_eq!(call("move_file")["status"], "fail");
    assert_eq!(call("create_directory")["governance"]["status"], "dry_run");
    assert_eq!(call("create_directory")["dry_run"], true);

    // Every call is answered, under its span.
    for c in &calls_recorded {
        let answer = events
            .iter()
            .find(|e| e["parent_span_id"] == c["span_id"])
            .unwrap_or_else(|| panic!("no answer to {c}"));
        assert!(answer["duration_ms"].is_number(), "{answer}");
    }
    let answers: Vec<&str> = events
        .iter()
        .filter(|e| e["parent_span_id"].is_string())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        answers,
        [
            "tool_result",
            "read_file",
            "write_file",
            "edit_file",
            "tool_result",
            "tool_result",
            "tool_result"
        ]
    );
    let failed = &of_type(&events, "tool_result")[1];
    assert_eq!(failed["status"], "fail");
    assert_eq!(failed["output"]["isError"], true);
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ENOENT")
    );

    // Replay shows the files the agent had.
    let (status, state) = server.get(&format!("/v1/runs/{run_id}/state")).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["status"], "completed");
    assert_eq!(
        state["files"][p("notes.txt")]["content"],
        "alpha\nBETA\ngamma\n"
    );
    assert_eq!(state["files"][p("todo.txt")]["content"], "ship it\n");
    assert_eq!(state["problems"], json!([]));
    let edit = events
        .iter()
        .position(|e| e["type"] == "edit_file")
        .unwrap();
    let (_, before_edit) = server
        .get(&format!("/v1/runs/{run_id}/state?event={}", edit - 1))
        .await;
    assert_eq!(
        before_edit["files"][p("notes.txt")]["content"],
        "alpha\nbeta\ngamma\n"
    );
}

#[tokio::test]
async fn while_flightrec_is_down_the_session_goes_on_and_is_delivered_later() {
    let data = tempfile::tempdir().unwrap();
    let base = address_of_a_stopped_server(data.path());

    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let spool = work.path().join("spool");
    let secret = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
    let target = root.join("deploy.env").display().to_string();
    let calls = json!([
        {"tool": "write_file", "arguments": {"path": target, "content": format!("TOKEN={secret}\n")}},
        {"tool": "read_text_file", "arguments": {"path": target}},
    ]);
    let env = [
        ("FLIGHTREC_SERVER", base.as_str()),
        ("FLIGHTREC_API_KEY", API_KEY),
    ];
    let run = python_client(
        &calls,
        &proxied(&spool, None, &filesystem_server(&root)),
        &env,
    );
    assert!(run.ok, "the session must not break: {}", run.stderr);
    assert!(run.answer(1)["text"].as_str().unwrap().contains(&secret));
    assert!(
        run.stderr.contains("flightrec is unreachable"),
        "the proxy says so: {}",
        run.stderr
    );
    assert!(run.stderr.contains("will be delivered by the next proxy"));

    // Waiting on disk, masked.
    let mut spooled = String::new();
    for dir in std::fs::read_dir(&spool).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            spooled += &std::fs::read_to_string(file.unwrap().path()).unwrap();
        }
    }
    assert!(spooled.contains("write_file"), "{spooled}");
    assert!(!spooled.contains(&secret), "a secret reached the spool");

    // flightrec is back; the next session delivers the first one's events.
    let server = Server::start_at(data.path(), &base);
    let run = python_client(
        &json!([{"tool": "list_allowed_directories"}]),
        &proxied(&spool, None, &filesystem_server(&root)),
        &env,
    );
    assert!(run.ok, "{}", run.stderr);
    let events = session_events(&server).await;
    let runs: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(runs.len(), 2, "both sessions are recorded");
    let write = events.iter().find(|e| e["type"] == "write_file").unwrap();
    let content = write["input"]["content"].as_str().unwrap();
    assert!(content.starts_with("TOKEN=[MASKED:"), "{write}");
    assert_eq!(
        write["metadata"]["masked_before_spooling"],
        json!([{"path": "input.content", "kind": "github_token"}])
    );
    assert!(
        std::fs::read_dir(&spool).unwrap().next().is_none(),
        "the spool is emptied"
    );
    // The first session kept its own times: it comes first in its run.
    let first = events.iter().find(|e| e["type"] == "start").unwrap();
    assert!(first["time"].as_str() < write["time"].as_str());
}

/// Drives the proxy with raw lines, as a buggy client or server might.
#[test]
fn malformed_messages_from_either_side_are_relayed_and_the_session_goes_on() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    // An upstream that prints junk on stdout before it starts serving.
    let fs = filesystem_server(work.path());
    let upstream = vec![
        "sh".to_owned(),
        "-c".into(),
        format!("echo 'this is not JSON'; exec {} {}", fs[0], fs[1]),
    ];
    let mut proxy = spawn_proxy(&server.base, &work.path().join("spool"), &upstream);
    let mut to = proxy.stdin.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = proxy.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap());
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the proxy answers")
    };
    let json = |line: String| -> Value { serde_json::from_str(&line).unwrap() };

    assert_eq!(
        next(),
        "this is not JSON",
        "the server's junk reaches the client"
    );
    // The client's junk reaches the server (which ignores it), and the
    // session goes on: a call with no tool name, then a proper session.
    writeln!(to, "{{not json").unwrap();
    writeln!(to, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"raw","version":"0"}}}}}}"#).unwrap();
    let init = json(next());
    assert_eq!(
        init["result"]["serverInfo"]["name"], "secure-filesystem-server",
        "{init}"
    );
    writeln!(
        to,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(
        to,
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{}}}}"#
    )
    .unwrap();
    let nameless = json(next());
    assert_eq!(nameless["id"], 2, "{nameless}");
    writeln!(to, r#"{{"jsonrpc":"2.0","id":3,"method":"tools/list"}}"#).unwrap();
    let tools = json(next());
    assert!(
        tools["result"]["tools"].as_array().unwrap().len() > 5,
        "{tools}"
    );
    drop(to);
    let status = proxy.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// Answers that come back faster than the proxy notes their calls are
/// still paired with them (a race seen under load).
#[tokio::test]
async fn every_call_of_a_quick_session_is_paired_with_its_answer() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let calls: Vec<Value> = (0..300)
        .map(|i| json!({"tool": "echo", "arguments": {"message": format!("m{i}")}}))
        .collect();
    let run = python_client(
        &Value::Array(calls),
        &proxied(
            &work.path().join("spool"),
            None,
            &crate::mcp_peers::everything_server(),
        ),
        &[
            ("FLIGHTREC_SERVER", &server.base),
            ("FLIGHTREC_API_KEY", API_KEY),
        ],
    );
    assert!(run.ok, "{}", run.stderr);
    let events = session_events(&server).await;
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), 300);
    let failed: Vec<&&Value> = results.iter().filter(|e| e["status"] != "ok").collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(results[299]["output"]["content"][0]["text"], "Echo: m299");
}

/// flightrec comes back while the session is still going: what waited in
/// the spool is delivered by the same proxy, in order, and the spool is
/// gone when the session ends.
#[test]
fn a_session_outlives_an_outage_and_its_spool_is_delivered_when_flightrec_is_back() {
    let data = tempfile::tempdir().unwrap();
    let base = address_of_a_stopped_server(data.path());
    let work = tempfile::tempdir().unwrap();
    let spool = work.path().join("spool");
    let mut proxy = spawn_proxy(&base, &spool, &crate::mcp_peers::everything_server());
    let mut to = proxy.stdin.take().unwrap();
    let mut from = BufReader::new(proxy.stdout.take().unwrap()).lines();
    // The everything server sends notifications of its own: wait for the
    // answer with this id.
    let mut ask = |id: u64, method: &str, params: Value| -> Value {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(to, "{request}").unwrap();
        loop {
            let line = from.next().expect("the proxy answers").unwrap();
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    };
    let init = ask(
        0,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "raw", "version": "0"}}),
    );
    assert!(init["result"]["serverInfo"].is_object(), "{init}");
    let echo = |n: u64| json!({"name": "echo", "arguments": {"message": format!("call {n}")}});
    for n in 1..=3 {
        assert!(ask(n, "tools/call", echo(n))["result"].is_object());
    }
    // Back, on the same address; the proxy retries every two seconds.
    let server = Server::start_at(data.path(), &base);
    std::thread::sleep(Duration::from_secs(3));
    for n in 4..=5 {
        assert!(ask(n, "tools/call", echo(n))["result"].is_object());
    }
    drop(to);
    assert!(proxy.wait().unwrap().success());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let events = rt.block_on(session_events(&server));
    let messages: Vec<&str> = of_type(&events, "tool_call")
        .iter()
        .map(|e| e["input"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["call 1", "call 2", "call 3", "call 4", "call 5"],
        "delivered once each, in order"
    );
    assert_eq!(events.last().unwrap()["type"], "complete");
    assert!(
        std::fs::read_dir(&spool).unwrap().next().is_none(),
        "nothing is left waiting"
    );
}

/// A server that dies mid-session ends it: the proxy exits with its code,
/// though the client still holds the pipe open, and the run says so.
#[tokio::test]
async fn a_server_that_dies_ends_the_session_with_an_error() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let upstream = vec!["sh".to_owned(), "-c".into(), "read line; exit 3".into()];
    let mut proxy = spawn_proxy(&server.base, &work.path().join("spool"), &upstream);
    let mut to = proxy.stdin.take().unwrap();
    writeln!(
        to,
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{}}}}"#
    )
    .unwrap();
    // `to` stays open: only the server's exit can end the session.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = proxy.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(3));
    drop(to);
    let events = session_events(&server).await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "error", "{events:?}");
    assert_eq!(last["metadata"]["exit_code"], 3);
}

/// A read larger than an event may hold is still recorded, cut and said
/// to be, and replay knows the file as unknown rather than wrong.
#[tokio::test]
async fn a_read_too_large_to_record_whole_is_cut_and_the_file_left_unknown() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let big = root.join("big.log");
    std::fs::write(&big, "a log line that repeats\n".repeat(50_000)).unwrap();
    let path = big.display().to_string();
    let run = python_client(
        &json!([{"tool": "read_text_file", "arguments": {"path": path}}]),
        &proxied(&work.path().join("spool"), None, &filesystem_server(&root)),
        &[
            ("FLIGHTREC_SERVER", &server.base),
            ("FLIGHTREC_API_KEY", API_KEY),
        ],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.answer(0)["text"].as_str().unwrap().len(), 1_200_000);

    let events = session_events(&server).await;
    let read = events.iter().find(|e| e["type"] == "read_file").unwrap();
    assert_eq!(read["output"]["truncated"], true, "{read}");
    assert_eq!(read["metadata"]["truncated"], json!(["output"]));
    let run_id = read["run_id"].as_str().unwrap();
    let (_, state) = server.get(&format!("/v1/runs/{run_id}/state")).await;
    assert_eq!(state["files"][path.as_str()]["known"], false, "{state}");
}
