//! `flightrec mcp`: an agent reads (and replays) its own record through
//! the `audit` tool, with the official Python client and with rmcp's; and
//! rmcp's client through the proxy to the reference `everything` server.

use crate::mcp_peers::{everything_server, filesystem_server, python_client};
use crate::proxy::session_events;
use crate::support::{API_KEY, Server};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use std::path::Path;

fn flightrec(args: &[&str], upstream: &[String]) -> Vec<String> {
    let mut command = vec![env!("CARGO_BIN_EXE_flightrec").to_owned()];
    command.extend(args.iter().map(|a| (*a).to_owned()));
    if !upstream.is_empty() {
        command.push("--".into());
        command.extend(upstream.iter().cloned());
    }
    command
}

/// Records a session through the proxy: reads, a write, an edit, a failing
/// write and a denied move.
fn record_session(server: &Server, root: &Path, spool: &Path, policy: &Path) {
    let p = |name: &str| root.join(name).display().to_string();
    let calls = json!([
        {"tool": "read_text_file", "arguments": {"path": p("notes.txt")}},
        {"tool": "write_file", "arguments": {"path": p("todo.txt"), "content": "ship it\n"}},
        {"tool": "edit_file", "arguments": {"path": p("notes.txt"),
            "edits": [{"oldText": "beta", "newText": "BETA"}]}},
        {"tool": "write_file", "arguments": {"path": p("no/such/dir/x.txt"), "content": "x"}},
        {"tool": "move_file", "arguments": {"source": p("todo.txt"), "destination": p("done.txt")}},
        {"tool": "read_text_file", "arguments": {"path": p("todo.txt")}},
    ]);
    let proxy = flightrec(
        &[
            "proxy",
            "--spool-dir",
            &spool.display().to_string(),
            "--policy",
            &policy.display().to_string(),
        ],
        &filesystem_server(root),
    );
    let run = python_client(
        &calls,
        &proxy,
        &[
            ("FLIGHTREC_SERVER", &server.base),
            ("FLIGHTREC_API_KEY", API_KEY),
        ],
    );
    assert!(run.ok, "{}", run.stderr);
}

#[tokio::test]
async fn audit_shows_a_session_and_replays_it_against_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("project");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "alpha\nbeta\n").unwrap();
    let policy = work.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\ntool = \"move_*\"\naction = \"deny\"\nreason = \"moves need a human\"\n",
    )
    .unwrap();
    record_session(&server, &root, &work.path().join("spool"), &policy);
    // A later session with another server: by default, `audit` picks the
    // latest session of its own upstream, not this one.
    let other = python_client(
        &json!([{"tool": "echo", "arguments": {"message": "elsewhere"}}]),
        &flightrec(
            &[
                "proxy",
                "--spool-dir",
                &work.path().join("spool").display().to_string(),
            ],
            &everything_server(),
        ),
        &[
            ("FLIGHTREC_SERVER", &server.base),
            ("FLIGHTREC_API_KEY", API_KEY),
        ],
    );
    assert!(other.ok, "{}", other.stderr);

    // The agent's workspace is put back as it was before the session.
    std::fs::write(root.join("notes.txt"), "alpha\nbeta\n").unwrap();
    std::fs::remove_file(root.join("todo.txt")).unwrap();

    let env = [
        ("FLIGHTREC_SERVER", server.base.as_str()),
        ("FLIGHTREC_API_KEY", API_KEY),
    ];
    let audit = flightrec(
        &["mcp", "--policy", &policy.display().to_string()],
        &filesystem_server(&root),
    );
    let run = python_client(
        &json!([
            {"tool": "audit", "arguments": {"action": "show", "format": "summary"}},
            {"tool": "audit", "arguments": {}},
            {"tool": "audit", "arguments": {"action": "replay"}},
            {"tool": "audit", "arguments": {"action": "replay", "skip_errors": false}},
            {"tool": "audit", "arguments": {"session_id": "no-such-session"}},
            {"tool": "audit", "arguments": {"format": "poem"}},
        ]),
        &audit,
        &env,
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.lines[0]["tools"], json!(["audit", "search_audit_log"]));

    let summary = run.answer(0)["text"].as_str().unwrap();
    let session = session_events(&server).await[0]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        summary,
        format!(
            "session={session} | 6 actions: 2× read_text_file, 2× write_file, 1× edit_file, 1× move_file"
        )
    );

    let full = run.answer(1)["text"].as_str().unwrap();
    let lines: Vec<&str> = full.lines().collect();
    assert!(
        lines[0].ends_with("server=secure-filesystem-server · 6 tool calls"),
        "{full}"
    );
    let marks: Vec<bool> = lines[1..7].iter().map(|l| l.contains("[✓]")).collect();
    assert_eq!(marks, [false, true, true, false, false, false], "{full}");
    assert!(lines[1].starts_with("  1. ") && lines[1].contains("read_text_file"));
    assert!(lines[4].contains("FAIL"), "{full}");
    assert!(lines[5].contains("blocked — moves need a human"), "{full}");
    assert!(lines[7].starts_with("Legend: [✓] replayable"));

    // Replay: the write and the edit happen again, on the real server.
    let replay = run.answer(2)["text"].as_str().unwrap();
    assert!(
        replay.ends_with("Done — 2 succeeded, 0 failed."),
        "{replay}"
    );
    let ok: Vec<&str> = replay.lines().filter(|l| l.starts_with("OK")).collect();
    assert_eq!(ok.len(), 2, "{replay}");
    assert!(ok[0].contains("write_file") && ok[1].contains("edit_file"));
    assert!(replay.contains("SKIP") && replay.contains("read-only"));
    assert_eq!(
        std::fs::read_to_string(root.join("todo.txt")).unwrap(),
        "ship it\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).unwrap(),
        "alpha\nBETA\n"
    );
    // Not skipping errors: the failed write fails again, and the edit no
    // longer applies; the blocked move is never run.
    let again = run.answer(3)["text"].as_str().unwrap();
    assert!(again.ends_with("Done — 1 succeeded, 2 failed."), "{again}");
    assert!(again.contains("blocked by policy when recorded"));
    assert!(!root.join("done.txt").exists());

    assert_eq!(run.answer(4)["isError"], true);
    assert!(
        run.answer(4)["text"]
            .as_str()
            .unwrap()
            .contains("no session")
    );
    assert_eq!(run.answer(5)["isError"], true);
    assert!(
        run.answer(5)["text"]
            .as_str()
            .unwrap()
            .contains("summary or full")
    );

    // Without an upstream, replay says what it needs.
    let run = python_client(
        &json!([{"tool": "audit", "arguments": {"action": "replay"}}]),
        &flightrec(&["mcp"], &[]),
        &env,
    );
    assert_eq!(run.answer(0)["isError"], true);
    assert!(
        run.answer(0)["text"]
            .as_str()
            .unwrap()
            .contains("flightrec mcp -- <server command>")
    );
}

