//! The PostgreSQL schema and its versioned, forward-only migrations.
//!
//! `flightrec_schema` holds one row per applied migration, so opening can
//! tell a flightrec database from any other and an old schema from a new.
//!
//! Every table's primary key and every index lead with `tenant`, so the
//! schema can be distributed by tenant (Citus and the like). Every text
//! column is `COLLATE "C"`: times are fixed-width text compared byte by
//! byte, as in SQLite, whatever collation the database was created with.

use crate::StoreError;
use postgres::Transaction;

/// Each migration takes the schema from its index to its index + 1.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// The version whose migration also tallies the records already stored
/// for `/v1/stats`, which takes Rust as well as SQL.
const STATS_VERSION: usize = 3;

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration after `from` inside the caller's transaction
/// (DDL is transactional in PostgreSQL: a failed migration leaves nothing).
pub fn migrate(tx: &mut Transaction<'_>, from: i64) -> Result<(), StoreError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.batch_execute(sql)?;
        if i + 1 == STATS_VERSION {
            super::stats::fill_in_stored_records(tx)?;
        }
        tx.execute(
            "INSERT INTO flightrec_schema (version, applied_at) VALUES ($1, now())",
            &[&(i as i64 + 1)],
        )?;
    }
    Ok(())
}

/// Creates the version table itself; the first step of a new store.
pub const CREATE_VERSION_TABLE: &str = r#"
CREATE TABLE IF NOT EXISTS flightrec_schema (
    version    bigint PRIMARY KEY,
    applied_at timestamptz NOT NULL
);
"#;

const V1: &str = r#"
-- btree_gin lets the free-text index lead with `tenant` like every other.
-- It is a trusted extension (PostgreSQL 13+): a database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Append-only tables raise this; the message names what was refused.
CREATE FUNCTION flightrec_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'flightrec % are append-only', TG_ARGV[0]
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TABLE tenants (
    tenant     text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL
);

CREATE TABLE users (
    tenant        text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id            text COLLATE "C" NOT NULL,
    email         text COLLATE "C" NOT NULL,
    name          text COLLATE "C",
    role          text COLLATE "C" NOT NULL,
    password_hash text COLLATE "C",
    created_at    text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX users_by_tenant ON users (tenant, created_at, id);

-- The directory: emails are unique across tenants (sign-in finds the tenant
-- by email), and API keys are found by their secret's hash alone: the
-- lookups that come before any tenant is known. These two small tables, and
-- `tenants`, are the only ones not keyed by tenant first (reference tables,
-- in Citus terms).
CREATE TABLE user_emails (
    email  text COLLATE "C" PRIMARY KEY,
    tenant text COLLATE "C" NOT NULL,
    id     text COLLATE "C" NOT NULL
);

CREATE TABLE api_keys (
    tenant       text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id           text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    prefix       text COLLATE "C" NOT NULL,
    scopes       text COLLATE "C" NOT NULL,
    agent_id     text COLLATE "C",
    created_at   text COLLATE "C" NOT NULL,
    last_used_at text COLLATE "C",
    revoked_at   text COLLATE "C",
    PRIMARY KEY (tenant, id)
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at, id);

CREATE TABLE api_key_secrets (
    secret_hash bytea PRIMARY KEY,
    tenant      text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL
);
-- Noting a key's use names it by id alone.
CREATE INDEX api_key_secrets_by_id ON api_key_secrets (id);

CREATE TABLE settings (
    tenant text COLLATE "C" PRIMARY KEY REFERENCES tenants (tenant),
    value  text COLLATE "C" NOT NULL
);

-- The tree-state row of each tenant's log: appends lock it (SELECT ... FOR
-- UPDATE) for the length of their transaction, so appends to one tenant
-- from any number of nodes are serialised and the log stays one gapless
-- tree. `size` is the number of committed leaves; the right edge of the
-- tree is read from the tiles, which commit in the same transaction.
CREATE TABLE log_heads (
    tenant text COLLATE "C" PRIMARY KEY,
    size   bigint NOT NULL CHECK (size >= 0)
);

