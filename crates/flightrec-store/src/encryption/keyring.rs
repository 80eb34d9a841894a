//! The data keys a store's process has unwrapped, kept in memory, and what
//! it knows of the others (destroyed, or not unwrappable here).
//!
//! The store's `data_keys` table is the truth; a keyring reloads it when a
//! sealed value names a key it does not know (another node created it) and
//! at least every [`FRESH_FOR`], so a key destroyed by one node stops
//! opening bodies on every node within that time.

use super::data_key::{DataKey, PLAIN_PREFIX, Place, is_sealed, sealed_key_id, sealed_text};
use super::master_key::MasterKey;
use crate::StoreError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// How long what the keyring read of the table stays good.
const FRESH_FOR: Duration = Duration::from_secs(30);
/// Reloads for one unknown key are at most this frequent (a value naming a
/// key that never existed must not reload on every read).
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// A row of the `data_keys` table.
#[derive(Debug, Clone)]
pub struct DataKeyRow {
    pub tenant: String,
    pub key_id: u32,
    /// `None` once destroyed (crypto-shredded).
    pub wrapped: Option<Vec<u8>>,
    /// The [`MasterKey::id`] that wrapped it.
    pub master_id: String,
    /// Whether new bodies of the tenant are sealed with it.
    pub sealing: bool,
}

/// Reads every row of the `data_keys` table, committed, on a connection of
/// its own.
pub type KeyLoader = Box<dyn Fn() -> Result<Vec<DataKeyRow>, StoreError> + Send + Sync>;

/// What a keyring knows of one data key.
#[derive(Debug, Clone)]
enum Known {
    Ready(Arc<DataKey>),
    Destroyed,
    /// Present, but this process cannot unwrap it (the reason says why).
    Locked(String),
}

/// What opening a sealed value came to.
#[derive(Debug)]
pub enum Opened {
    Plain(Vec<u8>),
    /// Its data key was destroyed: the value is gone for good.
    Shredded,
}

/// A store's data keys as this process holds them.
#[derive(Default)]
pub struct Keyring {
    master: RwLock<Option<Arc<dyn MasterKey>>>,
    loader: OnceLock<KeyLoader>,
    known: RwLock<HashMap<(String, u32), Known>>,
    loaded_at: Mutex<Option<Instant>>,
    /// When a reload was last made for a key it did not know.
    missed: Mutex<HashMap<(String, u32), Instant>>,
    /// Keys unwrapped from rows read in a transaction (the sealing key of
    /// an append), by their wrapped bytes: such a row may not be committed
    /// yet, so it is not known by id until a reload finds it.
    unwrapped: Mutex<HashMap<Vec<u8>, Arc<DataKey>>>,
    /// Held from reading the table to replacing what is known: a reload
    /// that read before a key was destroyed cannot land after one that
    /// read since.
    reloading: Mutex<()>,
}

/// Keys kept in [`Keyring`]'s `unwrapped`, at most (a handful in practice).
const MAX_UNWRAPPED: usize = 1024;

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

impl Keyring {
    /// Gives the keyring its master key. Every data key in the store must
    /// unwrap with it: a node given the wrong key refuses to start rather
    /// than fail on every encrypted body.
    pub fn use_master(&self, master: Arc<dyn MasterKey>) -> Result<(), StoreError> {
        *self.master.write().unwrap_or_else(|p| p.into_inner()) = Some(master);
        // Every key unwrapped anew, with this master.
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.reload()?;
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        match known.values().find_map(|k| match k {
            Known::Locked(why) => Some(why.clone()),
            _ => None,
        }) {
            Some(why) => Err(StoreError::Rejected(why)),
            None => Ok(()),
        }
    }

