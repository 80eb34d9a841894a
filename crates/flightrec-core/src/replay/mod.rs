//! Replay: the state of a run at any moment, folded from its events.
//!
//! [`fold`] turns a run's events, in run order, into a [`RunState`]: the
//! files the agent had (and whether it saw all of each), the context it
//! had been given and had produced, its lifecycle status, every change to
//! a file with the diff it made, and the events that could not be made
//! sense of. It is a pure function of the events, so the state at event N
//! is the fold of the first N + 1. A [`Timeline`] keeps a run folded once
//! and answers the state after any event from it. [`align_steps`] and
//! [`compare_files`] set two runs side by side.

mod compare;
mod diff;
mod edit;
mod fold;
mod pace;
mod state;
mod timeline;

pub use compare::{FileOutcome, StepKey, align_steps, compare_files};
pub use diff::{Aligned, apply_unified_diff, unified_diff};
pub use edit::{EditError, edited};
pub use fold::{FILE_OPERATIONS, FILE_PATH_KEYS, Step, fold};
pub use pace::delay;
pub use state::{
    ChangeKind, ContextEntry, FileChange, FileState, Problem, Role, RunState, RunStatus,
};
pub use timeline::{StateView, Timeline};
