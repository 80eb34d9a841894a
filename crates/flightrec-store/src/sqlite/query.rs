//! Reads: events by filter, runs, a run's events.

use super::SqliteStore;
use super::rows::{QUALIFIED_RECORD_COLUMNS, RECORD_COLUMNS, record_from_row};
use super::search::match_expression;
use crate::StoreError;
use crate::encryption::DataKey;
use crate::model::*;
use flightrec_core::record::StoredRecord;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use std::sync::Arc;

/// A WHERE clause under construction, with its parameters.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    params: Vec<Value>,
}

impl Conditions {
    fn new(tenant: &str) -> Self {
        let mut c = Conditions::default();
        c.push("records.tenant = ?", tenant.to_owned());
        c
    }

    fn push(&mut self, sql: &str, value: impl Into<Value>) {
        self.params.push(value.into());
        self.sql
            .push(sql.replace('?', &format!("?{}", self.params.len())));
    }

    fn push_opt(&mut self, sql: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.push(sql, v.clone());
        }
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }
}

/// A window that is all the filter says, open-ended and holding more
/// records than this, is walked newest first (each record's time checked)
/// instead of read through the time index and sorted: its newest records
/// are the log's newest (times follow the log's order, as in a live log),
/// so the walk stops after a page, where the sort would read the whole
/// window.
const WALK_WINDOWS_OVER: u64 = 2_000;

/// The WHERE clause of a filter, and the table expression to read it from.
/// `walk` reads a window-only filter newest first (see `WALK_WINDOWS_OVER`).
fn filter_conditions(
    tenant: &str,
    f: &EventFilter,
    walk: bool,
    blind: &[Arc<DataKey>],
) -> (Conditions, &'static str) {
    let mut c = Conditions::new(tenant);
    c.push_opt("records.type = ?", &f.event_type);
    c.push_opt("records.run_id = ?", &f.run_id);
    c.push_opt("records.agent_id = ?", &f.agent_id);
    c.push_opt("records.session_id = ?", &f.session_id);
    c.push_opt("records.actor = ?", &f.actor);
    c.push_opt("records.actor_type = ?", &f.actor_type);
    c.push_opt("records.resource_type = ?", &f.resource_type);
    c.push_opt("records.resource_id = ?", &f.resource_id);
    c.push_opt("records.verb = ?", &f.verb);
    c.push_opt("records.provider = ?", &f.provider);
    c.push_opt("records.status = ?", &f.status);
    c.push_opt("records.governance_status = ?", &f.governance_status);
    c.push_opt("records.submitted_by = ?", &f.submitted_by);
    match f.origin {
        Some(Origin::Flightrec) => c.push("records.submitted_by = ?", "flightrec".to_owned()),
        Some(Origin::Client) => c.push(
            "records.submitted_by IS NOT NULL AND records.submitted_by <> ?",
            "flightrec".to_owned(),
        ),
        None => {}
    }
    if let Some(prefix) = &f.type_prefix {
        // A range, so the type index serves it; U+10FFFF sorts after any
        // character a type can continue with.
        c.push("records.type >= ?", prefix.clone());
        c.push("records.type < ?", format!("{prefix}\u{10FFFF}"));
    }
    // With an equality filter, that filter's index (walked newest first)
    // is the fast path, and a time window is only checked row by row:
    // `+` keeps the planner from preferring the time index, which would
    // read the whole window. Alone, a small or closed window uses the time
    // index, a large open one the walk.
    let time = if c.sql.len() > 1 || walk {
        "+records.time"
    } else {
        "records.time"
    };
    c.push_opt(&format!("{time} >= ?"), &f.since);
    c.push_opt(&format!("{time} < ?"), &f.until);
    if let Some(expr) = f.q.as_deref().and_then(|q| match_expression(q, blind)) {
        c.push(
            "records.rowid IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)",
            expr,
        );
    }
    // A run's records are found through the run index and then sorted:
    // left to itself the planner walks the whole log in seq order looking
    // for them, which is slow for any one run of many.
    let from = if f.run_id.is_some() {
        "records INDEXED BY records_run"
    } else {
        "records"
    };
    (c, from)
}

impl SqliteStore {
    /// The tenant's data keys, when a search must also look for blind
    /// tokens.
    fn blind_keys(&self, tenant: &str, f: &EventFilter) -> Result<Vec<Arc<DataKey>>, StoreError> {
        match f.q {
            Some(_) => self.keyring.search_keys(tenant),
            None => Ok(Vec::new()),
        }
    }

    pub(super) fn query_records(
        &self,
        tenant: &str,
        query: &EventQuery,
    ) -> Result<Page<StoredRecord>, StoreError> {
        let f = &query.filter;
        let open_window_only = |since: &String| {
            *f == EventFilter {
                since: Some(since.clone()),
                ..Default::default()
            }
        };
        let walk = match &f.since {
            Some(since) if open_window_only(since) => {
                self.query_window_counts(tenant, Some(since), None)?.total > WALK_WINDOWS_OVER
            }
            _ => false,
        };
        let blind = self.blind_keys(tenant, f)?;
        let (mut c, from) = filter_conditions(tenant, f, walk, &blind);
        if let Some(seq) = query.before_seq {
            c.push("records.seq < ?", seq as i64);
        }
        if let Some(seq) = query.after_seq {
            c.push("records.seq > ?", seq as i64);
        }
        let sql = format!(
            "SELECT {QUALIFIED_RECORD_COLUMNS} FROM {from} WHERE {} \
             ORDER BY records.seq {} LIMIT {} OFFSET {}",
            c.clause(),
            if query.ascending { "ASC" } else { "DESC" },
            query.limit + 1,
            query.offset,
        );
        self.read(|conn| {
            page(conn, &sql, c.params, query.limit, |row| {
                record_from_row(row, &self.keyring)
            })
        })
    }

