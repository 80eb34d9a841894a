//! The Rust SDK (`flightrec-client`) against the real server: batching,
//! retries across a killed server, idempotent ids, the bounded buffer, the
//! replay cursor on an injected clock, and re-execution.

use crate::replay::{coding_run, record};
use crate::support::{API_KEY, Server};
use flightrec_client::{
    Client, Error, Outcome, PaceClock, Recorder, RecorderConfig, ReexecuteOptions, ReplayOptions,
    RetryPolicy, Until, WorkspaceExecutor,
};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn client(s: &Server) -> Client {
    Client::new(&s.base, API_KEY)
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        })
}

async fn event_count(s: &Server, run: &str) -> u64 {
    let (status, run) = s.get(&format!("/v1/runs/{run}")).await;
    assert_eq!(status, 200, "{run}");
    run["event_count"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorder_batches_and_reports_what_it_could_not_send() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let config = RecorderConfig {
        batch_size: 50,
        flush_interval: Duration::from_millis(20),
        capacity: 400,
    };
    let recorder = Recorder::new(client(&s), config).unwrap();
    for i in 0..300 {
        let mut e =
            json!({"type": "thinking", "run_id": "sdk-batch", "content": format!("step {i}")});
        if i == 120 {
            e = json!({"type": 5, "run_id": "sdk-batch"}); // refused by the server
        }
        recorder.record(e).await.unwrap();
    }
    let report = recorder.flush().await.unwrap();
    assert_eq!(report.sent, 299);
    assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
    assert!(
        report.rejected[0].reason.contains("type"),
        "the reason names the field: {:?}",
        report.rejected[0]
    );
    assert_eq!(event_count(&s, "sdk-batch").await, 299);
    let stats = recorder.stats();
    assert_eq!((stats.sent, stats.rejected, stats.buffered), (299, 1, 0));

    // Events recorded after a flush go out on their own, within the interval.
    recorder
        .record(json!({"type": "complete", "run_id": "sdk-batch"}))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while event_count(&s, "sdk-batch").await < 300 {
        assert!(
            std::time::Instant::now() < deadline,
            "the interval flush never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closing = recorder.close().await.unwrap();
    assert_eq!(closing.sent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_is_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let api = client(&s);
    let mut events: Vec<Value> = (0..20)
        .map(|i| json!({"type": "tool_call", "run_id": "sdk-idem", "tool": "bash", "input": {"n": i}}))
        .collect();
    let first = api.record_batch(&mut events).await.unwrap();
    assert!(events.iter().all(|e| e["id"].is_string()), "ids were given");
    // The same batch again, as a retry after a lost answer would send it.
    let again = api.record_batch(&mut events).await.unwrap();
    assert_eq!(first, again, "the same receipts: nothing recorded twice");
    assert_eq!(event_count(&s, "sdk-idem").await, 20);
    let one = api.record(events[3].clone()).await.unwrap();
    assert_eq!(one, first[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_recorded_while_the_server_is_down_arrive_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    let base = s.base.clone();
    let config = RecorderConfig {
        batch_size: 10,
        flush_interval: Duration::from_millis(20),
        capacity: 30,
    };
    let recorder = Recorder::new(client(&s), config).unwrap();
    s.kill_hard();

    for i in 0..30 {
        recorder
            .try_record(
                json!({"type": "thinking", "run_id": "sdk-down", "content": format!("{i}")}),
            )
            .unwrap();
    }
    // The buffer is bounded: with the server away, it fills and refuses.
    match recorder.try_record(json!({"type": "thinking", "run_id": "sdk-down"})) {
        Err(Error::BufferFull { capacity: 30 }) => {}
        other => panic!("expected a full buffer, got {other:?}"),
    }
    match recorder.flush().await {
        Err(e) if e.is_retryable() => {
            assert!(e.to_string().contains("could not reach"), "{e}")
        }
        other => panic!("expected the server to be unreachable, got {other:?}"),
    }
    assert_eq!(recorder.stats().buffered, 30, "nothing was dropped");

    let s = Server::start_at(dir.path(), &base);
    let report = recorder.flush().await.unwrap();
    assert_eq!(report.sent, 30);
    assert!(report.rejected.is_empty());
    assert_eq!(event_count(&s, "sdk-down").await, 30);
    recorder.close().await.unwrap();
}

/// A clock that jumps to whatever time is waited for, and can be moved on
/// by hand: pacing is checked exactly, without waiting.
#[derive(Default)]
struct VirtualClock(AtomicU64);

impl VirtualClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl PaceClock for VirtualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
    fn sleep_until(&self, at: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.fetch_max(at.as_nanos() as u64, Ordering::SeqCst);
        Box::pin(async {})
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_cursor_paces_pauses_steps_and_seeks() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    // Nine events, two seconds apart; the last completes the run.
    record(&s, &coding_run("sdk-play")).await;
    let clock = Arc::new(VirtualClock::default());
    let options = ReplayOptions {
        speed: 2.0,
        ..ReplayOptions::default()
    };
    let mut replay = client(&s)
        .replay_with_clock("sdk-play", options, clock.clone())
        .unwrap();
    let mut shown = Vec::new();
    for _ in 0..3 {
        let e = replay.next().await.unwrap().unwrap();
        shown.push((e.index, clock.now().as_millis()));
    }
    assert_eq!(shown, [(0, 0), (1, 1000), (2, 2000)], "2 s gaps at speed 2");

    replay.set_speed(4.0).unwrap();
    let e = replay.next().await.unwrap().unwrap();
    assert_eq!((e.index, clock.now().as_millis()), (3, 2500));

    // Paused for 10 s: that time is not counted against the next gap.
    replay.pause();
    clock.advance(Duration::from_secs(10));
    // A step shows the next event at once, and the replay stays paused.
    replay.step();
    let e = replay.next().await.unwrap().unwrap();
    assert_eq!((e.index, clock.now().as_millis()), (4, 12_500));
    assert!(replay.control().is_paused());
    let control = replay.control();
    let resumer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        control.resume();
    });
    let e = replay.next().await.unwrap().unwrap();
    assert_eq!((e.index, clock.now().as_millis()), (5, 13_000));
    resumer.await.unwrap();

    // Seeking: to an event, and to a time (the first event after it).
    replay.seek_to_event(7);
    let e = replay.next().await.unwrap().unwrap();
    assert_eq!(
        replay.state().await.unwrap().events,
        8,
        "events 0–7 are behind the cursor"
    );
    assert_eq!((e.index, e.event_type()), (7, "write_file"));
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:05Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(replay.seek_to(at).await.unwrap(), 3);
    assert_eq!(replay.next().await.unwrap().unwrap().index, 3);
    assert_eq!(replay.state().await.unwrap().events, 4);

    // The state at a time: events 0–5 (10:00:00 to 10:00:10).
    let later = at + chrono::Duration::seconds(5);
    let state = replay.state_at(later).await.unwrap();
    assert_eq!(state.events, 6);
    assert_eq!(
        state.files["src/sum.rs"].content.as_deref(),
        Some("fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n")
    );

    // To the end: the run completed.
    let mut rest = Vec::new();
    while let Some(e) = replay.next().await {
        rest.push(e.unwrap().index);
    }
    assert_eq!(rest, [4, 5, 6, 7, 8]);
    assert_eq!(replay.end().unwrap().reason, "completed");
    assert_eq!(replay.end().unwrap().events, 9);

    // Bad input is refused before anything is sent.
    assert!(replay.set_speed(0.0).is_err());
    let mut missing = client(&s)
        .replay("no-such-run", ReplayOptions::default())
        .unwrap();
    match missing.next().await {
        Some(Err(Error::Api { status: 404, .. })) => {}
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reexecution_rebuilds_the_workspace_and_reports_each_action() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let run = "sdk-rerun";
    let events: Vec<Value> = [
        json!({"type": "start"}),
        json!({"type": "write_file", "input": {"path": "src/lib.rs", "content": "pub fn one() -> u32 { 1 }\n"}}),
        json!({"type": "read_file", "input": {"path": "src/lib.rs"}, "output": "pub fn one() -> u32 { 1 }\n"}),
        json!({"type": "thinking", "content": "add two"}),
        json!({"type": "edit_file", "input": {"path": "src/lib.rs", "old_str": "{ 1 }\n", "new_str": "{ 1 }\npub fn two() -> u32 { 2 }\n"}}),
        // Fails on re-execution: the text is not there.
        json!({"type": "edit_file", "input": {"path": "src/lib.rs", "old_str": "fn three", "new_str": "fn four"}}),
        // Failed when recorded: skipped unless asked.
        json!({"type": "write_file", "status": "fail", "input": {"path": "/etc/hosts", "content": "x"}}),
        json!({"type": "tool_call", "tool": "list_files", "input": {"path": "."}}),
        json!({"type": "tool_call", "tool": "bash", "input": {"command": "cargo test"}}),
        json!({"type": "write_file", "input": {"path": "NOTES.md", "content": "done\n"}}),
        json!({"type": "delete_file", "input": {"path": "NOTES.md"}}),
        json!({"type": "complete"}),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, mut e)| {
        e["run_id"] = json!(run);
        e["time"] = json!(format!("2026-11-22T11:00:{i:02}Z"));
        e
    })
    .collect();
    record(&s, &events).await;

    let workspace = tempfile::tempdir().unwrap();
    let mut executor = WorkspaceExecutor::new(workspace.path());
    let mut lines = Vec::new();
    let done = client(&s)
        .reexecute(run, &mut executor, &ReexecuteOptions::default(), &mut |r| {
            lines.push(r.to_string())
        })
        .await
        .unwrap();
    assert_eq!(
        lines,
        [
            "OK    #1    write_file src/lib.rs",
            "SKIP  #2    read_file src/lib.rs — read-only",
            "OK    #4    edit_file src/lib.rs",
            "FAIL  #5    edit_file src/lib.rs — edit of src/lib.rs failed: old_str was not found in the file",
            "SKIP  #6    write_file /etc/hosts — failed when recorded",
            "SKIP  #7    list_files . — read-only",
            "SKIP  #8    bash cargo test — not a file action",
            "OK    #9    write_file NOTES.md",
            "OK    #10   delete_file NOTES.md",
        ]
    );
    assert_eq!(done.summary(), "Done — 4 succeeded, 1 failed.");
    assert!(matches!(done.results[0].outcome, Outcome::Ok(_)));

    // What re-execution left on disk is what the server says the run had.
    let end = client(&s).run_state(run, Until::End).await.unwrap();
    let known: Vec<&String> = end
        .files
        .iter()
        .filter(|(_, f)| f.known)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(known, ["src/lib.rs"], "the failed write is listed, unknown");
    let on_disk = std::fs::read_to_string(workspace.path().join("src/lib.rs")).unwrap();
    assert_eq!(
        Some(on_disk.as_str()),
        end.files["src/lib.rs"].content.as_deref()
    );
    assert!(!workspace.path().join("NOTES.md").exists());
}
