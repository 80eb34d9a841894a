//! `flightrec migrate`: a SQLite store with several tenants, people, keys,
//! alerts, a webhook, an erasure and a report moved to PostgreSQL, then served by a node there
//! as it was served before, its old checkpoints extended, not replaced.

use crate::scale_out::{public_key, wait_for_checkpoint};
use crate::support::{Cred, OWNER_EMAIL, OWNER_PASSWORD, Server, cli, flightrec, save_trust_file};
use flightrec_store::conformance::postgres::TestDatabase;
use serde_json::{Value, json};

/// What a user sees of a store through the API, to compare before and after.
async fn view(s: &Server, acme: &Cred) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/v1/events?limit=500",
        "/v1/events?run_id=run-a&limit=500",
        "/v1/runs",
        "/v1/runs/run-a",
        "/v1/alerts",
        "/v1/webhooks",
        "/v1/compliance-rules",
        "/v1/users",
        "/v1/erasures",
        "/v1/reports",
        "/v1/stats?group_by=verb",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body);
    }
    let (status, body, _) = s.call("GET", "/v1/events?limit=100", acme, None).await;
    assert_eq!(status, 200, "{body}");
    seen.push(body);
    seen
}

#[tokio::test]
async fn a_sqlite_store_moves_to_postgres_with_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);

    // A second tenant, with its own owner and key.
    let (ok, out, err) = cli(&s, &["tenants", "create", "Acme Corp", "--json"]);
    assert!(ok, "{err}");
    let acme: Value = serde_json::from_str(&out).unwrap();
    let acme_key = Cred::Key(acme["api_key"]["key"].as_str().unwrap().to_owned());
    let acme_password = acme["owner"]["password"].as_str().unwrap().to_owned();

    // Rules that raise an alert, a webhook, events in both tenants.
    let (status, _) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert_eq!(status, 201);
    let (status, hook) = s
        .post(
            "/v1/webhooks",
            &json!({"url": "https://hooks.example.com/flightrec", "events": ["alert.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let events: Vec<Value> = (0..300)
        .map(|i| {
            json!({"id": format!("a-{i}"), "type": "tool_call", "run_id": "run-a",
                   "verb": "bash", "content": format!("migrating step {i} zebra{i}")})
        })
        .collect();
    let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s
        .post(
            "/v1/events",
            &json!({"id": "charge", "type": "tool_call", "run_id": "run-a",
                    "input": {"card": "4111 1111 1111 1111"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for i in 0..20 {
        let event = json!({"id": format!("b-{i}"), "type": "thinking", "run_id": "run-b",
                           "content": "acme only"});
        let (status, body, _) = s.call("POST", "/v1/events", &acme_key, Some(&event)).await;
        assert_eq!(status, 201, "{body}");
    }
    // Two bodies erased on request: the job and the erased records move too.
    let (status, job) = s
        .post(
            "/v1/erasures",
            &json!({"subject": {"event_ids": ["a-0", "a-1"]}, "reason": "test"}),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let job_path = format!("/v1/erasures/{}", job["id"].as_str().unwrap());
    while s.get(&job_path).await.1["status"] != "done" {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A report, ready: the job and its file move too.
    let (status, report) = s
        .post(
            "/v1/reports",
            &json!({"type": "agent_activity", "format": "csv"}),
        )
        .await;
    assert_eq!(status, 202, "{report}");
    let report_path = format!("/v1/reports/{}", report["id"].as_str().unwrap());
    while s.get(&report_path).await.1["status"] != "ready" {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let report_file = s.get_text(&format!("{report_path}/download")).await;
    let key = public_key(&s).await;
    wait_for_checkpoint(&s, &key, 301).await;
    let saved = dir.path().join("saved.checkpoint");
    let saved_note = s.get_text("/v1/log/checkpoint").await;
    let saved_size: u64 = saved_note.lines().nth(1).unwrap().parse().unwrap();
    std::fs::write(&saved, &saved_note).unwrap();
    let trust = save_trust_file(&s, &dir.path().join("trust.txt"));
    let before = view(&s, &acme_key).await;
    assert!(
        before[4]["alerts"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{}",
        before[4]
    );
    drop(s);

    // The copy: into a fresh database, checked, with the next steps.
    let db = crate::support::off_runtime(TestDatabase::create);
    let data_arg = data.to_str().unwrap();
    let (ok, out) = flightrec(&["migrate", "--from-data-dir", data_arg, "--to", db.url()]);
    assert!(ok, "migrate: {out}");
    assert!(out.contains("OK: "), "{out}");
    assert!(out.contains("FLIGHTREC_LOG_KEY_FILE="), "{out}");
    assert!(!out.contains("PRIVATE+KEY"), "no key is printed: {out}");

    // A second copy into the same database is refused, and changes nothing.
    let (ok, again) = flightrec(&["migrate", "--from-data-dir", data_arg, "--to", db.url()]);
    assert!(!ok);
    assert!(again.contains("already holds a flightrec store"), "{again}");

    // An auditor's check of the new store, with the keys saved before.
    let (ok, verified) = flightrec(&[
        "verify",
        "--database-url",
        db.url(),
        "--trust",
        trust.to_str().unwrap(),
        "--search-index",
    ]);
    assert!(ok, "verify: {verified}");

    // A node on the copy, given the store's own keys, serves what the old
    // server served.
    let read_key = |name: &str| {
        std::fs::read_to_string(data.join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (session_key, webhook_key) = (read_key("session-key"), read_key("webhook-key"));
    let log_key_file = data.join("log-key").display().to_string();
    let node = Server::start_on_database(
        db.url(),
        &[
            ("FLIGHTREC_LOG_KEY_FILE", &log_key_file),
            ("FLIGHTREC_SESSION_KEY", &session_key),
            ("FLIGHTREC_WEBHOOK_KEY", &webhook_key),
        ],
    );
    let after = view(&node, &acme_key).await;
    assert_eq!(after, before);
    assert_eq!(
        node.get_text(&format!("{report_path}/download")).await,
        report_file
    );
    let (status, found) = node.get("/v1/events?q=zebra42").await;
    assert_eq!(status, 200);
    assert_eq!(found["events"][0]["id"], "a-42", "{found}");
    for (email, password) in [
        (OWNER_EMAIL, OWNER_PASSWORD),
        ("owner@acme-corp", acme_password.as_str()),
    ] {
        let (status, login, _) = node.login(email, password).await;
        assert_eq!(status, 200, "{email}: {login}");
    }

    // The log goes on from where it was: new records extend the checkpoint
    // saved before the move.
    let (status, _) = node
        .post(
            "/v1/events",
            &json!({"id": "after-move", "type": "thinking"}),
        )
        .await;
    assert_eq!(status, 201);
    wait_for_checkpoint(&node, &key, saved_size + 1).await;
    let (ok, out, err) = cli(
        &node,
        &[
            "log",
            "consistency",
            saved.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ],
    );
    assert!(ok, "consistency: {out}{err}");
    assert!(out.contains("extends the saved checkpoint"), "{out}");
    drop(node);
    crate::support::off_runtime(move || drop(db));
}