    pub fn master(&self) -> Option<Arc<dyn MasterKey>> {
        self.master
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Called once by the store that owns the keyring.
    pub(crate) fn set_loader(&self, loader: KeyLoader) {
        let _ = self.loader.set(loader);
    }

    /// Empties every search key's memo of words (see `blind_index`):
    /// after an erasure request, no word of an erased body stays in memory
    /// there.
    pub(crate) fn forget_words(&self) {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        for entry in known.values() {
            if let Known::Ready(key) = entry {
                key.search_key().forget_words();
            }
        }
        let unwrapped = self.unwrapped.lock().unwrap_or_else(|p| p.into_inner());
        for key in unwrapped.values() {
            key.search_key().forget_words();
        }
    }

    /// Marks keys destroyed as a transaction sees them (the indexer's,
    /// before it indexes): a key another node destroyed a moment ago opens
    /// nothing more here, even before the next reload.
    pub(crate) fn note_destroyed(&self, destroyed: &[(String, u32)]) {
        if destroyed.is_empty() {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        for at in destroyed {
            known.insert(at.clone(), Known::Destroyed);
        }
    }

    /// Whether the store holds data keys that are not destroyed: bodies
    /// that need a master key to read.
    pub fn holds_live_keys(&self) -> Result<bool, StoreError> {
        self.reload()?;
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        Ok(known.values().any(|k| !matches!(k, Known::Destroyed)))
    }

    /// The key of a row read in a transaction (the sealing key of an
    /// append): unwrapped here, or taken from what is already unwrapped.
    pub fn key_of_row(&self, row: &DataKeyRow) -> Result<Arc<DataKey>, StoreError> {
        if let Some(Known::Ready(key)) = self
            .known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(row.tenant.clone(), row.key_id))
        {
            return Ok(key.clone());
        }
        let wrapped = row.wrapped.clone().unwrap_or_default();
        if let Some(key) = self
            .unwrapped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&wrapped)
        {
            return Ok(key.clone());
        }
        match self.unwrap_row(row) {
            Known::Ready(key) => {
                let mut unwrapped = self.unwrapped.lock().unwrap_or_else(|p| p.into_inner());
                if unwrapped.len() >= MAX_UNWRAPPED {
                    unwrapped.clear();
                }
                unwrapped.insert(wrapped, key.clone());
                Ok(key)
            }
            Known::Locked(why) => Err(StoreError::Rejected(why)),
            Known::Destroyed => Err(StoreError::Rejected(format!(
                "data key {} of tenant {:?} was destroyed",
                row.key_id, row.tenant
            ))),
        }
    }

    /// The raw key of a live row, for wrapping again with another master.
    pub fn unwrap_key(
        &self,
        row: &DataKeyRow,
    ) -> Result<zeroize::Zeroizing<[u8; super::KEY_LEN]>, StoreError> {
        let (Some(wrapped), Some(master)) = (&row.wrapped, self.master()) else {
            return Err(no_master_key());
        };
        if master.id() != row.master_id {
            return Err(StoreError::Rejected(format!(
                "data key {} of tenant {:?} is wrapped by master key {}, not by the one given ({}): give the master key the store uses now",
                row.key_id,
                row.tenant,
                row.master_id,
                master.id()
            )));
        }
        master.unwrap(&row.tenant, row.key_id, wrapped)
    }

    fn unwrap_row(&self, row: &DataKeyRow) -> Known {
        let Some(wrapped) = &row.wrapped else {
            return Known::Destroyed;
        };
        let Some(master) = self.master() else {
            return Known::Locked(format!(
                "the store holds bodies of tenant {:?} encrypted at rest: give flightrec the master key (FLIGHTREC_MASTER_KEY or --master-key-file)",
                row.tenant
            ));
        };
        if master.id() != row.master_id {
            return Known::Locked(format!(
                "data key {} of tenant {:?} is wrapped by master key {}, and this process was given master key {}: give it that key (after `flightrec keys rotate-master`, the new one)",
                row.key_id,
                row.tenant,
                row.master_id,
                master.id()
            ));
        }
        match master.unwrap(&row.tenant, row.key_id, wrapped) {
            Ok(key) => Known::Ready(Arc::new(DataKey::new(row.key_id, &key))),
            Err(e) => Known::Locked(e.to_string()),
        }
    }

    /// Reads the table again; keys already unwrapped are kept unless
    /// destroyed. A store calls it once it has committed the destruction of
    /// a key, so that this process stops opening its bodies at once.
    pub(crate) fn reload(&self) -> Result<(), StoreError> {
        let Some(loader) = self.loader.get() else {
            return Ok(());
        };
        let _reloading = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let rows = loader()?;
        let mut fresh = HashMap::with_capacity(rows.len());
        {
            let known = self.known.read().unwrap_or_else(|p| p.into_inner());
            for row in rows {
                let at = (row.tenant.clone(), row.key_id);
                let entry = match (known.get(&at), &row.wrapped) {
                    // Destroyed is for good, whatever a reader saw.
                    (Some(Known::Destroyed), _) => Known::Destroyed,
                    (Some(Known::Ready(key)), Some(_)) => Known::Ready(key.clone()),
                    _ => self.unwrap_row(&row),
                };
                fresh.insert(at, entry);
            }
        }
        *self.known.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        // Committed keys are known by id now; a destroyed one goes from
        // memory too.
        self.unwrapped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.loaded_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(())
    }

