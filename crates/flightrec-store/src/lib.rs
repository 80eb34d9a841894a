//! flightrec's storage.
//!
//! Three small traits state the contract every backend keeps:
//! [`RecordStore`] (the tenants' append-only logs and the queries over them),
//! [`LogStore`] (the Merkle tree over them: tiles, checkpoints, proofs) and
//! [`AccessStore`] (tenants, people and API keys) and [`GuardrailStore`]
//! (agents, compliance rules, policies, alerts and webhooks). [`SqliteStore`] is the
//! embedded backend, [`PgStore`] the one that several stateless nodes share
//! on PostgreSQL; every backend passes the same suite (`conformance`, behind
//! the feature of that name).
//!
//! Not here: HTTP, authentication decisions, or the meaning of events beyond
//! what [`flightrec_core`] derives from them.

mod audit_rows;
pub mod body_codec;
mod checkpointing;
pub mod encryption;
mod error;
pub mod guardrails;
mod hour_windows;
pub mod lifecycle;
mod model;
mod postgres;
pub mod reports;
pub mod runs;
mod sqlite;
pub mod stats;
mod tile_cache;
mod traits;
pub mod verify;
mod words;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use audit_rows::{AuditRow, AuditRows, Unopened};
pub use checkpointing::Checkpointing;
pub use error::StoreError;
pub use guardrails::*;
pub use lifecycle::{ErasureJob, ErasureStatus, ErasureSubject, ErasureTarget};
pub use model::*;
pub use postgres::{ImportProgress, ImportReport, PgStore};
pub use reports::{ReportFormat, ReportJob, ReportOutcome, ReportStatus, ReportType};
pub use sqlite::{Durability, SqliteOptions, SqliteStore};
pub use traits::{
    AccessStore, GuardrailStore, LifecycleStore, LogStore, RecordStore, ReportStore, Store,
};
