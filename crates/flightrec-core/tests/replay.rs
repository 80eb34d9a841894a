//! The replay fold against runs checked by hand.

use flightrec_core::event::{Event, Limits, parse_event};
use flightrec_core::replay::{ChangeKind, Role, RunState, RunStatus, Step, Timeline, fold};
use serde_json::{Value, json};

fn events(values: Vec<Value>) -> Vec<Event> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            v["time"] = json!(format!("2026-11-22T10:00:{i:02}Z"));
            parse_event(v, chrono::Utc::now(), &Limits::default(), || {
                format!("e{i}")
            })
            .unwrap()
        })
        .collect()
}

fn times(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| flightrec_core::event::format_time(&e.time))
        .collect()
}

/// The events as the fold reads them, `seq` from 100.
fn steps<'a>(events: &'a [Event], times: &'a [String]) -> impl Iterator<Item = Step<'a>> {
    events
        .iter()
        .zip(times)
        .enumerate()
        .map(|(i, (e, time))| Step {
            index: i as u64,
            seq: 100 + i as u64,
            time,
            event_type: &e.event_type,
            status: e.status,
            body: &e.body,
        })
}

fn state(events: &[Event], upto: usize) -> RunState {
    let times = times(events);
    fold(steps(events, &times).take(upto + 1))
}

fn coding_run() -> Vec<Event> {
    events(vec![
        json!({"type": "start"}),
        json!({"type": "user_input", "content": "the total is off by one"}),
        json!({"type": "read_file", "input": {"path": "src/sum.rs"},
               "output": "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n"}),
        json!({"type": "thinking", "content": "the range should include n"}),
        // 4: an edit whose old_str is not in the file
        json!({"type": "edit_file", "input": {"path": "src/sum.rs", "old_str": "(0..n).product()", "new_str": "(1..=n).product()"}}),
        // 5: the right edit
        json!({"type": "edit_file", "input": {"path": "src/sum.rs", "old_str": "(0..n)", "new_str": "(0..=n)"}}),
        // 6: a new file, as a unified diff
        json!({"type": "edit_file", "resource": {"type": "file", "id": "tests/sum.rs"},
               "input": {"diff": "--- /dev/null\n+++ b/tests/sum.rs\n@@ -0,0 +1,2 @@\n+#[test]\n+fn three() { assert_eq!(total(3), 6); }\n"}}),
        json!({"type": "tool_call", "tool": "bash", "input": {"command": "cargo test"}, "output": {"exit_code": 0}}),
        // 8: a patch to the file it just made
        json!({"type": "edit_file", "input": {"path": "tests/sum.rs",
               "diff": "@@ -2,1 +2,1 @@\n-fn three() { assert_eq!(total(3), 6); }\n+fn four() { assert_eq!(total(4), 10); }\n"}}),
        json!({"type": "write_file", "input": {"path": "NOTES.md", "content": "fixed\n"}}),
        json!({"type": "delete_file", "input": {"path": "NOTES.md"}}),
        json!({"type": "edit_file", "input": {"path": "README.md", "old_str": "a", "new_str": "b"}}),
        json!({"type": "complete"}),
    ])
}

#[test]
fn a_coding_run_checked_by_hand() {
    let run = coding_run();
    let end = state(&run, run.len() - 1);
    assert_eq!(end.status, Some(RunStatus::Completed));
    assert_eq!(end.events, 13);
    assert_eq!(
        end.files["src/sum.rs"].content.as_deref(),
        Some("fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n")
    );
    assert_eq!(
        end.files["src/sum.rs"].edits, 1,
        "the failed edit changed nothing"
    );
    assert_eq!(
        end.files["tests/sum.rs"].content.as_deref(),
        Some("#[test]\nfn four() { assert_eq!(total(4), 10); }\n")
    );
    assert!(!end.files.contains_key("NOTES.md"), "deleted");
    let readme = &end.files["README.md"];
    assert!(
        !readme.known && readme.content.is_none(),
        "edited without ever being read"
    );

    let problems: Vec<(u64, &str)> = end
        .problems
        .iter()
        .map(|p| (p.index, p.message.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                4,
                "edit of src/sum.rs failed: old_str was not found in the file"
            ),
            (
                11,
                "edit of README.md, whose content the run never saw; its new content is unknown"
            ),
        ]
    );
    let fix = end.changes.iter().find(|c| c.index == 5).unwrap();
    assert_eq!(
        fix.diff,
        "--- a/src/sum.rs\n+++ b/src/sum.rs\n@@ -1,3 +1,3 @@\n fn total(n: u32) -> u32 {\n-    (0..n).sum()\n+    (0..=n).sum()\n }\n"
    );
    assert!(!end.changes.iter().find(|c| c.index == 4).unwrap().applied);
    let kinds: Vec<ChangeKind> = end.changes.iter().map(|c| c.kind).collect();
    use ChangeKind::*;
    assert_eq!(kinds, [Edit, Edit, Edit, Edit, Write, Delete, Edit]);

    let roles: Vec<(&str, Role)> = end
        .context
        .iter()
        .map(|c| (c.event_type.as_str(), c.role))
        .collect();
    assert_eq!(
        roles[..4],
        [
            ("user_input", Role::User),
            ("read_file", Role::Tool),
            ("thinking", Role::Assistant),
            ("edit_file", Role::Tool)
        ]
    );
    let bash = end
        .context
        .iter()
        .find(|c| c.event_type == "tool_call")
        .unwrap();
    assert_eq!(
        (bash.tool.as_deref(), bash.output.clone()),
        (Some("bash"), Some(json!({"exit_code": 0})))
    );
}

