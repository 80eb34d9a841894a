//! A SQLite store copied into an empty PostgreSQL one (`flightrec
//! migrate`): every table row for row, in one transaction, so the copy is
//! whole or absent.
//!
//! Records, tiles and checkpoints are copied as stored, never re-sealed or
//! re-signed: the PostgreSQL log has the same leaves, the same roots and
//! the same signed checkpoints, and an export or proof taken from the old
//! store still verifies against the new one. Derived tables are copied too
//! (run summaries) or rebuilt by the target itself (hourly counts, by the
//! records' trigger; the free-text index, after the commit).

use super::PgStore;
use super::heads::head_problem;
use crate::{SqliteStore, StoreError};
use bytes::BytesMut;
use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::ValueRef;
use std::error::Error;

/// How far a copy has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// The target table being filled.
    pub table: &'static str,
    pub rows_done: u64,
    pub rows_total: u64,
}

/// What was copied: rows per target table, in the order they were filled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub tables: Vec<(&'static str, u64)>,
}

impl ImportReport {
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A column's PostgreSQL type; SQLite's STRICT tables guarantee the value
/// read for it has the matching storage class (or is NULL).
#[derive(Debug, Clone, Copy)]
enum Column {
    Text,
    Int,
    SmallInt,
    Bytes,
    /// SQLite's 0 or 1.
    Bool,
    Float,
}

impl Column {
    fn pg_type(self) -> Type {
        match self {
            Column::Text => Type::TEXT,
            Column::Int => Type::INT8,
            Column::SmallInt => Type::INT2,
            Column::Bytes => Type::BYTEA,
            Column::Bool => Type::BOOL,
            Column::Float => Type::FLOAT8,
        }
    }
}

/// One table's copy: a query on the SQLite store whose columns are, in
/// order, the target table's `columns`.
struct TableCopy {
    target: &'static str,
    columns: &'static [(&'static str, Column)],
    source: &'static str,
}

use Column::{Bool, Bytes, Float, Int, SmallInt, Text};

