//! The AgentAudit-compatible API (`/api/v1`): the AgentAudit Python client,
//! installed pinned into `tests/compat` by its `install` script, records a
//! run against the real binary with only its base URL and key changed; the
//! run is then checked through flightrec's own `/v1` API. Plain requests
//! check that every `/api/v1` route answers in its documented shape,
//! errors included.

use crate::support::{API_KEY, Cred, OWNER_EMAIL, OWNER_PASSWORD, Server};
use serde_json::{Value, json};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// `tests/compat`, with the client installed.
fn client_dir() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat");
        let dir = dir.canonicalize().expect("tests/compat exists");
        let lock = File::create(dir.join(".install.lock")).unwrap();
        lock.lock().unwrap();
        let status = Command::new(dir.join("install"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/compat/install");
        assert!(status.success(), "tests/compat/install failed");
        dir
    })
}

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    (dir, server)
}

/// A request with the test key in `X-API-Key`, as that API's clients send it.
async fn call(server: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server
        .http
        .request(method, server.url(path))
        .header("x-api-key", API_KEY);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// That API's error shape: `{error, status}` with the status repeated.
fn assert_error(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], expected, "{body}");
    assert!(
        !body["error"].as_str().unwrap_or_default().is_empty(),
        "{body}"
    );
}

