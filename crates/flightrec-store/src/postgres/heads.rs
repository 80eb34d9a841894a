//! Each tenant's tree-state row (`log_heads`), and the check made on every
//! open: do each tenant's head, newest checkpoint, tiles and records agree?
//! A store where they do not still serves reads (so the damage can be
//! examined) but refuses writes, since appending to a broken tree would
//! bury the damage under new signatures.

use super::PgStore;
use super::log::{Tiles, latest_checkpoint};
use crate::StoreError;
use flightrec_core::log::tree::{RightEdge, TileReader};
use flightrec_core::log::tree_root;
use postgres::GenericClient;
use std::collections::HashMap;

/// Every tenant that has records, read from the records themselves (not
/// from the heads, which are bookkeeping an attacker could zero), one index
/// seek per tenant.
pub fn log_tenants(conn: &mut impl GenericClient) -> Result<Vec<String>, StoreError> {
    let rows = conn.query(
        "WITH RECURSIVE t (name) AS ( \
             SELECT min(tenant) FROM records \
             UNION ALL \
             SELECT (SELECT min(tenant) FROM records WHERE tenant > t.name) FROM t \
             WHERE t.name IS NOT NULL) \
         SELECT name FROM t WHERE name IS NOT NULL",
        &[],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// How many records a tenant's log holds (as of the last commit).
pub fn log_size(conn: &mut impl GenericClient, tenant: &str) -> Result<u64, StoreError> {
    let size: Option<i64> = conn
        .query_opt("SELECT size FROM log_heads WHERE tenant = $1", &[&tenant])?
        .map(|r| r.get(0));
    Ok(size.unwrap_or(0) as u64)
}

/// Makes sure each tenant has its head row, in a statement of its own
/// (committed before the append transaction locks the rows: creating a
/// row inside it could deadlock two nodes that create heads in turn).
pub fn ensure_heads(conn: &mut impl GenericClient, tenants: &[&str]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO log_heads (tenant, size) \
         SELECT t, 0 FROM unnest($1::text[]) AS t ORDER BY t \
         ON CONFLICT (tenant) DO NOTHING",
        &[&tenants],
    )?;
    Ok(())
}

/// Locks the head rows of `tenants` for the rest of the transaction, in
/// tenant order (so two nodes locking the same tenants never deadlock),
/// and returns each one's size.
pub fn lock_heads(
    tx: &mut impl GenericClient,
    tenants: &[&str],
) -> Result<HashMap<String, u64>, StoreError> {
    let rows = tx.query(
        "SELECT tenant, size FROM log_heads WHERE tenant = ANY($1) ORDER BY tenant FOR UPDATE",
        &[&tenants],
    )?;
    let sizes: HashMap<String, u64> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect();
    if let Some(missing) = tenants.iter().find(|t| !sizes.contains_key(**t)) {
        return Err(StoreError::Corrupt(format!(
            "tenant {missing:?} has no log head"
        )));
    }
    Ok(sizes)
}

/// Notes a tenant's new size, in the append transaction that holds its row.
pub fn set_size(tx: &mut impl GenericClient, tenant: &str, size: u64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE log_heads SET size = $2 WHERE tenant = $1",
        &[&tenant, &(size as i64)],
    )?;
    Ok(())
}

/// What is wrong with one tenant's log head, if anything.
pub fn head_problem(
    conn: &mut impl GenericClient,
    tenant: &str,
) -> Result<Option<String>, StoreError> {
    let size = log_size(conn, tenant)?;
    let row = conn.query_one(
        "SELECT count(*), coalesce(max(seq) + 1, 0) FROM records WHERE tenant = $1 AND seq >= $2",
        &[&tenant, &(size.saturating_sub(1024) as i64)],
    )?;
    let (count, end): (i64, i64) = (row.get(0), row.get(1));
    if count as u64 != size.min(1024) || end as u64 != size {
        return Ok(Some(format!(
            "tenant {tenant:?}: the log head says {size} records, but records are missing or extra below it"
        )));
    }
    if size > 0 {
        let last = size - 1;
        let stored_leaf: Vec<u8> = conn
            .query_one(
                "SELECT leaf_hash FROM records WHERE tenant = $1 AND seq = $2",
                &[&tenant, &(last as i64)],
            )?
            .get(0);
        let tiles = Tiles::uncached(conn, tenant);
        let tiled = match tiles.read_tile(0, last / 256, (last % 256 + 1) as u16) {
            Ok(hashes) => hashes[(last % 256) as usize],
            Err(e) => return Ok(Some(format!("tenant {tenant:?}: {e}"))),
        };
        if tiled.0.as_slice() != stored_leaf.as_slice() {
            return Ok(Some(format!(
                "tenant {tenant:?}: the tiles end at a different leaf than record {last}"
            )));
        }
        if let Err(e) = RightEdge::load(&tiles, size) {
            return Ok(Some(format!("tenant {tenant:?}: {e}")));
        }
    }
    if let Some(cp) = latest_checkpoint(conn, tenant)? {
        if cp.size > size {
            return Ok(Some(format!(
                "tenant {tenant:?}: the newest checkpoint covers {} records but the log has {size}",
                cp.size
            )));
        }
        match tree_root(&Tiles::uncached(conn, tenant), cp.size) {
            Ok(root) if root == cp.root => {}
            Ok(_) => {
                return Ok(Some(format!(
                    "tenant {tenant:?}: the tiles do not hash to the checkpoint of size {}",
                    cp.size
                )));
            }
            Err(e) => return Ok(Some(format!("tenant {tenant:?}: {e}"))),
        }
    }
    Ok(None)
}

impl PgStore {
    /// Checks every tenant's head; on a mismatch, logs it and refuses
    /// writes from then on.
    pub(super) fn check_heads(&self) -> Result<(), StoreError> {
        // One snapshot: other nodes may be appending meanwhile.
        let problem = self.read_consistently(|tx| {
            for tenant in log_tenants(tx)? {
                if let Some(p) = head_problem(tx, &tenant)? {
                    return Ok(Some(p));
                }
            }
            Ok(None)
        })?;
        if let Some(p) = problem {
            let why = format!(
                "{p}; the store refuses writes until this is understood: run `flightrec verify --database-url …` ({}) to find the first record that does not match",
                self.database
            );
            tracing::error!("{why}");
            *self
                .inconsistency
                .write()
                .unwrap_or_else(|e| e.into_inner()) = Some(why);
        }
        Ok(())
    }
}
