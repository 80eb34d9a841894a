use std::path::PathBuf;

/// What can go wrong in a store. Messages say what to do where there is
/// something to do; none of them carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no flightrec store at {path}: run `flightrec serve --data-dir {path}` once to create one, or point --data-dir at an existing store"
    )]
    NotFound { path: PathBuf },

    #[error(
        "{path} is not empty and holds no flightrec store; choose an empty or new directory for --data-dir"
    )]
    NotAStore { path: PathBuf },

    #[error(
        "the store at {path} has schema version {found}, newer than this flightrec understands ({supported}); run a newer flightrec"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "the store at {path} has schema version {found}, older than this flightrec's ({current}), and it was opened only to read; start `flightrec serve --data-dir {path}` once to upgrade it, or verify with the flightrec that wrote it"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        current: i64,
    },

    #[error(
        "no flightrec store in {database}: run `flightrec serve --database-url …` once to create one, or point --database-url at an existing store"
    )]
    DatabaseEmpty { database: String },

    #[error(
        "{database} holds tables but no flightrec store; point --database-url at an empty database or an existing store"
    )]
    DatabaseNotAStore { database: String },

    #[error(
        "the store in {database} has schema version {found}, newer than this flightrec understands ({supported}); run a newer flightrec"
    )]
    DatabaseTooNew {
        database: String,
        found: i64,
        supported: i64,
    },

    #[error(
        "the store in {database} has schema version {found}, older than this flightrec's ({current}), and it was opened only to read; start `flightrec serve --database-url …` once to upgrade it, or verify with the flightrec that wrote it"
    )]
    DatabaseTooOld {
        database: String,
        found: i64,
        current: i64,
    },

    #[error("the disk holding the store is full; nothing was written (free space and retry)")]
    Full,

    #[error("the store is unavailable: {0}")]
    Unavailable(String),

    #[error("{0} already exists")]
    Conflict(String),

    #[error("{0} changed meanwhile; reload and try again")]
    Changed(String),

    #[error("{0} does not exist")]
    Missing(String),

    #[error("refused: {0}")]
    Rejected(String),

    #[error("the store is inconsistent: {0}")]
    Corrupt(String),

    #[error("store I/O error: {0}")]
    Io(#[from] std::io::Error),

    #[error("store error: {0}")]
    Sqlite(rusqlite::Error),

    #[error("store error: {}", postgres_message(.0))]
    Postgres(postgres::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        // A store error raised inside a row's conversion or an SQL function
        // (reading a sealed body) comes out as itself.
        let e = match e {
            rusqlite::Error::FromSqlConversionFailure(i, t, inner) => {
                match inner.downcast::<StoreError>() {
                    Ok(store) => return *store,
                    Err(inner) => rusqlite::Error::FromSqlConversionFailure(i, t, inner),
                }
            }
            rusqlite::Error::UserFunctionError(inner) => match inner.downcast::<StoreError>() {
                Ok(store) => return *store,
                Err(inner) => rusqlite::Error::UserFunctionError(inner),
            },
            e => e,
        };
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::Full,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable("the database is locked by another process".into())
            }
            Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::SystemIoFailure) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// True when retrying later may succeed and nothing was written.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Full | StoreError::Unavailable(_))
    }
}

/// A PostgreSQL error's own message ("db error" alone says nothing), without
/// its detail, which may quote stored values.
pub(crate) fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        // Its cause ("Connection refused") is what an operator needs.
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}
