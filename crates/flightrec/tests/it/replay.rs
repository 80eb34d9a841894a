//! Run state, replay, span trees and parent chains through the real
//! server.

use crate::support::{API_KEY, Backend, Server};
use flightrec_core::event::Body;
use flightrec_core::record::Header;
use flightrec_core::replay::{Step, fold};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn coding_run(run: &str) -> Vec<Value> {
    let events = vec![
        json!({"type": "start", "span_id": "root"}),
        json!({"type": "user_input", "span_id": "root", "content": "the total is off by one"}),
        json!({"type": "read_file", "span_id": "s1", "parent_span_id": "root", "input": {"path": "src/sum.rs"},
               "output": "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n"}),
        json!({"type": "thinking", "span_id": "s2", "parent_span_id": "root", "content": "the range should include n"}),
        json!({"type": "edit_file", "span_id": "s3", "parent_span_id": "s2", "input": {"path": "src/sum.rs", "old_str": "(0..n).product()", "new_str": "x"}}),
        json!({"type": "edit_file", "span_id": "s3", "parent_span_id": "s2", "input": {"path": "src/sum.rs", "old_str": "(0..n)", "new_str": "(0..=n)"}}),
        json!({"type": "tool_call", "span_id": "s4", "parent_span_id": "s3", "tool": "bash", "input": {"command": "cargo test"}, "output": {"exit_code": 0}}),
        json!({"type": "write_file", "input": {"path": "NOTES.md", "content": "fixed\n"}}),
        json!({"type": "complete", "span_id": "root"}),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e["run_id"] = json!(run);
            e["id"] = json!(format!("{run}-{i}"));
            e["time"] = json!(format!("2026-11-22T10:00:{:02}Z", i * 2));
            e
        })
        .collect()
}

pub async fn record(s: &Server, events: &[Value]) {
    let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
    assert_eq!(status, 201, "{body}");
}

/// The server's events of a run, as the fold reads them.
async fn run_events(s: &Server, run: &str) -> Vec<(Header, Body)> {
    let (_, page) = s.get(&format!("/v1/runs/{run}?include=audit_log")).await;
    page["audit_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            const HEADER: [&str; 10] = [
                "id",
                "seq",
                "time",
                "received_at",
                "type",
                "run_id",
                "span_id",
                "parent_span_id",
                "status",
                "submitted_by",
            ];
            let mut header: serde_json::Map<String, Value> = e
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| HEADER.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let version = if header.contains_key("submitted_by") {
                2
            } else {
                1
            };
            header.insert("v".into(), json!(version));
            header.insert("tenant".into(), json!("default"));
            header.insert("body_hash".into(), json!("00"));
            let header = Value::Object(header);
            let body_fields: serde_json::Map<String, Value> = e
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| !HEADER.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let h = Header::from_json(&header).unwrap();
            (
                h,
                serde_json::from_value(Value::Object(body_fields)).unwrap(),
            )
        })
        .collect()
}

async fn state_at_every_event_is_the_fold_of_its_prefix(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    record(&s, &coding_run("fix-1")).await;
    let events = run_events(&s, "fix-1").await;
    assert_eq!(events.len(), 9);
    for n in 0..events.len() {
        let expected = fold(events[..=n].iter().enumerate().map(|(i, (h, b))| Step {
            index: i as u64,
            seq: h.seq,
            time: &h.time,
            event_type: &h.event_type,
            status: h.status,
            body: b,
        }));
        let (status, by_index) = s.get(&format!("/v1/runs/fix-1/state?event={n}")).await;
        assert_eq!(status, 200, "{by_index}");
        let mut want = serde_json::to_value(&expected).unwrap();
        want["run_id"] = json!("fix-1");
        assert_eq!(by_index, want, "state at event {n}");
        let at = &events[n].0.time;
        let (_, by_time) = s.get(&format!("/v1/runs/fix-1/state?at={at}")).await;
        assert_eq!(by_time, by_index, "?at= and ?event= agree at {n}");
    }
    let (_, end) = s.get("/v1/runs/fix-1/state").await;
    assert_eq!(end["status"], "completed");
    assert_eq!(
        end["files"]["src/sum.rs"]["content"],
        "fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n"
    );
    assert_eq!(
        end["problems"][0]["message"],
        "edit of src/sum.rs failed: old_str was not found in the file"
    );
    let (_, before) = s.get("/v1/runs/fix-1/state?at=2026-11-22T09:00:00Z").await;
    assert_eq!(
        (before["events"].clone(), before["status"].clone()),
        (json!(0), json!("not_started"))
    );

    for (path, code) in [
        ("/v1/runs/fix-1/state?event=9", 400),
        ("/v1/runs/fix-1/state?event=1&at=2026-11-22T10:00:00Z", 400),
        ("/v1/runs/fix-1/state?event=-1", 400),
        ("/v1/runs/fix-1/state?at=yesterday-ish", 400),
        ("/v1/runs/nope/state", 404),
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, code, "{path}: {body}");
        assert!(body["error"].is_string());
    }
}