-- One row per record. The header columns (tenant .. submitted_by) are
-- hashed into the Merkle leaf; body and salt are what body_hash covers;
-- the columns after them are derived from the body for queries and
-- checked by verify.
CREATE TABLE records (
    tenant            text COLLATE "C" NOT NULL,
    seq               bigint NOT NULL,
    id                text COLLATE "C" NOT NULL,
    time              text COLLATE "C" NOT NULL,
    received_at       text COLLATE "C" NOT NULL,
    type              text COLLATE "C" NOT NULL,
    run_id            text COLLATE "C",
    span_id           text COLLATE "C",
    parent_span_id    text COLLATE "C",
    status            text COLLATE "C" NOT NULL,
    body_hash         text COLLATE "C" NOT NULL,
    v                 bigint NOT NULL,
    submitted_by      text COLLATE "C",
    leaf_hash         bytea NOT NULL,
    body              text COLLATE "C",
    salt              bytea,
    session_id        text COLLATE "C",
    agent_id          text COLLATE "C",
    actor             text COLLATE "C",
    actor_type        text COLLATE "C",
    resource_type     text COLLATE "C",
    resource_id       text COLLATE "C",
    verb              text COLLATE "C",
    provider          text COLLATE "C",
    governance_status text COLLATE "C",
    PRIMARY KEY (tenant, seq),
    UNIQUE (tenant, id)
);

CREATE INDEX records_type ON records (tenant, type, seq);
CREATE INDEX records_status ON records (tenant, status, seq);
CREATE INDEX records_time ON records (tenant, time);
CREATE INDEX records_run ON records (tenant, run_id, time, seq) WHERE run_id IS NOT NULL;
CREATE INDEX records_agent ON records (tenant, agent_id, seq) WHERE agent_id IS NOT NULL;
CREATE INDEX records_session ON records (tenant, session_id, seq) WHERE session_id IS NOT NULL;
CREATE INDEX records_actor ON records (tenant, actor, seq) WHERE actor IS NOT NULL;
CREATE INDEX records_resource ON records (tenant, resource_type, resource_id, seq) WHERE resource_type IS NOT NULL;
CREATE INDEX records_verb ON records (tenant, verb, seq) WHERE verb IS NOT NULL;
CREATE INDEX records_governance ON records (tenant, governance_status, seq) WHERE governance_status IS NOT NULL;
CREATE INDEX records_submitted_by ON records (tenant, submitted_by, seq) WHERE submitted_by IS NOT NULL;

-- Append-only: no record is deleted, and the only change ever allowed is
-- the erasure of a body (body and salt cleared, everything else as it was).
CREATE FUNCTION flightrec_records_only_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS NULL AND NEW.salt IS NULL
       AND (NEW.tenant, NEW.seq, NEW.id, NEW.time, NEW.received_at, NEW.type, NEW.run_id,
            NEW.span_id, NEW.parent_span_id, NEW.status, NEW.body_hash, NEW.v,
            NEW.submitted_by, NEW.leaf_hash, NEW.session_id, NEW.agent_id, NEW.actor,
            NEW.actor_type, NEW.resource_type, NEW.resource_id, NEW.verb, NEW.provider,
            NEW.governance_status)
           IS NOT DISTINCT FROM
           (OLD.tenant, OLD.seq, OLD.id, OLD.time, OLD.received_at, OLD.type, OLD.run_id,
            OLD.span_id, OLD.parent_span_id, OLD.status, OLD.body_hash, OLD.v,
            OLD.submitted_by, OLD.leaf_hash, OLD.session_id, OLD.agent_id, OLD.actor,
            OLD.actor_type, OLD.resource_type, OLD.resource_id, OLD.verb, OLD.provider,
            OLD.governance_status)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'flightrec records are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
    FOR EACH ROW EXECUTE FUNCTION flightrec_records_only_erase();
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('records');
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION flightrec_refuse('records');

