//! Why a witness could not start, or could not store what it cosigned.
//!
//! Not here: the refusals of the protocol (a bad proof, a stale size), which
//! are answers to a client rather than faults of the witness: see
//! [`crate::AddCheckpointError`]. Nor the client's errors: see
//! [`crate::SubmitError`].

use std::io;
use std::path::PathBuf;

use flightrec_core::log::LogError;

/// Everything that can stop a witness from opening its data directory or
/// from recording a cosigned checkpoint.
///
/// Messages name the file involved and, where the operator has a choice,
/// say what to do. None of them ever contains the witness's private key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: could not {action}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{path} is not empty and is not a flightrec witness data directory \
         (it has no `flightrec-witness` file, but holds {found:?}); give a new \
         or empty directory to start a new witness, or the data directory of \
         an existing one"
    )]
    NotAWitnessDir { path: PathBuf, found: String },

    #[error(
        "{path} is a flightrec witness data directory of a format this version \
         does not know ({found:?}); run the flightrec version that created it"
    )]
    UnknownFormat { path: PathBuf, found: String },

    #[error(
        "another process holds the lock on {path}: stop the witness already \
         running on this data directory first (two witnesses sharing one \
         directory could each cosign a different view of a log)"
    )]
    Locked { path: PathBuf },

    #[error(
        "state file {path} is unreadable: {reason}. The witness no longer \
         knows what it last cosigned for this log and refuses to guess: restore \
         the file from a backup, or retire this witness key (a witness that \
         forgets can be made to cosign a rollback)"
    )]
    CorruptState { path: PathBuf, reason: String },

    #[error("witness key {source_name}: {reason}")]
    Key { source_name: String, reason: String },

    #[error(
        "witness key file {path} can be read by other users (mode {mode:o}); \
         run `chmod 600 {path}`"
    )]
    KeyFileMode { path: PathBuf, mode: u32 },

    #[error(
        "the witness key from {source_name} differs from the one in {path}; \
         a data directory belongs to one witness key: remove one of them"
    )]
    KeyMismatch { source_name: String, path: PathBuf },

    #[error(
        "the witness key is named {key:?} but the witness is configured with \
         the name {configured:?}; configure the key's name, or another key"
    )]
    KeyNameMismatch { key: String, configured: String },

    #[error("log {origin:?} is configured twice; give each log's key once")]
    DuplicateLog { origin: String },

    #[error("the clock says {seconds} seconds since 1970, which cannot be a cosignature time")]
    ClockOutOfRange { seconds: i64 },

    #[error(transparent)]
    Log(#[from] LogError),
}
