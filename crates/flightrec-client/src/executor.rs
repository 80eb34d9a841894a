//! Re-execution: running a recorded run's actions again against something
//! live (a workspace, an MCP server), to see whether they still work.
//!
//! Only actions that change something are re-run. Reads (`read_file`, tool
//! calls annotated `readOnlyHint`, and tool calls whose verb or tool name
//! says they only look) are skipped, as are actions a policy blocked or
//! ran dry, actions whose input held a credential (masked when recorded:
//! re-running them would use the placeholder), and actions that failed the
//! first time unless asked for.
//! Events that are not actions (thinking, messages, lifecycle) are passed
//! over, and so is a file operation recorded as the effect of a tool call
//! (its `parent_span_id` names the call's span): re-running the call
//! re-runs it.

use crate::client::Client;
use crate::error::Result;
use crate::replay::ReplayOptions;
use flightrec_core::event::Status;
use flightrec_core::replay::FILE_OPERATIONS;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// One recorded action, as an executor gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Its position in the run, from 0.
    pub index: u64,
    pub id: String,
    /// `tool_call`, `write_file`, `edit_file`, `file_edit`, `delete_file`.
    pub event_type: String,
    /// The tool (or verb) of a tool call.
    pub tool: Option<String>,
    pub input: Value,
    /// How it went when it was recorded.
    pub recorded_status: Status,
    /// The whole recorded event.
    pub event: Value,
}

/// Runs actions again. `Ok` carries what the action answered, `Err` why it
/// failed; [`Outcome::Skip`] is for actions this executor does not do.
pub trait Executor {
    fn execute(&mut self, action: &Action) -> impl Future<Output = Outcome> + Send;
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Fail(String),
    Skip(String),
}

/// An action and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionResult {
    pub action: Action,
    pub outcome: Outcome,
}

impl fmt::Display for ActionResult {
    /// `OK    #3  write_file src/a.rs`, with the reason after a failure or
    /// skip.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.action;
        let (label, why) = match &self.outcome {
            Outcome::Ok(_) => ("OK", None),
            Outcome::Fail(why) => ("FAIL", Some(why)),
            Outcome::Skip(why) => ("SKIP", Some(why)),
        };
        write!(f, "{label:<5} #{:<4} {}", a.index, describe(a))?;
        if let Some(why) = why {
            write!(f, " — {why}")?;
        }
        Ok(())
    }
}

fn describe(a: &Action) -> String {
    let target = ["path", "file_path", "command", "query", "url"]
        .iter()
        .find_map(|k| a.input.get(*k)?.as_str().map(str::to_owned));
    let name = a.tool.as_deref().unwrap_or(&a.event_type);
    match target {
        Some(t) => format!("{name} {t}"),
        None => name.to_owned(),
    }
}

/// Which actions to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReexecuteOptions {
    /// Also run the actions that failed when they were recorded.
    pub include_failed: bool,
}

/// The outcome of a whole re-execution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reexecution {
    pub results: Vec<ActionResult>,
}

impl Reexecution {
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Ok(_)))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }
    fn count(&self, which: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| which(&r.outcome)).count()
    }

    /// `Done — N succeeded, M failed.`
    pub fn summary(&self) -> String {
        format!(
            "Done — {} succeeded, {} failed.",
            self.succeeded(),
            self.failed()
        )
    }
}

/// The action a recorded event is, if it is one.
pub fn action_of(index: u64, event: &Value) -> Option<Action> {
    let event_type = event["type"].as_str()?;
    if event_type != "tool_call" && !FILE_OPERATIONS.contains(&event_type) {
        return None;
    }
    let tool = event["tool"]
        .as_str()
        .or_else(|| event["verb"].as_str())
        .map(str::to_owned);
    Some(Action {
        index,
        id: event["id"].as_str().unwrap_or_default().to_owned(),
        event_type: event_type.to_owned(),
        tool,
        input: event.get("input").cloned().unwrap_or(Value::Null),
        recorded_status: event["status"]
            .as_str()
            .and_then(Status::parse)
            .unwrap_or(Status::Ok),
        event: event.clone(),
    })
}

