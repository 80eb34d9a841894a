//! The `data_keys` table (see `crate::encryption`).

use super::search::{document, indexed_text};
use crate::StoreError;
use crate::encryption::SEALED_MAGIC;
use crate::encryption::{
    DataKeyRow, Keyring, MasterKey, new_data_key, no_master_key, other_master,
};
use postgres::{GenericClient, Row};

const COLUMNS: &str = "tenant, key_id, wrapped, master_id, sealing";

fn row_of(r: &Row) -> Result<DataKeyRow, StoreError> {
    Ok(DataKeyRow {
        tenant: r.try_get(0)?,
        key_id: r.try_get::<_, i64>(1)? as u32,
        wrapped: r.try_get(2)?,
        master_id: r.try_get(3)?,
        sealing: r.try_get(4)?,
    })
}

/// Every data key row, for a keyring to load.
pub fn load(client: &mut impl GenericClient) -> Result<Vec<DataKeyRow>, StoreError> {
    client
        .query(&format!("SELECT {COLUMNS} FROM data_keys"), &[])?
        .iter()
        .map(row_of)
        .collect()
}

/// A tenant's destroyed keys, as (tenant, key id).
pub fn destroyed(
    client: &mut impl GenericClient,
    tenant: &str,
) -> Result<Vec<(String, u32)>, StoreError> {
    Ok(client
        .query(
            "SELECT key_id FROM data_keys WHERE tenant = $1 AND wrapped IS NULL",
            &[&tenant],
        )?
        .iter()
        .map(|r| (tenant.to_owned(), r.get::<_, i64>(0) as u32))
        .collect())
}

/// The newest live key of a tenant: what copies of its sealed bodies
/// (report files, webhook payloads) are sealed with, even once it no
/// longer seals new bodies.
pub fn newest_live_key(
    client: &mut impl GenericClient,
    tenant: &str,
) -> Result<Option<DataKeyRow>, StoreError> {
    client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM data_keys WHERE tenant = $1 AND wrapped IS NOT NULL \
                 ORDER BY key_id DESC LIMIT 1"
            ),
            &[&tenant],
        )?
        .as_ref()
        .map(row_of)
        .transpose()
}

/// Whether the tenant ever had a data key.
pub fn ever_encrypted(client: &mut impl GenericClient, tenant: &str) -> Result<bool, StoreError> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM data_keys WHERE tenant = $1 LIMIT 1",
            &[&tenant],
        )?
        .is_some())
}

/// The key a tenant's new bodies are sealed with, if it encrypts. Read
/// `FOR SHARE`: a node destroying the tenant's keys waits for the appends
/// that sealed with them, and appends after it find none.
pub fn sealing_key(
    client: &mut impl GenericClient,
    tenant: &str,
) -> Result<Option<DataKeyRow>, StoreError> {
    client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM data_keys \
                 WHERE tenant = $1 AND sealing AND wrapped IS NOT NULL FOR SHARE"
            ),
            &[&tenant],
        )?
        .as_ref()
        .map(row_of)
        .transpose()
}

/// Turns sealing of the tenant's new bodies on (with its newest live key,
/// or a new one) or off (its keys still open what they sealed).
pub fn set_sealing(
    client: &mut impl GenericClient,
    keys: &Keyring,
    tenant: &str,
    on: bool,
    at: &str,
) -> Result<(), StoreError> {
    if !on {
        client.execute(
            "UPDATE data_keys SET sealing = false WHERE tenant = $1 AND sealing",
            &[&tenant],
        )?;
        return Ok(());
    }
    if sealing_key(client, tenant)?.is_some() {
        return Ok(());
    }
    let newest_live: Option<i64> = client
        .query_one(
            "SELECT max(key_id) FROM data_keys WHERE tenant = $1 AND wrapped IS NOT NULL",
            &[&tenant],
        )?
        .try_get(0)?;
    if let Some(id) = newest_live {
        client.execute(
            "UPDATE data_keys SET sealing = true WHERE tenant = $1 AND key_id = $2",
            &[&tenant, &id],
        )?;
        return Ok(());
    }
    let master = keys.master().ok_or_else(no_master_key)?;
    let other = client.query_opt(
        "SELECT master_id FROM data_keys WHERE wrapped IS NOT NULL AND master_id <> $1 LIMIT 1",
        &[&master.id()],
    )?;
    if let Some(other) = other {
        return Err(other_master(master.id(), other.get(0)));
    }
    let next: i64 = client
        .query_one(
            "SELECT coalesce(max(key_id), 0) + 1 FROM data_keys WHERE tenant = $1",
            &[&tenant],
        )?
        .try_get(0)?;
    let row = new_data_key(master.as_ref(), tenant, next as u32);
    client.execute(
        "INSERT INTO data_keys (tenant, key_id, wrapped, master_id, sealing, created_at) \
         VALUES ($1, $2, $3, $4, true, $5)",
        &[&row.tenant, &next, &row.wrapped, &row.master_id, &at],
    )?;
    Ok(())
}

/// Destroys every live data key of the tenant; says how many. The index
/// entries of its sealed bodies become those of bodies without words
/// first (the index must match what the records yield, and a shredded body
/// yields no words); the tenant's indexing is locked meanwhile, as for an
/// erasure.
pub fn destroy(client: &mut impl GenericClient, tenant: &str, at: &str) -> Result<u64, StoreError> {
    client.execute(
        "INSERT INTO search_progress (tenant, indexed_size) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        &[&tenant],
    )?;
    let indexed: i64 = client
        .query_one(
            "SELECT indexed_size FROM search_progress WHERE tenant = $1 FOR UPDATE",
            &[&tenant],
        )?
        .try_get(0)?;
    let rows = client.query(
        "SELECT seq, type FROM records WHERE tenant = $1 AND seq < $2 \
         AND substring(body FROM 1 FOR 4) = $3",
        &[&tenant, &indexed, &SEALED_MAGIC.as_slice()],
    )?;
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let documents: Vec<String> = rows
        .iter()
        .map(|r| document(&indexed_text(r.get(1), None)))
        .collect();
    client.execute(
        "UPDATE record_search s SET document = x.d::tsvector \
         FROM unnest($2::bigint[], $3::text[]) AS x (seq, d) \
         WHERE s.tenant = $1 AND s.seq = x.seq",
        &[&tenant, &seqs, &documents],
    )?;
    Ok(client.execute(
        "UPDATE data_keys SET wrapped = NULL, sealing = false, destroyed_at = $2 \
         WHERE tenant = $1 AND wrapped IS NOT NULL",
        &[&tenant, &at],
    )?)
}

/// Wraps every live data key again, with `to`; says how many.
pub fn rewrap(
    client: &mut postgres::Client,
    keys: &Keyring,
    to: &dyn MasterKey,
) -> Result<u64, StoreError> {
    let mut tx = client.transaction()?;
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM data_keys WHERE wrapped IS NOT NULL FOR UPDATE"),
            &[],
        )?
        .iter()
        .map(row_of)
        .collect::<Result<Vec<_>, _>>()?;
    for row in &rows {
        let key = keys.unwrap_key(row)?;
        let wrapped = to.wrap(&row.tenant, row.key_id, &key);
        tx.execute(
            "UPDATE data_keys SET wrapped = $3, master_id = $4 WHERE tenant = $1 AND key_id = $2",
            &[&row.tenant, &(row.key_id as i64), &wrapped, &to.id()],
        )?;
    }
    tx.commit()?;
    Ok(rows.len() as u64)
}
