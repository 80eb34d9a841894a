//! What can go wrong talking to flightrec, said so that a caller knows
//! whether trying again can help.

use serde::Deserialize;
use std::time::Duration;

/// One problem the server found with one field of one event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Detail {
    /// The event's position in the batch, when the request was a batch.
    #[serde(default)]
    pub index: Option<usize>,
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (`{"error", "status", "code"}`).
    #[error("{message} (HTTP {status})")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Vec<Detail>,
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// No answer: the server is down, unreachable, or the connection broke.
    #[error("could not reach the flightrec server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// An answer that is not what the API promises.
    #[error("the server's answer to {path} is not what was expected: {reason}")]
    Unexpected { path: String, reason: String },
    /// The caller's own mistake: a bad URL, speed or argument.
    #[error("{0}")]
    Invalid(String),
    /// The recorder holds as many events as it may; nothing was added.
    #[error("the recorder's buffer is full ({capacity} events wait to be sent)")]
    BufferFull { capacity: usize },
    /// The recorder was closed; nothing more can be recorded with it.
    #[error("the recorder is closed")]
    Closed,
}

impl Error {
    /// Whether the same request may succeed later: the server could not be
    /// reached, was overloaded (429), timed out (408) or failed (5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Api { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
