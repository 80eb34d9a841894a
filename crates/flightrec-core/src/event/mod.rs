//! The canonical event (DESIGN §3): its fields, how incoming JSON in any of
//! the accepted shapes becomes one, and what the store derives from it.
//!
//! An [`Event`] is what ingest has validated and normalised but not yet
//! sequenced: it has no `seq` and no tenant. The [`crate::record`] module
//! turns it into a hashed record once the sequencer gives it a place.

mod derived;
mod limits;
mod parse;
mod time;
mod types;
mod visit;

pub use derived::{IndexColumns, Measures, search_text};
pub use limits::{Limits, MAX_ID_CHARS, MAX_NAME_CHARS};
pub use parse::{FieldError, ValidationError, kind_of, parse_event};
pub use time::{format_time, parse_time, parse_window_start};
pub use types::{
    Actor, ActorType, Body, ErrorInfo, Event, Governance, GovernanceStatus, Redaction, Resource,
    RiskLevel, Status,
};
pub use visit::{CONTENT_FIELDS, TEXT_FIELDS};

/// The event types flightrec knows; any other `type` is accepted as well.
pub const KNOWN_TYPES: &[&str] = &[
    "start",
    "thinking",
    "tool_call",
    "tool_result",
    "read_file",
    "edit_file",
    "file_edit",
    "write_file",
    "delete_file",
    "user_input",
    "llm_call",
    "guardrail_check",
    "pause",
    "resume",
    "error",
    "complete",
    "cancel",
];
