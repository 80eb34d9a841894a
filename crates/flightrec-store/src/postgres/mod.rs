//! The scale-out backend: every node a stateless [`PgStore`] on one
//! PostgreSQL database.
//!
//! The client is the blocking `postgres` crate (tokio-postgres underneath,
//! on a private current-thread runtime per connection): the store's traits
//! are blocking and are called from threads that may block, so an async
//! client would need a runtime bridge for nothing, and sqlx is out (its
//! SQLite driver clashes with rusqlite's). Its dependencies are few and
//! mostly shared with the server's (tokio, bytes, futures). Connections
//! come from a small pool of our own (`pool.rs`).
//!
//! Appends to one tenant serialise on that tenant's row in `log_heads`
//! (`SELECT … FOR UPDATE` inside the append transaction), never on an
//! advisory lock, so any number of nodes may append to one log and it stays
//! one gapless tree (see `append.rs`).

mod access;
mod alerts;
mod append;
mod contract;
mod counts;
mod data_keys;
mod errors;
mod grants;
mod guardrails;
mod heads;
mod import;
mod lifecycle;
mod log;
mod monitoring;
mod pool;
mod query;
mod reports;
mod rows;
mod schema;
mod search;
mod stats;
mod tls;
mod webhooks;

pub use import::{ImportProgress, ImportReport};

use crate::encryption::Keyring;
use crate::{Checkpointing, StoreError};
use postgres::{Client, Config};
use std::sync::{Arc, RwLock};

/// The PostgreSQL store.
pub struct PgStore {
    /// Where the database is, for messages: never the password.
    database: String,
    pool: pool::Pool,
    checkpointing: RwLock<Option<Checkpointing>>,
    /// Why the store refuses writes, if the log it opened was inconsistent.
    inconsistency: RwLock<Option<String>>,
    full_tiles: crate::tile_cache::FullTiles,
    /// Set when opened by [`PgStore::open_snapshot`]: every read sees it.
    snapshot: Option<Snapshot>,
    /// The data keys of tenants that encrypt their bodies at rest.
    keyring: Arc<Keyring>,
}

/// A snapshot exported by a transaction that stays open as long as the
/// store, imported by every read (`SET TRANSACTION SNAPSHOT`), so reads on
/// any connection see the database as it was when the store was opened.
struct Snapshot {
    id: String,
    /// The exporting transaction's connection, idle in that transaction.
    _holder: std::sync::Mutex<Client>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// A keyring that reloads the `data_keys` table on a connection of its own
/// (a reload may come while a read holds one of the pool's).
fn keyring_on(pool: &pool::Pool) -> Arc<Keyring> {
    let keyring = Arc::new(Keyring::default());
    let own = pool.sibling();
    keyring.set_loader(Box::new(move || own.with_client(data_keys::load)));
    keyring
}

/// What opening found in the database.
enum Found {
    /// No tables at all: a store may be created here.
    Empty,
    /// A flightrec store (its version is read under the version table's lock).
    Store,
    /// Tables, but not flightrec's.
    Foreign,
}

impl PgStore {
    /// Opens the store in the database at `url`, creating it if the
    /// database is empty. A database holding other tables is refused, never
    /// written to; an older schema is migrated forward, a newer one refused.
    pub fn open_or_create(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, true)
    }

