//! Tenants, users and API keys.

use super::SqliteStore;
use crate::StoreError;
use crate::model::{ApiKey, Tenant, User};
use rusqlite::{OptionalExtension, Row, params};

fn conflict(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what())
        }
        _ => e.into(),
    }
}

impl SqliteStore {
    pub(super) fn insert_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![t.id, t.name, t.created_at],
            )
            .map_err(|e| conflict(e, || format!("a tenant named {:?}", t.name)))?;
            Ok(())
        })
    }

    pub(super) fn select_tenants(
        &self,
        condition: &str,
        value: Option<&str>,
    ) -> Result<Vec<Tenant>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT id, name, created_at FROM tenants WHERE {condition} ORDER BY created_at, id"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let map = |r: &Row<'_>| {
                Ok(Tenant {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                })
            };
            let rows = match value {
                Some(v) => stmt.query_map([v], map)?.collect::<Result<_, _>>()?,
                None => stmt.query_map([], map)?.collect::<Result<_, _>>()?,
            };
            Ok(rows)
        })
    }

    pub(super) fn insert_user(
        &self,
        u: &User,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO users (tenant, id, email, name, role, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    u.tenant,
                    u.id,
                    u.email,
                    u.name,
                    u.role,
                    password_hash,
                    u.created_at
                ],
            )
            .map_err(|e| conflict(e, || format!("a user with email {:?}", u.email)))?;
            Ok(())
        })
    }

    pub(super) fn insert_api_key(
        &self,
        k: &ApiKey,
        secret_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO api_keys (tenant, id, name, prefix, secret_hash, scopes, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    k.tenant,
                    k.id,
                    k.name,
                    k.prefix,
                    secret_hash.as_slice(),
                    k.scopes.join(","),
                    k.created_at
                ],
            )
            .map_err(|e| conflict(e, || format!("an API key with id {:?}", k.id)))?;
            Ok(())
        })
    }

    pub(super) fn select_api_key_by_hash(
        &self,
        secret_hash: &[u8; 32],
    ) -> Result<Option<ApiKey>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?1"
                ))?
                .query_row([secret_hash.as_slice()], key_from_row)
                .optional()?)
        })
    }

    pub(super) fn select_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant = ?1 ORDER BY created_at, id"
                ))?
                .query_map([tenant], key_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }
}

const KEY_COLUMNS: &str = "id, tenant, name, prefix, scopes, created_at, last_used_at, revoked_at";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let scopes: String = r.get(4)?;
    Ok(ApiKey {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}
