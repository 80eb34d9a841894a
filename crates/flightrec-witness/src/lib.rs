//! A transparency-log witness for flightrec, speaking C2SP tlog-witness
//! (<https://c2sp.org/tlog-witness>), and the client side a log server uses
//! to ask witnesses for cosignatures.
//!
//! A witness follows a fixed set of logs, each named by its checkpoint
//! origin and trusted through its note verifier key. For each log it keeps
//! the size and root hash of the latest checkpoint it cosigned, and it
//! cosigns a new checkpoint (C2SP tlog-cosignature, `cosignature/v1`) only
//! if the log signed it and a consistency proof shows it extends that
//! latest one. So the witness never cosigns two views of one log that
//! disagree, nor a smaller tree after a larger one, across restarts too.
//!
//! - [`witness`]: [`Witness`], the check-and-update at the heart of it, and
//!   its configuration.
//! - [`state`]: the data directory: the witness key and one small file per
//!   log, each written atomically and durably before a cosignature leaves.
//! - [`add_checkpoint`]: the `add-checkpoint` wire format, parsed strictly,
//!   and every way a request is refused, with its HTTP status.
//! - [`http`]: the axum [`router`] and [`serve`].
//! - [`submit`]: [`WitnessClient`], which submits a checkpoint and checks
//!   the cosignature it gets back, and the `FLIGHTREC_WITNESSES` parser.
//!
//! What this is not: a monitor (it never fetches a log's tiles or entries;
//! it only checks the proofs it is given), a way to add or remove logs while
//! running (restart with a new configuration), a bastion, or the command
//! line (the `flightrec` binary wires this up). It keeps no history beyond
//! the latest cosigned tree of each log, as the spec allows; refused
//! requests that may prove a log's misbehaviour are logged through
//! `tracing`, not stored.

pub mod add_checkpoint;
mod error;
pub mod http;
mod key;
pub mod state;
pub mod submit;
pub mod witness;

pub use add_checkpoint::AddCheckpointError;
pub use error::Error;
pub use http::{router, serve};
pub use state::TreeHead;
pub use submit::{SubmitError, WitnessClient, WitnessConfigError, parse_witnesses};
pub use witness::{DEFAULT_NAME, KEY_ENV, Witness, WitnessConfig, key_from_env};
