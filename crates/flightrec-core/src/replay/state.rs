//! What a run looked like at one moment.

use crate::event::Status;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A run's lifecycle, from its `start`/`pause`/`resume`/`complete`/`cancel`/
/// `error` events (the latest in run order wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextEntry {
    pub index: u64,
    pub seq: u64,
    pub time: String,
    /// The event's type: `user_input`, `thinking`, `llm_call`, `tool_call`,
    /// `tool_result`, `error`, …
    #[serde(rename = "type")]
    pub event_type: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    pub status: Status,
}

/// Who a context entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    Tool,
    System,
}

/// What a change did to its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Write,
    Edit,
    Delete,
}

/// One change to a file, with the diff it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub index: u64,
    pub seq: u64,
    pub path: String,
    pub kind: ChangeKind,
    /// Unified diff from the content before to the content after; empty
    /// when either was unknown or nothing changed.
    pub diff: String,
    /// False when the edit could not be applied (see `problems`).
    pub applied: bool,
}

/// An event the fold could not make sense of; reported, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub index: u64,
    pub seq: u64,
    pub message: String,
}

/// The state of a run after some of its events, as the API shows it
/// (`status` is `not_started` before any event).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunState {
    /// How many events were folded in.
    pub events: u64,
    /// The last one's index, `seq` and time.
    pub last_index: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_time: Option<String>,
    /// `None` before the first event; then running unless a lifecycle
    /// event said otherwise.
    #[serde(with = "not_started")]
    pub status: Option<RunStatus>,
    pub files: BTreeMap<String, FileState>,
    pub context: Vec<ContextEntry>,
    pub changes: Vec<FileChange>,
    pub problems: Vec<Problem>,
}

/// `status` on the wire: `not_started` stands for no status yet.
pub(crate) mod not_started {
    use super::RunStatus;
    use serde::{Deserialize, Deserializer, Serializer};

    const NAME: &str = "not_started";

    pub fn serialize<S: Serializer>(v: &Option<RunStatus>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.map_or(NAME, RunStatus::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RunStatus>, D::Error> {
        let name = String::deserialize(d)?;
        if name == NAME {
            return Ok(None);
        }
        RunStatus::parse(&name)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown run status {name:?}")))
    }
}