#[test]
fn the_state_at_each_event_only_knows_what_came_before() {
    let run = coding_run();
    let at3 = state(&run, 3);
    assert_eq!(at3.status, Some(RunStatus::Running));
    assert_eq!(
        at3.files["src/sum.rs"].content.as_deref(),
        Some("fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n")
    );
    assert_eq!(
        at3.context.last().unwrap().text.as_deref(),
        Some("the range should include n")
    );
    assert!(at3.changes.is_empty() && at3.problems.is_empty());
    // Each step adds exactly one event to the one before.
    for i in 1..run.len() {
        let (before, after) = (state(&run, i - 1), state(&run, i));
        assert_eq!(after.events, before.events + 1);
        assert!(after.context.len() >= before.context.len());
        assert_eq!(after.context[..before.context.len()], before.context[..]);
        assert_eq!(after.changes[..before.changes.len()], before.changes[..]);
    }
}

#[test]
fn failed_file_operations_change_nothing() {
    let run = events(vec![
        json!({"type": "write_file", "input": {"path": "a.txt", "content": "one\n"}}),
        json!({"type": "write_file", "status": "fail", "input": {"path": "a.txt", "content": "two\n"}}),
        json!({"type": "delete_file", "status": "fail", "input": {"path": "a.txt"}}),
        json!({"type": "error", "error": {"message": "disk full"}}),
    ]);
    let end = state(&run, 3);
    assert_eq!(end.files["a.txt"].content.as_deref(), Some("one\n"));
    assert_eq!(end.status, Some(RunStatus::Failed));
    assert!(end.problems.is_empty());
    assert_eq!(
        end.context.last().unwrap().text.as_deref(),
        Some("disk full")
    );
}

#[test]
fn a_timeline_answers_what_folding_each_prefix_does() {
    let run = coding_run();
    let times = times(&run);
    let mut timeline = Timeline::default();
    assert_eq!(
        serde_json::to_value(timeline.view(None)).unwrap(),
        serde_json::to_value(RunState::default()).unwrap()
    );
    for step in steps(&run, &times) {
        timeline.push(&step);
    }
    for (n, time) in times.iter().enumerate() {
        let folded = state(&run, n);
        let view = timeline.view(Some(n as u64));
        assert_eq!(view.to_state(), folded, "after event {n}");
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            serde_json::to_string(&folded).unwrap(),
            "the view serialises as the state after event {n}"
        );
        assert_eq!(timeline.index_at(time), Some(n as u64));
    }
    assert_eq!(timeline.index_at("2026-11-22T09:00:00.000000Z"), None);
    assert_eq!(timeline.last_key(), Some((times[12].as_str(), 112)));
    assert!(timeline.approx_bytes() > 1000);
}

#[test]
fn states_read_back_from_their_json() {
    let end = state(&coding_run(), 12);
    let json = serde_json::to_string(&end).unwrap();
    assert_eq!(serde_json::from_str::<RunState>(&json).unwrap(), end);
    let before: RunState = serde_json::from_value(json!({"events": 0, "last_index": null,
        "last_seq": null, "last_time": null, "status": "not_started", "files": {},
        "context": [], "changes": [], "problems": []}))
    .unwrap();
    assert_eq!(before, RunState::default());
}
