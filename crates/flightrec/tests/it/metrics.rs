//! `GET /metrics`: who may read it, and that its figures move by what
//! happened — read back with the official Python client's parsers (the
//! strict OpenMetrics one and the classic Prometheus text one), installed
//! pinned into `tests/metrics` by its `install` script.

use crate::support::{API_KEY, Backend, Cred, Server, cli_with_key};
use serde_json::{Value, json};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CARD: &str = "4111 1111 1111 1111";

/// `tests/metrics`, with the parser installed.
fn parser_dir() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/metrics");
        let dir = dir.canonicalize().expect("tests/metrics exists");
        let lock = File::create(dir.join(".install.lock")).unwrap();
        lock.lock().unwrap();
        let status = Command::new(dir.join("install"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/metrics/install");
        assert!(status.success(), "tests/metrics/install failed");
        dir
    })
}

/// The families as prometheus_client's parsers read them:
/// `{"openmetrics": {...}, "prometheus": {...}}`.
fn parse(text: &str) -> Value {
    let dir = parser_dir();
    let mut child = Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join("parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the output: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn scrape(s: &Server, cred: &Cred) -> (u16, String, String) {
    let mut request = s.http.get(s.url("/metrics"));
    if let Cred::Key(k) = cred {
        request = request.bearer_auth(k);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, r.text().await.unwrap())
}

/// A scrape with the bootstrap key (the operators' tenant, every scope),
/// parsed; the strict parse is returned, after checking the classic one
/// agrees on every family's type.
async fn families(s: &Server) -> Value {
    let (status, _, text) = scrape(s, &Cred::Key(API_KEY.into())).await;
    assert_eq!(status, 200, "{text}");
    let parsed = parse(&text);
    let strict = parsed["openmetrics"].as_object().unwrap();
    let classic = parsed["prometheus"].as_object().unwrap();
    for (name, family) in strict {
        assert_eq!(
            classic.get(name).map(|f| &f["type"]),
            Some(&family["type"]),
            "{name} reads the same either way"
        );
    }
    parsed["openmetrics"].clone()
}

/// The value of one sample (0 when absent: a labelled series appears with
/// its first increment).
fn sample(families: &Value, family: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(f) = families.get(family) else {
        panic!("no family {family}: {families}");
    };
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s[0] == name
                && labels
                    .iter()
                    .all(|(k, v)| s[1].get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map_or(0.0, |s| s[2].as_f64().unwrap())
}

fn family_type<'a>(families: &'a Value, family: &str) -> &'a str {
    families[family]["type"].as_str().unwrap_or("absent")
}