-- Counts of records per tenant, hour of `time` and status, kept in the
-- appending transaction, so the dashboard's totals for a window read a
-- few hundred rows instead of the whole log. Headers never change
-- (erasure clears bodies only), so the counts never go stale.
CREATE TABLE record_counts (
    tenant text COLLATE "C" NOT NULL,
    hour   text COLLATE "C" NOT NULL, -- the first 13 characters of `time`: 2026-11-23T02
    status text COLLATE "C" NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (tenant, hour, status)
);

CREATE FUNCTION flightrec_count_records() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_counts (tenant, hour, status, n)
        SELECT tenant, left(time, 13), status, count(*) FROM new_records GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
    ON CONFLICT (tenant, hour, status) DO UPDATE SET n = record_counts.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER records_counted AFTER INSERT ON records
    REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION flightrec_count_records();

-- A summary per run, kept up to date by every append (derived, so mutable).
CREATE TABLE runs (
    tenant      text COLLATE "C" NOT NULL,
    run_id      text COLLATE "C" NOT NULL,
    first_time  text COLLATE "C" NOT NULL,
    last_time   text COLLATE "C" NOT NULL,
    event_count bigint NOT NULL,
    fail_count  bigint NOT NULL,
    warn_count  bigint NOT NULL,
    status      text COLLATE "C" NOT NULL,
    status_time text COLLATE "C",
    status_seq  bigint,
    agent_id    text COLLATE "C",
    PRIMARY KEY (tenant, run_id)
);
CREATE INDEX runs_recent ON runs (tenant, last_time, run_id);

-- Free-text search: a tsvector per record of the text its body yields
-- (`search_text` in flightrec-core), under the `simple` configuration (lower
-- case, no stemming, no stop words: every word is findable as written).
-- Filled after the append commits, by `index_search`, up to each tenant's
-- `indexed_size`, so the hot path never pays for it; verify recomputes it.
CREATE TABLE record_search (
    tenant   text COLLATE "C" NOT NULL,
    seq      bigint NOT NULL,
    document tsvector NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX record_search_words ON record_search USING gin (tenant, document);

-- Every word of a query must occur: the words' queries ANDed together.
CREATE AGGREGATE flightrec_every_word (tsquery) (SFUNC = tsquery_and, STYPE = tsquery);

CREATE TABLE search_progress (
    tenant       text COLLATE "C" PRIMARY KEY,
    indexed_size bigint NOT NULL
);

-- The Merkle tree over each tenant's leaves, as C2SP tlog-tiles of height
-- 8: a tile holds up to 256 node hashes of one tree level, concatenated. A
-- partial tile only ever grows into its full self.
CREATE TABLE tiles (
    tenant text COLLATE "C" NOT NULL,
    level  smallint NOT NULL,
    idx    bigint NOT NULL,
    hashes bytea NOT NULL,
    PRIMARY KEY (tenant, level, idx)
);

CREATE FUNCTION flightrec_tiles_only_grow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.tenant, NEW.level, NEW.idx) IS NOT DISTINCT FROM (OLD.tenant, OLD.level, OLD.idx)
       AND length(NEW.hashes) >= length(OLD.hashes)
       AND substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) = OLD.hashes
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'flightrec tiles are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER tiles_only_grow BEFORE UPDATE ON tiles
    FOR EACH ROW EXECUTE FUNCTION flightrec_tiles_only_grow();
CREATE TRIGGER tiles_no_delete BEFORE DELETE ON tiles
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('tiles');
CREATE TRIGGER tiles_no_truncate BEFORE TRUNCATE ON tiles
    FOR EACH STATEMENT EXECUTE FUNCTION flightrec_refuse('tiles');

-- Every signed checkpoint, kept forever so that consistency can be proven
-- between any two.
CREATE TABLE checkpoints (
    tenant     text COLLATE "C" NOT NULL,
    size       bigint NOT NULL,
    root       bytea NOT NULL,
    note       text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, size)
);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('checkpoints');
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('checkpoints');
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION flightrec_refuse('checkpoints');

