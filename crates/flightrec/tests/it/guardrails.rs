//! Compliance rules, alerts, agents, policies and webhooks through the
//! real server.

use crate::receiver::Receiver;
use crate::support::{API_KEY, Backend, Cred, Server};
use flightrec_server::webhooks::signature;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "219-09-9999";

fn key() -> Cred {
    Cred::Key(API_KEY.into())
}

async fn send(s: &Server, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, body, _) = s.call(method, path, &key(), body).await;
    (status, body)
}

async fn install(s: &Server, pack: &str) -> Value {
    let (status, body) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": pack}))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn ingest(s: &Server, event: Value) -> Value {
    let (status, body) = s.post("/v1/events", &event).await;
    assert_eq!(status, 201, "{body}");
    body["receipt"].clone()
}

async fn alerts(s: &Server, query: &str) -> Vec<Value> {
    let (status, body) = s.get(&format!("/v1/alerts?{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["alerts"].as_array().unwrap().clone()
}

#[tokio::test]
async fn packs_redact_and_raise_alerts_that_never_show_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start(&data, &[]);

    let finance = install(&s, "finance").await;
    assert_eq!(finance["installed"].as_array().unwrap().len(), 3);
    install(&s, "hipaa").await;
    install(&s, "gdpr").await;
    let (status, again) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert_eq!((status, again["installed"].clone()), (200, json!([])));
    let (status, err) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": "sox"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("hipaa, gdpr, finance"),
        "{err}"
    );

    let charged = ingest(
        &s,
        json!({"id": "charge-1", "type": "tool_call", "run_id": "r1", "agent_id": "billing",
               "tool": "stripe", "input": {"card": format!("charge {CARD} now"), "ssn": SSN}}),
    )
    .await;
    // A look-alike with a bad check digit raises nothing.
    ingest(
        &s,
        json!({"id": "lookalike", "type": "tool_call", "content": "card 4111 1111 1111 1112"}),
    )
    .await;
    // A retry of the same event raises nothing more.
    let retried = ingest(
        &s,
        json!({"id": "charge-1", "type": "tool_call", "input": {"card": CARD}}),
    )
    .await;
    assert_eq!(retried, charged);

    let (_, event) = s.get("/v1/events/charge-1").await;
    assert_eq!(event["input"]["card"], "charge [REDACTED:credit_card] now");
    assert_eq!(event["input"]["ssn"], "[REDACTED:us_ssn]");
    let paths: Vec<&str> = event["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["input.card", "input.ssn"], "{event}");

    let found = alerts(&s, "status=open").await;
    let rules: Vec<&str> = found
        .iter()
        .map(|a| a["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 3, "{rules:?}");
    for rule in ["finance.credit_card", "finance.us_ssn", "hipaa.us_ssn"] {
        assert!(rules.contains(&rule), "{rules:?}");
    }
    for a in &found {
        assert_eq!(a["event_id"], "charge-1");
        assert_eq!(a["seq"], charged["seq"]);
        assert_eq!(
            (a["run_id"].as_str(), a["agent_id"].as_str()),
            (Some("r1"), Some("billing"))
        );
        assert!(a["policy_id"].is_null());
        let excerpt = a["excerpt"].as_str().unwrap();
        assert!(
            !excerpt.contains("1111") && !excerpt.contains("9999"),
            "{excerpt}"
        );
    }
    let card = found
        .iter()
        .find(|a| a["detector"] == "credit_card")
        .unwrap();
    assert_eq!(card["severity"], "critical");
    assert_eq!(card["path"], "input.card");
    assert_eq!(card["excerpt"], "charge [credit_card] now");
    assert_eq!(alerts(&s, "severity=critical").await.len(), 1);
    assert_eq!(alerts(&s, "rule_id=hipaa.us_ssn").await.len(), 1);
    assert_eq!(alerts(&s, "run_id=nope").await.len(), 0);
    let (status, _) = s.get("/v1/alerts?severity=urgent").await;
    assert_eq!(status, 400);

    // Paging walks every alert once.
    let (_, first) = s.get("/v1/alerts?limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = s.get(&format!("/v1/alerts?limit=2&cursor={cursor}")).await;
    assert_eq!(second["alerts"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());

    // Resolving is recorded in the log, by whom and when.
    let id = card["id"].as_str().unwrap();
    let (status, resolved) = send(&s, "POST", &format!("/v1/alerts/{id}/resolve"), None).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert!(
        resolved["resolved_by"]
            .as_str()
            .unwrap()
            .starts_with("api-key:")
    );
    assert_eq!(alerts(&s, "status=open").await.len(), 2);
    let (_, trail) = s.get("/v1/admin/audit?action=alert.resolved").await;
    assert_eq!(trail["events"][0]["resource"]["id"], id, "{trail}");
    let (status, _) = send(&s, "POST", "/v1/alerts/nope/resolve", None).await;
    assert_eq!(status, 404);

    // Redacted values are nowhere on disk.
    s.kill_hard();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for value in [CARD, SSN] {
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "{} holds {value} in clear",
                path.display()
            );
        }
    }
}

async fn custom_rules_are_checked_and_managed(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let rule = json!({"name": "Internal ticket", "severity": "low", "detector": "regex",
                      "pattern": "\\bTCK-\\d{4}\\b", "action": "alert", "fields": ["message"]});
    let (status, created) = s.post("/v1/compliance-rules", &rule).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    for (bad, says) in [
        (
            json!({"name": "x", "severity": "low", "detector": "regex", "pattern": "(", "action": "alert"}),
            "not a valid regular expression",
        ),
        (
            json!({"name": "x", "severity": "low", "detector": "regex", "pattern": "a*", "action": "alert"}),
            "empty string",
        ),
        (
            json!({"name": "x", "severity": "low", "detector": "tarot", "action": "alert"}),
            "not a built-in detector",
        ),
        (
            json!({"name": "x", "severity": "dire", "detector": "email", "action": "alert"}),
            "`dire`",
        ),
        (
            json!({"name": "x", "severity": "low", "detector": "email", "action": "alert", "fields": ["nose"]}),
            "not a field",
        ),
        (
            json!({"name": "x", "severity": "low", "detector": "email", "action": "alert", "validator": "vibes"}),
            "validator",
        ),
    ] {
        let (status, err) = s.post("/v1/compliance-rules", &bad).await;
        assert_eq!(status, 400, "{bad}: {err}");
        assert!(err["error"].as_str().unwrap().contains(says), "{err}");
    }

    ingest(
        &s,
        json!({"type": "thinking", "message": "see TCK-1234", "content": "TCK-9999"}),
    )
    .await;
    let found = alerts(&s, &format!("rule_id={id}")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["path"], "message");

    let mut edited = rule.clone();
    edited["action"] = json!("alert_and_redact");
    let (status, after) = send(
        &s,
        "PUT",
        &format!("/v1/compliance-rules/{id}"),
        Some(&edited),
    )
    .await;
    assert_eq!(
        (status, after["action"].clone()),
        (200, json!("alert_and_redact")),
        "{after}"
    );
    let receipt = ingest(&s, json!({"type": "thinking", "message": "TCK-4321 again"})).await;
    let (_, event) = s
        .get(&format!("/v1/events/{}", receipt["id"].as_str().unwrap()))
        .await;
    assert_eq!(event["message"], "[REDACTED:regex] again");

    let (status, _) = send(&s, "DELETE", &format!("/v1/compliance-rules/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = s.get(&format!("/v1/compliance-rules/{id}")).await;
    assert_eq!(status, 404);
    let (_, trail) = s.get("/v1/admin/audit?action=rule.").await;
    let actions: Vec<&str> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["rule.deleted", "rule.updated", "rule.created"]);
}

async fn policies_are_versioned_and_apply_to_their_agents(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let (status, agent) = s
        .post(
            "/v1/agents",
            &json!({"name": "intake-bot", "metadata": {"team": "clinic"}}),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    for field in ["id", "name", "organizationId", "metadata", "createdAt"] {
        assert!(!agent[field].is_null(), "{field}: {agent}");
    }
    assert_eq!(agent["organizationId"], "default");
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let (status, _) = s.post("/v1/agents", &json!({"name": "intake-bot"})).await;
    assert_eq!(status, 409);
    // Ids name things in the log's records, which hold no control
    // characters: a clear 400, never a 500 (found by schemathesis).
    for (path, body) in [
        ("/v1/agents", json!({"name": "x", "id": "a\u{1f}b"})),
        (
            "/v1/auth/api-keys",
            json!({"name": "x", "scopes": ["ingest"], "agent_id": "a\nb"}),
        ),
        (
            "/v1/compliance-rules",
            json!({"id": "r\u{7}", "name": "r", "severity": "low", "detector": "email", "action": "alert"}),
        ),
    ] {
        let (status, err) = s.post(path, &body).await;
        assert_eq!(status, 400, "{path}: {err}");
        assert!(
            err["error"].as_str().unwrap().contains("control character"),
            "{err}"
        );
    }

    let (status, policy) = s
        .post(
            "/v1/policies/clone-pack",
            &json!({"packId": "hipaa", "name": "Clinic"}),
        )
        .await;
    assert_eq!(status, 201, "{policy}");
    assert_eq!(policy["version"], 1);
    let pid = policy["id"].as_str().unwrap().to_owned();
    let (status, attached) = s
        .post(
            &format!("/v1/policies/{pid}/agents"),
            &json!({"agentId": agent_id}),
        )
        .await;
    assert_eq!(
        (status, attached["agents"].clone()),
        (200, json!([agent_id]))
    );
    let (status, _) = s
        .post(
            &format!("/v1/policies/{pid}/agents"),
            &json!({"agentId": "ghost"}),
        )
        .await;
    assert_eq!(status, 404);

    // Only the policy's agent is screened by it.
    ingest(
        &s,
        json!({"type": "tool_call", "agent_id": agent_id, "output": format!("SSN {SSN}")}),
    )
    .await;
    ingest(
        &s,
        json!({"type": "tool_call", "agent_id": "someone-else", "output": format!("SSN {SSN}")}),
    )
    .await;
    let found = alerts(&s, "").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0]["policy_id"].as_str(),
            found[0]["policy_version"].as_u64()
        ),
        (Some(pid.as_str()), Some(1))
    );

    // An edit is a new version; alerts name the version that fired.
    let mut rules = policy["rules"].as_array().unwrap().clone();
    rules.retain(|r| r["detector"] == "us_ssn");
    rules[0]["action"] = json!("alert");
    let (status, v2) = send(
        &s,
        "PUT",
        &format!("/v1/policies/{pid}"),
        Some(&json!({"name": "Clinic", "description": "SSNs only", "rules": rules})),
    )
    .await;
    assert_eq!((status, v2["version"].clone()), (200, json!(2)), "{v2}");
    ingest(
        &s,
        json!({"type": "tool_call", "agent_id": agent_id, "output": format!("SSN {SSN}")}),
    )
    .await;
    let newest = &alerts(&s, "limit=1").await[0];
    assert_eq!(newest["policy_version"], 2);
    let (_, v1) = s.get(&format!("/v1/policies/{pid}?version=1")).await;
    assert_eq!(v1["rules"].as_array().unwrap().len(), 5);
    let (_, current) = s.get(&format!("/v1/policies/{pid}")).await;
    assert_eq!(
        (
            current["version"].clone(),
            current["rules"].as_array().unwrap().len()
        ),
        (json!(2), 1)
    );
    let (status, _) = s.get(&format!("/v1/policies/{pid}?version=3")).await;
    assert_eq!(status, 404);
    let (_, shown) = s.get(&format!("/v1/agents/{agent_id}")).await;
    assert_eq!(shown["policies"][0]["version"], 2);

    let (status, _) = send(
        &s,
        "DELETE",
        &format!("/v1/policies/{pid}/agents/{agent_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    ingest(
        &s,
        json!({"type": "tool_call", "agent_id": agent_id, "output": format!("SSN {SSN}")}),
    )
    .await;
    assert_eq!(
        alerts(&s, "").await.len(),
        2,
        "a detached policy no longer applies"
    );
    let (_, trail) = s.get("/v1/admin/audit?action=policy.").await;
    assert_eq!(trail["total"], 4, "{trail}");
}

async fn create_webhook(s: &Server, url: &str) -> Value {
    let (status, hook) = s
        .post(
            "/v1/webhooks",
            &json!({"url": url, "events": ["alert.created", "alert.resolved"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    hook
}

async fn deliveries(s: &Server, hook: &Value) -> Vec<Value> {
    let (status, body) = s
        .get(&format!(
            "/v1/webhooks/{}/deliveries",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["deliveries"].as_array().unwrap().clone()
}

async fn webhooks_are_signed_and_retried_until_delivered(backend: Backend) {
    let allow = [("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")];
    let (_store, s) = Server::start_on(backend, &[], &allow);
    let receiver = Receiver::start("127.0.0.1:0", &[500, 503]).await;
    let hook = create_webhook(&s, &receiver.url()).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let (_, listed) = s.get("/v1/webhooks").await;
    assert!(
        listed["webhooks"][0]["secret"].is_null(),
        "the secret is shown once"
    );

    install(&s, "finance").await;
    ingest(&s, json!({"type": "tool_call", "input": {"card": CARD}})).await;

    // Fails twice, then succeeds: three attempts of one message.
    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "one webhook-id across retries"
    );
    for r in &got {
        assert!(
            signature::verify(&secret, &r.id, r.timestamp, r.body.as_bytes(), &r.signature),
            "bad signature on {r:?}"
        );
        assert!(!signature::verify(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &r.id,
            r.timestamp,
            r.body.as_bytes(),
            &r.signature
        ));
        assert!(!r.body.contains("1111"), "{}", r.body);
    }
    let body: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(body["type"], "alert.created");
    assert_eq!(body["data"]["detector"], "credit_card");
    let alert_id = body["data"]["id"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let d = deliveries(&s, &hook).await;
        if d[0]["status"] == "delivered" {
            break d;
        }
        assert!(Instant::now() < deadline, "{d:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivered[0]["attempts"], 3);
    assert_eq!(delivered[0]["last_status_code"], 200);

    // Resolving tells the webhook too.
    let (status, _) = send(&s, "POST", &format!("/v1/alerts/{alert_id}/resolve"), None).await;
    assert_eq!(status, 200);
    let got = receiver.wait_for(4, Duration::from_secs(10)).await;
    let body: Value = serde_json::from_str(&got[3].body).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["status"].as_str()),
        (Some("alert.resolved"), Some("resolved"))
    );
}

#[tokio::test]
async fn no_delivery_is_lost_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let allow = [("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")];
    // A port with nobody listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");

    let mut s = Server::start_with_env(&data, &[], &allow);
    let hook = create_webhook(&s, &url).await;
    install(&s, "finance").await;
    ingest(&s, json!({"type": "tool_call", "input": {"card": CARD}})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = deliveries(&s, &hook).await;
        if d.first().is_some_and(|d| d["attempts"].as_u64() >= Some(1)) {
            assert_eq!(d[0]["status"], "pending");
            assert!(
                d[0]["last_error"]
                    .as_str()
                    .unwrap()
                    .contains("could not connect"),
                "{d:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no attempt was made: {d:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.kill_hard();

    let receiver = Receiver::start(&format!("127.0.0.1:{port}"), &[]).await;
    let s = Server::start_with_env(&data, &[], &allow);
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "alert.created");
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliveries(&s, &hook).await[0]["status"] != "delivered" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_stuck_receiver_does_not_hold_up_ingest_and_private_targets_are_refused(
    backend: Backend,
) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ] {
        let (status, err) = s
            .post(
                "/v1/webhooks",
                &json!({"url": url, "events": ["alert.created"]}),
            )
            .await;
        assert_eq!(status, 400, "{url}");
        assert!(
            err["error"]
                .as_str()
                .unwrap()
                .contains("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS"),
            "{err}"
        );
    }
    let (status, _) = s
        .post(
            "/v1/webhooks",
            &json!({"url": "https://hooks.example.com/x", "events": ["alert.exploded"]}),
        )
        .await;
    assert_eq!(status, 400);

    // A receiver that accepts connections and never answers.
    drop(s);
    drop(_store);
    let allow = [("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")];
    let (_store, s) = Server::start_on(backend, &[], &allow);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            let (conn, _) = silent.accept().await.unwrap();
            open.push(conn);
        }
    });
    create_webhook(&s, &url).await;
    install(&s, "finance").await;
    for i in 0..20 {
        ingest(
            &s,
            json!({"type": "tool_call", "run_id": "busy", "input": {"card": CARD, "n": i}}),
        )
        .await;
    }
    assert_eq!(alerts(&s, "run_id=busy").await.len(), 20);
    held.abort();
}

on_both_backends!(
    custom_rules_are_checked_and_managed,
    policies_are_versioned_and_apply_to_their_agents,
    webhooks_are_signed_and_retried_until_delivered,
    a_stuck_receiver_does_not_hold_up_ingest_and_private_targets_are_refused,
);
