//! `GET /v1/events/stream`: the live tail of the log, through the real
//! server.

use crate::support::{API_KEY, Backend, Server};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(
    the_tail_sends_each_new_matching_record_once_and_resumes,
    the_tail_refuses_what_it_cannot_follow,
);

async fn open(s: &Server, query: &str, last_event_id: Option<u64>) -> reqwest::Response {
    let mut request = s
        .http
        .get(s.url(&format!("/v1/events/stream?{query}")))
        .bearer_auth(API_KEY);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    r
}

/// Reads the next `n` records of a stream: (their `id:` lines, their data).
async fn next_records(r: &mut reqwest::Response, n: usize) -> (Vec<u64>, Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut ids, mut data, mut buf) = (Vec::new(), Vec::new(), String::new());
    while ids.len() < n {
        let chunk = tokio::time::timeout_at(deadline.into(), r.chunk())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} records came in time: {data:?}", ids.len()))
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
            };
            match field("event:").as_deref() {
                None => {}
                Some("start") => continue,
                Some(other) => panic!("unexpected event {other}: {frame}"),
            }
            if let (Some(id), Some(payload)) = (field("id:"), field("data:")) {
                ids.push(id.parse().unwrap());
                data.push(serde_json::from_str(&payload).unwrap());
            }
        }
    }
    (ids, data)
}

/// Whether the stream sends nothing more within a while.
async fn stays_quiet(r: &mut reqwest::Response) -> bool {
    // Keep-alive comments (": …") are not records.
    let deadline = Instant::now() + Duration::from_millis(1500);
    while let Ok(chunk) = tokio::time::timeout_at(deadline.into(), r.chunk()).await {
        let chunk = chunk.unwrap().expect("the stream stays open");
        let text = String::from_utf8_lossy(&chunk);
        let records = text.split("\n\n").filter(|f| !f.contains("event: start"));
        if records.flat_map(str::lines).any(|l| l.starts_with("data:")) {
            return false;
        }
    }
    true
}

async fn post(s: &Server, events: Value) -> Vec<u64> {
    let (status, body) = s.post("/v1/events/batch", &events).await;
    assert_eq!(status, 201, "{body}");
    body["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect()
}

async fn the_tail_sends_each_new_matching_record_once_and_resumes(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let before = post(
        &s,
        json!([{"id": "old-1", "type": "deploy"}, {"id": "old-2", "type": "chat"}]),
    )
    .await;

    // Without a starting point, only what comes next; the stream says
    // where it starts.
    let mut tail = open(&s, "type=deploy", None).await;
    let first = String::from_utf8_lossy(&tail.chunk().await.unwrap().unwrap()).into_owned();
    assert_eq!(
        first,
        format!(
            "event: start\nid: {}\ndata: {{\"after_seq\":{}}}\n\n",
            before[1], before[1]
        )
    );
    assert!(stays_quiet(&mut tail).await, "an old record was sent");
    let seqs = post(
        &s,
        json!([
            {"id": "new-1", "type": "deploy", "status": "fail"},
            {"id": "new-2", "type": "chat"},
            {"id": "new-3", "type": "deploy"},
        ]),
    )
    .await;
    let more = post(&s, json!([{"id": "new-4", "type": "deploy"}])).await;
    let (ids, events) = next_records(&mut tail, 3).await;
    assert_eq!(ids, [seqs[0], seqs[2], more[0]]);
    let names: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["new-1", "new-3", "new-4"]);
    // The same JSON as GET /v1/events.
    let (_, listed) = s.get("/v1/events?type=deploy&limit=1").await;
    assert_eq!(listed["events"][0], events[2]);
    assert_eq!(events[0]["status"], "fail");
    assert!(stays_quiet(&mut tail).await, "a record was sent twice");
    drop(tail);

    // A client that reconnects with the last id it saw gets the rest, once.
    let mut resumed = open(&s, "type=deploy", Some(ids[0])).await;
    let (again, _) = next_records(&mut resumed, 2).await;
    assert_eq!(again, [seqs[2], more[0]]);
    assert!(stays_quiet(&mut resumed).await);
    drop(resumed);

    // `after_seq` starts anywhere before; other filters apply as GET
    // /v1/events applies them.
    let mut from_start = open(&s, &format!("after_seq={}&status=ok", before[0]), None).await;
    let (ids, events) = next_records(&mut from_start, 4).await;
    assert_eq!(ids, [before[1], seqs[1], seqs[2], more[0]]);
    assert!(events.iter().all(|e| e["status"] == "ok"));
}

async fn the_tail_refuses_what_it_cannot_follow(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    for (query, says) in [
        ("q=deploy", "`q` cannot be followed live"),
        ("after_seq=-1", "after_seq"),
        ("status=great", "status"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = s.get(&format!("/v1/events/stream?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    let r = s
        .http
        .get(s.url("/v1/events/stream"))
        .bearer_auth(API_KEY)
        .header("Last-Event-ID", "seven")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Last-Event-ID"),
        "{body}"
    );
}

/// `flightrec events tail`: the CLI follows the same stream.
#[tokio::test]
async fn the_cli_tails_the_log() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let (_store, s) = Server::start_on(Backend::Sqlite, &[], &[]);
    let before = post(&s, json!([{"id": "old", "type": "deploy"}])).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["events", "tail", "--type", "deploy", "--json"])
        .args(["--after-seq", &before[0].to_string()])
        .env("FLIGHTREC_SERVER", &s.base)
        .env("FLIGHTREC_API_KEY", API_KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    post(
        &s,
        json!([{"id": "a", "type": "deploy"}, {"id": "b", "type": "chat"}, {"id": "c", "type": "deploy"}]),
    )
    .await;
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("a line in time");
            let event: Value = serde_json::from_str(&line).unwrap();
            event["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids, ["a", "c"]);
    child.kill().unwrap();
    child.wait().unwrap();

    // What cannot be followed is said, not waited on.
    let (ok, _, err) = crate::support::cli(&s, &["events", "tail", "-q", "deploy"]);
    assert!(!ok);
    assert!(err.contains("`q` cannot be followed live"), "{err}");
}
