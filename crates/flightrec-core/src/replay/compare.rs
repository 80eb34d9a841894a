//! Two runs side by side, for "what did the failing run do differently?":
//! their events aligned step by step, and the files that ended different.
//!
//! Steps align on what each did (its type, tool and file), not on when or
//! with what words, so two runs of one task line up where they took the
//! same action and part where one did something the other did not.

use super::diff::{Aligned, align, unified_diff};
use super::fold::{Step, file_path};
use super::state::RunState;

/// What a step did, for aligning it with the other run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepKey {
    pub event_type: String,
    /// The tool called, when the event names one.
    pub tool: Option<String>,
    /// The file operated on, when the event names one.
    pub path: Option<String>,
}

impl StepKey {
    pub fn of(step: &Step<'_>) -> StepKey {
        StepKey {
            event_type: step.event_type.to_owned(),
            tool: step.body.tool.clone(),
            path: file_path(step.body),
        }
    }
}

/// The runs' steps in aligned order: a row per pair, or per step that only
/// one run took.
pub fn align_steps(a: &[StepKey], b: &[StepKey]) -> Vec<Aligned> {
    align(a, b)
}

/// How a file ended in the two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Only the first run touched it.
    OnlyA,
    OnlyB,
    /// Both ended with the same content.
    Same,
    /// Both saw all of it, and it differs: the unified diff from A to B.
    Different(String),
    /// At least one run never saw all of it, so the contents cannot be
    /// compared.
    Unknown,
}

/// Every file either run touched, by path, with how it ended.
pub fn compare_files(a: &RunState, b: &RunState) -> Vec<(String, FileOutcome)> {
    let mut paths: Vec<&String> = a.files.keys().chain(b.files.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|path| {
            let outcome = match (a.files.get(path), b.files.get(path)) {
                (Some(_), None) => FileOutcome::OnlyA,
                (None, Some(_)) => FileOutcome::OnlyB,
                (Some(fa), Some(fb)) => match (&fa.content, &fb.content) {
                    (Some(ca), Some(cb)) if ca == cb => FileOutcome::Same,
                    (Some(ca), Some(cb)) => FileOutcome::Different(unified_diff(path, ca, cb)),
                    _ => FileOutcome::Unknown,
                },
                (None, None) => unreachable!("a path of one of the two"),
            };
            (path.clone(), outcome)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, Status};
    use crate::replay::fold;
    use serde_json::json;

    fn body(v: serde_json::Value) -> Body {
        serde_json::from_value(v).unwrap()
    }

    fn steps<'a>(bodies: &'a [(&'static str, Body)]) -> Vec<Step<'a>> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, (t, b))| Step {
                index: i as u64,
                seq: i as u64,
                time: "2026-11-22T10:00:00Z",
                event_type: t,
                status: Status::Ok,
                body: b,
            })
            .collect()
    }

    #[test]
    fn steps_align_on_what_they_did_and_files_on_how_they_ended() {
        let read = |p: &str, c: &str| body(json!({"input": {"path": p}, "output": c}));
        let write = |p: &str, c: &str| body(json!({"input": {"path": p, "content": c}}));
        let a = [
            ("start", body(json!({}))),
            ("read_file", read("src/a.rs", "one\n")),
            ("tool_call", body(json!({"tool": "bash"}))),
            ("write_file", write("src/a.rs", "two\n")),
            ("write_file", write("only-a.txt", "x")),
            ("complete", body(json!({}))),
        ];
        let b = [
            ("start", body(json!({}))),
            ("read_file", read("src/a.rs", "one\n")),
            ("thinking", body(json!({"content": "hm"}))),
            ("tool_call", body(json!({"tool": "grep"}))),
            ("write_file", write("src/a.rs", "three\n")),
            ("read_file", read("same.txt", "s")),
            ("complete", body(json!({}))),
        ];
        let (sa, sb) = (steps(&a), steps(&b));
        let keys = |s: &[Step<'_>]| s.iter().map(StepKey::of).collect::<Vec<_>>();
        use Aligned::*;
        assert_eq!(
            align_steps(&keys(&sa), &keys(&sb)),
            [
                Both(0, 0),
                Both(1, 1),
                OnlyA(2),
                OnlyB(2),
                OnlyB(3),
                Both(3, 4),
                OnlyA(4),
                OnlyB(5),
                Both(5, 6),
            ]
        );
        let mut with_same = a.to_vec();
        with_same.insert(5, ("read_file", read("same.txt", "s")));
        let files = compare_files(&fold(steps(&with_same)), &fold(sb));
        let outcome = |p: &str| files.iter().find(|(f, _)| f == p).map(|(_, o)| o.clone());
        assert_eq!(outcome("only-a.txt"), Some(FileOutcome::OnlyA));
        assert_eq!(outcome("same.txt"), Some(FileOutcome::Same));
        let Some(FileOutcome::Different(diff)) = outcome("src/a.rs") else {
            panic!("{files:?}")
        };
        assert!(diff.contains("-two\n+three\n"), "{diff}");
        assert_eq!(files.len(), 3);
    }

    #[test]
    fn a_file_one_run_never_saw_whole_cannot_be_compared() {
        let edit = body(json!({"input": {"path": "f", "old_str": "a", "new_str": "b"}}));
        let write = body(json!({"input": {"path": "f", "content": "b"}}));
        let a = [("edit_file", edit)];
        let b = [("write_file", write)];
        let files = compare_files(&fold(steps(&a)), &fold(steps(&b)));
        assert_eq!(files, [("f".to_owned(), FileOutcome::Unknown)]);
    }
}
