//! What a run looked like at one moment.

use crate::event::Status;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A run's lifecycle, from its `start`/`pause`/`resume`/`complete`/`cancel`/
/// `error` events (the latest in run order wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Paused,
    Completed,
    Cancelled,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Paused,
        RunStatus::Completed,
        RunStatus::Cancelled,
        RunStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The status an event of this type and outcome moves a run to, if it is
    /// a lifecycle event.
    pub fn after(event_type: &str, status: Status) -> Option<RunStatus> {
        Some(match event_type {
            "start" | "resume" => RunStatus::Running,
            "pause" => RunStatus::Paused,
            "complete" if status == Status::Fail => RunStatus::Failed,
            "complete" => RunStatus::Completed,
            "cancel" => RunStatus::Cancelled,
            "error" => RunStatus::Failed,
            _ => return None,
        })
    }
}

/// A file as the run knew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileState {
    /// Its content, when the run saw all of it (read or wrote it whole, or
    /// edited a file it knew).
    pub content: Option<String>,
    /// False when the run touched the file without ever seeing all of it
    /// (an edit of a file never read), so `content` is missing.
    pub known: bool,
    /// How many times the run changed it.
    pub edits: u32,
    /// The index (in run order) of the last event that touched it.
    pub last_event: u64,
}

/// One thing the agent had in front of it, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextEntry {
    pub index: u64,
    pub seq: u64,
    pub time: String,
    /// The event's type: `user_input`, `thinking`, `llm_call`, `tool_call`,
    /// `tool_result`, `error`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// `user`, `assistant`, `tool` or `system`.
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    pub status: Status,
}

/// One change to a file, with the diff it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub index: u64,
    pub seq: u64,
    pub path: String,
    /// `write`, `edit` or `delete`.
    pub kind: &'static str,
    /// Unified diff from the content before to the content after; empty
    /// when either was unknown or nothing changed.
    pub diff: String,
    /// False when the edit could not be applied (see `problems`).
    pub applied: bool,
}

/// An event the fold could not make sense of; reported, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub index: u64,
    pub seq: u64,
    pub message: String,
}

/// The state of a run after some of its events.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RunState {
    /// How many events were folded in.
    pub events: u64,
    /// The last one's index, `seq` and time.
    pub last_index: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_time: Option<String>,
    /// `None` until a lifecycle event; a run with events is running.
    pub status: Option<RunStatus>,
    pub files: BTreeMap<String, FileState>,
    pub context: Vec<ContextEntry>,
    pub changes: Vec<FileChange>,
    pub problems: Vec<Problem>,
}
