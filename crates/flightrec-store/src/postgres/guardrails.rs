//! Agents, compliance rules and versioned policies.
//!
//! Changes arrive as [`GuardrailChange`]s inside an append transaction,
//! so each commits with the record that tells of it.

use super::PgStore;
use super::errors::conflict;
use super::rows::collect;
use crate::StoreError;
use crate::guardrails::{Agent, GuardrailChange, Policy, StoredRule};
use flightrec_core::compliance::Rule;
use postgres::{GenericClient, Row};

/// Applies one change inside the caller's transaction.
pub(super) fn apply(
    conn: &mut impl GenericClient,
    change: &GuardrailChange,
) -> Result<(), StoreError> {
    match change {
        GuardrailChange::CreateAgent(a) => {
            conn.execute(
                "INSERT INTO agents (tenant, id, name, metadata, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &a.tenant,
                    &a.id,
                    &a.name,
                    &a.metadata.to_string(),
                    &a.created_at,
                ],
            )
            .map_err(|e| conflict(e, || format!("an agent named {:?}", a.name)))?;
        }
        GuardrailChange::CreateRule { tenant, rule } => {
            conn.execute(
                "INSERT INTO compliance_rules (tenant, id, rule, pack, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    tenant,
                    &rule.rule.id,
                    &rule_json(&rule.rule),
                    &rule.pack,
                    &rule.created_at,
                    &rule.updated_at,
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
                "UPDATE compliance_rules SET rule = $4, updated_at = $5 \
                 WHERE tenant = $1 AND id = $2 AND rule = $3",
                &[tenant, &from.id, &rule_json(from), &rule_json(to), at],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("rule {:?}", from.id)));
            }
        }
        GuardrailChange::DeleteRule { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM compliance_rules WHERE tenant = $1 AND id = $2",
                &[tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("rule {id:?}")));
            }
        }
        GuardrailChange::CreatePolicy(p) => {
            conn.execute(
                "INSERT INTO policies (tenant, id, version, created_at) VALUES ($1, $2, 1, $3)",
                &[&p.tenant, &p.id, &p.created_at],
            )
            .map_err(|e| conflict(e, || format!("a policy with id {:?}", p.id)))?;
            insert_version(
                conn,
                &PolicyVersion {
                    tenant: &p.tenant,
                    id: &p.id,
                    version: 1,
                    name: &p.name,
                    description: &p.description,
                    rules: &p.rules,
                    at: &p.created_at,
                },
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
                "UPDATE policies SET version = $4 WHERE tenant = $1 AND id = $2 AND version = $3",
                &[tenant, id, &i64::from(*from_version), &i64::from(next)],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("policy {id:?}")));
            }
            insert_version(
                conn,
                &PolicyVersion {
                    tenant,
                    id,
                    version: next,
                    name,
                    description,
                    rules,
                    at,
                },
            )?;
        }
        GuardrailChange::DeletePolicy { tenant, id } => {
            let n = conn.execute(
                "DELETE FROM policies WHERE tenant = $1 AND id = $2",
                &[tenant, id],
            )?;
            if n == 0 {
                return Err(StoreError::Changed(format!("policy {id:?}")));
            }
            conn.execute(
                "DELETE FROM policy_agents WHERE tenant = $1 AND policy_id = $2",
                &[tenant, id],
            )?;
        }
        GuardrailChange::AttachPolicy {
            tenant,
            policy_id,
            agent_id,
            at,
        } => {
            for (table, what, id) in [
                ("policies", "policy", policy_id),
                ("agents", "agent", agent_id),
            ] {
                let found = conn.query_opt(
                    &format!("SELECT 1 FROM {table} WHERE tenant = $1 AND id = $2"),
                    &[tenant, id],
                )?;
                if found.is_none() {
                    return Err(StoreError::Missing(format!("{what} {id:?}")));
                }
            }
            conn.execute(
                "INSERT INTO policy_agents (tenant, policy_id, agent_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[tenant, policy_id, agent_id, at],
            )?;
        }
        GuardrailChange::DetachPolicy {
            tenant,
            policy_id,
            agent_id,
        } => {
            let n = conn.execute(
                "DELETE FROM policy_agents WHERE tenant = $1 AND policy_id = $2 AND agent_id = $3",
                &[tenant, policy_id, agent_id],
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

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// One version of a policy, as written.
struct PolicyVersion<'a> {
    tenant: &'a str,
    id: &'a str,
    version: u32,
    name: &'a str,
    description: &'a str,
    rules: &'a [Rule],
    at: &'a str,
}

fn insert_version(conn: &mut impl GenericClient, v: &PolicyVersion<'_>) -> Result<(), StoreError> {
    let taken = conn.query_opt(
        "SELECT v.policy_id FROM policy_versions v JOIN policies p \
           ON p.tenant = v.tenant AND p.id = v.policy_id AND p.version = v.version \
         WHERE v.tenant = $1 AND v.name = $2 AND v.policy_id <> $3",
        &[&v.tenant, &v.name, &v.id],
    )?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("a policy named {:?}", v.name)));
    }
    conn.execute(
        "INSERT INTO policy_versions (tenant, policy_id, version, name, description, rules, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &v.tenant,
            &v.id,
            &i64::from(v.version),
            &v.name,
            &v.description,
            &serde_json::to_string(v.rules).expect("rules serialise"),
            &v.at,
        ],
    )?;
    Ok(())
}