/// Why an action is not re-run, if it is not.
pub fn skip_reason(a: &Action, options: &ReexecuteOptions) -> Option<String> {
    if is_read_only(a) {
        return Some("read-only".into());
    }
    if masked_input(a) {
        // Re-running it would use the placeholder, not the secret.
        return Some("its input held a credential, masked when recorded".into());
    }
    let truncated = a.event["metadata"]["truncated"].as_array();
    if truncated.is_some_and(|keys| keys.iter().any(|k| k == "input")) {
        return Some("its input was too large to be recorded whole".into());
    }
    match a
        .event
        .pointer("/governance/status")
        .and_then(Value::as_str)
    {
        Some("blocked") => return Some("blocked by policy when recorded".into()),
        Some("dry_run") => return Some("a dry run when recorded".into()),
        _ if a.event["dry_run"] == true => return Some("a dry run when recorded".into()),
        _ => {}
    }
    if a.recorded_status == Status::Fail && !options.include_failed {
        return Some("failed when recorded".into());
    }
    None
}

/// Whether a credential in the action's input was masked, by the server
/// or by a recorder before it spooled the event.
fn masked_input(a: &Action) -> bool {
    [
        &a.event["redactions"],
        &a.event["metadata"]["masked_before_spooling"],
    ]
    .into_iter()
    .filter_map(Value::as_array)
    .flatten()
    .filter_map(|r| r["path"].as_str())
    .any(|p| p == "input" || p.starts_with("input.") || p.starts_with("input["))
}

/// Verbs and tool-name prefixes that only look.
const READ_ONLY: &[&str] = &[
    "read", "get", "list", "search", "find", "query", "fetch", "view", "show", "describe", "grep",
    "glob", "ls", "cat", "stat", "head", "tail",
];

fn is_read_only(a: &Action) -> bool {
    if a.event_type == "read_file" {
        return true;
    }
    if a.event_type != "tool_call" {
        return false;
    }
    // The tool's own word (MCP annotations, as the proxy records them).
    if let Some(hint) = a
        .event
        .pointer("/metadata/annotations/readOnlyHint")
        .and_then(Value::as_bool)
    {
        return hint;
    }
    let looks = |name: &str| {
        let first = name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        READ_ONLY.contains(&first.as_str())
    };
    a.event["verb"].as_str().is_some_and(looks) || a.tool.as_deref().is_some_and(looks)
}

/// Re-runs `events` (a run's, in order) with `executor`; `progress` sees
/// each result as it comes.
pub async fn reexecute<E: Executor>(
    events: impl IntoIterator<Item = (u64, Value)>,
    executor: &mut E,
    options: &ReexecuteOptions,
    progress: &mut (dyn FnMut(&ActionResult) + Send),
) -> Reexecution {
    let mut actions = Actions::default();
    let mut done = Reexecution::default();
    for (index, event) in events {
        if let Some(action) = actions.next(index, &event) {
            let result = run_one(action, executor, options).await;
            progress(&result);
            done.results.push(result);
        }
    }
    done
}

/// Re-runs `actions`, already picked out, in order; `progress` sees each
/// result as it comes.
pub async fn reexecute_actions<E: Executor>(
    actions: impl IntoIterator<Item = Action>,
    executor: &mut E,
    options: &ReexecuteOptions,
    progress: &mut (dyn FnMut(&ActionResult) + Send),
) -> Reexecution {
    let mut done = Reexecution::default();
    for action in actions {
        let result = run_one(action, executor, options).await;
        progress(&result);
        done.results.push(result);
    }
    done
}

/// Picks a run's actions out of its events, in order, leaving out the file
/// operations that are a recorded call's effect.
#[derive(Default)]
struct Actions {
    call_spans: HashSet<String>,
}

impl Actions {
    fn next(&mut self, index: u64, event: &Value) -> Option<Action> {
        let action = action_of(index, event)?;
        if action.event_type == "tool_call" {
            if let Some(span) = event["span_id"].as_str() {
                self.call_spans.insert(span.to_owned());
            }
        } else if event["parent_span_id"]
            .as_str()
            .is_some_and(|p| self.call_spans.contains(p))
        {
            return None;
        }
        Some(action)
    }
}

