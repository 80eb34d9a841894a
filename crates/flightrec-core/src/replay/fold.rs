//! The fold: a run's state after each event, from the one before.
//!
//! Accepted shapes (documented with examples in docs/replay.md):
//! - a file's path: `input.path` (or `file_path`, `filepath`, `filename`,
//!   `file`), else `resource.id` when `resource.type` is `file`, else
//!   `metadata.path`;
//! - `read_file`: the content in `output` (a string, or `output.content`
//!   / `text`), else `metadata.content`;
//! - `write_file`: the content in `input.content` (or `text`), else
//!   `metadata.content` / `metadata.after`;
//! - `edit_file` / `file_edit`: the whole new content (`input.content`,
//!   `new_content`, or `metadata.after`), or `input.old_str` + `new_str`
//!   (also `old_string` / `new_string`, with `replace_all`), or a unified
//!   diff in `input.diff` (or `patch`);
//! - `delete_file`: the path.
//!
//! A file operation whose event failed (`status: fail`) changed nothing.

use super::diff::unified_diff;
use super::edit::edited;
use super::state::*;
use crate::event::{Body, Status};
use serde_json::{Value, json};

/// The event types that operate on a file, each naming it by one of
/// [`FILE_PATH_KEYS`] (or its resource or metadata).
pub const FILE_OPERATIONS: &[&str] = &[
    "read_file",
    "write_file",
    "edit_file",
    "file_edit",
    "delete_file",
];

/// Where in `input` a file operation names its file, first found wins.
pub const FILE_PATH_KEYS: &[&str] = &["path", "file_path", "filepath", "filename", "file"];

/// One event of a run, as the fold reads it.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Its position in run order, from 0.
    pub index: u64,
    pub seq: u64,
    pub time: &'a str,
    pub event_type: &'a str,
    pub status: Status,
    pub body: &'a Body,
}

/// The state after all of `steps`, in order.
pub fn fold<'a>(steps: impl IntoIterator<Item = Step<'a>>) -> RunState {
    let mut state = RunState::default();
    for step in steps {
        state.apply(&step);
    }
    state
}

impl RunState {
    /// Folds in the next event.
    pub fn apply(&mut self, s: &Step<'_>) {
        self.events += 1;
        self.last_index = Some(s.index);
        self.last_seq = Some(s.seq);
        self.last_time = Some(s.time.to_owned());
        match RunStatus::after(s.event_type, s.status) {
            Some(status) => self.status = Some(status),
            None if self.status.is_none() => self.status = Some(RunStatus::Running),
            None => {}
        }
        match s.event_type {
            "read_file" => self.read_file(s),
            "write_file" => self.write_file(s),
            "edit_file" | "file_edit" => self.edit_file(s),
            "delete_file" => self.delete_file(s),
            _ => {}
        }
        if let Some(entry) = context_entry(s) {
            self.context.push(entry);
        }
    }

    fn problem(&mut self, s: &Step<'_>, message: String) {
        self.problems.push(Problem {
            index: s.index,
            seq: s.seq,
            message,
        });
    }

    /// The file an operation names, or a problem saying it named none.
    fn path(&mut self, s: &Step<'_>) -> Option<String> {
        let found = file_path(s.body);
        if found.is_none() {
            self.problem(
                s,
                format!(
                    "a {} event names no file (input.path, resource.id or metadata.path)",
                    s.event_type
                ),
            );
        }
        found
    }

    fn read_file(&mut self, s: &Step<'_>) {
        let Some(path) = self.path(s) else { return };
        let content = text_in(s.body.output.as_ref(), &["content", "text"])
            .or_else(|| meta_text(s.body, "content"));
        let file = self.files.entry(path).or_insert(FileState {
            content: None,
            known: false,
            edits: 0,
            last_event: s.index,
        });
        file.last_event = s.index;
        if s.status != Status::Fail
            && let Some(c) = content
        {
            file.content = Some(c);
            file.known = true;
        }
    }

    fn write_file(&mut self, s: &Step<'_>) {
        let Some(path) = self.path(s) else { return };
        let content = text_in(s.body.input.as_ref(), &["content", "text"])
            .or_else(|| meta_text(s.body, "content"))
            .or_else(|| meta_text(s.body, "after"));
        match content {
            Some(c) => self.change(s, path, ChangeKind::Write, Ok(c)),
            None => {
                self.problem(
                    s,
                    format!("write_file of {path} carries no content (input.content)"),
                );
                self.change(s, path, ChangeKind::Write, Err(false));
            }
        }
    }

