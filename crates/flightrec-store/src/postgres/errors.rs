//! What PostgreSQL's errors mean to the store's callers.

use crate::StoreError;
use crate::error::postgres_message;
use postgres::error::SqlState;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if e.is_closed() {
            return StoreError::Unavailable("the connection to PostgreSQL was lost".into());
        }
        let Some(code) = e.code() else {
            // No server error: the connection failed underneath (I/O).
            let io = std::error::Error::source(&e)
                .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
            return if io {
                StoreError::Unavailable(postgres_message(&e))
            } else {
                StoreError::Postgres(e)
            };
        };
        if *code == SqlState::DISK_FULL {
            return StoreError::Full;
        }
        if is_transient(code) {
            return StoreError::Unavailable(postgres_message(&e));
        }
        // Text PostgreSQL cannot hold (a NUL character) or a value past one
        // of its limits: the batch is refused, the others go on.
        if [
            SqlState::CHARACTER_NOT_IN_REPERTOIRE,
            SqlState::UNTRANSLATABLE_CHARACTER,
            SqlState::PROGRAM_LIMIT_EXCEEDED,
        ]
        .contains(code)
        {
            return StoreError::Rejected(postgres_message(&e));
        }
        StoreError::Postgres(e)
    }
}

/// Errors after which a retry may succeed and nothing was written.
fn is_transient(code: &SqlState) -> bool {
    // Class 08: connection exceptions; 57P: the server is going away.
    code.code().starts_with("08")
        || code.code().starts_with("57P")
        || [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::OUT_OF_MEMORY,
            SqlState::INSUFFICIENT_RESOURCES,
            SqlState::READ_ONLY_SQL_TRANSACTION,
        ]
        .contains(code)
}

/// True when `e` is a unique-key violation.
pub fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A unique violation as [`StoreError::Conflict`] naming `what`.
pub fn conflict(e: postgres::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(what())
    } else {
        e.into()
    }
}
