//! flightrec's storage.
//!
//! Two small traits state the contract every backend keeps:
//! [`RecordStore`] (the tenants' append-only logs and the queries over them)
//! and [`AccessStore`] (tenants, people and API keys). [`SqliteStore`] is the
//! embedded backend; every backend passes the same suite
//! (`conformance`, behind the feature of that name).
//!
//! Not here: HTTP, authentication decisions, or the meaning of events beyond
//! what [`flightrec_core`] derives from them.

mod error;
mod model;
mod sqlite;
mod traits;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::StoreError;
pub use model::*;
pub use sqlite::{Durability, SqliteOptions, SqliteStore};
pub use traits::{AccessStore, RecordStore, Store};
