//! Report jobs on SQLite (schema V8; see `crate::reports`).

use super::SqliteStore;
use crate::StoreError;
use crate::encryption::Place;
use crate::reports::{ReportFormat, ReportJob, ReportOutcome, ReportStatus, ReportType};
use flightrec_core::erasure::{ERASED_TYPE, KEYS_DESTROYED_TYPE};
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str = "tenant, id, type, format, window_from, window_to, requested_by, \
                       created_at, status, finished_at, error, size, basis";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<ReportJob> {
    let bad = |i: usize, what: &str, value: String| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown report {what} {value:?}").into(),
        )
    };
    let report_type: String = r.get(2)?;
    let format: String = r.get(3)?;
    let status: String = r.get(8)?;
    Ok(ReportJob {
        tenant: r.get(0)?,
        id: r.get(1)?,
        report_type: ReportType::parse(&report_type).ok_or_else(|| bad(2, "type", report_type))?,
        format: ReportFormat::parse(&format).ok_or_else(|| bad(3, "format", format))?,
        from: r.get(4)?,
        to: r.get(5)?,
        requested_by: r.get(6)?,
        created_at: r.get(7)?,
        status: ReportStatus::parse(&status).ok_or_else(|| bad(8, "status", status))?,
        finished_at: r.get(9)?,
        error: r.get(10)?,
        size: r.get::<_, Option<i64>>(11)?.map(|n| n as u64),
        basis: r.get(12)?,
    })
}

/// The newest `log.erased` or `encryption.keys_destroyed` record of
/// flightrec's own in a tenant's log: a report built before it may hold
/// what it made unreadable.
fn erasure_mark(conn: &Connection, tenant: &str) -> rusqlite::Result<Option<u64>> {
    conn.query_row(
        "SELECT max(seq) FROM records WHERE tenant = ?1 AND type IN (?2, ?3) \
         AND submitted_by = 'flightrec'",
        params![tenant, ERASED_TYPE, KEYS_DESTROYED_TYPE],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|seq| seq.map(|s| s as u64))
}

/// Clears the files of a tenant's finished reports whose window holds a
/// time in `[first, last]` (the erased records'), inside the erasing
/// transaction.
pub(super) fn erase_reports(
    conn: &Connection,
    tenant: &str,
    first: &str,
    last: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE reports SET file = NULL, status = 'erased' \
         WHERE tenant = ?1 AND status = 'ready' \
         AND (window_from IS NULL OR window_from <= ?3) AND (window_to IS NULL OR window_to > ?2)",
    )?
    .execute(params![tenant, first, last])?;
    Ok(())
}

/// Files a report job ([`crate::AccessChange::RequestReport`]).
pub(super) fn request(conn: &Connection, job: &ReportJob) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO reports ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL, NULL)"
        ),
        params![
            job.tenant,
            job.id,
            job.report_type.as_str(),
            job.format.as_str(),
            job.from,
            job.to,
            job.requested_by,
            job.created_at,
            ReportStatus::Pending.as_str(),
        ],
    )
    .map_err(|e| super::access::conflict(e, || format!("a report {:?}", job.id)))?;
    Ok(())
}

impl crate::ReportStore for SqliteStore {
    fn report(&self, tenant: &str, id: &str) -> Result<Option<ReportJob>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM reports WHERE tenant = ?1 AND id = ?2"),
                    params![tenant, id],
                    job_from_row,
                )
                .optional()?)
        })
    }

    fn reports(&self, tenant: &str, limit: usize) -> Result<Vec<ReportJob>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM reports WHERE tenant = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))?;
            let jobs = stmt
                .query_map(params![tenant, limit as i64], job_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(jobs)
        })
    }

    fn pending_reports(&self) -> Result<Vec<ReportJob>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM reports WHERE status = 'pending' ORDER BY created_at"
            ))?;
            let jobs = stmt
                .query_map([], job_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(jobs)
        })
    }

    fn report_file(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT file FROM reports WHERE tenant = ?1 AND id = ?2 AND status = 'ready'",
                    params![tenant, id],
                    |r| r.get::<_, Option<Vec<u8>>>(0),
                )
                .optional()?
                .flatten()
                .map(|stored| {
                    self.keyring
                        .open_blob(tenant, Place::ReportFile { report: id }, stored)
                })
                .transpose()?
                .flatten())
        })
    }

    fn erasure_mark(&self, tenant: &str) -> Result<Option<u64>, StoreError> {
        self.read(|conn| Ok(erasure_mark(conn, tenant)?))
    }

    fn finish_report(
        &self,
        tenant: &str,
        id: &str,
        finished_at: &str,
        outcome: &ReportOutcome,
        mark: Option<u64>,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            // The one writer makes this check and the write one step: no
            // erasure can commit between them.
            if matches!(outcome, ReportOutcome::Ready { .. }) && erasure_mark(&tx, tenant)? != mark
            {
                return Ok(false);
            }
            let (status, file, basis, error) = outcome.columns();
            // A report quotes the records: sealed while the tenant has a
            // live data key (a report built before its keys were destroyed
            // is not stored: the erasure mark above moved).
            let stored = match (file, super::data_keys::newest_live_key(&tx, tenant)?) {
                (Some(file), Some(row)) => Some(self.keyring.key_of_row(&row)?.seal(
                    tenant,
                    Place::ReportFile { report: id },
                    file,
                )),
                (file, _) => file.cloned(),
            };
            let n = tx.execute(
                "UPDATE reports SET status = ?3, finished_at = ?4, file = ?5, size = ?6, \
                   basis = ?7, error = ?8 \
                 WHERE tenant = ?1 AND id = ?2 AND status = 'pending'",
                params![
                    tenant,
                    id,
                    status.as_str(),
                    finished_at,
                    stored,
                    file.map(|f| f.len() as i64),
                    basis,
                    error,
                ],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }
}