async fn span_tree_and_parent_chain(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    record(&s, &coding_run("fix-2")).await;
    let (status, tree) = s.get("/v1/runs/fix-2/tree").await;
    assert_eq!(status, 200, "{tree}");
    let root = &tree["spans"][0];
    assert_eq!(
        (
            tree["spans"].as_array().unwrap().len(),
            root["span_id"].as_str()
        ),
        (1, Some("root"))
    );
    let kids: Vec<&str> = root["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["span_id"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["s1", "s2"]);
    let s3 = &root["children"][1]["children"][0];
    assert_eq!(
        (
            s3["span_id"].as_str(),
            s3["events"].as_array().unwrap().len()
        ),
        (Some("s3"), 2)
    );
    assert_eq!(s3["children"][0]["name"], "bash");
    assert_eq!(tree["events_without_span"].as_array().unwrap().len(), 1);

    let (status, chain) = s.get("/v1/events/fix-2-6/parents").await;
    assert_eq!(status, 200, "{chain}");
    let ids: Vec<&str> = chain["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["fix-2-4", "fix-2-3", "fix-2-0"],
        "s3's opener, s2, root"
    );
    let (status, _) = s.get("/v1/events/nope/parents").await;
    assert_eq!(status, 404);
    let (status, _) = s.get("/v1/runs/nope/tree").await;
    assert_eq!(status, 404);

    // A claimed duration of 1e300 ms once overflowed the tree's arithmetic
    // (regression): the span saturates instead.
    let (status, body) = s
        .post(
            "/v1/events",
            &json!({"type": "tool_call", "run_id": "huge", "span_id": "h1", "duration_ms": 1e300}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, tree) = s.get("/v1/runs/huge/tree").await;
    assert_eq!(status, 200, "{tree}");
}

/// Reads an SSE response until `end`; (event ids, data lines, the end's data).
pub(crate) async fn read_sse(
    mut r: reqwest::Response,
    limit: Duration,
) -> (Vec<u64>, Vec<Value>, Option<Value>) {
    let deadline = Instant::now() + limit;
    let (mut ids, mut data, mut buf) = (Vec::new(), Vec::new(), String::new());
    loop {
        let chunk = tokio::time::timeout_at(deadline.into(), r.chunk())
            .await
            .expect("the stream ended in time")
            .unwrap();
        let Some(chunk) = chunk else {
            return (ids, data, None);
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
            };
            let payload = field("data:");
            match field("event:").as_deref() {
                Some("end") => {
                    return (
                        ids,
                        data,
                        payload.map(|p| serde_json::from_str(&p).unwrap()),
                    );
                }
                Some(other) => panic!("unexpected event {other}: {frame}"),
                None => {
                    if let (Some(id), Some(p)) = (field("id:"), payload) {
                        ids.push(id.parse().unwrap());
                        data.push(serde_json::from_str(&p).unwrap());
                    }
                }
            }
        }
    }
}

pub(crate) async fn open_replay(s: &Server, query: &str) -> reqwest::Response {
    let r = s
        .http
        .get(s.url(&format!("/v1/runs/{query}")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    r
}

async fn replay_is_ordered_paced_and_follows_a_live_run(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    record(&s, &coding_run("fix-3")).await;

    let (ids, events, end) = read_sse(
        open_replay(&s, "fix-3/replay?speed=1000").await,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(ids, (0..9).collect::<Vec<u64>>());
    let names: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        (0..9).map(|i| format!("fix-3-{i}")).collect::<Vec<_>>()
    );
    assert_eq!(end.unwrap()["reason"], "completed");

    // Events 2 s apart at speed 8: at least 250 ms between each.
    let started = Instant::now();
    let (ids, _, _) = read_sse(
        open_replay(&s, "fix-3/replay?speed=8&from_event=5").await,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(ids, [5, 6, 7, 8]);
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
    // An hour's gap is capped.
    let far = vec![
        json!({"id": "far-0", "type": "start", "run_id": "far", "time": "2026-11-22T10:00:00Z"}),
        json!({"id": "far-1", "type": "complete", "run_id": "far", "time": "2026-11-22T11:00:00Z"}),
    ];
    record(&s, &far).await;
    let (ids, _, _) = read_sse(
        open_replay(&s, "far/replay?max_gap_ms=50").await,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(ids, [0, 1]);

    // A run still being written is followed until it completes.
    record(
        &s,
        &[json!({"id": "live-0", "type": "start", "run_id": "live"})],
    )
    .await;
    let stream = open_replay(&s, "live/replay?speed=1000").await;
    let reader = tokio::spawn(read_sse(stream, Duration::from_secs(20)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    record(
        &s,
        &[json!({"id": "live-1", "type": "thinking", "run_id": "live", "content": "still here"})],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    record(
        &s,
        &[json!({"id": "live-2", "type": "complete", "run_id": "live"})],
    )
    .await;
    let (ids, events, end) = reader.await.unwrap();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(events[1]["content"], "still here");
    assert_eq!(end.unwrap()["reason"], "completed");

    for (q, code) in [
        ("fix-3/replay?speed=0", 400),
        // Once panicked the replay producer (regression).
        ("fix-3/replay?speed=1e-300", 400),
        ("fix-3/replay?follow=maybe", 400),
        ("nope/replay", 404),
    ] {
        let (status, _) = s.get(&format!("/v1/runs/{q}")).await;
        assert_eq!(status, code, "{q}");
    }
}

async fn the_runs_commands_show_state_export_and_replay(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_store, s) = Server::start_on(backend, &[], &[]);
    record(&s, &coding_run("cli")).await;

    let (ok, out, err) = crate::support::cli(&s, &["runs", "replay", "cli", "--speed", "1000"]);
    assert!(ok, "{err}");
    let snapshot = include_str!("snapshots/runs_replay.txt");
    assert_eq!(out, snapshot);

    let (ok, out, err) = crate::support::cli(&s, &["runs", "state", "cli", "--event", "5"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(
            "run cli  ·  6 events  ·  running  ·  through event 5 at 2026-11-22T10:00:10.000000Z"
        ),
        "{out}"
    );
    assert!(out.contains("src/sum.rs  3 lines"), "{out}");
    assert!(
        out.contains("edit of src/sum.rs failed: old_str was not found in the file"),
        "{out}"
    );
    let (ok, out, _) = crate::support::cli(&s, &["runs", "state", "cli", "--json"]);
    assert!(ok);
    let state: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(state["status"], "completed");

    let file = dir.path().join("cli.csv");
    let (ok, _, err) = crate::support::cli(
        &s,
        &[
            "runs",
            "export",
            "cli",
            "--format",
            "csv",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(err.contains("wrote") && err.contains("csv"), "{err}");
    let rows = csv::Reader::from_path(&file).unwrap().records().count();
    assert_eq!(rows, 9);

    let (ok, _, err) = crate::support::cli(&s, &["runs", "state", "cli", "--event", "99"]);
    assert!(!ok);
    assert!(err.contains("past the run's end"), "{err}");
    let (ok, _, err) = crate::support::cli(&s, &["runs", "export", "nope"]);
    assert!(!ok);
    assert!(err.contains("no run"), "{err}");
}

on_both_backends!(
    state_at_every_event_is_the_fold_of_its_prefix,
    span_tree_and_parent_chain,
    replay_is_ordered_paced_and_follows_a_live_run,
    the_runs_commands_show_state_export_and_replay,
);