const AGENT_COLUMNS: &str = "id, tenant, name, metadata, created_at";

fn agent_from_row(r: &Row) -> Result<Agent, StoreError> {
    let metadata: String = r.try_get(3)?;
    Ok(Agent {
        id: r.try_get(0)?,
        tenant: r.try_get(1)?,
        name: r.try_get(2)?,
        metadata: parse_json(&metadata, "agent metadata")?,
        created_at: r.try_get(4)?,
    })
}

fn rule_from_row(r: &Row) -> Result<StoredRule, StoreError> {
    let rule: String = r.try_get(0)?;
    Ok(StoredRule {
        rule: parse_json(&rule, "a stored rule")?,
        pack: r.try_get(1)?,
        created_at: r.try_get(2)?,
        updated_at: r.try_get(3)?,
    })
}

impl PgStore {
    pub(super) fn select_agents(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<Agent>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agents \
                     WHERE tenant = $1 AND ($2::text IS NULL OR id = $2) ORDER BY created_at, id"
                ),
                &[&tenant, &id],
            )?;
            collect(rows, agent_from_row)
        })
    }

    pub(super) fn select_rules(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<StoredRule>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT rule, pack, created_at, updated_at FROM compliance_rules \
                 WHERE tenant = $1 AND ($2::text IS NULL OR id = $2) ORDER BY created_at, id",
                &[&tenant, &id],
            )?;
            collect(rows, rule_from_row)
        })
    }

    /// Current policies (or one, at any version it had).
    pub(super) fn select_policies(
        &self,
        tenant: &str,
        id: Option<&str>,
        version: Option<u32>,
    ) -> Result<Vec<Policy>, StoreError> {
        let version = version.map(i64::from);
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT v.policy_id, v.version, v.name, v.description, v.rules, v.created_at, \
                   (SELECT min(created_at) FROM policy_versions \
                    WHERE tenant = v.tenant AND policy_id = v.policy_id) AS first_created \
                 FROM policy_versions v LEFT JOIN policies p \
                   ON p.tenant = v.tenant AND p.id = v.policy_id \
                 WHERE v.tenant = $1 AND ($2::text IS NULL OR v.policy_id = $2) \
                   AND CASE WHEN $3::bigint IS NULL THEN v.version = p.version \
                            ELSE v.version = $3 END \
                 ORDER BY first_created, v.policy_id",
                &[&tenant, &id, &version],
            )?;
            let mut policies = collect(rows, |r| {
                let rules: String = r.try_get(4)?;
                Ok(Policy {
                    id: r.try_get(0)?,
                    tenant: tenant.to_owned(),
                    version: r.try_get::<_, i64>(1)? as u32,
                    name: r.try_get(2)?,
                    description: r.try_get(3)?,
                    rules: parse_json(&rules, "a policy's rules")?,
                    agents: Vec::new(),
                    updated_at: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                })
            })?;
            for p in &mut policies {
                p.agents = conn
                    .query(
                        "SELECT agent_id FROM policy_agents WHERE tenant = $1 AND policy_id = $2 \
                         ORDER BY created_at, agent_id",
                        &[&tenant, &p.id],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
            }
            Ok(policies)
        })
    }
}
