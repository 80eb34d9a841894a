//! The `data_keys` table (see `crate::encryption`).

use super::search::{indexed_text, text_of};
use crate::StoreError;
use crate::encryption::SEALED_MAGIC;
use crate::encryption::{
    DataKeyRow, Keyring, MasterKey, new_data_key, no_master_key, other_master,
};
use rusqlite::{Connection, OptionalExtension, params};

const COLUMNS: &str = "tenant, key_id, wrapped, master_id, sealing";

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<DataKeyRow> {
    Ok(DataKeyRow {
        tenant: r.get(0)?,
        key_id: r.get(1)?,
        wrapped: r.get(2)?,
        master_id: r.get(3)?,
        sealing: r.get(4)?,
    })
}

/// Every data key row, for a keyring to load.
pub fn load(conn: &Connection) -> Result<Vec<DataKeyRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM data_keys"))?;
    let rows = stmt.query_map([], row_of)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every destroyed key, as (tenant, key id).
pub fn destroyed(conn: &Connection) -> Result<Vec<(String, u32)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT tenant, key_id FROM data_keys WHERE wrapped IS NULL")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The newest live key of a tenant: what copies of its sealed bodies
/// (report files, webhook payloads) are sealed with, even once it no
/// longer seals new bodies.
pub fn newest_live_key(conn: &Connection, tenant: &str) -> Result<Option<DataKeyRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM data_keys WHERE tenant = ?1 AND wrapped IS NOT NULL \
             ORDER BY key_id DESC LIMIT 1"
        ))?
        .query_row([tenant], row_of)
        .optional()?)
}

/// Whether the tenant ever had a data key.
pub fn ever_encrypted(conn: &Connection, tenant: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM data_keys WHERE tenant = ?1 LIMIT 1")?
        .query_row([tenant], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The key a tenant's new bodies are sealed with, if it encrypts.
pub fn sealing_key(conn: &Connection, tenant: &str) -> Result<Option<DataKeyRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM data_keys \
             WHERE tenant = ?1 AND sealing = 1 AND wrapped IS NOT NULL"
        ))?
        .query_row([tenant], row_of)
        .optional()?)
}

/// Turns sealing of the tenant's new bodies on (with its newest live key,
/// or a new one) or off (its keys still open what they sealed).
pub fn set_sealing(
    conn: &Connection,
    keys: &Keyring,
    tenant: &str,
    on: bool,
    at: &str,
) -> Result<(), StoreError> {
    if !on {
        conn.execute(
            "UPDATE data_keys SET sealing = 0 WHERE tenant = ?1 AND sealing = 1",
            [tenant],
        )?;
        return Ok(());
    }
    if sealing_key(conn, tenant)?.is_some() {
        return Ok(());
    }
    let newest_live: Option<u32> = conn.query_row(
        "SELECT max(key_id) FROM data_keys WHERE tenant = ?1 AND wrapped IS NOT NULL",
        [tenant],
        |r| r.get(0),
    )?;
    if let Some(id) = newest_live {
        conn.execute(
            "UPDATE data_keys SET sealing = 1 WHERE tenant = ?1 AND key_id = ?2",
            params![tenant, id],
        )?;
        return Ok(());
    }
    let master = keys.master().ok_or_else(no_master_key)?;
    let others: Option<String> = conn
        .query_row(
            "SELECT master_id FROM data_keys WHERE wrapped IS NOT NULL AND master_id != ?1 LIMIT 1",
            [master.id()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = others {
        return Err(other_master(master.id(), &other));
    }
    let next: u32 = conn.query_row(
        "SELECT coalesce(max(key_id), 0) + 1 FROM data_keys WHERE tenant = ?1",
        [tenant],
        |r| r.get(0),
    )?;
    let row = new_data_key(master.as_ref(), tenant, next);
    conn.execute(
        "INSERT INTO data_keys (tenant, key_id, wrapped, master_id, sealing, created_at) \
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
        params![row.tenant, row.key_id, row.wrapped, row.master_id, at],
    )?;
    Ok(())
}

/// Destroys every live data key of the tenant; says how many. The index
/// entries of its sealed bodies become those of bodies without words
/// first, while the keys still open them (the index must match what the
/// records yield, and a shredded body yields no words).
pub fn destroy(
    conn: &Connection,
    keys: &Keyring,
    tenant: &str,
    at: &str,
) -> Result<u64, StoreError> {
    let indexed: i64 = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut sealed = conn.prepare(&format!(
        "SELECT rowid, type, body, seq FROM records \
         WHERE tenant = ?1 AND rowid <= ?2 AND substr(body, 1, 4) = X'{}'",
        hex::encode(SEALED_MAGIC)
    ))?;
    let mut unindex = conn.prepare_cached(
        "INSERT INTO records_fts (records_fts, rowid, text) VALUES ('delete', ?1, ?2)",
    )?;
    let mut index = conn.prepare_cached("INSERT INTO records_fts (rowid, text) VALUES (?1, ?2)")?;
    let mut rows = sealed.query(params![tenant, indexed])?;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let event_type: String = row.get(1)?;
        let seq: i64 = row.get(3)?;
        let text = indexed_text(keys, tenant, seq as u64, &event_type, row.get_ref(2)?)?;
        unindex.execute(params![rowid, text])?;
        index.execute(params![rowid, text_of(&event_type, None)])?;
    }
    Ok(conn.execute(
        "UPDATE data_keys SET wrapped = NULL, sealing = 0, destroyed_at = ?2 \
         WHERE tenant = ?1 AND wrapped IS NOT NULL",
        params![tenant, at],
    )? as u64)
}

/// Wraps every live data key again, with `to`; says how many.
pub fn rewrap(
    conn: &mut Connection,
    keys: &Keyring,
    to: &dyn MasterKey,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let rows: Vec<DataKeyRow> = load(&tx)?;
    let mut done = 0;
    for row in rows.iter().filter(|r| r.wrapped.is_some()) {
        let key = keys.unwrap_key(row)?;
        let wrapped = to.wrap(&row.tenant, row.key_id, &key);
        tx.execute(
            "UPDATE data_keys SET wrapped = ?3, master_id = ?4 WHERE tenant = ?1 AND key_id = ?2",
            params![row.tenant, row.key_id, wrapped, to.id()],
        )?;
        done += 1;
    }
    tx.commit()?;
    Ok(done)
}