    pub(super) fn query_counts(
        &self,
        tenant: &str,
        filter: &EventFilter,
    ) -> Result<RecordCounts, StoreError> {
        let blind = self.blind_keys(tenant, filter)?;
        let (c, from) = filter_conditions(tenant, filter, false, &blind);
        let sql = format!(
            "SELECT count(*), coalesce(sum(records.status = 'fail'), 0), \
             coalesce(sum(records.status = 'warn'), 0) FROM {from} WHERE {}",
            c.clause()
        );
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(params_from_iter(c.params), |r| {
                    Ok(RecordCounts {
                        total: r.get::<_, i64>(0)? as u64,
                        fail: r.get::<_, i64>(1)? as u64,
                        warn: r.get::<_, i64>(2)? as u64,
                    })
                })?)
        })
    }

    pub(super) fn query_runs(
        &self,
        tenant: &str,
        query: &RunQuery,
    ) -> Result<Page<RunSummary>, StoreError> {
        let mut c = Conditions::default();
        c.push("tenant = ?", tenant.to_owned());
        if let Some(status) = query.status {
            c.push("status = ?", status.as_str().to_owned());
        }
        c.push_opt("agent_id = ?", &query.agent_id);
        if let Some((time, run_id)) = &query.after {
            c.params.push(time.clone().into());
            c.params.push(run_id.clone().into());
            let n = c.params.len();
            c.sql
                .push(format!("(last_time, run_id) < (?{}, ?{n})", n - 1));
        }
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE {} ORDER BY last_time DESC, run_id DESC LIMIT {}",
            c.clause(),
            query.limit + 1
        );
        self.read(|conn| page(conn, &sql, c.params, query.limit, run_from_row))
    }

    pub(super) fn query_run(
        &self,
        tenant: &str,
        run_id: &str,
    ) -> Result<Option<RunSummary>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE tenant = ?1 AND run_id = ?2"
                ))?
                .query_row(params![tenant, run_id], run_from_row)
                .optional()?)
        })
    }

    pub(super) fn query_run_records(
        &self,
        tenant: &str,
        run_id: &str,
        query: &RunRecordsQuery,
    ) -> Result<Page<StoredRecord>, StoreError> {
        let mut c = Conditions::new(tenant);
        c.push("records.run_id = ?", run_id.to_owned());
        c.push_opt("records.time >= ?", &query.from);
        c.push_opt("records.time <= ?", &query.to);
        if !query.types.is_empty() {
            let first = c.params.len() + 1;
            let marks: Vec<String> = (first..first + query.types.len())
                .map(|i| format!("?{i}"))
                .collect();
            c.params
                .extend(query.types.iter().map(|t| Value::from(t.clone())));
            c.sql
                .push(format!("records.type IN ({})", marks.join(", ")));
        }
        if let Some((time, seq)) = &query.after {
            c.params.push(time.clone().into());
            c.params.push((*seq as i64).into());
            let n = c.params.len();
            c.sql
                .push(format!("(records.time, records.seq) > (?{}, ?{n})", n - 1));
        }
        let sql = format!(
            "SELECT {QUALIFIED_RECORD_COLUMNS} FROM records WHERE {} \
             ORDER BY records.time, records.seq LIMIT {}",
            c.clause(),
            query.limit + 1
        );
        self.read(|conn| {
            page(conn, &sql, c.params, query.limit, |row| {
                record_from_row(row, &self.keyring)
            })
        })
    }

    pub(super) fn query_record(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {RECORD_COLUMNS} FROM records WHERE tenant = ?1 AND id = ?2"
                ))?
                .query_row(params![tenant, id], |row| {
                    record_from_row(row, &self.keyring)
                })
                .optional()?)
        })
    }

    pub(super) fn query_log_size(&self, tenant: &str) -> Result<u64, StoreError> {
        self.read(|conn| super::heads::log_size(conn, tenant))
    }
}

/// Runs `sql` (which asks for `limit + 1` rows) and cuts the page.
fn page<T>(
    conn: &Connection,
    sql: &str,
    params: Vec<Value>,
    limit: usize,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Page<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut items: Vec<T> = stmt
        .query_map(params_from_iter(params), map)?
        .collect::<Result<_, _>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(Page { items, more })
}

const RUN_COLUMNS: &str =
    "run_id, first_time, last_time, event_count, fail_count, warn_count, status, agent_id";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    let status: String = row.get(6)?;
    Ok(RunSummary {
        run_id: row.get(0)?,
        first_time: row.get(1)?,
        last_time: row.get(2)?,
        event_count: row.get::<_, i64>(3)? as u64,
        fail_count: row.get::<_, i64>(4)? as u64,
        warn_count: row.get::<_, i64>(5)? as u64,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Running),
        agent_id: row.get(7)?,
    })
}