#[tokio::test]
async fn the_agentaudit_client_records_a_run_and_a_trace() {
    let (_dir, server) = server();
    let out = Command::new(client_dir().join(".venv/bin/python"))
        .arg(client_dir().join("client.py"))
        .env("AGENTAUDIT_BASE_URL", server.url("/api/v1"))
        .env("AGENTAUDIT_API_KEY", API_KEY)
        .output()
        .expect("run client.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client.py failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let did: Value = serde_json::from_str(stdout.trim()).unwrap();
    let trace = did["trace_id"].as_str().unwrap();
    let agent = did["agent_id"].as_str().unwrap();

    // The trace is a run: the card log, the guardrail check and the batch.
    let (status, run) = server.get(&format!("/v1/runs/{trace}")).await;
    assert_eq!(status, 200, "{run}");
    let (_, events) = server
        .get(&format!("/v1/events?run_id={trace}&limit=100"))
        .await;
    let mut events = events["events"].as_array().unwrap().clone();
    events.reverse();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "user_input",
            "llm_call",
            "start",
            "tool_call",
            "tool_result",
            "complete"
        ]
    );
    assert!(events.iter().all(|e| e["agent_id"] == agent));
    assert!(
        events
            .iter()
            .all(|e| e["metadata"].get("checkType").is_none())
    );

    // The card never reached the store; the alert names the record.
    let carded = &events[0];
    assert_eq!(carded["id"], did["carded_id"]);
    let input = carded["input"].as_str().unwrap();
    assert!(!input.contains("4111"), "{input}");
    assert!(input.contains("[REDACTED:credit_card]"), "{input}");
    let (_, alerts) = server
        .get(&format!(
            "/v1/alerts?event_id={}",
            did["carded_id"].as_str().unwrap()
        ))
        .await;
    let alerts = alerts["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "the tenant's pack and the agent's policy");
    let resolved: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["status"] == "resolved")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["id"], did["alert_id"]);

    // The span tree: the tool span inside the agent span.
    let (status, tree) = server.get(&format!("/v1/runs/{trace}/tree")).await;
    assert_eq!(status, 200, "{tree}");
    let spans = tree["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{tree}");
    assert_eq!(spans[0]["span_id"], "span-agent");
    assert_eq!(spans[0]["children"][0]["span_id"], "span-tool");
    assert_eq!(spans[0]["children"][0]["parent_span_id"], "span-agent");

    // The same tree and parent chain through `/api/v1`.
    let (status, shown) = call(&server, "GET", &format!("/api/v1/traces/{trace}"), None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["traceId"], trace);
    assert_eq!(shown["logCount"], 6);
    assert_eq!(
        shown["spans"][0]["children"][0]["parentSpanId"],
        "span-agent"
    );
    let tool_call = did["batch_ids"][1].as_str().unwrap();
    let (status, chain) = call(
        &server,
        "GET",
        &format!("/api/v1/audit-logs/{tool_call}/parents"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{chain}");
    assert_eq!(chain["log"]["id"], tool_call);
    assert_eq!(chain["log"]["parentSpanId"], "span-agent");
    let parents = chain["parents"].as_array().unwrap();
    assert_eq!(parents.len(), 1, "{chain}");
    assert_eq!(parents[0]["id"], did["batch_ids"][0]);
    assert_eq!(parents[0]["action"], "start");

    // The policy the client cloned, assigned, and removed from the agent;
    // each change is in the log.
    let policy_id = did["policy_id"].as_str().unwrap();
    let (_, policy) = server.get(&format!("/v1/policies/{policy_id}")).await;
    assert_eq!(policy["agents"], json!([]));
    let (_, changes) = server
        .get(&format!(
            "/v1/admin/audit?action=policy.*&resource_id={policy_id}"
        ))
        .await;
    let mut changes: Vec<&str> = changes["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    changes.reverse();
    assert_eq!(
        changes,
        [
            "policy.created",
            "policy.agent_attached",
            "policy.agent_detached"
        ]
    );
}

/// The keys of an audit log as that API shows one.
fn assert_log_shape(log: &Value) {
    for key in [
        "id",
        "action",
        "prompt",
        "response",
        "agentId",
        "traceId",
        "parentSpanId",
        "metadata",
        "createdAt",
    ] {
        assert!(log.get(key).is_some(), "no `{key}` in {log}");
    }
    assert!(
        log.get("type").is_none() && log.get("run_id").is_none(),
        "{log}"
    );
}

#[tokio::test]
async fn every_api_v1_route_answers_in_its_shape() {
    let (_dir, server) = server();

    // Sign-in and keys.
    let (status, login, _) = server
        .call(
            "POST",
            "/api/v1/auth/login",
            &Cred::None,
            Some(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    assert!(login["accessToken"].is_string());
    assert_eq!(login["organization"]["id"], "default");
    let (status, wrong, _) = server
        .call(
            "POST",
            "/api/v1/auth/login",
            &Cred::None,
            Some(&json!({"email": OWNER_EMAIL, "password": "not the password"})),
        )
        .await;
    assert_error(status, &wrong, 401);

    let (status, key) = call(
        &server,
        "POST",
        "/api/v1/auth/api-keys",
        Some(json!({"name": "writer"})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["name"], "writer");
    assert!(key["id"].is_string());
    assert_eq!(key["scopes"], json!(["ingest", "read"]));
    let secret = key["key"].as_str().unwrap().to_owned();
    let (status, bad) = call(
        &server,
        "POST",
        "/api/v1/auth/api-keys",
        Some(json!({"name": "x", "scopes": ["everything"]})),
    )
    .await;
    assert_error(status, &bad, 400);

    // The new key records through `/api/v1` in `X-API-Key`.
    let response = server
        .http
        .post(server.url("/api/v1/audit-logs"))
        .header("x-api-key", &secret)
        .json(
            &json!({"action": "llm_call", "prompt": "hi", "response": "hello",
            "agentId": "a1", "traceId": "t1", "metadata": {"model": "m"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let log: Value = response.json().await.unwrap();
    assert_log_shape(&log);
    assert_eq!(log["action"], "llm_call");
    assert_eq!(log["response"], "hello");
    assert_eq!(log["complianceFlags"], json!([]));
    assert_eq!(log["enforcementAction"], "allow");

    let (status, batch) = call(
        &server,
        "POST",
        "/api/v1/audit-logs/batch",
        Some(json!({"logs": [
            {"action": "start", "traceId": "t1", "spanId": "s1", "agentId": "a1"},
            {"action": "tool_call", "traceId": "t1", "spanId": "s2", "parentSpanId": "s1", "agentId": "a1"},
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{batch}");
    let data = batch["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    data.iter().for_each(assert_log_shape);
    assert_eq!(data[1]["parentSpanId"], "s1");

    // Paging by offset and by page, and the filters.
    let (status, page) = call(
        &server,
        "GET",
        "/api/v1/audit-logs?traceId=t1&limit=2&offset=2",
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["pagination"]["total"], 3);
    assert_eq!(page["pagination"]["page"], 2);
    assert_eq!(page["pagination"]["totalPages"], 2);
    assert_eq!(page["pagination"]["hasMore"], false);
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(assert_log_shape);
    let (_, by_page) = call(
        &server,
        "GET",
        "/api/v1/audit-logs?traceId=t1&limit=2&page=2",
        None,
    )
    .await;
    assert_eq!(by_page["data"], page["data"]);
    let (_, by_action) = call(
        &server,
        "GET",
        "/api/v1/audit-logs?action=tool_call&agentId=a1",
        None,
    )
    .await;
    assert_eq!(by_action["data"][0]["id"], data[1]["id"]);
    assert_eq!(by_action["pagination"]["total"], 1);

    let (status, one) = call(
        &server,
        "GET",
        &format!("/api/v1/audit-logs/{}", log["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], log["id"]);

    // Agents, packs, policies, alerts.
    let (status, agent) = call(
        &server,
        "POST",
        "/api/v1/agents",
        Some(json!({"name": "Bot", "type": "crewai"})),
    )
    .await;
    assert_eq!(status, 201, "{agent}");
    assert_eq!(agent["type"], "crewai");
    for key in ["id", "name", "createdAt", "updatedAt"] {
        assert!(agent[key].is_string(), "{key} in {agent}");
    }
    let (_, agents) = call(&server, "GET", "/api/v1/agents", None).await;
    assert_eq!(agents.as_array().unwrap().len(), 1);
    let (status, packs) = call(&server, "GET", "/api/v1/compliance-rules/packs", None).await;
    assert_eq!(status, 200);
    assert!(
        packs["packs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "gdpr")
    );
    let (status, installed) = call(
        &server,
        "POST",
        "/api/v1/compliance-rules/packs",
        Some(json!({"packId": "gdpr"})),
    )
    .await;
    assert_eq!(status, 201, "{installed}");
    let (status, policy) = call(
        &server,
        "POST",
        "/api/v1/policies/clone-pack",
        Some(json!({"packId": "hipaa", "name": "Health"})),
    )
    .await;
    assert_eq!(status, 201, "{policy}");
    assert_eq!(policy["source_pack_id"], "hipaa");
    assert_eq!(policy["is_active"], true);
    let policy_id = policy["id"].as_str().unwrap();
    let (status, assigned) = call(
        &server,
        "POST",
        &format!("/api/v1/policies/{policy_id}/agents"),
        Some(json!({"agentId": agent["id"]})),
    )
    .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["policy_id"], policy_id);
    assert_eq!(assigned["agent_id"], agent["id"]);
    let (_, policies) = call(&server, "GET", "/api/v1/policies", None).await;
    assert_eq!(policies[0]["agents"], json!([{"id": agent["id"]}]));

    let (_, flagged) = call(
        &server,
        "POST",
        "/api/v1/audit-logs",
        Some(json!({"action": "user_input", "prompt": "mail me at jo@example.com"})),
    )
    .await;
    assert_eq!(flagged["enforcementAction"], "flag");
    assert_eq!(flagged["complianceFlags"], json!(["MEDIUM:gdpr.email"]));
    let (status, open) = call(&server, "GET", "/api/v1/alerts?isResolved=false", None).await;
    assert_eq!(status, 200, "{open}");
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["auditLogId"], flagged["id"]);
    assert_eq!(open[0]["isResolved"], false);
    let alert = open[0]["id"].as_str().unwrap();
    let (status, resolved) = call(
        &server,
        "PATCH",
        &format!("/api/v1/alerts/{alert}/resolve"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["isResolved"], true);
    let (_, still_open) = call(&server, "GET", "/api/v1/alerts?isResolved=false", None).await;
    assert_eq!(still_open, json!([]));

    let (status, health) = call(&server, "GET", "/api/v1/health", None).await;
    assert_eq!((status, &health["status"]), (200, &json!("ok")));

    // Errors, in that API's shape.
    let unauthenticated = server
        .http
        .get(server.url("/api/v1/audit-logs"))
        .send()
        .await
        .unwrap();
    let status = unauthenticated.status().as_u16();
    assert_error(status, &unauthenticated.json().await.unwrap(), 401);
    for (method, path, body, expected) in [
        (
            "POST",
            "/api/v1/audit-logs",
            Some(json!({"prompt": "no action"})),
            400,
        ),
        ("POST", "/api/v1/audit-logs/batch", Some(json!([])), 400),
        (
            "POST",
            "/api/v1/audit-logs/batch",
            Some(json!({"nope": 1})),
            400,
        ),
        ("GET", "/api/v1/audit-logs?page=0", None, 400),
        (
            "GET",
            "/api/v1/audit-logs?page=3&limit=18446744073709551615",
            None,
            400,
        ),
        ("GET", "/api/v1/audit-logs?page=1&offset=0", None, 400),
        ("GET", "/api/v1/audit-logs?colour=red", None, 400),
        ("GET", "/api/v1/alerts?isResolved=maybe", None, 400),
        (
            "POST",
            "/api/v1/agents",
            Some(json!(["not", "an", "object"])),
            400,
        ),
        (
            "POST",
            "/api/v1/policies/clone-pack",
            Some(json!({"packId": "hipaa", "mode": "block"})),
            400,
        ),
        (
            "POST",
            "/api/v1/policies/clone-pack",
            Some(json!({"packId": "nope"})),
            400,
        ),
        (
            "POST",
            &format!("/api/v1/policies/{policy_id}/agents"),
            Some(json!({"agentId": "ghost"})),
            404,
        ),
        (
            "DELETE",
            &format!("/api/v1/policies/{policy_id}/agents"),
            Some(json!({})),
            400,
        ),
        (
            "DELETE",
            &format!("/api/v1/policies/{policy_id}/agents"),
            Some(json!({"agentId": "ghost"})),
            404,
        ),
        ("GET", "/api/v1/policies/no-such-policy", None, 404),
        ("GET", "/api/v1/audit-logs/no-such-log", None, 404),
        ("GET", "/api/v1/audit-logs/no-such-log/parents", None, 404),
        ("GET", "/api/v1/traces/no-such-trace", None, 404),
        ("PATCH", "/api/v1/alerts/no-such-alert/resolve", None, 404),
    ] {
        let (status, body) = call(&server, method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert_error(status, &body, expected);
    }
}

/// A request with `key` in `X-API-Key`.
async fn call_with(
    server: &Server,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server
        .http
        .request(method, server.url(path))
        .header("x-api-key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The compatible routes are the native ones underneath: a key's scopes
/// and its agent binding hold there exactly as on `/v1`.
#[tokio::test]
async fn a_keys_scopes_and_agent_binding_hold_on_api_v1() {
    let (_dir, server) = server();
    let (status, key) = call(
        &server,
        "POST",
        "/api/v1/auth/api-keys",
        Some(json!({"name": "bound writer", "scopes": ["ingest"], "agentId": "bound-bot"})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["agentId"], "bound-bot");
    let secret = key["key"].as_str().unwrap();

    // Recorded as the bound agent, and answered although the key cannot read.
    let (status, log) = call_with(
        &server,
        secret,
        "POST",
        "/api/v1/audit-logs",
        Some(json!({"action": "llm_call", "prompt": "hi"})),
    )
    .await;
    assert_eq!(status, 201, "{log}");
    assert_eq!(log["agentId"], "bound-bot");
    let (status, other) = call_with(
        &server,
        secret,
        "POST",
        "/api/v1/audit-logs/batch",
        Some(json!([{"action": "llm_call", "agentId": "someone-else"}])),
    )
    .await;
    assert_error(status, &other, 403);
    for (method, path, body) in [
        ("GET", "/api/v1/audit-logs", None),
        ("GET", "/api/v1/alerts", None),
        ("POST", "/api/v1/agents", Some(json!({"name": "x"}))),
        ("POST", "/api/v1/auth/api-keys", Some(json!({"name": "x"}))),
    ] {
        let (status, body) = call_with(&server, secret, method, path, body).await;
        assert_error(status, &body, 403);
    }
    let (_, events) = server.get("/v1/events?agent_id=bound-bot").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
}
