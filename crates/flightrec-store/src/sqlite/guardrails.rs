//! Agents, compliance rules and versioned policies.
//!
//! Changes arrive as [`GuardrailChange`]s inside an append transaction,
//! so each commits with the record that tells of it.

use super::SqliteStore;
use super::access::conflict;
use crate::StoreError;
use crate::guardrails::{Agent, GuardrailChange, Policy, StoredRule};
use flightrec_core::compliance::Rule;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Applies one change inside the caller's transaction.
pub(super) fn apply(conn: &Connection, change: &GuardrailChange) -> Result<(), StoreError> {
    match change {
        GuardrailChange::CreateAgent(a) => {
            conn.execute(
                "INSERT INTO agents (tenant, id, name, metadata, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.tenant, a.id, a.name, a.metadata.to_string(), a.created_at],
            )
            .map_err(|e| conflict(e, || format!("an agent named {:?}", a.name)))?;
        }
        GuardrailChange::CreateRule { tenant, rule } => {
            conn.execute(
                "INSERT INTO compliance_rules (tenant, id, rule, pack, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    tenant,
                    rule.rule.id,
                    rule_json(&rule.rule),
                    rule.pack,
                    rule.created_at,
                    rule.updated_at
                ],
            )
            .map_err(|e| conflict(e, || format!("a rule with id {:?}", rule.rule.id)))?;
        }
        GuardrailChange::UpdateRule {
            tenant,
            from,
            to,
            at,
        } => {
            let n = conn.execute(
                "UPDATE compliance_rules SET rule = ?4, updated_at = ?5 \
                 WHERE tenant = ?1 AND id = ?2 AND rule = ?3",
                params![tenant, from.id, rule_json(from), rule_json(to), at],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("rule {:?}", from.id)));
            }
        }
        GuardrailChange::DeleteRule { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM compliance_rules WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("rule {id:?}")));
            }
        }
        GuardrailChange::CreatePolicy(p) => {
            conn.execute(
                "INSERT INTO policies (tenant, id, version, created_at) VALUES (?1, ?2, 1, ?3)",
                params![p.tenant, p.id, p.created_at],
            )
            .map_err(|e| conflict(e, || format!("a policy with id {:?}", p.id)))?;
            insert_version(
                conn,
                &p.tenant,
                &p.id,
                1,
                &p.name,
                &p.description,
                &p.rules,
                &p.created_at,
            )?;
        }
        GuardrailChange::UpdatePolicy {
            tenant,
            id,
            from_version,
            name,
            description,
            rules,
            at,
        } => {
            let next = from_version + 1;
            let n = conn.execute(
                "UPDATE policies SET version = ?4 WHERE tenant = ?1 AND id = ?2 AND version = ?3",
                params![tenant, id, from_version, next],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("policy {id:?}")));
            }
            insert_version(conn, tenant, id, next, name, description, rules, at)?;
        }
        GuardrailChange::DeletePolicy { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM policies WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("policy {id:?}")));
            }
            conn.execute(
                "DELETE FROM policy_agents WHERE tenant = ?1 AND policy_id = ?2",
                params![tenant, id],
            )?;
        }
        GuardrailChange::AttachPolicy {
            tenant,
            policy_id,
            agent_id,
            at,
        } => {
            for (table, what) in [("policies", "policy"), ("agents", "agent")] {
                let id = if table == "policies" {
                    policy_id
                } else {
                    agent_id
                };
                let found: Option<i64> = conn
                    .query_row(
                        &format!("SELECT 1 FROM {table} WHERE tenant = ?1 AND id = ?2"),
                        params![tenant, id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if found.is_none() {
                    return Err(StoreError::Missing(format!("{what} {id:?}")));
                }
            }
            conn.execute(
                "INSERT INTO policy_agents (tenant, policy_id, agent_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![tenant, policy_id, agent_id, at],
            )?;
        }
        GuardrailChange::DetachPolicy {
            tenant,
            policy_id,
            agent_id,
        } => {
            let n = conn.execute(
                "DELETE FROM policy_agents WHERE tenant = ?1 AND policy_id = ?2 AND agent_id = ?3",
                params![tenant, policy_id, agent_id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!(
                    "the attachment of policy {policy_id:?} to agent {agent_id:?}"
                )));
            }
        }
        GuardrailChange::ResolveAlert { tenant, id, by, at } => {
            super::alerts::resolve(conn, tenant, id, by, at)?;
        }
        GuardrailChange::CreateWebhook(w) => super::webhooks::insert(conn, w)?,
        GuardrailChange::DeleteWebhook { tenant, id, at } => {
            super::webhooks::delete(conn, tenant, id, at)?
        }
    }
    Ok(())
}

