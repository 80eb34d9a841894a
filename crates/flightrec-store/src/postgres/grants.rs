//! The rights of the role flightrec's nodes connect as, for operators who
//! keep the schema's owner for migrations only.
//!
//! Triggers refuse changes to the log, but a table's owner may disable
//! them; a role that owns nothing and holds only these rights cannot: it
//! may insert records, tiles, checkpoints and cosignatures, update nothing
//! of them but a record's body and salt and the query columns that can name
//! a person (erasure) and a tile's hashes
//! (which the triggers allow only to grow), and delete none of them.

use super::PgStore;

/// What the application's role may do beyond reading every table.
const GRANTS: &str = r#"
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};

-- The log: appended to, never deleted from; only erasure and tile growth
-- update it.
GRANT INSERT ON records, tiles, checkpoints, cosignatures TO {role};
GRANT UPDATE (body, salt, session_id, actor, resource_id) ON records TO {role};
GRANT UPDATE (hashes) ON tiles TO {role};
GRANT USAGE ON SEQUENCE cosignatures_arrival_seq TO {role};

-- What every append keeps up to date beside the log.
GRANT INSERT, UPDATE (size) ON log_heads TO {role};
GRANT INSERT, UPDATE (n, fail, warn, blocked, dry_run, idempotency_hits, durations) ON record_stats TO {role};
GRANT INSERT, UPDATE ON runs TO {role};
GRANT INSERT, UPDATE (document) ON record_search TO {role};
GRANT INSERT, UPDATE (indexed_size) ON search_progress TO {role};

-- Tenants, people, keys and settings, changed with the records that tell
-- of the change.
GRANT INSERT ON tenants TO {role};
GRANT INSERT, UPDATE (role), DELETE ON users TO {role};
GRANT INSERT, DELETE ON user_emails TO {role};
GRANT INSERT, UPDATE (revoked_at, last_used_at) ON api_keys TO {role};
GRANT INSERT ON api_key_secrets TO {role};
GRANT INSERT, UPDATE (value) ON settings TO {role};
GRANT INSERT, UPDATE (wrapped, master_id, sealing, destroyed_at) ON data_keys TO {role};

-- Guardrails, alerts and the webhook queue.
GRANT INSERT ON agents, policy_versions TO {role};
GRANT INSERT, UPDATE (rule, updated_at), DELETE ON compliance_rules TO {role};
GRANT INSERT, UPDATE (version), DELETE ON policies TO {role};
GRANT INSERT, DELETE ON policy_agents, webhooks TO {role};
GRANT INSERT, UPDATE (status, resolved_at, resolved_by, excerpt) ON alerts TO {role};
GRANT INSERT, UPDATE ON webhook_deliveries TO {role};

-- Erasure jobs, and the leases of work one node does at a time.
GRANT INSERT, UPDATE (erased, status, finished_at, subject) ON erasures TO {role};
GRANT INSERT, UPDATE ON leases TO {role};

-- Report jobs and their files.
GRANT INSERT, UPDATE (status, finished_at, error, size, basis, file) ON reports TO {role};
"#;

impl PgStore {
    /// The `GRANT` statements that give `role` what a node needs and no
    /// more, for the schema's owner to run after creating or migrating the
    /// store. `role` is quoted as an identifier.
    pub fn app_role_grants(role: &str) -> String {
        let quoted = format!("\"{}\"", role.replace('"', "\"\""));
        GRANTS.replace("{role}", &quoted)
    }
}
