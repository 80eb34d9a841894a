//! The Rust SDK for flightrec.
//!
//! - [`Client`]: one server and an API key; records events (each given an
//!   id first, so a retry is never recorded twice), reads a run's state.
//! - [`Recorder`]: records without waiting, in batches from a bounded
//!   buffer, retrying with backoff; [`Recorder::flush`] says when all of it
//!   is durable.
//! - [`Replay`]: a run played back at its own pace, with pause, resume,
//!   speed, seeking and the state at any moment.
//! - [`Tail`]: the log followed live, each new matching record once.
//! - [`Executor`]: re-runs a run's recorded actions against something live
//!   and reports `OK`/`FAIL`/`SKIP` for each; [`WorkspaceExecutor`] does it
//!   for file actions in a directory.
//!
//! ```no_run
//! # async fn example() -> flightrec_client::Result<()> {
//! use flightrec_client::{Client, Recorder, RecorderConfig};
//! use serde_json::json;
//!
//! let client = Client::from_env()?;
//! let recorder = Recorder::new(client.clone(), RecorderConfig::default())?;
//! recorder.record(json!({"type": "start", "run_id": "fix-1"})).await?;
//! recorder.record(json!({"type": "thinking", "run_id": "fix-1", "content": "read the test first"})).await?;
//! let report = recorder.close().await?; // everything is durable now
//! assert!(report.rejected.is_empty());
//! # Ok(()) }
//! ```

mod client;
mod error;
mod executor;
mod recorder;
mod replay;
mod retry;
pub mod sse;
mod tail;
mod workspace;

pub use client::{Client, Until, path_segment};
pub use error::{Detail, Error, Result};
pub use executor::{
    Action, ActionResult, Executor, Outcome, ReexecuteOptions, Reexecution, action_of, reexecute,
    reexecute_actions, skip_reason,
};
pub use flightrec_core::record::Receipt;
pub use flightrec_core::replay::RunState;
pub use recorder::{FlushReport, Recorder, RecorderConfig, RecorderStats, Rejected};
pub use replay::{
    PaceClock, Replay, ReplayControl, ReplayEnd, ReplayOptions, RunEvent, TokioClock,
};
pub use retry::RetryPolicy;
pub use tail::{Tail, TailRecord};
pub use workspace::WorkspaceExecutor;
