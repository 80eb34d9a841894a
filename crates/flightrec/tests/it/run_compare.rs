//! `GET /v1/runs/{id}/compare?with=`: two runs side by side, through the
//! real server.

use crate::replay::{coding_run, record};
use crate::support::{Backend, Server};
use serde_json::{Value, json};

on_both_backends!(two_runs_are_aligned_by_step_with_the_files_that_ended_different);

/// The coding run again, but the fix goes wrong: another edit, a failing
/// test, and no notes.
fn failing_run(run: &str) -> Vec<Value> {
    let mut events = coding_run(run);
    events[5]["input"]["new_str"] = json!("(1..n)");
    events[6]["status"] = json!("fail");
    events[6]["output"] = json!({"exit_code": 101});
    events.remove(7); // write_file NOTES.md
    events
}

async fn two_runs_are_aligned_by_step_with_the_files_that_ended_different(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    record(&s, &coding_run("good")).await;
    record(&s, &failing_run("bad")).await;

    let (status, c) = s.get("/v1/runs/good/compare?with=bad").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["a"]["run_id"], "good");
    assert_eq!(
        (
            c["a"]["event_count"].as_u64(),
            c["b"]["event_count"].as_u64()
        ),
        (Some(9), Some(8))
    );
    let steps = c["steps"].as_array().unwrap();
    let side = |row: &Value, k: &str| row[k]["index"].as_u64();
    let pairs: Vec<(Option<u64>, Option<u64>)> =
        steps.iter().map(|r| (side(r, "a"), side(r, "b"))).collect();
    // Every step pairs with its twin but the notes, which only A wrote.
    assert_eq!(
        pairs,
        [
            (Some(0), Some(0)),
            (Some(1), Some(1)),
            (Some(2), Some(2)),
            (Some(3), Some(3)),
            (Some(4), Some(4)),
            (Some(5), Some(5)),
            (Some(6), Some(6)),
            (Some(7), None),
            (Some(8), Some(7)),
        ]
    );
    // They part where the test failed in B: same step, other outcome.
    assert_eq!(c["first_difference"], 6);
    assert_eq!(steps[6]["b"]["status"], "fail");
    assert_eq!(steps[6]["a"]["tool"], "bash");
    assert_eq!(steps[7]["a"]["path"], "NOTES.md");
    let differs: Vec<bool> = steps
        .iter()
        .map(|r| r["differs"].as_bool().unwrap())
        .collect();
    assert_eq!(
        differs,
        [false, false, false, false, false, false, true, true, false]
    );

    let files = c["files"].as_array().unwrap();
    let outcome = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| (f["outcome"].as_str().unwrap().to_owned(), f["diff"].clone()))
    };
    let (sum, diff) = outcome("src/sum.rs").unwrap();
    assert_eq!(sum, "different");
    assert!(
        diff.as_str()
            .unwrap()
            .contains("-    (0..=n).sum()\n+    (1..n).sum()\n"),
        "{diff}"
    );
    assert_eq!(outcome("NOTES.md").unwrap().0, "only_a");
    assert_eq!(files.len(), 2);

    // A run compared with itself does not part.
    let (_, same) = s.get("/v1/runs/bad/compare?with=bad").await;
    assert_eq!(same["first_difference"], Value::Null);
    assert!(
        same["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "same")
    );

    let (status, body) = s.get("/v1/runs/good/compare").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("`with`"), "{body}");
    let (status, body) = s.get("/v1/runs/good/compare?with=nowhere").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("nowhere"),
        "{body}"
    );
}
