//! Report jobs on PostgreSQL (schema V4; see `crate::reports`).

use super::PgStore;
use super::errors::conflict;
use super::rows::collect;
use crate::StoreError;
use crate::encryption::Place;
use crate::reports::{ReportFormat, ReportJob, ReportOutcome, ReportStatus, ReportType};
use flightrec_core::erasure::{ERASED_TYPE, KEYS_DESTROYED_TYPE};
use postgres::{GenericClient, Row};

const COLUMNS: &str = "tenant, id, type, format, window_from, window_to, requested_by, \
                       created_at, status, finished_at, error, size, basis";

fn job_from_row(r: &Row) -> Result<ReportJob, StoreError> {
    let unknown = |what: &str, value: &str| {
        StoreError::Corrupt(format!(
            "a report's {what} is {value:?}, which flightrec never writes"
        ))
    };
    let report_type: &str = r.try_get(2)?;
    let format: &str = r.try_get(3)?;
    let status: &str = r.try_get(8)?;
    Ok(ReportJob {
        tenant: r.try_get(0)?,
        id: r.try_get(1)?,
        report_type: ReportType::parse(report_type).ok_or_else(|| unknown("type", report_type))?,
        format: ReportFormat::parse(format).ok_or_else(|| unknown("format", format))?,
        from: r.try_get(4)?,
        to: r.try_get(5)?,
        requested_by: r.try_get(6)?,
        created_at: r.try_get(7)?,
        status: ReportStatus::parse(status).ok_or_else(|| unknown("status", status))?,
        finished_at: r.try_get(9)?,
        error: r.try_get(10)?,
        size: r.try_get::<_, Option<i64>>(11)?.map(|n| n as u64),
        basis: r.try_get(12)?,
    })
}

/// The newest `log.erased` or `encryption.keys_destroyed` record of
/// flightrec's own in a tenant's log: a report built before it may hold
/// what it made unreadable.
fn erasure_mark(conn: &mut impl GenericClient, tenant: &str) -> Result<Option<u64>, StoreError> {
    let row = conn.query_one(
        "SELECT max(seq) FROM records WHERE tenant = $1 AND type IN ($2, $3) \
         AND submitted_by = 'flightrec'",
        &[&tenant, &ERASED_TYPE, &KEYS_DESTROYED_TYPE],
    )?;
    Ok(row.try_get::<_, Option<i64>>(0)?.map(|s| s as u64))
}

/// Clears the files of a tenant's finished reports whose window holds a
/// time of the erased records `seqs`, inside the erasing transaction.
pub(super) fn erase_reports(
    conn: &mut impl GenericClient,
    tenant: &str,
    seqs: &[i64],
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(()); // nothing erased (a retried chunk): no window to reach
    }
    conn.execute(
        "WITH erased AS (SELECT min(time) AS first, max(time) AS last FROM records \
                         WHERE tenant = $1 AND seq = ANY($2)) \
         UPDATE reports SET file = NULL, status = 'erased' FROM erased \
         WHERE tenant = $1 AND status = 'ready' \
         AND (window_from IS NULL OR window_from <= erased.last) \
         AND (window_to IS NULL OR window_to > erased.first)",
        &[&tenant, &seqs],
    )?;
    Ok(())
}

/// Files a report job ([`crate::AccessChange::RequestReport`]).
pub(super) fn request(conn: &mut impl GenericClient, job: &ReportJob) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO reports ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL)"
        ),
        &[
            &job.tenant,
            &job.id,
            &job.report_type.as_str(),
            &job.format.as_str(),
            &job.from,
            &job.to,
            &job.requested_by,
            &job.created_at,
            &ReportStatus::Pending.as_str(),
        ],
    )
    .map_err(|e| conflict(e, || format!("a report {:?}", job.id)))?;
    Ok(())
}

impl crate::ReportStore for PgStore {
    fn report(&self, tenant: &str, id: &str) -> Result<Option<ReportJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!("SELECT {COLUMNS} FROM reports WHERE tenant = $1 AND id = $2"),
                &[&tenant, &id],
            )?;
            Ok(collect(rows, job_from_row)?.pop())
        })
    }

    fn reports(&self, tenant: &str, limit: usize) -> Result<Vec<ReportJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {COLUMNS} FROM reports WHERE tenant = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ),
                &[&tenant, &(limit as i64)],
            )?;
            collect(rows, job_from_row)
        })
    }

    fn pending_reports(&self) -> Result<Vec<ReportJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {COLUMNS} FROM reports WHERE status = 'pending' ORDER BY created_at"
                ),
                &[],
            )?;
            collect(rows, job_from_row)
        })
    }

    fn report_file(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_client(|conn| {
            let row = conn.query_opt(
                "SELECT file FROM reports WHERE tenant = $1 AND id = $2 AND status = 'ready'",
                &[&tenant, &id],
            )?;
            let stored: Option<Vec<u8>> = match row {
                Some(row) => row.try_get(0)?,
                None => None,
            };
            Ok(stored
                .map(|stored| {
                    self.keyring
                        .open_blob(tenant, Place::ReportFile { report: id }, stored)
                })
                .transpose()?
                .flatten())
        })
    }

    fn erasure_mark(&self, tenant: &str) -> Result<Option<u64>, StoreError> {
        self.with_client(|conn| erasure_mark(conn, tenant))
    }

    fn finish_report(
        &self,
        tenant: &str,
        id: &str,
        finished_at: &str,
        outcome: &ReportOutcome,
        mark: Option<u64>,
    ) -> Result<bool, StoreError> {
        self.with_client(|conn| {
            let mut tx = conn.transaction()?;
            if matches!(outcome, ReportOutcome::Ready { .. }) {
                // An erasure appends under its tenant's head row, locked
                // FOR UPDATE: sharing that lock keeps one from committing
                // between this check and the commit below.
                tx.query(
                    "SELECT 1 FROM log_heads WHERE tenant = $1 FOR SHARE",
                    &[&tenant],
                )?;
                if erasure_mark(&mut tx, tenant)? != mark {
                    return Ok(false);
                }
            }
            let (status, file, basis, error) = outcome.columns();
            // A report quotes the records: sealed while the tenant has a
            // live data key (a report built before its keys were destroyed
            // is not stored: the erasure mark above moved).
            let stored = match (file, super::data_keys::newest_live_key(&mut tx, tenant)?) {
                (Some(file), Some(row)) => Some(self.keyring.key_of_row(&row)?.seal(
                    tenant,
                    Place::ReportFile { report: id },
                    file,
                )),
                (file, _) => file.cloned(),
            };
            let n = tx.execute(
                "UPDATE reports SET status = $3, finished_at = $4, file = $5, size = $6, \
                   basis = $7, error = $8 \
                 WHERE tenant = $1 AND id = $2 AND status = 'pending'",
                &[
                    &tenant,
                    &id,
                    &status.as_str(),
                    &finished_at,
                    &stored,
                    &file.map(|f| f.len() as i64),
                    &basis,
                    &error,
                ],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }
}
