//! The Merkle log in PostgreSQL: tiles, checkpoints, cosignatures and
//! proofs.

use super::PgStore;
use super::heads::{lock_heads, log_size, log_tenants};
use crate::StoreError;
use crate::model::StoredCheckpoint;
use crate::tile_cache::{FULL_TILE_BYTES, FullTiles};
use flightrec_core::log::tree::{RightEdge, TileReader};
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, Hash, InclusionProof, LogError, consistency_proof,
    inclusion_proof, sign_checkpoint,
};
use postgres::{GenericClient, Row};
use std::cell::RefCell;
use std::sync::Arc;

/// One tenant's tiles, read through a connection (inside a transaction or
/// not), and through a cache of full tiles when one is given. The reader
/// trait reads through `&self`; the connection needs `&mut`.
pub struct Tiles<'a, C: GenericClient> {
    conn: RefCell<&'a mut C>,
    tenant: &'a str,
    cache: Option<&'a FullTiles>,
}

impl<'a, C: GenericClient> Tiles<'a, C> {
    /// Tiles read straight from the database (inside a write transaction,
    /// where a cache could see uncommitted tiles).
    pub fn uncached(conn: &'a mut C, tenant: &'a str) -> Self {
        Tiles {
            conn: RefCell::new(conn),
            tenant,
            cache: None,
        }
    }

    fn cached(conn: &'a mut C, tenant: &'a str, cache: &'a FullTiles) -> Self {
        Tiles {
            conn: RefCell::new(conn),
            tenant,
            cache: Some(cache),
        }
    }

    fn bytes(&self, level: u8, index: u64) -> Result<Option<Arc<[u8]>>, StoreError> {
        let key = (self.tenant.to_owned(), level, index);
        if let Some(hit) = self.cache.and_then(|c| c.get(&key)) {
            return Ok(Some(hit));
        }
        let mut conn = self.conn.borrow_mut();
        let bytes: Option<Arc<[u8]>> =
            raw_tile(&mut **conn, self.tenant, level, index)?.map(Into::into);
        if let (Some(cache), Some(b)) = (self.cache, &bytes)
            && b.len() == FULL_TILE_BYTES
        {
            cache.put(key, b.clone());
        }
        Ok(bytes)
    }
}

impl<C: GenericClient> TileReader for Tiles<'_, C> {
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
    conn: &mut impl GenericClient,
    tenant: &str,
    level: u8,
    index: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT hashes FROM tiles WHERE tenant = $1 AND level = $2 AND idx = $3",
            &[&tenant, &i16::from(level), &(index as i64)],
        )?
        .map(|r| r.get(0)))
}

/// Writes every tile the edge changed, in one statement.
pub fn write_tiles(
    conn: &mut impl GenericClient,
    tenant: &str,
    edge: &RightEdge,
) -> Result<(), StoreError> {
    let tiles = edge.dirty_tiles();
    if tiles.is_empty() {
        return Ok(());
    }
    let levels: Vec<i16> = tiles.iter().map(|t| i16::from(t.id.level)).collect();
    let indexes: Vec<i64> = tiles.iter().map(|t| t.id.index as i64).collect();
    let hashes: Vec<Vec<u8>> = tiles
        .iter()
        .map(|t| t.hashes.iter().flat_map(|h| h.0).collect())
        .collect();
    conn.execute(
        "INSERT INTO tiles (tenant, level, idx, hashes) \
         SELECT $1, l, i, h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS t (l, i, h) \
         ON CONFLICT (tenant, level, idx) DO UPDATE SET hashes = excluded.hashes",
        &[&tenant, &levels, &indexes, &hashes],
    )?;
    Ok(())
}

const CHECKPOINT_COLUMNS: &str = "size, root, note, created_at";

fn checkpoint_from_row(r: &Row) -> Result<StoredCheckpoint, StoreError> {
    let root: Vec<u8> = r.try_get(1)?;
    Ok(StoredCheckpoint {
        size: r.try_get::<_, i64>(0)? as u64,
        root: Hash::from_slice(&root)
            .map_err(|e| StoreError::Corrupt(format!("a checkpoint's root: {e}")))?,
        note: r.try_get(2)?,
        created_at: r.try_get(3)?,
    })
}

/// The newest checkpoint of a tenant.
pub fn latest_checkpoint(
    conn: &mut impl GenericClient,
    tenant: &str,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    conn.query_opt(
        &format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant = $1 \
             ORDER BY size DESC LIMIT 1"
        ),
        &[&tenant],
    )?
    .as_ref()
    .map(checkpoint_from_row)
    .transpose()
}