/// A client over stdio, from rmcp (the official Rust SDK).
async fn rmcp_client(
    command: &[String],
    env: &[(&str, &str)],
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]).envs(env.iter().copied());
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.expect("MCP handshake")
}

fn call(tool: &str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().unwrap().clone())
}

#[tokio::test]
async fn rust_clients_through_the_proxy_and_on_the_audit_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("FLIGHTREC_SERVER", server.base.as_str()),
        ("FLIGHTREC_API_KEY", API_KEY),
    ];

    // rmcp → proxy → the reference `everything` server (progress included).
    let spool = work.path().join("spool").display().to_string();
    let proxied = rmcp_client(
        &flightrec(&["proxy", "--spool-dir", &spool], &everything_server()),
        &env,
    )
    .await;
    let tools = proxied.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    let echo = proxied
        .call_tool(call("echo", json!({"message": "through the proxy"})))
        .await
        .unwrap();
    assert_eq!(
        echo.content[0].as_text().unwrap().text,
        "Echo: through the proxy"
    );
    let long = proxied
        .call_tool(call(
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 2}),
        ))
        .await
        .unwrap();
    assert_ne!(long.is_error, Some(true));
    // rmcp's client kills the server it started when it hangs up, so the
    // record is read before: both results, delivered as they came.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let events = loop {
        let events = session_events(&server).await;
        let results = events.iter().filter(|e| e["type"] == "tool_result").count();
        if results == 2 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    proxied.cancel().await.unwrap();

    let tools: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "tool_call")
        .map(|e| e["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["echo", "trigger-long-running-operation"]);
    assert!(
        events
            .iter()
            .all(|e| e["provider"] == "mcp-servers/everything")
    );
    let echo_result = events.iter().find(|e| e["type"] == "tool_result").unwrap();
    assert_eq!(
        echo_result["output"]["content"][0]["text"],
        "Echo: through the proxy"
    );

    // rmcp → the audit server: its tools, annotated, and a search.
    let audit = rmcp_client(&flightrec(&["mcp"], &[]), &env).await;
    let tools = audit.list_all_tools().await.unwrap();
    let annotations = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .annotations
            .clone()
            .unwrap()
    };
    assert_eq!(annotations("search_audit_log").read_only_hint, Some(true));
    assert_eq!(annotations("audit").read_only_hint, Some(false));
    let found = audit
        .call_tool(call(
            "search_audit_log",
            json!({"type": "tool_call", "provider": "mcp-servers/everything"}),
        ))
        .await
        .unwrap();
    let text = &found.content[0].as_text().unwrap().text;
    assert!(text.starts_with("2 events, newest first"), "{text}");
    assert!(
        text.contains("tool_call ok trigger-long-running-operation"),
        "{text}"
    );
    let refused = audit
        .call_tool(call("search_audit_log", json!({"colour": "red"})))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    audit.cancel().await.unwrap();
}