    fn edit_file(&mut self, s: &Step<'_>) {
        let Some(path) = self.path(s) else { return };
        let before = self.files.get(&path).and_then(|f| f.content.as_deref());
        let after = meta_text(s.body, "after");
        match edited(&path, before, s.body.input.as_ref(), after) {
            Ok(c) => self.change(s, path, ChangeKind::Edit, Ok(c)),
            Err(e) => {
                if s.status != Status::Fail {
                    self.problem(s, e.message);
                }
                self.change(s, path, ChangeKind::Edit, Err(e.unchanged));
            }
        }
    }

    fn delete_file(&mut self, s: &Step<'_>) {
        let Some(path) = self.path(s) else { return };
        if s.status == Status::Fail {
            self.change(s, path, ChangeKind::Delete, Err(true));
            return;
        }
        let before = self.files.remove(&path).and_then(|f| f.content);
        self.changes.push(FileChange {
            index: s.index,
            seq: s.seq,
            diff: before
                .map(|b| unified_diff(&path, &b, ""))
                .unwrap_or_default(),
            path,
            kind: ChangeKind::Delete,
            applied: true,
        });
    }

    /// Records a write or edit: `Ok(content)` when its result is known;
    /// `Err(true)` when it changed nothing (it could not apply), `Err(false)`
    /// when its result is unknown, so the file becomes unknown. An event
    /// that failed changed nothing either way.
    fn change(
        &mut self,
        s: &Step<'_>,
        path: String,
        kind: ChangeKind,
        after: Result<String, bool>,
    ) {
        let file = self.files.entry(path.clone()).or_insert(FileState {
            content: None,
            known: false,
            edits: 0,
            last_event: s.index,
        });
        file.last_event = s.index;
        let failed = s.status == Status::Fail;
        let (diff, applied) = match after {
            Ok(_) if failed => (String::new(), false),
            Ok(new) => {
                let diff = unified_diff(&path, file.content.as_deref().unwrap_or(""), &new);
                file.content = Some(new);
                file.known = true;
                file.edits += 1;
                (diff, true)
            }
            Err(unchanged) => {
                if !failed && !unchanged {
                    file.content = None;
                    file.known = false;
                    file.edits += 1;
                }
                (String::new(), false)
            }
        };
        self.changes.push(FileChange {
            index: s.index,
            seq: s.seq,
            path,
            kind,
            diff,
            applied,
        });
    }
}

pub(crate) fn file_path(body: &Body) -> Option<String> {
    text_in(body.input.as_ref(), FILE_PATH_KEYS)
        .or_else(|| {
            body.resource
                .as_ref()
                .filter(|r| r.resource_type == "file")
                .map(|r| r.id.clone())
        })
        .or_else(|| meta_text(body, "path"))
}

/// `value` itself when it is a string, else its first string field of
/// `keys`.
pub(crate) fn text_in(value: Option<&Value>, keys: &[&str]) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => keys
            .iter()
            .find_map(|k| m.get(*k)?.as_str().map(str::to_owned)),
        _ => None,
    }
}

fn meta_text(body: &Body, key: &str) -> Option<String> {
    body.metadata
        .as_ref()?
        .get(key)?
        .as_str()
        .map(str::to_owned)
}

/// What an event adds to the agent's context, if anything.
fn context_entry(s: &Step<'_>) -> Option<ContextEntry> {
    let b = s.body;
    let text = b.content.clone().or_else(|| b.message.clone());
    let tool = b.tool.clone().or_else(|| b.verb.clone());
    let (role, text, tool, input, output) = match s.event_type {
        "user_input" => (
            Role::User,
            text.or_else(|| text_in(b.input.as_ref(), &["text", "content"])),
            None,
            None,
            None,
        ),
        "thinking" => (Role::Assistant, text, None, None, None),
        "llm_call" => (
            Role::Assistant,
            text,
            b.provider.clone(),
            b.input.clone(),
            b.output.clone(),
        ),
        "tool_call" => (
            Role::Assistant,
            text,
            tool,
            b.input.clone(),
            b.output.clone(),
        ),
        "tool_result" => (Role::Tool, text, tool, None, b.output.clone()),
        "error" => (
            Role::System,
            b.error.as_ref().map(|e| e.message.clone()).or(text),
            tool,
            None,
            None,
        ),
        t if FILE_OPERATIONS.contains(&t) => (
            Role::Tool,
            text,
            Some(s.event_type.to_owned()),
            file_path(b).map(|p| json!({"path": p})),
            None,
        ),
        _ => return None,
    };
    Some(ContextEntry {
        index: s.index,
        seq: s.seq,
        time: s.time.to_owned(),
        event_type: s.event_type.to_owned(),
        role,
        text,
        tool,
        input,
        output,
        status: s.status,
    })
}