-- Witnesses' cosignatures of checkpoints (C2SP tlog-cosignature lines),
-- gathered after the checkpoint was signed; kept forever, like checkpoints.
-- `arrival` keeps the order they came in.
CREATE TABLE cosignatures (
    tenant     text COLLATE "C" NOT NULL,
    size       bigint NOT NULL,
    witness    text COLLATE "C" NOT NULL,
    line       text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    arrival    bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (tenant, size, witness)
);
CREATE INDEX cosignatures_by_witness ON cosignatures (tenant, witness, size);

CREATE TRIGGER cosignatures_no_update BEFORE UPDATE ON cosignatures
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('cosignatures');
CREATE TRIGGER cosignatures_no_delete BEFORE DELETE ON cosignatures
    FOR EACH ROW EXECUTE FUNCTION flightrec_refuse('cosignatures');
CREATE TRIGGER cosignatures_no_truncate BEFORE TRUNCATE ON cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION flightrec_refuse('cosignatures');

-- Guardrails: agents, compliance rules, versioned policies, alerts and
-- webhooks with their delivery queue.
CREATE TABLE agents (
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id         text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    metadata   text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name)
);

CREATE TABLE compliance_rules (
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id         text COLLATE "C" NOT NULL,
    rule       text COLLATE "C" NOT NULL,
    pack       text COLLATE "C",
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE policies (
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id         text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Every version ever made; alerts name the one that fired.
CREATE TABLE policy_versions (
    tenant      text COLLATE "C" NOT NULL,
    policy_id   text COLLATE "C" NOT NULL,
    version     bigint NOT NULL,
    name        text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL,
    rules       text COLLATE "C" NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, policy_id, version)
);

CREATE TABLE policy_agents (
    tenant     text COLLATE "C" NOT NULL,
    policy_id  text COLLATE "C" NOT NULL,
    agent_id   text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, policy_id, agent_id)
);

CREATE TABLE alerts (
    tenant         text COLLATE "C" NOT NULL,
    id             text COLLATE "C" NOT NULL,
    rule_id        text COLLATE "C" NOT NULL,
    rule_name      text COLLATE "C" NOT NULL,
    severity       text COLLATE "C" NOT NULL,
    detector       text COLLATE "C" NOT NULL,
    event_id       text COLLATE "C" NOT NULL,
    seq            bigint NOT NULL,
    run_id         text COLLATE "C",
    agent_id       text COLLATE "C",
    path           text COLLATE "C" NOT NULL,
    excerpt        text COLLATE "C" NOT NULL,
    matches        bigint NOT NULL,
    policy_id      text COLLATE "C",
    policy_version bigint,
    status         text COLLATE "C" NOT NULL,
    created_at     text COLLATE "C" NOT NULL,
    resolved_at    text COLLATE "C",
    resolved_by    text COLLATE "C",
    PRIMARY KEY (tenant, id)
);
CREATE INDEX alerts_by_time ON alerts (tenant, created_at, id);
CREATE INDEX alerts_by_status ON alerts (tenant, status, created_at, id);
CREATE INDEX alerts_by_event ON alerts (tenant, event_id);

