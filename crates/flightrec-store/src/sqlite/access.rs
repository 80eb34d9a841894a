//! Tenants, users, API keys and settings.
//!
//! Changes arrive as [`AccessChange`]s inside an append transaction (see
//! `append.rs`), so each one commits with the record that tells of it.

use super::SqliteStore;
use crate::StoreError;
use crate::model::{AccessChange, ApiKey, Login, Tenant, User};
use flightrec_core::secret::Secret;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Applies one change inside the caller's transaction.
pub(super) fn apply(
    conn: &Connection,
    change: &AccessChange,
    keys: &crate::encryption::Keyring,
) -> Result<(), StoreError> {
    match change {
        AccessChange::CreateTenant(t) => {
            conn.execute(
                "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![t.id, t.name, t.created_at],
            )
            .map_err(|e| conflict(e, || format!("a tenant {:?}", t.id)))?;
        }
        AccessChange::CreateUser {
            user: u,
            password_hash,
        } => {
            conn.execute(
                "INSERT INTO users (tenant, id, email, name, role, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    u.tenant,
                    u.id,
                    u.email,
                    u.name,
                    u.role,
                    password_hash.as_ref().map(Secret::expose),
                    u.created_at
                ],
            )
            .map_err(|e| conflict(e, || format!("a user with email {:?}", u.email)))?;
        }
        AccessChange::SetUserRole {
            tenant,
            id,
            from,
            to,
        } => {
            let n = conn.execute(
                "UPDATE users SET role = ?4 WHERE tenant = ?1 AND id = ?2 AND role = ?3",
                params![tenant, id, from, to],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("user {id:?}")));
            }
        }
        AccessChange::RemoveUser { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM users WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("user {id:?}")));
            }
        }
        AccessChange::CreateApiKey {
            key: k,
            secret_hash,
        } => {
            conn.execute(
                "INSERT INTO api_keys \
                 (tenant, id, name, prefix, secret_hash, scopes, agent_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    k.tenant,
                    k.id,
                    k.name,
                    k.prefix,
                    secret_hash.as_slice(),
                    k.scopes.join(","),
                    k.agent_id,
                    k.created_at
                ],
            )
            .map_err(|e| conflict(e, || format!("an API key with id {:?}", k.id)))?;
        }
        AccessChange::RevokeApiKey { tenant, id, at } => {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = ?3 \
                 WHERE tenant = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![tenant, id, at],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("API key {id:?}")));
            }
        }
        AccessChange::SetSettings { tenant, from, to } => {
            let current = select_settings(conn, tenant)?;
            if &current != from {
                return Err(StoreError::Changed("the settings".into()));
            }
            conn.execute(
                "INSERT INTO settings (tenant, value) VALUES (?1, ?2) \
                 ON CONFLICT (tenant) DO UPDATE SET value = excluded.value",
                params![tenant, to.to_string()],
            )?;
        }
        AccessChange::SetEncryption { tenant, on, at } => {
            super::data_keys::set_sealing(conn, keys, tenant, *on, at)?
        }
        AccessChange::DestroyDataKeys { tenant, at } => {
            if super::data_keys::destroy(conn, keys, tenant, at)? == 0 {
                return Err(StoreError::Missing(format!(
                    "a data key of tenant {tenant:?}"
                )));
            }
        }
        AccessChange::RequestErasure(job) => super::lifecycle::request(conn, job)?,
        AccessChange::RequestReport(job) => super::reports::request(conn, job)?,
        AccessChange::ErasureProgress {
            tenant,
            id,
            erased,
            end,
        } => super::lifecycle::progress(conn, tenant, id, *erased, end.as_ref())?,
    }
    Ok(())
}

pub(super) fn conflict(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what())
        }
        _ => e.into(),
    }
}

fn select_settings(conn: &Connection, tenant: &str) -> Result<serde_json::Value, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE tenant = ?1")?
        .query_row([tenant], |r| r.get(0))
        .optional()?;
    match text {
        None => Ok(serde_json::Value::Object(Default::default())),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("the settings of {tenant:?}: {e}"))),
    }
}

impl SqliteStore {
    pub(super) fn select_tenants(&self, id: Option<&str>) -> Result<Vec<Tenant>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, created_at FROM tenants \
                 WHERE ?1 IS NULL OR id = ?1 ORDER BY created_at, id",
            )?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(Tenant {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    pub(super) fn select_login(&self, email: &str) -> Result<Option<Login>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1"
                ))?
                .query_row([email], |r| {
                    Ok(Login {
                        user: user_from_row(r)?,
                        password_hash: r.get::<_, Option<String>>(6)?.map(Secret::new),
                    })
                })
                .optional()?)
        })
    }

    pub(super) fn select_users(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<User>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users \
                     WHERE tenant = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY created_at, id"
                ))?
                .query_map(params![tenant, id], user_from_row)?
                .collect::<Result<_, _>>()?)
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

    pub(super) fn select_api_keys(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys \
                     WHERE tenant = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY created_at, id"
                ))?
                .query_map(params![tenant, id], key_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    pub(super) fn update_key_last_used(&self, id: &str, at: &str) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?
                .execute(params![id, at])?;
            Ok(())
        })
    }

    pub(super) fn read_settings(&self, tenant: &str) -> Result<serde_json::Value, StoreError> {
        self.read(|conn| select_settings(conn, tenant))
    }
}

const USER_COLUMNS: &str = "id, tenant, email, name, role, created_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        tenant: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        created_at: r.get(5)?,
    })
}

const KEY_COLUMNS: &str =
    "id, tenant, name, prefix, scopes, agent_id, created_at, last_used_at, revoked_at";

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
        agent_id: r.get(5)?,
        created_at: r.get(6)?,
        last_used_at: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}
