//! The embedded backend: one SQLite database in the data directory.
//!
//! One writer connection does every write, so appends never wait on a lock
//! held by another writer; reads use a small pool of read-only connections,
//! which WAL lets run alongside the writer.

mod access;
mod alerts;
mod append;
mod audit;
mod contract;
mod counts;
mod data_keys;
mod guardrails;
mod heads;
mod lifecycle;
mod log;
mod monitoring;
mod query;
mod reports;
mod rows;
mod schema;
mod search;
mod stats;
mod webhooks;

use crate::encryption::Keyring;
use crate::{Checkpointing, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The database file inside a data directory.
pub const DB_FILE: &str = "flightrec.db";
/// The server's secrets that may sit in a data dir beside the store.
const KEY_FILES: [&str; 3] = ["log-key", "session-key", "webhook-key"];

/// How much of the file a snapshot's connections map (SQLite caps it at
/// 2 GiB unless built otherwise).
const SNAPSHOT_MMAP_SIZE: i64 = 1 << 34;

/// What "committed" means for an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync at every commit: acknowledged records survive power loss.
    #[default]
    Fsync,
    /// Leave flushing to the OS: acknowledged records survive a crash of
    /// flightrec, but not of the machine.
    Os,
}

#[derive(Debug, Clone, Default)]
pub struct SqliteOptions {
    pub durability: Durability,
    /// Caps the database at this many pages; for fault tests that need a
    /// full disk without filling one.
    pub max_page_count: Option<u64>,
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Set when opened by [`SqliteStore::open_snapshot`]: every read goes
    /// through this connection and its one read transaction, but for
    /// `audit_rows` (see `sqlite/audit.rs`).
    snapshot: Option<Mutex<Connection>>,
    checkpointing: RwLock<Option<Checkpointing>>,
    /// Why the store refuses writes, if the log it opened was inconsistent.
    inconsistency: RwLock<Option<String>>,
    full_tiles: crate::tile_cache::FullTiles,
    /// The data keys of tenants that encrypt their bodies at rest.
    keyring: Arc<Keyring>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store in `dir`, creating it if `dir` is missing or empty.
    /// A non-empty `dir` without a store is refused, never written to.
    pub fn open_or_create(dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        if dir.join(DB_FILE).exists() {
            Self::open(dir, options)
        } else {
            Self::create(dir, options)
        }
    }

    /// Creates a new store in `dir`, which must be missing or empty but for
    /// the server's keys (an operator may place the log key there before
    /// the first start).
    pub fn create(dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        if dir.exists() {
            for entry in std::fs::read_dir(dir)? {
                let name = entry?.file_name();
                if !KEY_FILES.iter().any(|k| name == *k) {
                    return Err(StoreError::NotAStore { path: dir.into() });
                }
            }
        } else {
            create_private_dir(dir)?;
        }
        let path = dir.join(DB_FILE);
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        configure(&conn, &options)?;
        let keys = new_keyring(&path);
        search::register_functions(&conn, &keys)?;
        schema::migrate(&mut conn, 0)?;
        tracing::info!(path = %path.display(), "created a new store");
        Ok(Self::with_writer(path, conn, keys))
    }