async fn run_one<E: Executor>(
    action: Action,
    executor: &mut E,
    options: &ReexecuteOptions,
) -> ActionResult {
    let outcome = match skip_reason(&action, options) {
        Some(why) => Outcome::Skip(why),
        None => executor.execute(&action).await,
    };
    ActionResult { action, outcome }
}

impl Client {
    /// Re-runs the recorded actions of `run_id` with `executor`, reading
    /// the run as it goes (not all at once).
    pub async fn reexecute<E: Executor>(
        &self,
        run_id: &str,
        executor: &mut E,
        options: &ReexecuteOptions,
        progress: &mut (dyn FnMut(&ActionResult) + Send),
    ) -> Result<Reexecution> {
        let mut replay = self.replay(
            run_id,
            ReplayOptions {
                speed: 10_000.0,
                max_gap: Duration::ZERO,
                follow: false,
                ..ReplayOptions::default()
            },
        )?;
        let mut actions = Actions::default();
        let mut done = Reexecution::default();
        while let Some(next) = replay.next().await {
            let e = next?;
            if let Some(action) = actions.next(e.index, &e.event) {
                let result = run_one(action, executor, options).await;
                progress(&result);
                done.results.push(result);
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Says which actions reached it.
    struct Seen(Vec<u64>);

    impl Executor for Seen {
        fn execute(&mut self, action: &Action) -> impl Future<Output = Outcome> + Send {
            self.0.push(action.index);
            std::future::ready(Outcome::Ok(Value::Null))
        }
    }

    #[tokio::test]
    async fn only_what_changed_something_and_was_allowed_is_run_again() {
        let events = [
            json!({"type": "start"}),
            // The tool says it only reads, whatever its name.
            json!({"type": "tool_call", "tool": "snapshot", "span_id": "s1",
                   "metadata": {"annotations": {"readOnlyHint": true}}}),
            // A name that looks like a read, annotated as a write.
            json!({"type": "tool_call", "tool": "get_or_create", "span_id": "s2",
                   "metadata": {"annotations": {"readOnlyHint": false}}}),
            json!({"type": "tool_call", "tool": "write_file", "span_id": "s3",
                   "input": {"path": "a", "content": "x"}}),
            // The file operation the call above amounted to: not run twice.
            json!({"type": "write_file", "parent_span_id": "s3", "input": {"path": "a", "content": "x"}}),
            json!({"type": "tool_call", "tool": "move_file", "status": "fail",
                   "governance": {"status": "blocked"}}),
            json!({"type": "tool_call", "tool": "create_directory", "dry_run": true,
                   "governance": {"status": "dry_run"}}),
            // A write of its own, recorded without a call.
            json!({"type": "write_file", "input": {"path": "b", "content": "y"}}),
            json!({"type": "tool_call", "tool": "deploy", "input": {"token": "[MASKED:password]"},
                   "redactions": [{"path": "input.token", "kind": "password"}]}),
            json!({"type": "tool_call", "tool": "write_file", "input": {"truncated": true},
                   "metadata": {"truncated": ["input"]}}),
        ];
        let mut seen = Seen(Vec::new());
        let options = ReexecuteOptions {
            include_failed: true,
        };
        let done = reexecute(
            events
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, e)| (i as u64, e)),
            &mut seen,
            &options,
            &mut |_| {},
        )
        .await;
        assert_eq!(seen.0, [2, 3, 7]);
        let skipped: Vec<(u64, String)> = done
            .results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Skip(why) => Some((r.action.index, why.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            skipped,
            [
                (1, "read-only".to_owned()),
                (5, "blocked by policy when recorded".to_owned()),
                (6, "a dry run when recorded".to_owned()),
                (
                    8,
                    "its input held a credential, masked when recorded".to_owned()
                ),
                (9, "its input was too large to be recorded whole".to_owned()),
            ]
        );
        assert_eq!(done.summary(), "Done — 3 succeeded, 0 failed.");
    }
}