/// Signs and stores a checkpoint of `edge`'s tree for `tenant`, inside the
/// transaction that holds the tenant's head: what it signs is what commits.
pub fn store_checkpoint(
    conn: &mut impl GenericClient,
    tenant: &str,
    edge: &RightEdge,
    signing: &crate::Checkpointing,
) -> Result<(), StoreError> {
    let origin = signing.origin(tenant);
    let signer = signing.signer(tenant)?;
    let checkpoint = Checkpoint::new(&origin, edge.size(), edge.root())?;
    let note = sign_checkpoint(&checkpoint, &signer)?;
    let created_at = flightrec_core::event::format_time(&signing.clock.now());
    // An existing checkpoint of this size stays.
    conn.execute(
        "INSERT INTO checkpoints (tenant, size, root, note, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant, size) DO NOTHING",
        &[
            &tenant,
            &(edge.size() as i64),
            &edge.root().0.as_slice(),
            &note,
            &created_at,
        ],
    )?;
    Ok(())
}

impl PgStore {
    pub(super) fn read_tile(
        &self,
        tenant: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_client(|conn| raw_tile(conn, tenant, level, index))
    }

    pub(super) fn read_checkpoint(
        &self,
        tenant: &str,
        size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.with_client(|conn| match size {
            None => latest_checkpoint(conn, tenant),
            Some(size) => conn
                .query_opt(
                    &format!(
                        "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant = $1 AND size = $2"
                    ),
                    &[&tenant, &(size as i64)],
                )?
                .as_ref()
                .map(checkpoint_from_row)
                .transpose(),
        })
    }

    pub(super) fn read_checkpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE tenant = $1 ORDER BY size"
                ),
                &[&tenant],
            )?;
            rows.iter().map(checkpoint_from_row).collect()
        })
    }

    pub(super) fn prove_inclusion(
        &self,
        tenant: &str,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.with_client(|conn| {
            inclusion_proof(&Tiles::cached(conn, tenant, &self.full_tiles), index, size)
        })
    }

    pub(super) fn prove_consistency(
        &self,
        tenant: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.with_client(|conn| {
            consistency_proof(
                &Tiles::cached(conn, tenant, &self.full_tiles),
                old_size,
                new_size,
            )
        })
    }

    /// Signs a checkpoint for every tenant whose log outgrew its newest
    /// one, each in a transaction that holds the tenant's head, so the
    /// signed size is a committed one and no append is half seen.
    pub(super) fn sign_due_checkpoints(&self) -> Result<usize, StoreError> {
        self.refuse_writes_if_inconsistent()?;
        let Some(signing) = self.checkpointing() else {
            return Ok(0);
        };
        self.with_client(|conn| {
            let mut signed = 0;
            for tenant in log_tenants(conn)? {
                let mut tx = conn.transaction()?;
                let size = lock_heads(&mut tx, &[tenant.as_str()])?[&tenant];
                let signed_size = latest_checkpoint(&mut tx, &tenant)?.map_or(0, |c| c.size);
                if size > signed_size {
                    let edge = RightEdge::load(&Tiles::uncached(&mut tx, &tenant), size)?;
                    store_checkpoint(&mut tx, &tenant, &edge, &signing)?;
                    signed += 1;
                }
                tx.commit()?;
            }
            Ok(signed)
        })
    }

    pub(super) fn read_leaf_inputs(
        &self,
        tenant: &str,
        from_seq: u64,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {} FROM records WHERE tenant = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
                    super::rows::HEADER_COLUMNS
                ),
                &[
                    &tenant,
                    &(from_seq as i64),
                    &(from_seq.saturating_add(count).min(i64::MAX as u64) as i64),
                ],
            )?;
            rows.iter()
                .map(|r| Ok(super::rows::record_from_row(r, &self.keyring)?.header.leaf_input()))
                .collect()
        })
    }

    pub(super) fn insert_cosignature(
        &self,
        tenant: &str,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        self.refuse_writes_if_snapshot()?;
        let now = flightrec_core::event::format_time(&chrono::Utc::now());
        self.with_client(|conn| {
            conn.execute(
                "INSERT INTO cosignatures (tenant, size, witness, line, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&tenant, &(size as i64), &witness, &line, &now],
            )?;
            Ok(())
        })
    }

    pub(super) fn select_cosignatures(
        &self,
        tenant: &str,
        size: u64,
    ) -> Result<Vec<String>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT line FROM cosignatures WHERE tenant = $1 AND size = $2 ORDER BY arrival",
                &[&tenant, &(size as i64)],
            )?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    pub(super) fn select_witnessed_size(
        &self,
        tenant: &str,
        witness: &str,
    ) -> Result<Option<u64>, StoreError> {
        self.with_client(|conn| {
            let size: Option<i64> = conn
                .query_one(
                    "SELECT max(size) FROM cosignatures WHERE tenant = $1 AND witness = $2",
                    &[&tenant, &witness],
                )?
                .get(0);
            Ok(size.map(|s| s as u64))
        })
    }

    pub(super) fn query_log_size(&self, tenant: &str) -> Result<u64, StoreError> {
        self.with_client(|conn| log_size(conn, tenant))
    }
}
