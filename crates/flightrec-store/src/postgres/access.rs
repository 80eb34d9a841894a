//! Tenants, users, API keys and settings.
//!
//! Changes arrive as [`AccessChange`]s inside an append transaction (see
//! `append.rs`), so each one commits with the record that tells of it.

use super::PgStore;
use super::errors::conflict;
use super::rows::collect;
use crate::StoreError;
use crate::model::{AccessChange, ApiKey, Login, Tenant, User};
use flightrec_core::secret::Secret;
use postgres::{GenericClient, Row};

/// Applies one change inside the caller's transaction.
pub(super) fn apply(
    conn: &mut impl GenericClient,
    change: &AccessChange,
    keys: &crate::encryption::Keyring,
) -> Result<(), StoreError> {
    match change {
        AccessChange::CreateTenant(t) => {
            conn.execute(
                "INSERT INTO tenants (tenant, name, created_at) VALUES ($1, $2, $3)",
                &[&t.id, &t.name, &t.created_at],
            )
            .map_err(|e| conflict(e, || format!("a tenant {:?}", t.id)))?;
        }
        AccessChange::CreateUser {
            user: u,
            password_hash,
        } => {
            let what = || format!("a user with email {:?}", u.email);
            conn.execute(
                "INSERT INTO user_emails (email, tenant, id) VALUES ($1, $2, $3)",
                &[&u.email, &u.tenant, &u.id],
            )
            .map_err(|e| conflict(e, what))?;
            conn.execute(
                "INSERT INTO users (tenant, id, email, name, role, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &u.tenant,
                    &u.id,
                    &u.email,
                    &u.name,
                    &u.role,
                    &password_hash.as_ref().map(Secret::expose),
                    &u.created_at,
                ],
            )
            .map_err(|e| conflict(e, what))?;
        }
        AccessChange::SetUserRole {
            tenant,
            id,
            from,
            to,
        } => {
            let n = conn.execute(
                "UPDATE users SET role = $4 WHERE tenant = $1 AND id = $2 AND role = $3",
                &[tenant, id, from, to],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("user {id:?}")));
            }
        }
        AccessChange::RemoveUser { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM users WHERE tenant = $1 AND id = $2",
                &[tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("user {id:?}")));
            }
            conn.execute(
                "DELETE FROM user_emails WHERE tenant = $1 AND id = $2",
                &[tenant, id],
            )?;
        }
        AccessChange::CreateApiKey {
            key: k,
            secret_hash,
        } => {
            let what = || format!("an API key with id {:?}", k.id);
            conn.execute(
                "INSERT INTO api_keys (tenant, id, name, prefix, scopes, agent_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &k.tenant,
                    &k.id,
                    &k.name,
                    &k.prefix,
                    &k.scopes.join(","),
                    &k.agent_id,
                    &k.created_at,
                ],
            )
            .map_err(|e| conflict(e, what))?;
            conn.execute(
                "INSERT INTO api_key_secrets (secret_hash, tenant, id) VALUES ($1, $2, $3)",
                &[&secret_hash.as_slice(), &k.tenant, &k.id],
            )
            .map_err(|e| conflict(e, what))?;
        }
        AccessChange::RevokeApiKey { tenant, id, at } => {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = $3 \
                 WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL",
                &[tenant, id, at],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("API key {id:?}")));
            }
        }
        AccessChange::SetSettings { tenant, from, to } => {
            // Locks the row, if there is one, so the comparison holds
            // until commit.
            let current = select_settings(conn, tenant, " FOR UPDATE")?;
            if &current != from {
                return Err(StoreError::Changed("the settings".into()));
            }
            conn.execute(
                "INSERT INTO settings (tenant, value) VALUES ($1, $2) \
                 ON CONFLICT (tenant) DO UPDATE SET value = excluded.value",
                &[tenant, &to.to_string()],
            )?;
        }
        AccessChange::SetEncryption { tenant, on, at } => {
            super::data_keys::set_sealing(conn, keys, tenant, *on, at)?
        }
        AccessChange::DestroyDataKeys { tenant, at } => {
            if super::data_keys::destroy(conn, tenant, at)? == 0 {
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

fn select_settings(
    conn: &mut impl GenericClient,
    tenant: &str,
    lock: &str,
) -> Result<serde_json::Value, StoreError> {
    let text: Option<String> = conn
        .query_opt(
            &format!("SELECT value FROM settings WHERE tenant = $1{lock}"),
            &[&tenant],
        )?
        .map(|r| r.get(0));
    match text {
        None => Ok(serde_json::Value::Object(Default::default())),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("the settings of {tenant:?}: {e}"))),
    }
}