CREATE TABLE webhooks (
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (tenant),
    id         text COLLATE "C" NOT NULL,
    url        text COLLATE "C" NOT NULL,
    events     text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE webhook_deliveries (
    tenant           text COLLATE "C" NOT NULL,
    id               text COLLATE "C" NOT NULL,
    webhook_id       text COLLATE "C" NOT NULL,
    event_type       text COLLATE "C" NOT NULL,
    subject_id       text COLLATE "C" NOT NULL,
    payload          text COLLATE "C",
    status           text COLLATE "C" NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    next_attempt_at  text COLLATE "C",
    last_status_code bigint,
    last_error       text COLLATE "C",
    created_at       text COLLATE "C" NOT NULL,
    delivered_at     text COLLATE "C",
    PRIMARY KEY (tenant, id)
);
-- Senders claim due deliveries of every tenant: the one index that is
-- looked up across tenants, so it leads with `tenant` too and claims scan
-- it per tenant (see webhooks.rs).
CREATE INDEX deliveries_due ON webhook_deliveries (tenant, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (tenant, webhook_id, created_at);
"#;

/// Erasure (DESIGN §4): erasure jobs, leases for work one node does at a
/// time, and an erasure that may also clear the query columns that can
/// name a person.
const V2: &str = r#"
CREATE TABLE erasures (
    tenant       text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    subject_kind text COLLATE "C" NOT NULL,
    subject      text COLLATE "C", -- JSON while the job runs; NULL once it is done
    reason       text COLLATE "C" NOT NULL,
    requested_by text COLLATE "C" NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL,
    erased       bigint NOT NULL DEFAULT 0,
    finished_at  text COLLATE "C",
    PRIMARY KEY (tenant, id)
);
CREATE INDEX erasures_recent ON erasures (tenant, created_at, id);
CREATE INDEX erasures_pending ON erasures (tenant, created_at) WHERE status = 'pending';

-- Coordination between nodes, not any tenant's data: the one table not
-- keyed by tenant (a reference table on Citus).
CREATE TABLE leases (
    name   text COLLATE "C" PRIMARY KEY,
    holder text COLLATE "C" NOT NULL,
    until  text COLLATE "C" NOT NULL
);

CREATE OR REPLACE FUNCTION flightrec_records_only_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS NULL AND NEW.salt IS NULL
       AND (NEW.tenant, NEW.seq, NEW.id, NEW.time, NEW.received_at, NEW.type, NEW.run_id,
            NEW.span_id, NEW.parent_span_id, NEW.status, NEW.body_hash, NEW.v,
            NEW.submitted_by, NEW.leaf_hash, NEW.agent_id, NEW.actor_type,
            NEW.resource_type, NEW.verb, NEW.provider, NEW.governance_status)
           IS NOT DISTINCT FROM
           (OLD.tenant, OLD.seq, OLD.id, OLD.time, OLD.received_at, OLD.type, OLD.run_id,
            OLD.span_id, OLD.parent_span_id, OLD.status, OLD.body_hash, OLD.v,
            OLD.submitted_by, OLD.leaf_hash, OLD.agent_id, OLD.actor_type,
            OLD.resource_type, OLD.verb, OLD.provider, OLD.governance_status)
       -- The query columns that can name a person go with the body.
       AND (NEW.session_id IS NOT DISTINCT FROM OLD.session_id OR NEW.session_id IS NULL)
       AND (NEW.actor IS NOT DISTINCT FROM OLD.actor OR NEW.actor IS NULL)
       AND (NEW.resource_id IS NOT DISTINCT FROM OLD.resource_id OR NEW.resource_id IS NULL)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'flightrec records are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"#;

/// `/v1/stats` (see `crate::stats`): what it counts beyond the index
/// columns, promoted out of the body, and tallies per tenant, dimension,
/// hour and value, kept by every append. `migrate` then reads the records
/// already in the store once, in Rust, to fill both (`jsonb` would refuse
/// a body holding `\u0000`; an erased record has no body to read: it
/// counts without a duration, dry run or idempotency hit).
const V3: &str = r#"
ALTER TABLE records
    ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
    ADD COLUMN idempotency_hit boolean NOT NULL DEFAULT false,
    ADD COLUMN duration_ms double precision;

CREATE OR REPLACE FUNCTION flightrec_records_only_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS NULL AND NEW.salt IS NULL
       AND (NEW.tenant, NEW.seq, NEW.id, NEW.time, NEW.received_at, NEW.type, NEW.run_id,
            NEW.span_id, NEW.parent_span_id, NEW.status, NEW.body_hash, NEW.v,
            NEW.submitted_by, NEW.leaf_hash, NEW.agent_id, NEW.actor_type,
            NEW.resource_type, NEW.verb, NEW.provider, NEW.governance_status,
            NEW.dry_run, NEW.idempotency_hit, NEW.duration_ms)
           IS NOT DISTINCT FROM
           (OLD.tenant, OLD.seq, OLD.id, OLD.time, OLD.received_at, OLD.type, OLD.run_id,
            OLD.span_id, OLD.parent_span_id, OLD.status, OLD.body_hash, OLD.v,
            OLD.submitted_by, OLD.leaf_hash, OLD.agent_id, OLD.actor_type,
            OLD.resource_type, OLD.verb, OLD.provider, OLD.governance_status,
            OLD.dry_run, OLD.idempotency_hit, OLD.duration_ms)
       -- The query columns that can name a person go with the body.
       AND (NEW.session_id IS NOT DISTINCT FROM OLD.session_id OR NEW.session_id IS NULL)
       AND (NEW.actor IS NOT DISTINCT FROM OLD.actor OR NEW.actor IS NULL)
       AND (NEW.resource_id IS NOT DISTINCT FROM OLD.resource_id OR NEW.resource_id IS NULL)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'flightrec records are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TABLE record_stats (
    tenant           text COLLATE "C" NOT NULL,
    dim              text COLLATE "C" NOT NULL, -- verb, provider, agent, type or status
    hour             text COLLATE "C" NOT NULL, -- as in record_counts: 2026-11-23T02
    value            text COLLATE "C" NOT NULL, -- the dimension's value; '' for none
    n                bigint NOT NULL,
    fail             bigint NOT NULL,
    warn             bigint NOT NULL,
    blocked          bigint NOT NULL,
    dry_run          bigint NOT NULL,
    idempotency_hits bigint NOT NULL,
    durations        bytea NOT NULL,            -- a histogram: varint (bucket, count) pairs
    PRIMARY KEY (tenant, dim, hour, value)
);
"#;

/// Report jobs and their files (see `crate::reports`).
const V4: &str = r#"
CREATE TABLE reports (
    tenant       text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    format       text COLLATE "C" NOT NULL,
    window_from  text COLLATE "C",
    window_to    text COLLATE "C",
    requested_by text COLLATE "C" NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL,
    finished_at  text COLLATE "C",
    error        text COLLATE "C",
    size         bigint,
    basis        text COLLATE "C",
    file         bytea,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX reports_recent ON reports (tenant, created_at, id);
CREATE INDEX reports_pending ON reports (tenant, created_at) WHERE status = 'pending';
"#;

/// Bodies compressed (see `crate::body_codec`): the column holds bytes.
/// The bodies already stored become their JSON text's UTF-8 bytes, which
/// the codec reads as they are (PostgreSQL has no zstd to call from SQL,
/// and compressing them here would write every row a second time); new
/// bodies are zstd frames.
const V5: &str = r#"
ALTER TABLE records ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');
"#;

/// Encryption at rest: each tenant's data keys, wrapped by the master key
/// (see `crate::encryption`). A destroyed key keeps its row, without the
/// key: ids are never reused.
const V6: &str = r#"
CREATE TABLE data_keys (
    tenant       text COLLATE "C" NOT NULL,
    key_id       bigint NOT NULL,
    wrapped      bytea,
    master_id    text COLLATE "C" NOT NULL,
    sealing      boolean NOT NULL DEFAULT false,
    created_at   text COLLATE "C" NOT NULL,
    destroyed_at text COLLATE "C",
    PRIMARY KEY (tenant, key_id)
);
"#;

/// The hourly counts of V1 are the `status` rows of `record_stats` (V3),
/// which every append writes once per batch: one table and one trigger
/// less to keep.
const V7: &str = r#"
DROP TRIGGER records_counted ON records;
DROP FUNCTION flightrec_count_records();
DROP TABLE record_counts;
"#;
