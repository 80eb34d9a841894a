//! Reads: events by filter, runs, a run's events, rows for verify.

use super::PgStore;
use super::rows::{QUALIFIED_RECORD_COLUMNS, RECORD_COLUMNS, audit_row, collect, record_from_row};
use crate::StoreError;
use crate::encryption::DataKey;
use crate::model::*;
use flightrec_core::record::StoredRecord;
use postgres::Row;
use postgres::types::ToSql;
use std::sync::Arc;

/// A WHERE clause under construction, with its parameters.
#[derive(Default)]
pub(super) struct Conditions {
    sql: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Conditions {
    fn new(tenant: &str) -> Self {
        let mut c = Conditions::default();
        c.push("records.tenant = ?", tenant.to_owned());
        c
    }

    /// Adds a condition with one parameter, written `?`.
    pub(super) fn push(&mut self, sql: &str, value: impl ToSql + Sync + Send + 'static) {
        let n = self.add_param(value);
        self.sql.push(sql.replace('?', &format!("${n}")));
    }

    /// Adds a condition whose parameters were added with `add_param`.
    pub(super) fn push_sql(&mut self, sql: &str) {
        self.sql.push(sql.to_owned());
    }

    fn push_opt(&mut self, sql: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.push(sql, v.clone());
        }
    }

    /// Adds a parameter alone; returns its number.
    pub(super) fn add_param(&mut self, value: impl ToSql + Sync + Send + 'static) -> usize {
        self.params.push(Box::new(value));
        self.params.len()
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The WHERE clause of a filter.
fn filter_conditions(tenant: &str, f: &EventFilter, blind: &[Arc<DataKey>]) -> Conditions {
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
        // A range, so the type index serves it (the column is bytewise);
        // U+10FFFF sorts after any character a type can continue with.
        c.push("records.type >= ?", prefix.clone());
        c.push("records.type < ?", format!("{prefix}\u{10FFFF}"));
    }
    c.push_opt("records.time >= ?", &f.since);
    c.push_opt("records.time < ?", &f.until);
    if let Some(q) = &f.q {
        super::search::push_match(&mut c, tenant, q, blind);
    }
    c
}

impl PgStore {
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
        let blind = self.blind_keys(tenant, &query.filter)?;
        let mut c = filter_conditions(tenant, &query.filter, &blind);
        if let Some(seq) = query.before_seq {
            c.push("records.seq < ?", seq as i64);
        }
        if let Some(seq) = query.after_seq {
            c.push("records.seq > ?", seq as i64);
        }
        let sql = format!(
            "SELECT {QUALIFIED_RECORD_COLUMNS} FROM records WHERE {} \
             ORDER BY records.seq {} LIMIT {} OFFSET {}",
            c.clause(),
            if query.ascending { "ASC" } else { "DESC" },
            query.limit + 1,
            query.offset,
        );
        self.page(&sql, &c, query.limit, |row| {
            record_from_row(row, &self.keyring)
        })
    }

    pub(super) fn query_counts(
        &self,
        tenant: &str,
        filter: &EventFilter,
    ) -> Result<RecordCounts, StoreError> {
        let blind = self.blind_keys(tenant, filter)?;
        let c = filter_conditions(tenant, filter, &blind);
        let sql = format!(
            "SELECT count(*), count(*) FILTER (WHERE records.status = 'fail'), \
               count(*) FILTER (WHERE records.status = 'warn') FROM records WHERE {}",
            c.clause()
        );
        self.with_client(|conn| {
            let r = conn.query_one(&sql, &c.params())?;
            Ok(RecordCounts {
                total: r.try_get::<_, i64>(0)? as u64,
                fail: r.try_get::<_, i64>(1)? as u64,
                warn: r.try_get::<_, i64>(2)? as u64,
            })
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
            let t = c.add_param(time.clone());
            let r = c.add_param(run_id.clone());
            c.sql.push(format!("(last_time, run_id) < (${t}, ${r})"));
        }
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE {} ORDER BY last_time DESC, run_id DESC LIMIT {}",
            c.clause(),
            query.limit + 1
        );
        self.page(&sql, &c, query.limit, run_from_row)
    }

    pub(super) fn query_run(
        &self,
        tenant: &str,
        run_id: &str,
    ) -> Result<Option<RunSummary>, StoreError> {
        self.with_client(|conn| {
            conn.query_opt(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE tenant = $1 AND run_id = $2"),
                &[&tenant, &run_id],
            )?
            .as_ref()
            .map(run_from_row)
            .transpose()
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
            c.push("records.type = ANY(?)", query.types.clone());
        }
        if let Some((time, seq)) = &query.after {
            let t = c.add_param(time.clone());
            let s = c.add_param(*seq as i64);
            c.sql
                .push(format!("(records.time, records.seq) > (${t}, ${s})"));
        }
        let sql = format!(
            "SELECT {QUALIFIED_RECORD_COLUMNS} FROM records WHERE {} \
             ORDER BY records.time, records.seq LIMIT {}",
            c.clause(),
            query.limit + 1
        );
        self.page(&sql, &c, query.limit, |row| {
            record_from_row(row, &self.keyring)
        })
    }

    pub(super) fn query_record(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.with_client(|conn| {
            conn.query_opt(
                &format!("SELECT {RECORD_COLUMNS} FROM records WHERE tenant = $1 AND id = $2"),
                &[&tenant, &id],
            )?
            .as_ref()
            .map(|row| record_from_row(row, &self.keyring))
            .transpose()
        })
    }

    /// The rows in `seqs`, each copied once from PostgreSQL's row into
    /// `into`. A store opened as a snapshot reads it on every connection,
    /// so several threads may call this at once.
    pub(super) fn read_audit_rows(
        &self,
        tenant: &str,
        seqs: std::ops::Range<u64>,
        into: &mut crate::AuditRows,
    ) -> Result<(), StoreError> {
        into.clear();
        if seqs.is_empty() {
            return Ok(());
        }
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {RECORD_COLUMNS}, leaf_hash, {} FROM records \
                     WHERE tenant = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4",
                    flightrec_core::event::IndexColumns::NAMES.join(", ")
                ),
                &[
                    &tenant,
                    &(seqs.start as i64),
                    &(seqs.end as i64),
                    &(into.max_rows() as i64),
                ],
            )?;
            for row in &rows {
                if into.is_full() {
                    break;
                }
                into.push(audit_row(row)?, &self.keyring);
            }
            Ok(())
        })
    }

    /// Runs `sql` (which asks for `limit + 1` rows) and cuts the page.
    fn page<T>(
        &self,
        sql: &str,
        c: &Conditions,
        limit: usize,
        map: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let mut items = self.with_client(|conn| collect(conn.query(sql, &c.params())?, map))?;
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }
}

const RUN_COLUMNS: &str =
    "run_id, first_time, last_time, event_count, fail_count, warn_count, status, agent_id";

fn run_from_row(row: &Row) -> Result<RunSummary, StoreError> {
    let status: String = row.try_get(6)?;
    Ok(RunSummary {
        run_id: row.try_get(0)?,
        first_time: row.try_get(1)?,
        last_time: row.try_get(2)?,
        event_count: row.try_get::<_, i64>(3)? as u64,
        fail_count: row.try_get::<_, i64>(4)? as u64,
        warn_count: row.try_get::<_, i64>(5)? as u64,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Running),
        agent_id: row.try_get(7)?,
    })
}