impl PgStore {
    pub(super) fn select_tenants(&self, id: Option<&str>) -> Result<Vec<Tenant>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT tenant, name, created_at FROM tenants \
                 WHERE $1::text IS NULL OR tenant = $1 ORDER BY created_at, tenant",
                &[&id],
            )?;
            collect(rows, |r| {
                Ok(Tenant {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                })
            })
        })
    }

    pub(super) fn select_login(&self, email: &str) -> Result<Option<Login>, StoreError> {
        self.with_client(|conn| {
            conn.query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, users.password_hash FROM user_emails \
                     JOIN users ON users.tenant = user_emails.tenant AND users.id = user_emails.id \
                     WHERE user_emails.email = $1"
                ),
                &[&email],
            )?
            .map(|r| {
                Ok(Login {
                    user: user_from_row(&r)?,
                    password_hash: r.try_get::<_, Option<String>>(6)?.map(Secret::new),
                })
            })
            .transpose()
        })
    }

    pub(super) fn select_users(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<User>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users \
                     WHERE tenant = $1 AND ($2::text IS NULL OR id = $2) ORDER BY created_at, id"
                ),
                &[&tenant, &id],
            )?;
            collect(rows, user_from_row)
        })
    }

    pub(super) fn select_api_key_by_hash(
        &self,
        secret_hash: &[u8; 32],
    ) -> Result<Option<ApiKey>, StoreError> {
        self.with_client(|conn| {
            conn.query_opt(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM api_key_secrets s \
                     JOIN api_keys ON api_keys.tenant = s.tenant AND api_keys.id = s.id \
                     WHERE s.secret_hash = $1"
                ),
                &[&secret_hash.as_slice()],
            )?
            .as_ref()
            .map(key_from_row)
            .transpose()
        })
    }

    pub(super) fn select_api_keys(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<ApiKey>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys \
                     WHERE tenant = $1 AND ($2::text IS NULL OR id = $2) ORDER BY created_at, id"
                ),
                &[&tenant, &id],
            )?;
            collect(rows, key_from_row)
        })
    }

    pub(super) fn update_key_last_used(&self, id: &str, at: &str) -> Result<(), StoreError> {
        self.refuse_writes_if_snapshot()?;
        self.with_client(|conn| {
            conn.execute(
                "UPDATE api_keys SET last_used_at = $2 FROM api_key_secrets s \
                 WHERE s.id = $1 AND api_keys.tenant = s.tenant AND api_keys.id = s.id",
                &[&id, &at],
            )?;
            Ok(())
        })
    }

    pub(super) fn read_settings(&self, tenant: &str) -> Result<serde_json::Value, StoreError> {
        self.with_client(|conn| select_settings(conn, tenant, ""))
    }
}

const USER_COLUMNS: &str = "users.id, users.tenant, users.email, users.name, users.role, \
     users.created_at";

fn user_from_row(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: r.try_get(0)?,
        tenant: r.try_get(1)?,
        email: r.try_get(2)?,
        name: r.try_get(3)?,
        role: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

const KEY_COLUMNS: &str = "api_keys.id, api_keys.tenant, api_keys.name, api_keys.prefix, \
     api_keys.scopes, api_keys.agent_id, api_keys.created_at, api_keys.last_used_at, \
     api_keys.revoked_at";

fn key_from_row(r: &Row) -> Result<ApiKey, StoreError> {
    let scopes: String = r.try_get(4)?;
    Ok(ApiKey {
        id: r.try_get(0)?,
        tenant: r.try_get(1)?,
        name: r.try_get(2)?,
        prefix: r.try_get(3)?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        agent_id: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_used_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
    })
}