    /// Opens the existing store in `dir`; never creates one. An older schema
    /// is migrated forward, a newer one refused.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::NotFound { path: dir.into() });
        }
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let app_id: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|_| StoreError::NotAStore { path: dir.into() })?;
        if app_id != schema::APPLICATION_ID {
            return Err(StoreError::NotAStore { path: dir.into() });
        }
        configure(&conn, &options)?;
        let keys = new_keyring(&path);
        search::register_functions(&conn, &keys)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > schema::CURRENT_VERSION {
            return Err(StoreError::TooNew {
                path: dir.into(),
                found: version,
                supported: schema::CURRENT_VERSION,
            });
        }
        if version < schema::CURRENT_VERSION {
            tracing::warn!(
                from = version,
                to = schema::CURRENT_VERSION,
                "migrating the store's schema"
            );
            schema::migrate(&mut conn, version)?;
        }
        let store = Self::with_writer(path, conn, keys);
        store.check_heads(dir)?;
        Ok(store)
    }

    /// Opens the existing store in `dir` to read one consistent snapshot of
    /// it, as it was when this returns, however the server beside it goes on
    /// writing; for `verify`. Nothing is written, not even a migration: an
    /// older schema is refused with what to do.
    pub fn open_snapshot(dir: &Path) -> Result<Self, StoreError> {
        Self::snapshot_with(dir, new_keyring(&dir.join(DB_FILE)))
    }

    /// [`SqliteStore::open_snapshot`] with the keyring of the store it is
    /// taken of (a report's or an export's snapshot, in the same process).
    fn snapshot_with(dir: &Path, keys: Arc<Keyring>) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::NotFound { path: dir.into() });
        }
        let open = || {
            Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        };
        let conn = open()?;
        let app_id: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|_| StoreError::NotAStore { path: dir.into() })?;
        if app_id != schema::APPLICATION_ID {
            return Err(StoreError::NotAStore { path: dir.into() });
        }
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema::CURRENT_VERSION {
            return Err(StoreError::TooNew {
                path: dir.into(),
                found,
                supported: schema::CURRENT_VERSION,
            });
        }
        if found < schema::CURRENT_VERSION {
            return Err(StoreError::TooOld {
                path: dir.into(),
                found,
                current: schema::CURRENT_VERSION,
            });
        }
        conn.busy_timeout(Duration::from_secs(5))?;
        // A verifier reads the whole file once, in order: mapping it spares
        // a copy and a system call per page (the server does not map; see
        // `open_reader`), and the process ends when it is done.
        conn.pragma_update(None, "mmap_size", SNAPSHOT_MMAP_SIZE)?;
        conn.pragma_update(None, "cache_size", -65_536i64)?;
        search::register_functions(&conn, &keys)?;
        // WAL keeps what a read transaction sees from its first read until
        // it ends; this one never ends while the store is open.
        conn.execute_batch("BEGIN DEFERRED")?;
        conn.query_row("SELECT count(*) FROM store_meta", [], |_| Ok(()))?;
        let writer = open()?;
        search::register_functions(&writer, &keys)?;
        let mut store = Self::with_writer(path.clone(), writer, keys);
        store.snapshot = Some(Mutex::new(conn));
        Ok(store)
    }

    /// A snapshot of this store that opens sealed bodies with its keys.
    pub(crate) fn snapshot_sharing_keys(&self) -> Result<Self, StoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        Self::snapshot_with(dir, self.keyring.clone())
    }

    fn is_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Runs `f` on the snapshot's connection, inside its one read
    /// transaction; refused on a store not opened as a snapshot, whose
    /// reads would not all see one state.
    pub(crate) fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.snapshot {
            Some(snapshot) => f(&snapshot.lock().unwrap_or_else(|p| p.into_inner())),
            None => Err(StoreError::Rejected(
                "copying a store needs it opened as one snapshot".into(),
            )),
        }
    }

    /// The free-text index's own check, for a snapshot: it compares the
    /// index with the records it was built from in one transaction of its
    /// own, so it is consistent whatever was appended since the snapshot.
    /// On a file this process may not write (an auditor's read-only copy)
    /// the check is skipped, and says so.
    fn check_search_index_beside_snapshot(&self) -> Result<Option<String>, StoreError> {
        let conn = match Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "the free-text index was not checked: the store cannot be opened for its check");
                return Ok(None);
            }
        };
        conn.busy_timeout(Duration::from_secs(5))?;
        search::register_functions(&conn, &self.keyring)?;
        match search::integrity_problem(&conn) {
            Err(StoreError::Unavailable(why)) => {
                tracing::warn!(%why, "the free-text index was not checked");
                Ok(None)
            }
            other => other,
        }
    }

    fn with_writer(path: PathBuf, writer: Connection, keyring: Arc<Keyring>) -> Self {
        SqliteStore {
            keyring,
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            snapshot: None,
            checkpointing: RwLock::new(None),
            inconsistency: RwLock::new(None),
            full_tiles: crate::tile_cache::FullTiles::default(),
        }
    }

    /// Signs checkpoints from now on (the server sets this; a store opened
    /// only to read or verify does not need it).
    pub fn set_checkpointing(&self, checkpointing: Checkpointing) {
        *self
            .checkpointing
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(checkpointing);
    }

    pub(crate) fn rewrap(&self, to: &dyn crate::encryption::MasterKey) -> Result<u64, StoreError> {
        self.write(|conn| data_keys::rewrap(conn, &self.keyring, to))
    }

    fn checkpointing(&self) -> Option<Checkpointing> {
        self.checkpointing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why writes are refused, if they are.
    pub fn inconsistency(&self) -> Option<String> {
        self.inconsistency
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn refuse_writes_if_inconsistent(&self) -> Result<(), StoreError> {
        match self.inconsistency() {
            Some(why) => Err(StoreError::Corrupt(why)),
            None => Ok(()),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A writer that panicked mid-transaction has rolled back on drop; the
        // connection itself is still sound.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(snapshot) = &self.snapshot {
            return f(&snapshot.lock().unwrap_or_else(|p| p.into_inner()));
        }
        self.read_pooled(f)
    }

    /// [`SqliteStore::read`] on a connection of the pool, even for a
    /// snapshot: in a transaction of its own, which may see later writes.
    fn read_pooled<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 16 {
            pool.push(conn);
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "temp_store", "memory")?;
        // No memory map for the server: reads go through SQLite's page
        // cache and the operating system's. Mapping the file made the
        // server's resident memory grow with the database (256 MB after one
        // large export) and measured no faster (docs/benchmarks.md). A
        // verifier's readers map it, as its snapshot does.
        let mmap_size = if self.is_snapshot() {
            SNAPSHOT_MMAP_SIZE
        } else {
            0
        };
        conn.pragma_update(None, "mmap_size", mmap_size)?;
        search::register_functions(&conn, &self.keyring)?;
        Ok(conn)
    }
}

fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "the database refused WAL mode (got {mode}); is it on a network filesystem?"
        )));
    }
    let sync = match options.durability {
        Durability::Fsync => "full",
        Durability::Os => "normal",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "on")?;
    // Erased bodies are overwritten in the file as their space is freed.
    conn.pragma_update(None, "secure_delete", "on")?;
    conn.pragma_update(None, "temp_store", "memory")?;
    conn.pragma_update(None, "cache_size", -64_000i64)?;
    // A larger WAL between checkpoints: index pages that many commits touch
    // are copied back to the database once, not once per few commits.
    conn.pragma_update(None, "wal_autocheckpoint", 16_384i64)?;
    if let Some(pages) = options.max_page_count {
        conn.pragma_update(None, "max_page_count", pages as i64)?;
    }
    Ok(())
}

/// A keyring that reloads the `data_keys` table on a connection of its own
/// (a reload may come while the writer is in a transaction).
fn new_keyring(path: &Path) -> Arc<Keyring> {
    let keyring = Arc::new(Keyring::default());
    let path = path.to_owned();
    keyring.set_loader(Box::new(move || {
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        data_keys::load(&conn)
    }));
    keyring
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