/// A rule's stored form; also what an update compares against.
fn rule_json(rule: &Rule) -> String {
    serde_json::to_string(rule).expect("rules serialise")
}

fn parse_rules<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{what}: {e}").into(),
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn insert_version(
    conn: &Connection,
    tenant: &str,
    id: &str,
    version: u32,
    name: &str,
    description: &str,
    rules: &[Rule],
    at: &str,
) -> Result<(), StoreError> {
    let taken: Option<String> = conn
        .query_row(
            "SELECT v.policy_id FROM policy_versions v JOIN policies p \
               ON p.tenant = v.tenant AND p.id = v.policy_id AND p.version = v.version \
             WHERE v.tenant = ?1 AND v.name = ?2 AND v.policy_id != ?3",
            params![tenant, name, id],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("a policy named {name:?}")));
    }
    conn.execute(
        "INSERT INTO policy_versions (tenant, policy_id, version, name, description, rules, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            tenant,
            id,
            version,
            name,
            description,
            serde_json::to_string(rules).expect("rules serialise"),
            at
        ],
    )?;
    Ok(())
}

const AGENT_COLUMNS: &str = "id, tenant, name, metadata, created_at";

fn agent_from_row(r: &Row<'_>) -> rusqlite::Result<Agent> {
    let metadata: String = r.get(3)?;
    Ok(Agent {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        metadata: parse_rules(&metadata, "agent metadata")?,
        created_at: r.get(4)?,
    })
}

fn rule_from_row(r: &Row<'_>) -> rusqlite::Result<StoredRule> {
    let rule: String = r.get(0)?;
    Ok(StoredRule {
        rule: parse_rules(&rule, "a stored rule")?,
        pack: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

impl SqliteStore {
    pub(super) fn select_agents(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<Agent>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {AGENT_COLUMNS} FROM agents \
                     WHERE tenant = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY created_at, id"
                ))?
                .query_map(params![tenant, id], agent_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    pub(super) fn select_rules(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<StoredRule>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT rule, pack, created_at, updated_at FROM compliance_rules \
                     WHERE tenant = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY created_at, id",
                )?
                .query_map(params![tenant, id], rule_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    /// Current policies (or one, at any version it had).
    pub(super) fn select_policies(
        &self,
        tenant: &str,
        id: Option<&str>,
        version: Option<u32>,
    ) -> Result<Vec<Policy>, StoreError> {
        self.read(|conn| {
            let mut policies: Vec<Policy> = conn
                .prepare_cached(
                    "SELECT v.policy_id, v.version, v.name, v.description, v.rules, v.created_at, \
                       (SELECT min(created_at) FROM policy_versions \
                        WHERE tenant = v.tenant AND policy_id = v.policy_id) \
                     FROM policy_versions v LEFT JOIN policies p \
                       ON p.tenant = v.tenant AND p.id = v.policy_id \
                     WHERE v.tenant = ?1 AND (?2 IS NULL OR v.policy_id = ?2) \
                       AND CASE WHEN ?3 IS NULL THEN v.version = p.version ELSE v.version = ?3 END \
                     ORDER BY 7, v.policy_id",
                )?
                .query_map(params![tenant, id, version], |r| {
                    let rules: String = r.get(4)?;
                    Ok(Policy {
                        id: r.get(0)?,
                        tenant: tenant.to_owned(),
                        version: r.get(1)?,
                        name: r.get(2)?,
                        description: r.get(3)?,
                        rules: parse_rules(&rules, "a policy's rules")?,
                        agents: Vec::new(),
                        updated_at: r.get(5)?,
                        created_at: r.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let mut agents = conn.prepare_cached(
                "SELECT agent_id FROM policy_agents WHERE tenant = ?1 AND policy_id = ?2 \
                 ORDER BY created_at, agent_id",
            )?;
            for p in &mut policies {
                p.agents = agents
                    .query_map(params![tenant, p.id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
            }
            Ok(policies)
        })
    }
}