async fn create_key(s: &Server, by: &Cred, scopes: &[&str]) -> String {
    let (status, key, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            by,
            Some(&json!({"name": format!("metrics-{}", scopes.join("-")), "scopes": scopes})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    key["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn metrics_are_for_the_operators_read_keys() {
    let (_d, s) = Server::start_on(Backend::Sqlite, &[], &[]);
    let admin = Cred::Key(API_KEY.into());

    let (status, _, body) = scrape(&s, &Cred::None).await;
    assert_eq!(status, 401, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["status"], 401);

    // Another tenant's key holds every scope, in its own tenant only.
    let (ok, out, err) = cli_with_key(&s, API_KEY, &["tenants", "create", "Acme Corp", "--json"]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let other = Cred::Key(created["api_key"]["key"].as_str().unwrap().into());
    let (status, _, body) = scrape(&s, &other).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("default"), "says whose keys may: {body}");

    // In the operators' tenant, an ingest-only key may not read either.
    let ingest_only = Cred::Key(create_key(&s, &admin, &["ingest"]).await);
    let (status, _, body) = scrape(&s, &ingest_only).await;
    assert_eq!(status, 403, "{body}");

    let read = Cred::Key(create_key(&s, &admin, &["read"]).await);
    let (status, content_type, body) = scrape(&s, &read).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(!body.contains("acme"), "no tenant in any label: {body}");
    let families = &parse(&body)["openmetrics"];
    // The refusals above were counted, by route template.
    assert_eq!(
        sample(
            families,
            "flightrec_http_requests",
            "flightrec_http_requests_total",
            &[("route", "/metrics"), ("method", "GET"), ("status", "403")]
        ),
        2.0
    );
}

#[tokio::test]
async fn public_metrics_need_no_credentials() {
    let env = [("FLIGHTREC_METRICS_PUBLIC", "true")];
    let (_d, s) = Server::start_on(Backend::Sqlite, &[], &env);
    let (status, _, body) = scrape(&s, &Cred::None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        family_type(&parse(&body)["openmetrics"], "flightrec_store_up"),
        "gauge"
    );
}

on_both_backends!(metrics_move_by_what_happened);

async fn metrics_move_by_what_happened(backend: Backend) {
    let allow = [("FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")];
    let (_d, s) = Server::start_on(backend, &[], &allow);
    let admin = Cred::Key(API_KEY.into());
    // A webhook no one answers: its delivery stays pending (retried).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (status, hook) = s
        .post(
            "/v1/webhooks",
            &json!({"url": dead_url, "events": ["alert.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let (status, first) = s.post("/v1/events", &json!({"type": "start"})).await;
    assert_eq!(status, 201, "{first}");
    let first_seq = first["receipt"]["seq"].as_u64().unwrap();

    let before = families(&s).await;
    for (family, kind) in [
        ("flightrec_http_requests", "counter"),
        ("flightrec_http_request_duration_seconds", "histogram"),
        ("flightrec_ingest_events", "counter"),
        ("flightrec_ingest_batch_events", "histogram"),
        ("flightrec_commit_duration_seconds", "histogram"),
        ("flightrec_sequencer_queue_depth", "gauge"),
        ("flightrec_alerts_raised", "counter"),
        ("flightrec_search_backlog_records", "gauge"),
        ("flightrec_checkpoint_age_seconds", "gauge"),
        ("flightrec_checkpoint_lag_seconds", "gauge"),
        ("flightrec_webhook_backlog_deliveries", "gauge"),
        ("flightrec_store_up", "gauge"),
    ] {
        assert_eq!(family_type(&before, family), kind, "{family}");
    }

    // A single event, a batch of three, a refused request, a read by id,
    // the finance pack and a card number that raises an alert.
    let (status, one) = s
        .post(
            "/v1/events",
            &json!({"id": "metrics-secret-id", "type": "thinking"}),
        )
        .await;
    assert_eq!(status, 201, "{one}");
    let batch: Vec<Value> = (0..3)
        .map(|i| json!({"type": "tool_call", "n": i}))
        .collect();
    let (status, body) = s.post("/v1/events/batch", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s.post("/v1/events", &json!({"no_type": true})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = s.get("/v1/events/metrics-secret-id").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, card) = s
        .post(
            "/v1/events",
            &json!({"type": "tool_call", "input": {"card": CARD}}),
        )
        .await;
    assert_eq!(status, 201, "{card}");
    let last_seq = card["receipt"]["seq"].as_u64().unwrap();

    let (_, _, text) = scrape(&s, &admin).await;
    assert!(
        !text.contains("metrics-secret-id"),
        "a path's id never becomes a label: {text}"
    );
    let after = families(&s).await;
    let delta = |family: &str, name: &str, labels: &[(&str, &str)]| {
        sample(&after, family, name, labels) - sample(&before, family, name, labels)
    };
    let requests = |method, route, status| {
        delta(
            "flightrec_http_requests",
            "flightrec_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("POST", "/v1/events", "201"), 2.0);
    assert_eq!(requests("POST", "/v1/events", "400"), 1.0);
    assert_eq!(requests("POST", "/v1/events/batch", "201"), 1.0);
    assert_eq!(requests("GET", "/v1/events/{id}", "200"), 1.0);
    assert_eq!(requests("POST", "/v1/compliance-rules/packs", "201"), 1.0);
    assert_eq!(
        delta(
            "flightrec_http_request_duration_seconds",
            "flightrec_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/v1/events")]
        ),
        3.0
    );

    // Every record appended since the first event, the pack's own record
    // of its installation included, and nothing refused.
    let appended = (last_seq - first_seq) as f64;
    let events = delta(
        "flightrec_ingest_events",
        "flightrec_ingest_events_total",
        &[],
    );
    assert_eq!(events, appended);
    let batches = delta(
        "flightrec_ingest_batch_events",
        "flightrec_ingest_batch_events_count",
        &[],
    );
    assert_eq!(
        delta(
            "flightrec_ingest_batch_events",
            "flightrec_ingest_batch_events_sum",
            &[]
        ),
        appended
    );
    // Only the batch of three is larger than two events.
    assert_eq!(
        delta(
            "flightrec_ingest_batch_events",
            "flightrec_ingest_batch_events_bucket",
            &[("le", "2.0")]
        ),
        batches - 1.0
    );
    assert!(
        delta(
            "flightrec_commit_duration_seconds",
            "flightrec_commit_duration_seconds_count",
            &[]
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &after,
            "flightrec_sequencer_queue_depth",
            "flightrec_sequencer_queue_depth",
            &[]
        ),
        0.0,
        "nothing waits at rest"
    );

    // Alerts by severity, as the alerts API lists them.
    let (_, listed) = s.get("/v1/alerts").await;
    let listed = listed["alerts"].as_array().unwrap().clone();
    assert!(!listed.is_empty());
    for severity in ["low", "medium", "high", "critical"] {
        let raised = listed.iter().filter(|a| a["severity"] == severity).count();
        assert_eq!(
            delta(
                "flightrec_alerts_raised",
                "flightrec_alerts_raised_total",
                &[("severity", severity)]
            ),
            raised as f64,
            "{severity}"
        );
    }

    // The store's backlogs: the dead webhook's delivery waits; search and
    // checkpoints catch up with the writer.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = families(&s).await;
        let gauge = |family: &str| sample(&now, family, family, &[]);
        assert_eq!(gauge("flightrec_store_up"), 1.0);
        let settled = gauge("flightrec_webhook_backlog_deliveries") == listed.len() as f64
            && gauge("flightrec_search_backlog_records") == 0.0
            && gauge("flightrec_checkpoint_lag_seconds") == 0.0;
        if settled {
            assert!(gauge("flightrec_checkpoint_age_seconds") < 60.0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the backlogs never settled: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
