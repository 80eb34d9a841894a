//! The SQLite schema and its versioned migrations.
//!
//! `PRAGMA application_id` marks a file as a flightrec store and
//! `PRAGMA user_version` holds the schema version, so opening can tell a
//! flightrec store from any other SQLite file and an old schema from a new.

use crate::StoreError;
use rusqlite::Connection;

/// "FRec" as a big-endian integer.
pub const APPLICATION_ID: i64 = 0x4652_6563;

/// Each migration takes the schema from its index to its index + 1.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The version whose migration also tallies the records already stored
/// for `/v1/stats`, which takes Rust as well as SQL.
const STATS_VERSION: usize = 7;

/// The version whose migration compresses the bodies already stored,
/// which takes Rust between its two halves ([`V9`], [`V9_SWAP`]).
const PACKED_BODIES_VERSION: usize = 9;

/// Applies every migration after `from`, each in its own transaction.
pub fn migrate(conn: &mut Connection, from: i64) -> Result<(), StoreError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if i + 1 == STATS_VERSION {
            super::stats::tally_stored_records(&tx)?;
        }
        if i + 1 == PACKED_BODIES_VERSION {
            pack_stored_bodies(&tx)?;
            tx.execute_batch(V9_SWAP)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

const V1: &str = r#"
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    tenant        TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT,
    role          TEXT NOT NULL,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

CREATE TABLE api_keys (
    tenant       TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;

-- One row per record. The header columns (tenant .. body_hash) are hashed
-- into the Merkle leaf; body and salt are what body_hash covers; the columns
-- after them are derived from the body for queries and checked by verify.
CREATE TABLE records (
    rowid             INTEGER PRIMARY KEY,
    tenant            TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    id                TEXT NOT NULL,
    time              TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    type              TEXT NOT NULL,
    run_id            TEXT,
    span_id           TEXT,
    parent_span_id    TEXT,
    status            TEXT NOT NULL,
    body_hash         TEXT NOT NULL,
    leaf_hash         BLOB NOT NULL,
    body              TEXT,
    salt              BLOB,
    session_id        TEXT,
    agent_id          TEXT,
    actor             TEXT,
    actor_type        TEXT,
    resource_type     TEXT,
    resource_id       TEXT,
    verb              TEXT,
    provider          TEXT,
    governance_status TEXT,
    UNIQUE (tenant, seq),
    UNIQUE (tenant, id)
) STRICT;

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

-- actor_type and provider have few distinct values: a newest-first scan
-- finds a page of them quickly, so they go without an index that every
-- append would pay for.

-- Append-only: no record is deleted, and the only change ever allowed is
-- the erasure of a body (body and salt cleared, everything else as it was).
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;

CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
WHEN NOT (
    NEW.body IS NULL AND NEW.salt IS NULL
    AND NEW.rowid IS OLD.rowid AND NEW.tenant IS OLD.tenant AND NEW.seq IS OLD.seq
    AND NEW.id IS OLD.id AND NEW.time IS OLD.time AND NEW.received_at IS OLD.received_at
    AND NEW.type IS OLD.type AND NEW.run_id IS OLD.run_id AND NEW.span_id IS OLD.span_id
    AND NEW.parent_span_id IS OLD.parent_span_id AND NEW.status IS OLD.status
    AND NEW.body_hash IS OLD.body_hash AND NEW.leaf_hash IS OLD.leaf_hash
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;

-- A summary per run, kept up to date by every append (derived, so mutable).
CREATE TABLE runs (
    tenant      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    first_time  TEXT NOT NULL,
    last_time   TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    fail_count  INTEGER NOT NULL,
    warn_count  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    status_time TEXT,
    status_seq  INTEGER,
    agent_id    TEXT,
    PRIMARY KEY (tenant, run_id)
) STRICT;

CREATE INDEX runs_recent ON runs (tenant, last_time, run_id);

-- Free-text search over a view that derives each record's text from its
-- body, so the index can always be checked against the records themselves.
-- The view covers the records indexed so far (search trails appends).
CREATE VIEW records_search AS
    SELECT rowid, flightrec_search_text(type, body) AS text FROM records
    WHERE rowid <= (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid');

CREATE VIRTUAL TABLE records_fts USING fts5 (
    text,
    content = 'records_search',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The Merkle tree over each tenant's leaves, as C2SP tlog-tiles of height
-- 8: a tile holds up to 256 node hashes of one tree level, concatenated. A
-- partial tile only ever grows into its full self.
CREATE TABLE tiles (
    tenant TEXT NOT NULL,
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (tenant, level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tiles_no_delete BEFORE DELETE ON tiles
BEGIN
    SELECT RAISE(ABORT, 'flightrec tiles are append-only');
END;

CREATE TRIGGER tiles_only_grow BEFORE UPDATE ON tiles
WHEN NOT (
    NEW.tenant IS OLD.tenant AND NEW.level IS OLD.level AND NEW.idx IS OLD.idx
    AND length(NEW.hashes) >= length(OLD.hashes)
    AND substr(NEW.hashes, 1, length(OLD.hashes)) = OLD.hashes
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec tiles are append-only');
END;

-- Every signed checkpoint, kept forever so that consistency can be proven
-- between any two.
CREATE TABLE checkpoints (
    tenant     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, size)
) STRICT;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'flightrec checkpoints are append-only');
END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'flightrec checkpoints are append-only');
END;

INSERT INTO store_meta (key, value) VALUES ('search_indexed_rowid', '0');
"#;

/// Keys bound to an agent, tenant settings, and listing a tenant's users.
const V2: &str = r#"
ALTER TABLE api_keys ADD COLUMN agent_id TEXT;

CREATE INDEX users_by_tenant ON users (tenant, created_at);

CREATE TABLE settings (
    tenant TEXT PRIMARY KEY REFERENCES tenants (id),
    value  TEXT NOT NULL
) STRICT;
"#;

/// Guardrails: agents, compliance rules, versioned policies, alerts and
/// webhooks with their delivery queue.
const V3: &str = r#"
CREATE TABLE agents (
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name)
) STRICT;

CREATE TABLE compliance_rules (
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    rule       TEXT NOT NULL,
    pack       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

CREATE TABLE policies (
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

-- Every version ever made; alerts name the one that fired.
CREATE TABLE policy_versions (
    tenant      TEXT NOT NULL,
    policy_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    rules       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, policy_id, version)
) STRICT;

CREATE TABLE policy_agents (
    tenant     TEXT NOT NULL,
    policy_id  TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, policy_id, agent_id)
) STRICT;

CREATE TABLE alerts (
    tenant         TEXT NOT NULL,
    id             TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    rule_name      TEXT NOT NULL,
    severity       TEXT NOT NULL,
    detector       TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    run_id         TEXT,
    agent_id       TEXT,
    path           TEXT NOT NULL,
    excerpt        TEXT NOT NULL,
    matches        INTEGER NOT NULL,
    policy_id      TEXT,
    policy_version INTEGER,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    resolved_at    TEXT,
    resolved_by    TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE INDEX alerts_by_time ON alerts (tenant, created_at, id);
CREATE INDEX alerts_by_status ON alerts (tenant, status, created_at, id);
CREATE INDEX alerts_by_event ON alerts (tenant, event_id);

CREATE TABLE webhooks (
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

CREATE TABLE webhook_deliveries (
    tenant           TEXT NOT NULL,
    id               TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    payload          TEXT,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE INDEX deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (tenant, webhook_id, created_at);
"#;

/// Counts of records per tenant, hour of `time` and status, kept by a
/// trigger in the transaction that appends, so the dashboard's totals for
/// a window read a few hundred rows instead of the whole log. Headers never
/// change (erasure clears bodies only), so the counts never go stale.
const V4: &str = r#"
CREATE TABLE record_counts (
    tenant TEXT NOT NULL,
    hour   TEXT NOT NULL, -- the first 13 characters of `time`: 2026-11-23T02
    status TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (tenant, hour, status)
) STRICT, WITHOUT ROWID;

INSERT INTO record_counts (tenant, hour, status, n)
    SELECT tenant, substr(time, 1, 13), status, count(*) FROM records GROUP BY 1, 2, 3;

CREATE TRIGGER records_counted AFTER INSERT ON records
BEGIN
    INSERT INTO record_counts (tenant, hour, status, n)
        VALUES (NEW.tenant, substr(NEW.time, 1, 13), NEW.status, 1)
        ON CONFLICT (tenant, hour, status) DO UPDATE SET n = n + 1;
END;
"#;

/// Record format 2: each record keeps the format version it was written
/// with (`v`, 1 for every record before this) and, from version 2 on, who
/// sent it (`submitted_by`). Both are header columns, so the append-only
/// trigger now guards them too. And witnesses' cosignatures.
const V5: &str = r#"
ALTER TABLE records ADD COLUMN v INTEGER NOT NULL DEFAULT 1;
ALTER TABLE records ADD COLUMN submitted_by TEXT;

CREATE INDEX records_submitted_by ON records (tenant, submitted_by, seq)
    WHERE submitted_by IS NOT NULL;

-- Witnesses' cosignatures of checkpoints (C2SP tlog-cosignature lines),
-- gathered after the checkpoint was signed; kept forever, like checkpoints.
CREATE TABLE cosignatures (
    tenant     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    witness    TEXT NOT NULL,
    line       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, size, witness)
) STRICT;
CREATE INDEX cosignatures_by_witness ON cosignatures (tenant, witness, size);

CREATE TRIGGER cosignatures_no_delete BEFORE DELETE ON cosignatures
BEGIN
    SELECT RAISE(ABORT, 'flightrec cosignatures are append-only');
END;

CREATE TRIGGER cosignatures_no_update BEFORE UPDATE ON cosignatures
BEGIN
    SELECT RAISE(ABORT, 'flightrec cosignatures are append-only');
END;

DROP TRIGGER records_only_erase;
CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
WHEN NOT (
    NEW.body IS NULL AND NEW.salt IS NULL
    AND NEW.rowid IS OLD.rowid AND NEW.tenant IS OLD.tenant AND NEW.seq IS OLD.seq
    AND NEW.id IS OLD.id AND NEW.time IS OLD.time AND NEW.received_at IS OLD.received_at
    AND NEW.type IS OLD.type AND NEW.run_id IS OLD.run_id AND NEW.span_id IS OLD.span_id
    AND NEW.parent_span_id IS OLD.parent_span_id AND NEW.status IS OLD.status
    AND NEW.body_hash IS OLD.body_hash AND NEW.leaf_hash IS OLD.leaf_hash
    AND NEW.v IS OLD.v AND NEW.submitted_by IS OLD.submitted_by
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;
"#;

/// Erasure (DESIGN §4): erasure jobs, leases for work one node does at a
/// time, and an erasure that may also clear the query columns that can
/// name a person.
const V6: &str = r#"
CREATE TABLE erasures (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject      TEXT, -- JSON while the job runs; NULL once it is done
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL,
    erased       INTEGER NOT NULL DEFAULT 0,
    finished_at  TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE INDEX erasures_recent ON erasures (tenant, created_at, id);
CREATE INDEX erasures_pending ON erasures (status, created_at) WHERE status = 'pending';

CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
) STRICT;

DROP TRIGGER records_only_erase;
CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
WHEN NOT (
    NEW.body IS NULL AND NEW.salt IS NULL
    AND NEW.rowid IS OLD.rowid AND NEW.tenant IS OLD.tenant AND NEW.seq IS OLD.seq
    AND NEW.id IS OLD.id AND NEW.time IS OLD.time AND NEW.received_at IS OLD.received_at
    AND NEW.type IS OLD.type AND NEW.run_id IS OLD.run_id AND NEW.span_id IS OLD.span_id
    AND NEW.parent_span_id IS OLD.parent_span_id AND NEW.status IS OLD.status
    AND NEW.body_hash IS OLD.body_hash AND NEW.leaf_hash IS OLD.leaf_hash
    AND NEW.v IS OLD.v AND NEW.submitted_by IS OLD.submitted_by
    AND NEW.agent_id IS OLD.agent_id AND NEW.actor_type IS OLD.actor_type
    AND NEW.resource_type IS OLD.resource_type AND NEW.verb IS OLD.verb
    AND NEW.provider IS OLD.provider AND NEW.governance_status IS OLD.governance_status
    AND (NEW.session_id IS OLD.session_id OR NEW.session_id IS NULL)
    AND (NEW.actor IS OLD.actor OR NEW.actor IS NULL)
    AND (NEW.resource_id IS OLD.resource_id OR NEW.resource_id IS NULL)
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;
"#;

/// `/v1/stats` (see `crate::stats`): what it counts beyond the index
/// columns, promoted out of the body, and tallies per tenant, dimension,
/// hour and value, kept by every append. The records already in the store
/// are read once to fill both (the tallies by `migrate`, in Rust; an
/// erased record has no body to read: it counts without a duration, dry
/// run or idempotency hit).
const V7: &str = r#"
ALTER TABLE records ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN idempotency_hit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN duration_ms REAL;

DROP TRIGGER records_only_erase;

UPDATE records SET
    dry_run = coalesce(json_extract(body, '$.dry_run') IS 1
        OR json_extract(body, '$.governance.status') IS 'dry_run', 0),
    idempotency_hit = coalesce(json_extract(body, '$.idempotency_hit') IS 1, 0),
    duration_ms = json_extract(body, '$.duration_ms')
WHERE body IS NOT NULL;

CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
WHEN NOT (
    NEW.body IS NULL AND NEW.salt IS NULL
    AND NEW.rowid IS OLD.rowid AND NEW.tenant IS OLD.tenant AND NEW.seq IS OLD.seq
    AND NEW.id IS OLD.id AND NEW.time IS OLD.time AND NEW.received_at IS OLD.received_at
    AND NEW.type IS OLD.type AND NEW.run_id IS OLD.run_id AND NEW.span_id IS OLD.span_id
    AND NEW.parent_span_id IS OLD.parent_span_id AND NEW.status IS OLD.status
    AND NEW.body_hash IS OLD.body_hash AND NEW.leaf_hash IS OLD.leaf_hash
    AND NEW.v IS OLD.v AND NEW.submitted_by IS OLD.submitted_by
    AND NEW.agent_id IS OLD.agent_id AND NEW.actor_type IS OLD.actor_type
    AND NEW.resource_type IS OLD.resource_type AND NEW.verb IS OLD.verb
    AND NEW.provider IS OLD.provider AND NEW.governance_status IS OLD.governance_status
    AND NEW.dry_run IS OLD.dry_run AND NEW.idempotency_hit IS OLD.idempotency_hit
    AND NEW.duration_ms IS OLD.duration_ms
    AND (NEW.session_id IS OLD.session_id OR NEW.session_id IS NULL)
    AND (NEW.actor IS OLD.actor OR NEW.actor IS NULL)
    AND (NEW.resource_id IS OLD.resource_id OR NEW.resource_id IS NULL)
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;

CREATE TABLE record_stats (
    tenant           TEXT NOT NULL,
    dim              TEXT NOT NULL, -- verb, provider, agent, type or status
    hour             TEXT NOT NULL, -- as in record_counts: 2026-11-23T02
    value            TEXT NOT NULL, -- the dimension's value; '' for none
    n                INTEGER NOT NULL,
    fail             INTEGER NOT NULL,
    warn             INTEGER NOT NULL,
    blocked          INTEGER NOT NULL,
    dry_run          INTEGER NOT NULL,
    idempotency_hits INTEGER NOT NULL,
    durations        BLOB NOT NULL, -- a histogram: varint (bucket, count) pairs
    PRIMARY KEY (tenant, dim, hour, value)
) STRICT, WITHOUT ROWID;
"#;

/// Report jobs and their files (see `crate::reports`).
const V8: &str = r#"
CREATE TABLE reports (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,
    format       TEXT NOT NULL,
    window_from  TEXT,
    window_to    TEXT,
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL,
    finished_at  TEXT,
    error        TEXT,
    size         INTEGER,
    basis        TEXT,
    file         BLOB,
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE INDEX reports_recent ON reports (tenant, created_at, id);
CREATE INDEX reports_pending ON reports (status, created_at) WHERE status = 'pending';
"#;

/// Bodies compressed (see `crate::body_codec`): a BLOB column takes the
/// place of the TEXT one. This half adds it and takes down what names the
/// old column; [`pack_stored_bodies`] fills it; [`V9_SWAP`] drops the old
/// column (SQLite rewrites the table, `secure_delete` zeroes the pages the
/// plain text was in) and puts the new one under its name.
const V9: &str = r#"
ALTER TABLE records ADD COLUMN packed_body BLOB;
DROP TRIGGER records_only_erase;
DROP VIEW records_search;
"#;

const V9_SWAP: &str = r#"
ALTER TABLE records DROP COLUMN body;
ALTER TABLE records RENAME COLUMN packed_body TO body;

CREATE VIEW records_search AS
    SELECT rowid, flightrec_search_text(type, body) AS text FROM records
    WHERE rowid <= (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid');

CREATE TRIGGER records_only_erase BEFORE UPDATE ON records
WHEN NOT (
    NEW.body IS NULL AND NEW.salt IS NULL
    AND NEW.rowid IS OLD.rowid AND NEW.tenant IS OLD.tenant AND NEW.seq IS OLD.seq
    AND NEW.id IS OLD.id AND NEW.time IS OLD.time AND NEW.received_at IS OLD.received_at
    AND NEW.type IS OLD.type AND NEW.run_id IS OLD.run_id AND NEW.span_id IS OLD.span_id
    AND NEW.parent_span_id IS OLD.parent_span_id AND NEW.status IS OLD.status
    AND NEW.body_hash IS OLD.body_hash AND NEW.leaf_hash IS OLD.leaf_hash
    AND NEW.v IS OLD.v AND NEW.submitted_by IS OLD.submitted_by
    AND NEW.agent_id IS OLD.agent_id AND NEW.actor_type IS OLD.actor_type
    AND NEW.resource_type IS OLD.resource_type AND NEW.verb IS OLD.verb
    AND NEW.provider IS OLD.provider AND NEW.governance_status IS OLD.governance_status
    AND NEW.dry_run IS OLD.dry_run AND NEW.idempotency_hit IS OLD.idempotency_hit
    AND NEW.duration_ms IS OLD.duration_ms
    AND (NEW.session_id IS OLD.session_id OR NEW.session_id IS NULL)
    AND (NEW.actor IS OLD.actor OR NEW.actor IS NULL)
    AND (NEW.resource_id IS OLD.resource_id OR NEW.resource_id IS NULL)
)
BEGIN
    SELECT RAISE(ABORT, 'flightrec records are append-only');
END;
"#;

/// Encryption at rest: each tenant's data keys, wrapped by the master key
/// (see `crate::encryption`). A destroyed key keeps its row, without the
/// key: ids are never reused, and verify can tell a shredded body from a
/// damaged one.
const V10: &str = r#"
CREATE TABLE data_keys (
    tenant       TEXT NOT NULL,
    key_id       INTEGER NOT NULL,
    wrapped      BLOB,
    master_id    TEXT NOT NULL,
    sealing      INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    destroyed_at TEXT,
    PRIMARY KEY (tenant, key_id)
) STRICT;

-- The search text of a sealed body is its blind tokens, which take the
-- record's tenant and seq to make.
DROP VIEW records_search;
CREATE VIEW records_search AS
    SELECT rowid, flightrec_search_text(type, body, tenant, seq) AS text FROM records
    WHERE rowid <= (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid');
"#;

/// The hourly counts of V4 are the `status` rows of `record_stats` (V7),
/// which every append writes once per batch. Their row trigger made each
/// record's INSERT a multi-row write, and so gave each its own statement
/// journal, whose release walked the batch savepoint's whole sub-journal:
/// most of the writer's time on a large batch.
const V11: &str = r#"
DROP TRIGGER records_counted;
DROP TABLE record_counts;
"#;

/// Bodies compressed at a time by [`pack_stored_bodies`].
const PACK_CHUNK: i64 = 10_000;

/// Compresses every stored body into `packed_body`, in chunks, saying how
/// far it is on a large store.
fn pack_stored_bodies(conn: &Connection) -> Result<(), StoreError> {
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM records WHERE body IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let mut select = conn.prepare(
        "SELECT rowid, body FROM records WHERE rowid > ?1 AND body IS NOT NULL \
         ORDER BY rowid LIMIT ?2",
    )?;
    let mut update = conn.prepare("UPDATE records SET packed_body = ?2 WHERE rowid = ?1")?;
    let (mut after, mut done) = (0i64, 0i64);
    loop {
        // The bytes as stored, not a String: a body that is not UTF-8 (a
        // damaged or tampered file) is kept for verify to name, rather than
        // stopping the store from opening.
        let chunk: Vec<(i64, Vec<u8>)> = select
            .query_map([after, PACK_CHUNK], |r| {
                Ok((r.get(0)?, r.get_ref(1)?.as_bytes()?.to_vec()))
            })?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _)) = chunk.last() else {
            break;
        };
        for (rowid, body) in &chunk {
            update.execute(rusqlite::params![
                rowid,
                crate::body_codec::pack_bytes(body)
            ])?;
        }
        (after, done) = (last, done + chunk.len() as i64);
        if total > PACK_CHUNK {
            tracing::info!("schema V9: compressed {done} of {total} stored bodies");
        }
    }
    Ok(())
}