/// Parents before children (users and keys name their tenant); the
/// directory tables (`user_emails`, `api_key_secrets`) are split out of
/// SQLite's `users` and `api_keys`.
const TABLES: &[TableCopy] = &[
    TableCopy {
        target: "tenants",
        columns: &[("tenant", Text), ("name", Text), ("created_at", Text)],
        source: "SELECT id, name, created_at FROM tenants ORDER BY id",
    },
    TableCopy {
        target: "users",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, id, email, name, role, password_hash, created_at \
                 FROM users ORDER BY tenant, id",
    },
    TableCopy {
        target: "user_emails",
        columns: &[("email", Text), ("tenant", Text), ("id", Text)],
        source: "SELECT email, tenant, id FROM users ORDER BY email",
    },
    TableCopy {
        target: "api_keys",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("name", Text),
            ("prefix", Text),
            ("scopes", Text),
            ("agent_id", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("revoked_at", Text),
        ],
        source: "SELECT tenant, id, name, prefix, scopes, agent_id, created_at, last_used_at, \
                 revoked_at FROM api_keys ORDER BY tenant, id",
    },
    TableCopy {
        target: "api_key_secrets",
        columns: &[("secret_hash", Bytes), ("tenant", Text), ("id", Text)],
        source: "SELECT secret_hash, tenant, id FROM api_keys ORDER BY secret_hash",
    },
    TableCopy {
        target: "settings",
        columns: &[("tenant", Text), ("value", Text)],
        source: "SELECT tenant, value FROM settings ORDER BY tenant",
    },
    TableCopy {
        target: "data_keys",
        columns: &[
            ("tenant", Text),
            ("key_id", Int),
            ("wrapped", Bytes),
            ("master_id", Text),
            ("sealing", Bool),
            ("created_at", Text),
            ("destroyed_at", Text),
        ],
        source: "SELECT tenant, key_id, wrapped, master_id, sealing, created_at, destroyed_at \
                 FROM data_keys ORDER BY tenant, key_id",
    },
    TableCopy {
        target: "records",
        columns: &[
            ("tenant", Text),
            ("seq", Int),
            ("id", Text),
            ("time", Text),
            ("received_at", Text),
            ("type", Text),
            ("run_id", Text),
            ("span_id", Text),
            ("parent_span_id", Text),
            ("status", Text),
            ("body_hash", Text),
            ("v", Int),
            ("submitted_by", Text),
            ("leaf_hash", Bytes),
            ("body", Bytes),
            ("salt", Bytes),
            ("session_id", Text),
            ("agent_id", Text),
            ("actor", Text),
            ("actor_type", Text),
            ("resource_type", Text),
            ("resource_id", Text),
            ("verb", Text),
            ("provider", Text),
            ("governance_status", Text),
            ("dry_run", Bool),
            ("idempotency_hit", Bool),
            ("duration_ms", Float),
        ],
        source: "SELECT tenant, seq, id, time, received_at, type, run_id, span_id, \
                 parent_span_id, status, body_hash, v, submitted_by, leaf_hash, body, salt, \
                 session_id, agent_id, actor, actor_type, resource_type, resource_id, verb, \
                 provider, governance_status, dry_run, idempotency_hit, duration_ms \
                 FROM records ORDER BY tenant, seq",
    },
    TableCopy {
        target: "record_stats",
        columns: &[
            ("tenant", Text),
            ("dim", Text),
            ("hour", Text),
            ("value", Text),
            ("n", Int),
            ("fail", Int),
            ("warn", Int),
            ("blocked", Int),
            ("dry_run", Int),
            ("idempotency_hits", Int),
            ("durations", Bytes),
        ],
        source: "SELECT tenant, dim, hour, value, n, fail, warn, blocked, dry_run, \
                 idempotency_hits, durations FROM record_stats ORDER BY tenant, dim, hour, value",
    },
    TableCopy {
        target: "log_heads",
        columns: &[("tenant", Text), ("size", Int)],
        source: "SELECT tenant, count(*) FROM records GROUP BY tenant ORDER BY tenant",
    },
    TableCopy {
        target: "runs",
        columns: &[
            ("tenant", Text),
            ("run_id", Text),
            ("first_time", Text),
            ("last_time", Text),
            ("event_count", Int),
            ("fail_count", Int),
            ("warn_count", Int),
            ("status", Text),
            ("status_time", Text),
            ("status_seq", Int),
            ("agent_id", Text),
        ],
        source: "SELECT tenant, run_id, first_time, last_time, event_count, fail_count, \
                 warn_count, status, status_time, status_seq, agent_id \
                 FROM runs ORDER BY tenant, run_id",
    },
    TableCopy {
        target: "tiles",
        columns: &[
            ("tenant", Text),
            ("level", SmallInt),
            ("idx", Int),
            ("hashes", Bytes),
        ],
        source: "SELECT tenant, level, idx, hashes FROM tiles ORDER BY tenant, level, idx",
    },
    TableCopy {
        target: "checkpoints",
        columns: &[
            ("tenant", Text),
            ("size", Int),
            ("root", Bytes),
            ("note", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, size, root, note, created_at FROM checkpoints \
                 ORDER BY tenant, size",
    },
    TableCopy {
        // In the order they arrived (SQLite's rowid), which the target's
        // `arrival` column numbers anew.
        target: "cosignatures",
        columns: &[
            ("tenant", Text),
            ("size", Int),
            ("witness", Text),
            ("line", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, size, witness, line, created_at FROM cosignatures ORDER BY rowid",
    },
    TableCopy {
        target: "agents",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("name", Text),
            ("metadata", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, id, name, metadata, created_at FROM agents ORDER BY tenant, id",
    },
    TableCopy {
        target: "compliance_rules",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("rule", Text),
            ("pack", Text),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        source: "SELECT tenant, id, rule, pack, created_at, updated_at FROM compliance_rules \
                 ORDER BY tenant, id",
    },
    TableCopy {
        target: "policies",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("version", Int),
            ("created_at", Text),
        ],
        source: "SELECT tenant, id, version, created_at FROM policies ORDER BY tenant, id",
    },
    TableCopy {
        target: "policy_versions",
        columns: &[
            ("tenant", Text),
            ("policy_id", Text),
            ("version", Int),
            ("name", Text),
            ("description", Text),
            ("rules", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, policy_id, version, name, description, rules, created_at \
                 FROM policy_versions ORDER BY tenant, policy_id, version",
    },
    TableCopy {
        target: "policy_agents",
        columns: &[
            ("tenant", Text),
            ("policy_id", Text),
            ("agent_id", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, policy_id, agent_id, created_at FROM policy_agents \
                 ORDER BY tenant, policy_id, agent_id",
    },
    TableCopy {
        target: "alerts",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("rule_id", Text),
            ("rule_name", Text),
            ("severity", Text),
            ("detector", Text),
            ("event_id", Text),
            ("seq", Int),
            ("run_id", Text),
            ("agent_id", Text),
            ("path", Text),
            ("excerpt", Text),
            ("matches", Int),
            ("policy_id", Text),
            ("policy_version", Int),
            ("status", Text),
            ("created_at", Text),
            ("resolved_at", Text),
            ("resolved_by", Text),
        ],
        source: "SELECT tenant, id, rule_id, rule_name, severity, detector, event_id, seq, \
                 run_id, agent_id, path, excerpt, matches, policy_id, policy_version, status, \
                 created_at, resolved_at, resolved_by FROM alerts ORDER BY tenant, id",
    },
    TableCopy {
        target: "webhooks",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("url", Text),
            ("events", Text),
            ("created_at", Text),
        ],
        source: "SELECT tenant, id, url, events, created_at FROM webhooks ORDER BY tenant, id",
    },
    TableCopy {
        target: "webhook_deliveries",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("webhook_id", Text),
            ("event_type", Text),
            ("subject_id", Text),
            ("payload", Text),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Text),
            ("last_status_code", Int),
            ("last_error", Text),
            ("created_at", Text),
            ("delivered_at", Text),
        ],
        source: "SELECT tenant, id, webhook_id, event_type, subject_id, payload, status, \
                 attempts, next_attempt_at, last_status_code, last_error, created_at, \
                 delivered_at FROM webhook_deliveries ORDER BY tenant, id",
    },
    TableCopy {
        target: "erasures",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("subject_kind", Text),
            ("subject", Text),
            ("reason", Text),
            ("requested_by", Text),
            ("created_at", Text),
            ("status", Text),
            ("erased", Int),
            ("finished_at", Text),
        ],
        source: "SELECT tenant, id, subject_kind, subject, reason, requested_by, created_at, \
                 status, erased, finished_at FROM erasures ORDER BY tenant, id",
    },
    TableCopy {
        target: "reports",
        columns: &[
            ("tenant", Text),
            ("id", Text),
            ("type", Text),
            ("format", Text),
            ("window_from", Text),
            ("window_to", Text),
            ("requested_by", Text),
            ("created_at", Text),
            ("status", Text),
            ("finished_at", Text),
            ("error", Text),
            ("size", Int),
            ("basis", Text),
            ("file", Bytes),
        ],
        source: "SELECT tenant, id, type, format, window_from, window_to, requested_by, \
                 created_at, status, finished_at, error, size, basis, file \
                 FROM reports ORDER BY tenant, id",
    },
];

/// How many records the free-text index takes per transaction after the
/// copy (as the server's own indexer does, in steps).
const INDEX_STEP: usize = 10_000;

impl PgStore {
    /// Copies the SQLite store `source` (opened as a snapshot, so what is
    /// copied is one consistent state of it) into this store, which must be
    /// empty: no tenant, no record. Everything is copied in one
    /// transaction, checked before it commits (each tenant's head, tiles
    /// and newest checkpoint agree), then the free-text index is built.
    pub fn import_sqlite(
        &self,
        source: &SqliteStore,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport, StoreError> {
        self.refuse_writes_if_snapshot()?;
        let mut report = ImportReport::default();
        source.read_snapshot(|sqlite| {
            self.with_client(|client| {
                let mut tx = client.transaction()?;
                refuse_unless_empty(&mut tx, &self.database)?;
                for table in TABLES {
                    let copied = copy_table(sqlite, &mut tx, table, progress)?;
                    report.tables.push((table.target, copied));
                }
                for tenant in super::heads::log_tenants(&mut tx)? {
                    if let Some(problem) = head_problem(&mut tx, &tenant)? {
                        return Err(StoreError::Corrupt(format!(
                            "the copy does not hold together, so nothing was committed: {problem}; \
                             run `flightrec verify --data-dir` on the source"
                        )));
                    }
                }
                tx.commit()?;
                Ok(())
            })
        })?;
        self.build_search_index(report.rows("records"), progress)?;
        Ok(report)
    }

    fn build_search_index(
        &self,
        total: u64,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<(), StoreError> {
        let mut done = 0;
        loop {
            progress(ImportProgress {
                table: "record_search",
                rows_done: done,
                rows_total: total,
            });
            match self.index_pending(INDEX_STEP)? {
                0 => return Ok(()),
                n => done += n as u64,
            }
        }
    }
}

/// Refuses a target holding any tenant or record. The lock keeps a node
/// that starts meanwhile from creating its first tenant until the copy
/// has committed (it then finds the copied store, and opens it).
fn refuse_unless_empty(tx: &mut Transaction<'_>, database: &str) -> Result<(), StoreError> {
    tx.batch_execute("LOCK TABLE tenants, records IN SHARE ROW EXCLUSIVE MODE")?;
    let row = tx.query_one(
        "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM records)",
        &[],
    )?;
    let (tenants, records): (i64, i64) = (row.get(0), row.get(1));
    if tenants > 0 || records > 0 {
        return Err(StoreError::Rejected(format!(
            "{database} already holds a flightrec store ({tenants} tenants, {records} records); \
             migrate copies only into an empty store: name a new, empty database"
        )));
    }
    Ok(())
}

/// Streams one table from SQLite into PostgreSQL with a binary COPY.
fn copy_table(
    sqlite: &rusqlite::Connection,
    tx: &mut Transaction<'_>,
    table: &TableCopy,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<u64, StoreError> {
    let total: i64 = sqlite.query_row(
        &format!("SELECT count(*) FROM ({})", table.source),
        [],
        |r| r.get(0),
    )?;
    let mut report = |done| {
        progress(ImportProgress {
            table: table.target,
            rows_done: done,
            rows_total: total as u64,
        })
    };
    report(0);
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let types: Vec<Type> = table.columns.iter().map(|(_, c)| c.pg_type()).collect();
    let sink = tx.copy_in(&format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        table.target,
        names.join(", ")
    ))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut statement = sqlite.prepare(table.source)?;
    let mut rows = statement.query([])?;
    let mut cells: Vec<Cell> = Vec::with_capacity(types.len());
    let mut done = 0u64;
    while let Some(row) = rows.next()? {
        cells.clear();
        for (i, name) in names.iter().enumerate().take(types.len()) {
            cells.push(Cell::read(row.get_ref(i)?, table.target, name)?);
        }
        let values: Vec<&(dyn ToSql + Sync)> =
            cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        writer.write(&values)?;
        done += 1;
        if done.is_multiple_of(10_000) {
            report(done);
        }
    }
    let written = writer.finish()?;
    report(done);
    Ok(written)
}

/// One SQLite value on its way to PostgreSQL.
#[derive(Debug)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn read(value: ValueRef<'_>, table: &str, column: &str) -> Result<Cell, StoreError> {
        Ok(match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Text(t) => Cell::Text(String::from_utf8(t.to_vec()).map_err(|_| {
                StoreError::Corrupt(format!("{table}.{column} holds text that is not UTF-8"))
            })?),
            ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
            ValueRef::Real(r) => Cell::Real(r),
        })
    }
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // SQLite's STRICT tables give each column its one storage class;
        // anything else is refused, never written as the wrong bytes.
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Cell::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Cell::Int(i @ (0 | 1)) if *ty == Type::BOOL => (*i == 1).to_sql(ty, out),
            Cell::Real(r) if *ty == Type::FLOAT8 => r.to_sql(ty, out),
            Cell::Text(s) if *ty == Type::TEXT => s.to_sql(ty, out),
            Cell::Bytes(b) if *ty == Type::BYTEA => b.to_sql(ty, out),
            other => Err(format!("{other:?} does not fit a {ty} column").into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::TEXT,
            Type::INT8,
            Type::INT2,
            Type::BYTEA,
            Type::BOOL,
            Type::FLOAT8,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}
