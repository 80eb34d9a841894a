//! Every route of the v1 API, and every way to get it wrong.

use crate::support::{API_KEY, BOOTSTRAP_RECORDS, Backend, Server, StoreGuard};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    (dir, server)
}

fn server_on(backend: Backend) -> (StoreGuard, Server) {
    Server::start_on(backend, &[], &[])
}

fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

async fn health_and_readiness(backend: Backend) {
    let (_d, s) = server_on(backend);
    let r = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(s.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

async fn ingest_one_event_and_read_it_back(backend: Backend) {
    let (_d, s) = server_on(backend);
    let (status, body) = s
        .post(
            "/v1/events",
            &json!({"execution_id": "e-1", "verb": "stripe:create_refund", "args": {"amount": 5},
                    "timestamp": "2026-11-01T10:00:00+01:00", "duration_ms": 12}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let receipt = &body["receipt"];
    assert_eq!(receipt["id"], "e-1");
    assert_eq!(
        receipt["seq"], BOOTSTRAP_RECORDS,
        "after the first start's records"
    );
    assert_eq!(receipt["leaf_hash"].as_str().unwrap().len(), 64);

    let (status, event) = s.get("/v1/events/e-1").await;
    assert_eq!(status, 200);
    assert_eq!(event["id"], "e-1");
    assert_eq!(event["type"], "tool_call");
    assert_eq!(event["verb"], "stripe:create_refund");
    assert_eq!(event["input"], json!({"amount": 5}));
    assert_eq!(event["time"], "2026-11-01T09:00:00.000000Z");
    assert_eq!(event["duration_ms"], 12);
    assert_eq!(event["status"], "ok");
    assert!(event.get("args").is_none(), "responses use canonical names");
    let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
    assert_eq!(keys[..5], ["id", "seq", "time", "received_at", "type"]);

    // A retry with the same id is recorded once and gets the first receipt.
    let (status, again) = s
        .post(
            "/v1/events",
            &json!({"execution_id": "e-1", "verb": "other"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["receipt"], *receipt);
    let (_, list) = s.get("/v1/events").await;
    assert_eq!(
        list["events"].as_array().unwrap().len() as u64,
        BOOTSTRAP_RECORDS + 1
    );

    let (status, body) = s.get("/v1/events/nope").await;
    assert_error(status, &body, 404, "not_found");
}

async fn saas_shape_and_server_assigned_ids(backend: Backend) {
    let (_d, s) = server_on(backend);
    let (status, body) = s
        .post(
            "/v1/events",
            &json!({"action": "llm_call", "prompt": "hi", "response": "hello", "agentId": "a",
                    "traceId": "t-1", "parentSpanId": "p", "metadata": {"k": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["receipt"]["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUIDv7: {id}");
    assert_eq!(&id[14..15], "7");
    let (_, event) = s.get(&format!("/v1/events/{id}")).await;
    assert_eq!(event["run_id"], "t-1");
    assert_eq!(event["agent_id"], "a");
    assert_eq!(event["input"], "hi");
    assert_eq!(event["output"], "hello");
}

async fn batches_are_all_or_nothing(backend: Backend) {
    let (_d, s) = server_on(backend);
    let events: Vec<Value> = (0..5)
        .map(|i| json!({"type": "thinking", "run_id": "r", "content": format!("step {i}")}))
        .collect();
    let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
    assert_eq!(status, 201, "{body}");
    let seqs: Vec<u64> = body["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    let b = BOOTSTRAP_RECORDS;
    assert_eq!(seqs, [b, b + 1, b + 2, b + 3, b + 4]);

    // One bad event: the whole batch is refused, and the error names it.
    let bad = json!([
        {"type": "ok"},
        {"type": "ok"},
        {"type": "ok", "status": "great", "actor": {"type": "robot", "id": "x"}},
        {"content": "no type"}
    ]);
    let (status, body) = s.post("/v1/events/batch", &bad).await;
    assert_error(status, &body, 400, "invalid_event");
    let details = body["details"].as_array().unwrap();
    let named: Vec<(u64, &str)> = details
        .iter()
        .map(|d| (d["index"].as_u64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    assert_eq!(named, [(2, "status"), (2, "actor.type"), (3, "type")]);
    assert!(body["error"].as_str().unwrap().contains("event 2"));
    let (_, list) = s.get("/v1/events?limit=100").await;
    assert_eq!(
        list["events"].as_array().unwrap().len() as u64,
        BOOTSTRAP_RECORDS + 5,
        "nothing written"
    );

    // {"events": [...]} is accepted too.
    let (status, body) = s
        .post("/v1/events/batch", &json!({"events": [{"type": "x"}]}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["receipts"][0]["seq"], b + 5);
}

async fn malformed_and_oversize_input(backend: Backend) {
    let (_d, s) = server_on(backend);
    let (status, body) = s.post_raw("/v1/events", "{not json".into()).await;
    assert_error(status, &body, 400, "invalid_json");
    let (status, body) = s.post_raw("/v1/events", String::new()).await;
    assert_error(status, &body, 400, "invalid_json");
    let (status, body) = s.post("/v1/events", &json!([1, 2])).await;
    assert_error(status, &body, 400, "invalid_event");
    let (status, body) = s.post("/v1/events", &json!({"type": "x", "seq": 3})).await;
    assert_error(status, &body, 400, "invalid_event");
    let (status, body) = s.post("/v1/events/batch", &json!({"type": "x"})).await;
    assert_error(status, &body, 400, "invalid_batch");
    let (status, body) = s.post("/v1/events/batch", &json!([])).await;
    assert_error(status, &body, 400, "invalid_batch");

    let big = "x".repeat(1024 * 1024 + 10);
    let (status, body) = s
        .post("/v1/events", &json!({"type": "x", "content": big}))
        .await;
    assert_error(status, &body, 413, "too_large");
    let many: Vec<Value> = (0..1001).map(|_| json!({"type": "x"})).collect();
    let (status, body) = s.post("/v1/events/batch", &json!(many)).await;
    assert_error(status, &body, 413, "too_large");
    assert!(body["error"].as_str().unwrap().contains("1001"));
    let huge = format!(
        "[{}]",
        vec![format!("{{\"type\":\"{}\"}}", "y".repeat(1 << 20)); 17].join(",")
    );
    let (status, body) = s.post_raw("/v1/events/batch", huge).await;
    assert_error(status, &body, 413, "too_large");

    // A body that declares a gigabyte is refused before it is read (it
    // was once read up to the limit plus 64 MiB first; regression).
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        socket,
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{{\"type\":",
        crate::support::API_KEY
    )
    .unwrap();
    let mut answer = [0u8; 12];
    socket.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");

    let (_, list) = s.get("/v1/events").await;
    assert_eq!(
        list["events"].as_array().unwrap().len() as u64,
        BOOTSTRAP_RECORDS,
        "nothing was written"
    );
}

async fn authentication(backend: Backend) {
    let (_d, s) = server_on(backend);
    let r = s.http.get(s.url("/v1/events")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.unwrap();
    assert_error(401, &body, 401, "unauthorized");

    for (header, value) in [
        ("authorization", "Bearer fr_wrong".to_owned()),
        ("authorization", format!("Basic {API_KEY}")),
        ("x-api-key", "fr_wrong".to_owned()),
    ] {
        let r = s
            .http
            .get(s.url("/v1/events"))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let text = r.text().await.unwrap();
        assert!(!text.contains("fr_wrong"), "the key is not echoed: {text}");
    }
    let r = s
        .http
        .get(s.url("/v1/events"))
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn query_filters_paging_and_their_errors(backend: Backend) {
    let (_d, s) = server_on(backend);
    let mut events = Vec::new();
    for i in 0..30 {
        events.push(json!({
            "type": if i % 3 == 0 { "tool_call" } else { "thinking" },
            "run_id": format!("run-{}", i % 2),
            "agent_id": "agent-x",
            "status": if i == 7 { "fail" } else { "ok" },
            "time": format!("2026-11-01T10:00:{i:02}Z"),
            "content": if i == 11 { "the refund looks wrong" } else { "fine" },
            "actor": {"type": if i == 4 { "human" } else { "agent" }, "id": "who", "email": if i == 4 { "ana@x.io" } else { "bot@x.io" }},
        }));
    }
    let (status, _) = s.post("/v1/events/batch", &json!(events)).await;
    assert_eq!(status, 201);

    let count = |v: &Value| v["events"].as_array().unwrap().len();
    let (_, v) = s.get("/v1/events?type=tool_call&limit=100").await;
    assert_eq!(count(&v), 10);
    let (_, v) = s.get("/v1/events?status=fail").await;
    assert_eq!(count(&v), 1);
    let (_, v) = s.get("/v1/events?run_id=run-1&type=tool_call").await;
    assert_eq!(count(&v), 5);
    let (_, v) = s.get("/v1/events?actor=ana@x.io&actor_type=human").await;
    assert_eq!(count(&v), 1);
    let (_, v) = s
        .get("/v1/events?since=2026-11-01T10:00:20Z&until=2026-11-01T10:00:25Z")
        .await;
    assert_eq!(count(&v), 5);
    let (_, v) = s.get("/v1/events?since=1h").await;
    assert_eq!(
        count(&v) as u64,
        BOOTSTRAP_RECORDS,
        "only the first start's records are recent; these happened long ago"
    );

    // Free text is searchable within seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, v) = s.get("/v1/events?q=refund").await;
        if count(&v) == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "search never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Paging with the cursor walks everything once, newest first.
    let mut seqs = Vec::new();
    let mut path = "/v1/events?limit=7".to_owned();
    loop {
        let (status, v) = s.get(&path).await;
        assert_eq!(status, 200, "{v}");
        seqs.extend(
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_u64().unwrap()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/events?limit=7&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seqs,
        (0..30 + BOOTSTRAP_RECORDS).rev().collect::<Vec<u64>>()
    );

    for (path, code) in [
        ("/v1/events?limit=0", "invalid_parameter"),
        ("/v1/events?limit=1001", "invalid_parameter"),
        ("/v1/events?limit=ten", "invalid_parameter"),
        ("/v1/events?status=broken", "invalid_parameter"),
        ("/v1/events?actor_type=robot", "invalid_parameter"),
        ("/v1/events?since=yesterday", "invalid_parameter"),
        ("/v1/events?until=2026-13-01T00:00:00Z", "invalid_parameter"),
        ("/v1/events?typo=1", "invalid_parameter"),
        ("/v1/events?type=a&type=b", "invalid_parameter"),
        ("/v1/events?cursor=garbage", "invalid_cursor"),
    ] {
        let (status, body) = s.get(path).await;
        assert_error(status, &body, 400, code);
    }
    // A cursor from another listing is refused too.
    let (_, runs) = s.get("/v1/runs?limit=1").await;
    let run_cursor = runs["next_cursor"].as_str().unwrap();
    let (status, body) = s.get(&format!("/v1/events?cursor={run_cursor}")).await;
    assert_error(status, &body, 400, "invalid_cursor");
}

async fn runs_and_their_audit_log(backend: Backend) {
    let (_d, s) = server_on(backend);
    let events = json!([
        {"type": "start", "run_id": "r1", "agent_id": "coder", "time": "2026-11-01T10:00:00Z"},
        {"type": "read_file", "run_id": "r1", "time": "2026-11-01T10:00:01Z", "input": {"path": "a.rs"}},
        {"type": "tool_call", "run_id": "r1", "status": "fail", "time": "2026-11-01T10:00:02Z"},
        {"type": "complete", "run_id": "r1", "time": "2026-11-01T10:00:03Z"},
        {"type": "start", "run_id": "r2", "time": "2026-11-01T11:00:00Z"}
    ]);
    s.post("/v1/events/batch", &events).await;

    let (status, v) = s.get("/v1/runs").await;
    assert_eq!(status, 200);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs[0]["run_id"], "r2", "most recent first");
    let r1 = &runs[1];
    assert_eq!(r1["event_count"], 4);
    assert_eq!(r1["fail_count"], 1);
    assert_eq!(r1["status"], "completed");
    assert_eq!(r1["first_time"], "2026-11-01T10:00:00.000000Z");
    assert_eq!(r1["last_time"], "2026-11-01T10:00:03.000000Z");
    let (_, v) = s.get("/v1/runs?status=running").await;
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);

    let (status, v) = s.get("/v1/runs/r1").await;
    assert_eq!(status, 200);
    assert_eq!(v["agent_id"], "coder");
    assert!(v.get("audit_log").is_none());
    let (_, v) = s.get("/v1/runs/r1?include=audit_log").await;
    let types: Vec<&str> = v["audit_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["start", "read_file", "tool_call", "complete"]);
    let (_, v) = s
        .get("/v1/runs/r1?include=audit_log&types=start,complete&from=2026-11-01T10:00:01Z")
        .await;
    assert_eq!(v["audit_log"].as_array().unwrap().len(), 1);
    let (_, v) = s
        .get("/v1/runs/r1?include=audit_log&to=2026-11-01T10:00:01Z&limit=1")
        .await;
    assert_eq!(v["audit_log"][0]["type"], "start");
    let next = v["next_cursor"].as_str().unwrap();
    let (_, v) = s
        .get(&format!(
            "/v1/runs/r1?include=audit_log&to=2026-11-01T10:00:01Z&limit=1&cursor={next}"
        ))
        .await;
    assert_eq!(v["audit_log"][0]["type"], "read_file");
    assert!(v["next_cursor"].is_null());

    let (status, body) = s.get("/v1/runs/missing").await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = s.get("/v1/runs/r1?include=everything").await;
    assert_error(status, &body, 400, "invalid_parameter");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let (_d, s) = server();
    let (status, body) = s.get("/v2/nothing").await;
    assert_error(status, &body, 404, "not_found");
    let r = s.http.delete(s.url("/v1/events")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_error(405, &body, 405, "method_not_allowed");
}

#[tokio::test]
async fn demo_loads_once_and_data_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, &["--demo"]);
    assert!(first.banner.contains("First start"), "{}", first.banner);
    assert!(
        !first.banner.contains(API_KEY),
        "a chosen key is not printed"
    );
    let (_, runs) = first.get("/v1/runs").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
    let (_, v) = first.get("/v1/events?limit=1000").await;
    let total = v["events"].as_array().unwrap().len();
    assert!(total >= 38);
    drop(first);

    let second = Server::start(&data, &["--demo"]);
    assert!(
        !second.banner.contains("First start"),
        "bootstrap runs once"
    );
    let (_, v) = second.get("/v1/events?limit=1000").await;
    assert_eq!(
        v["events"].as_array().unwrap().len(),
        total,
        "demo recorded once"
    );
}

#[tokio::test]
async fn a_bad_data_dir_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("unrelated.txt"), "x").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not empty and holds no flightrec store"),
        "{err}"
    );
}

/// A log key placed in a new data dir before the first start
/// (`log new-key -o DIR/log-key`) is the one the log is signed with.
#[tokio::test]
async fn a_data_dir_holding_only_a_log_key_starts_with_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["log", "new-key", "--origin", "placed.test", "-o"])
        .arg(data.join("log-key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let server = Server::start(&data, &[]);
    let trust = server.get_text("/v1/log/trust").await;
    let tenant_key = trust.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(tenant_key.starts_with("placed.test/default+"), "{trust}");
    // The same key: its base64 public part is the one printed.
    let public = vkey.rsplit('+').next().unwrap();
    assert!(tenant_key.ends_with(public), "{tenant_key} vs {vkey}");
}

on_both_backends!(
    health_and_readiness,
    ingest_one_event_and_read_it_back,
    saas_shape_and_server_assigned_ids,
    batches_are_all_or_nothing,
    malformed_and_oversize_input,
    authentication,
    query_filters_paging_and_their_errors,
    runs_and_their_audit_log,
);