    fn lookup(&self, tenant: &str, key_id: u32) -> Result<Option<Known>, StoreError> {
        let at = (tenant.to_owned(), key_id);
        let loaded_at = *self.loaded_at.lock().unwrap_or_else(|p| p.into_inner());
        let stale = loaded_at.is_none_or(|t| t.elapsed() > FRESH_FOR);
        let found = self
            .known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&at)
            .cloned();
        let may_reload = found.is_none() && {
            let mut missed = self.missed.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match missed.get(&at) {
                Some(t) if now.duration_since(*t) < RELOAD_AT_MOST_EVERY => false,
                _ => {
                    missed.insert(at.clone(), now);
                    true
                }
            }
        };
        if stale || may_reload {
            self.reload()?;
            return Ok(self
                .known
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&at)
                .cloned());
        }
        Ok(found)
    }

    /// The key a sealed value of `tenant` names; `None` if it was destroyed.
    pub fn key_for(&self, tenant: &str, sealed: &[u8]) -> Result<Option<Arc<DataKey>>, StoreError> {
        let key_id = sealed_key_id(sealed)
            .ok_or_else(|| StoreError::Corrupt("a sealed value is cut short".into()))?;
        match self.lookup(tenant, key_id)? {
            Some(Known::Ready(key)) => Ok(Some(key)),
            Some(Known::Destroyed) => Ok(None),
            Some(Known::Locked(why)) => Err(StoreError::Rejected(why)),
            None => Err(StoreError::Corrupt(format!(
                "a sealed value of tenant {tenant:?} names data key {key_id}, which the store does not have"
            ))),
        }
    }

    /// Every data key of `tenant` this process holds unwrapped: a search
    /// looks for the blind tokens of each.
    pub fn search_keys(&self, tenant: &str) -> Result<Vec<Arc<DataKey>>, StoreError> {
        let stale = self
            .loaded_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() > FRESH_FOR);
        if stale {
            self.reload()?;
        }
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<Arc<DataKey>> = known
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .filter_map(|(_, k)| match k {
                Known::Ready(key) => Some(key.clone()),
                _ => None,
            })
            .collect();
        keys.sort_by_key(|k| k.id());
        Ok(keys)
    }

    /// Opens a sealed value of `tenant` at `place`.
    pub fn open(
        &self,
        tenant: &str,
        place: Place<'_>,
        sealed: &[u8],
    ) -> Result<Opened, StoreError> {
        match self.key_for(tenant, sealed)? {
            Some(key) => key.open(tenant, place, sealed).map(Opened::Plain),
            None => Ok(Opened::Shredded),
        }
    }

    /// A text column's value as written: opened if sealed, `None` if its key
    /// was destroyed.
    pub fn open_text(
        &self,
        tenant: &str,
        place: Place<'_>,
        stored: String,
    ) -> Result<Option<String>, StoreError> {
        if let Some(plain) = stored.strip_prefix(PLAIN_PREFIX) {
            return Ok(Some(plain.to_owned()));
        }
        let Some(sealed) = sealed_text(&stored) else {
            return Ok(Some(stored));
        };
        match self.open(tenant, place, &sealed?)? {
            Opened::Plain(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| StoreError::Corrupt("a sealed text is not UTF-8".into())),
            Opened::Shredded => Ok(None),
        }
    }

    /// A blob column's value as written: opened if sealed, `None` if its key
    /// was destroyed.
    pub fn open_blob(
        &self,
        tenant: &str,
        place: Place<'_>,
        stored: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if !is_sealed(&stored) {
            return Ok(Some(stored));
        }
        match self.open(tenant, place, &stored)? {
            Opened::Plain(bytes) => Ok(Some(bytes)),
            Opened::Shredded => Ok(None),
        }
    }
}

/// A new data key for `key_id` of `tenant`, wrapped by `master`, as the row
/// to store.
pub fn new_data_key(master: &dyn MasterKey, tenant: &str, key_id: u32) -> DataKeyRow {
    use rand::RngCore;
    let mut key = zeroize::Zeroizing::new([0u8; super::KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    DataKeyRow {
        tenant: tenant.to_owned(),
        key_id,
        wrapped: Some(master.wrap(tenant, key_id, &key)),
        master_id: master.id().to_owned(),
        sealing: true,
    }
}

/// The error for making a data key under another master key than the
/// store's others (a node not yet restarted after a rotation).
pub fn other_master(this: &str, store: &str) -> StoreError {
    StoreError::Rejected(format!(
        "this node's master key is {this}, but the store's data keys are wrapped by master key {store}: restart it with that key"
    ))
}

/// The error for turning encryption on without a master key.
pub fn no_master_key() -> StoreError {
    StoreError::Rejected(
        "encryption at rest needs a master key: start flightrec with FLIGHTREC_MASTER_KEY or --master-key-file (`flightrec keys new-master` makes one)".into(),
    )
}