    /// Opens the existing store at `url`; never creates one.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, false)
    }

    fn open_with(url: &str, create: bool) -> Result<Self, StoreError> {
        let (config, tls) = tls::parse(url)?;
        let database = describe(&config);
        let pool = pool::Pool::new(config, tls);
        let store = PgStore {
            keyring: keyring_on(&pool),
            pool,
            database,
            checkpointing: RwLock::new(None),
            inconsistency: RwLock::new(None),
            full_tiles: Default::default(),
            snapshot: None,
        };
        let prepare = || store.with_client(|client| store.prepare_schema(client, create));
        match prepare() {
            // Another node created the schema between our look and our
            // CREATE: it is there now.
            Err(StoreError::Postgres(e)) if errors::is_unique_violation(&e) => prepare()?,
            other => other?,
        }
        store.check_heads()?;
        Ok(store)
    }

    /// Creates or migrates the schema in one transaction; concurrent nodes
    /// starting at once wait on the version table's lock, and the later
    /// ones find the work done.
    fn prepare_schema(&self, client: &mut Client, create: bool) -> Result<(), StoreError> {
        let mut tx = client.transaction()?;
        match found_in(&mut tx)? {
            Found::Foreign => {
                return Err(StoreError::DatabaseNotAStore {
                    database: self.database.clone(),
                });
            }
            Found::Empty if !create => {
                return Err(StoreError::DatabaseEmpty {
                    database: self.database.clone(),
                });
            }
            Found::Empty => tx.batch_execute(schema::CREATE_VERSION_TABLE)?,
            Found::Store => {}
        }
        let read_version = |tx: &mut postgres::Transaction<'_>| -> Result<i64, StoreError> {
            Ok(tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM flightrec_schema",
                    &[],
                )?
                .get(0))
        };
        let mut version = read_version(&mut tx)?;
        if version < schema::CURRENT_VERSION {
            // Only a migration takes the lock (and needs an owner's rights):
            // the application's role, without UPDATE or DELETE rights on the
            // version table, opens a current store.
            tx.batch_execute("LOCK TABLE flightrec_schema IN EXCLUSIVE MODE")?;
            version = read_version(&mut tx)?;
        }
        if version > schema::CURRENT_VERSION {
            return Err(StoreError::DatabaseTooNew {
                database: self.database.clone(),
                found: version,
                supported: schema::CURRENT_VERSION,
            });
        }
        if version < schema::CURRENT_VERSION {
            if version == 0 {
                tracing::info!(database = %self.database, "creating a new store");
            } else {
                tracing::warn!(
                    from = version,
                    to = schema::CURRENT_VERSION,
                    "migrating the store's schema"
                );
            }
            schema::migrate(&mut tx, version)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Opens the existing store at `url` to read one consistent snapshot
    /// of it, as it was when this returns, however other nodes go on
    /// writing; for `verify`. Nothing is written, not even a migration: an
    /// older schema is refused with what to do.
    pub fn open_snapshot(url: &str) -> Result<Self, StoreError> {
        let (config, tls) = tls::parse(url)?;
        let database = describe(&config);
        let pool = pool::Pool::new(config, tls);
        let keys = keyring_on(&pool);
        Self::snapshot_on(pool, database, keys)
    }

    /// A snapshot of the store `pool` connects to (see [`PgStore::open_snapshot`]).
    fn snapshot_on(
        pool: pool::Pool,
        database: String,
        keyring: Arc<Keyring>,
    ) -> Result<Self, StoreError> {
        let mut holder = pool.connect()?;
        holder.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let version = match found_in(&mut holder)? {
            Found::Store => holder
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM flightrec_schema",
                    &[],
                )?
                .get::<_, i64>(0),
            Found::Empty => return Err(StoreError::DatabaseEmpty { database }),
            Found::Foreign => return Err(StoreError::DatabaseNotAStore { database }),
        };
        if version > schema::CURRENT_VERSION {
            return Err(StoreError::DatabaseTooNew {
                database,
                found: version,
                supported: schema::CURRENT_VERSION,
            });
        }
        if version < schema::CURRENT_VERSION {
            return Err(StoreError::DatabaseTooOld {
                database,
                found: version,
                current: schema::CURRENT_VERSION,
            });
        }
        let id: String = holder.query_one("SELECT pg_export_snapshot()", &[])?.get(0);
        Ok(PgStore {
            keyring,
            database,
            pool,
            checkpointing: RwLock::new(None),
            inconsistency: RwLock::new(None),
            full_tiles: Default::default(),
            snapshot: Some(Snapshot {
                id,
                _holder: std::sync::Mutex::new(holder),
            }),
        })
    }

    pub(crate) fn rewrap(&self, to: &dyn crate::encryption::MasterKey) -> Result<u64, StoreError> {
        self.pool
            .with_client(|client| data_keys::rewrap(client, &self.keyring, to))
    }

    /// Signs checkpoints from now on (the server sets this; a store opened
    /// only to read or verify does not need it).
    pub fn set_checkpointing(&self, checkpointing: Checkpointing) {
        *self
            .checkpointing
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(checkpointing);
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

    /// Refuses bookkeeping writes (search indexing, deliveries, key use)
    /// on a store opened to read a snapshot.
    fn refuse_writes_if_snapshot(&self) -> Result<(), StoreError> {
        match self.snapshot {
            Some(_) => Err(StoreError::Rejected(
                "this store was opened as a snapshot, only to read".into(),
            )),
            None => Ok(()),
        }
    }

    /// Refuses log writes on a snapshot, and on a log found inconsistent.
    fn refuse_writes_if_inconsistent(&self) -> Result<(), StoreError> {
        self.refuse_writes_if_snapshot()?;
        match self.inconsistency() {
            Some(why) => Err(StoreError::Corrupt(why)),
            None => Ok(()),
        }
    }

    /// Where the store is, without credentials.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs `f` with a connection: for a snapshot store, inside a
    /// transaction that reads the snapshot.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.snapshot {
            None => self.pool.with_client(f),
            Some(_) => self.read_consistently(f),
        }
    }

    /// Runs `f` inside one read-only, repeatable-read transaction: every
    /// statement sees the same snapshot (the store's own, for a snapshot
    /// store).
    fn read_consistently<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let begin = match &self.snapshot {
            None => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_owned(),
            Some(s) => format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
                s.id
            ),
        };
        self.pool.with_client(|client| {
            client.batch_execute(&begin)?;
            let result = f(client);
            // Read only: ending it either way changes nothing.
            let ended = client.batch_execute("ROLLBACK");
            let value = result?;
            ended?;
            Ok(value)
        })
    }
}

/// What the database holds: a store (and its version), nothing, or
/// someone else's tables.
fn found_in(tx: &mut impl postgres::GenericClient) -> Result<Found, StoreError> {
    let row = tx.query_one(
        "SELECT to_regclass('flightrec_schema') IS NOT NULL, \
           (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f'))",
        &[],
    )?;
    let marked: bool = row.get(0);
    let relations: i64 = row.get(1);
    Ok(match (marked, relations) {
        (true, _) => Found::Store,
        (false, 0) => Found::Empty,
        (false, _) => Found::Foreign,
    })
}

/// `database@host:port`, for messages.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("database {db:?} on {host}:{port}")
}
