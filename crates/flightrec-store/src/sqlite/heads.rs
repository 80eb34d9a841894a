//! The check made on every open: do each tenant's newest checkpoint, tiles
//! and records agree? A store where they do not still serves reads (so the
//! damage can be examined) but refuses writes, since appending to a broken
//! tree would bury the damage under new signatures.

use super::SqliteStore;
use super::log::{Tiles, latest_checkpoint};
use crate::StoreError;
use flightrec_core::log::tree::{RightEdge, TileReader};
use flightrec_core::log::tree_root;
use rusqlite::{Connection, params};
use std::path::Path;

/// Every tenant that has records, without scanning them: one index seek
/// per tenant.
pub fn log_tenants(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE t(name) AS ( \
             SELECT min(tenant) FROM records \
             UNION ALL \
             SELECT (SELECT min(tenant) FROM records WHERE tenant > t.name) FROM t \
             WHERE t.name IS NOT NULL) \
         SELECT name FROM t WHERE name IS NOT NULL",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

pub fn log_size(conn: &Connection, tenant: &str) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM records WHERE tenant = ?1")?
        .query_row([tenant], |r| r.get(0))?;
    Ok(last.map_or(0, |s| s as u64 + 1))
}

/// What is wrong with one tenant's log head, if anything.
fn head_problem(conn: &Connection, tenant: &str) -> Result<Option<String>, StoreError> {
    let size = log_size(conn, tenant)?;
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM records WHERE tenant = ?1 AND seq >= ?2")?
        .query_row(params![tenant, size.saturating_sub(1024) as i64], |r| {
            r.get(0)
        })?;
    if count as u64 != size.min(1024) {
        return Ok(Some(format!(
            "tenant {tenant:?}: records are missing below seq {size}"
        )));
    }
    let tiles = Tiles::uncached(conn, tenant);
    if size > 0 {
        let last = size - 1;
        let stored_leaf: Vec<u8> = conn
            .prepare_cached("SELECT leaf_hash FROM records WHERE tenant = ?1 AND seq = ?2")?
            .query_row(params![tenant, last as i64], |r| r.get(0))?;
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
        match tree_root(&tiles, cp.size) {
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

impl SqliteStore {
    /// Checks every tenant's head; on a mismatch, logs it and refuses
    /// writes from then on.
    pub(super) fn check_heads(&self, dir: &Path) -> Result<(), StoreError> {
        let problem = self.read(|conn| {
            for tenant in log_tenants(conn)? {
                if let Some(p) = head_problem(conn, &tenant)? {
                    return Ok(Some(p));
                }
            }
            Ok(None)
        })?;
        if let Some(p) = problem {
            let why = format!(
                "{p}; the store refuses writes until this is understood: run `flightrec verify --data-dir {}` to find the first record that does not match",
                dir.display()
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
