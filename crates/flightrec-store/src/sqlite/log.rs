//! The Merkle log in SQLite: tiles, checkpoints and proofs.

use super::SqliteStore;
use super::heads::{log_size, log_tenants};
use crate::StoreError;
use crate::model::StoredCheckpoint;
use crate::tile_cache::{FULL_TILE_BYTES, FullTiles};
use flightrec_core::log::tree::{RightEdge, TileReader};
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, Hash, InclusionProof, LogError, consistency_proof,
    inclusion_proof, sign_checkpoint,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::sync::Arc;

impl From<LogError> for StoreError {
    fn from(e: LogError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// One tenant's tiles, read through a connection (inside a transaction or
/// not), and through a cache of full tiles when one is given.
pub struct Tiles<'a> {
    pub conn: &'a Connection,
    pub tenant: &'a str,
    pub cache: Option<&'a FullTiles>,
}

impl<'a> Tiles<'a> {
    /// Tiles read straight from the database (inside a write transaction,
    /// where a cache could see uncommitted tiles).
    pub fn uncached(conn: &'a Connection, tenant: &'a str) -> Self {
        Tiles {
            conn,
            tenant,
            cache: None,
        }
    }

    fn bytes(&self, level: u8, index: u64) -> Result<Option<Arc<[u8]>>, StoreError> {
        let key = (self.tenant.to_owned(), level, index);
        if let Some(hit) = self.cache.and_then(|c| c.get(&key)) {
            return Ok(Some(hit));
        }
        let bytes: Option<Arc<[u8]>> =
            raw_tile(self.conn, self.tenant, level, index)?.map(Into::into);
        if let (Some(cache), Some(b)) = (self.cache, &bytes)
            && b.len() == FULL_TILE_BYTES
        {
            cache.put(key, b.clone());
        }
        Ok(bytes)
    }
}

impl TileReader for Tiles<'_> {
    type Error = StoreError;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, StoreError> {
        let bytes = self.bytes(level, index)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "tile {level}/{index} of tenant {:?} is missing",
                self.tenant
            ))
        })?;
        let want = usize::from(width) * 32;
        if bytes.len() < want {
            return Err(LogError::ShortTile {
                level,
                index,
                wanted: width,
                got: bytes.len() / 32,
            }
            .into());
        }
        Ok(bytes[..want]
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().expect("32 bytes")))
            .collect())
    }
}

pub fn raw_tile(
    conn: &Connection,
    tenant: &str,
    level: u8,
    index: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT hashes FROM tiles WHERE tenant = ?1 AND level = ?2 AND idx = ?3")?
        .query_row(params![tenant, level, index as i64], |r| r.get(0))
        .optional()?)
}

/// Writes every tile the edge changed.
pub fn write_tiles(conn: &Connection, tenant: &str, edge: &RightEdge) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO tiles (tenant, level, idx, hashes) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (tenant, level, idx) DO UPDATE SET hashes = excluded.hashes",
    )?;
    for tile in edge.dirty_tiles() {
        let bytes: Vec<u8> = tile.hashes.iter().flat_map(|h| h.0).collect();
        upsert.execute(params![tenant, tile.id.level, tile.id.index as i64, bytes])?;
    }
    Ok(())
}

/// The newest checkpoint of a tenant.
pub fn latest_checkpoint(
    conn: &Connection,
    tenant: &str,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT size, root, note, created_at FROM checkpoints WHERE tenant = ?1 \
             ORDER BY size DESC LIMIT 1",
        )?
        .query_row([tenant], checkpoint_from_row)
        .optional()?)
}

fn checkpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    let root: Vec<u8> = r.get(1)?;
    Ok(StoredCheckpoint {
        size: r.get::<_, i64>(0)? as u64,
        root: Hash::from_slice(&root).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Blob, e.into())
        })?,
        note: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// Signs and stores a checkpoint of `edge`'s tree for `tenant`.
pub fn store_checkpoint(
    conn: &Connection,
    tenant: &str,
    edge: &RightEdge,
    signing: &crate::Checkpointing,
) -> Result<StoredCheckpoint, StoreError> {
    let origin = signing.origin(tenant);
    let signer = signing.signer(tenant)?;
    let checkpoint = Checkpoint::new(&origin, edge.size(), edge.root())?;
    let note = sign_checkpoint(&checkpoint, &signer)?;
    let created_at = flightrec_core::event::format_time(&signing.clock.now());
    conn.prepare_cached(
        "INSERT INTO checkpoints (tenant, size, root, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (tenant, size) DO NOTHING",
    )?
    .execute(params![
        tenant,
        edge.size() as i64,
        edge.root().0.as_slice(),
        note,
        created_at
    ])?;
    // An existing checkpoint of this size stays; return what is stored.
    Ok(conn
        .prepare_cached(
            "SELECT size, root, note, created_at FROM checkpoints WHERE tenant = ?1 AND size = ?2",
        )?
        .query_row(params![tenant, edge.size() as i64], checkpoint_from_row)?)
}

impl SqliteStore {
    pub(super) fn read_tile(
        &self,
        tenant: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| raw_tile(conn, tenant, level, index))
    }

    pub(super) fn read_checkpoint(
        &self,
        tenant: &str,
        size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.read(|conn| match size {
            None => latest_checkpoint(conn, tenant),
            Some(size) => Ok(conn
                .prepare_cached(
                    "SELECT size, root, note, created_at FROM checkpoints WHERE tenant = ?1 AND size = ?2",
                )?
                .query_row(params![tenant, size as i64], checkpoint_from_row)
                .optional()?),
        })
    }

    pub(super) fn read_checkpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT size, root, note, created_at FROM checkpoints WHERE tenant = ?1 ORDER BY size",
                )?
                .query_map([tenant], checkpoint_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    pub(super) fn prove_inclusion(
        &self,
        tenant: &str,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.read(|conn| {
            let tiles = Tiles {
                conn,
                tenant,
                cache: Some(&self.full_tiles),
            };
            inclusion_proof(&tiles, index, size)
        })
    }

    pub(super) fn prove_consistency(
        &self,
        tenant: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.read(|conn| {
            let tiles = Tiles {
                conn,
                tenant,
                cache: Some(&self.full_tiles),
            };
            consistency_proof(&tiles, old_size, new_size)
        })
    }

    pub(super) fn sign_due_checkpoints(&self) -> Result<usize, StoreError> {
        self.refuse_writes_if_inconsistent()?;
        let Some(signing) = self.checkpointing() else {
            return Ok(0);
        };
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut signed = 0;
            for tenant in log_tenants(&tx)? {
                let size = log_size(&tx, &tenant)?;
                // The caller decides when; here, only whether the log grew.
                let signed_size = latest_checkpoint(&tx, &tenant)?.map_or(0, |c| c.size);
                if size > signed_size {
                    let edge = RightEdge::load(&Tiles::uncached(&tx, &tenant), size)?;
                    store_checkpoint(&tx, &tenant, &edge, &signing)?;
                    signed += 1;
                }
            }
            tx.commit()?;
            Ok(signed)
        })
    }

    pub(super) fn read_leaf_inputs(
        &self,
        tenant: &str,
        from_seq: u64,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM records WHERE tenant = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
                super::rows::HEADER_COLUMNS
            ))?;
            let records = stmt
                .query_map(
                    params![
                        tenant,
                        from_seq as i64,
                        from_seq.saturating_add(count) as i64
                    ],
                    |row| super::rows::record_from_row(row, &self.keyring),
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(records.iter().map(|r| r.header.leaf_input()).collect())
        })
    }
}
