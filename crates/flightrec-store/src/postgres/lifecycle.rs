//! Erasure on PostgreSQL: bodies and every copy derived from them, erasure
//! jobs and leases.
//!
//! An UPDATE leaves the old row version behind until VACUUM reclaims it,
//! and reclaimed space keeps its bytes until reused: docs/operations.md
//! says what an operator runs to have erased text gone from the files.

use super::PgStore;
use super::errors::conflict;
use super::rows::collect;
use super::search::{document, indexed_text};
use crate::lifecycle::{
    ERASED_EXCERPT, ErasureJob, ErasureStatus, ErasureSubject, ErasureTarget, IMMUTABLE_SETTING,
    immutable_refusal,
};
use crate::{LifecycleStore, StoreError};
use flightrec_core::erasure::ERASED_TYPE;
use postgres::{GenericClient, Row};

/// Erases the bodies of `seqs` in `tenant`'s log that are still present,
/// and what was derived from them: the query columns that can name a
/// person, free-text entries, alert excerpts, and webhook payloads (a
/// delivery without one is built again from the alert when sent).
pub(super) fn erase(
    conn: &mut impl GenericClient,
    tenant: &str,
    seqs: &[u64],
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    // Locks the settings, so the check holds until commit.
    let immutable = conn.query_opt(
        &format!(
            "SELECT (value::jsonb ->> '{IMMUTABLE_SETTING}') = 'true' FROM settings \
             WHERE tenant = $1 FOR SHARE"
        ),
        &[&tenant],
    )?;
    if immutable.is_some_and(|r| r.get::<_, Option<bool>>(0) == Some(true)) {
        return Err(immutable_refusal());
    }
    let wanted: Vec<i64> = seqs.iter().map(|&s| s as i64).collect();
    let rows = conn.query(
        "SELECT seq, type, body IS NOT NULL, submitted_by, id FROM records \
         WHERE tenant = $1 AND seq = ANY($2) FOR UPDATE",
        &[&tenant, &wanted],
    )?;
    if rows.len() != wanted.len() {
        return Err(StoreError::Rejected(format!(
            "cannot erase {} of the seqs asked for: the log holds no such records",
            wanted.len() - rows.len()
        )));
    }
    let mut present = Vec::with_capacity(rows.len());
    let mut ids: Vec<&str> = Vec::with_capacity(rows.len());
    // What the index holds of an erased record: only its type's words.
    let mut documents = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.get(0);
        let event_type: &str = row.get(1);
        let submitted_by: Option<&str> = row.get(3);
        if event_type == ERASED_TYPE && submitted_by == Some("flightrec") {
            return Err(StoreError::Rejected(format!(
                "seq {seq} is flightrec's own account of erasures and is never erased"
            )));
        }
        if row.get::<_, bool>(2) {
            present.push(seq);
            ids.push(row.get(4));
            documents.push(document(&indexed_text(event_type, None)));
        }
    }
    conn.execute(
        "UPDATE records SET body = NULL, salt = NULL, session_id = NULL, actor = NULL, \
         resource_id = NULL WHERE tenant = $1 AND seq = ANY($2)",
        &[&tenant, &present],
    )?;
    // The entries of records indexed already now hold only what an erased
    // record yields; the indexer reads the erased body of any other. The
    // tenant's indexing is locked first, so an indexer that read a body
    // before this erasure has written its entry by now (and it is
    // rewritten here), or reads the record after.
    conn.execute(
        "INSERT INTO search_progress (tenant, indexed_size) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        &[&tenant],
    )?;
    conn.query(
        "SELECT indexed_size FROM search_progress WHERE tenant = $1 FOR UPDATE",
        &[&tenant],
    )?;
    conn.execute(
        "UPDATE record_search s SET document = x.d::tsvector \
         FROM unnest($2::bigint[], $3::text[]) AS x (seq, d) \
         WHERE s.tenant = $1 AND s.seq = x.seq",
        &[&tenant, &present, &documents],
    )?;
    conn.execute(
        "UPDATE webhook_deliveries SET payload = NULL WHERE tenant = $1 AND payload IS NOT NULL \
         AND subject_id IN (SELECT id FROM alerts WHERE tenant = $1 AND event_id = ANY($2))",
        &[&tenant, &ids],
    )?;
    // Alerts are found by their event's id (indexed), not by seq.
    conn.execute(
        "UPDATE alerts SET excerpt = $3 WHERE tenant = $1 AND event_id = ANY($2) AND excerpt <> $3",
        &[&tenant, &ids, &ERASED_EXCERPT],
    )?;
    super::reports::erase_reports(conn, tenant, &present)?;
    Ok(())
}

/// Files an erasure job ([`crate::AccessChange::RequestErasure`]).
pub(super) fn request(conn: &mut impl GenericClient, job: &ErasureJob) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO erasures (tenant, id, subject_kind, subject, reason, requested_by, \
         created_at, status, erased) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &job.tenant,
            &job.id,
            &job.subject_kind,
            &job.subject.as_ref().map(|s| s.to_json().to_string()),
            &job.reason,
            &job.requested_by,
            &job.created_at,
            &job.status.as_str(),
            &(job.erased as i64),
        ],
    )
    .map_err(|e| conflict(e, || format!("an erasure {:?}", job.id)))?;
    Ok(())
}

/// Notes a job's progress ([`crate::AccessChange::ErasureProgress`]); a
/// job that ends forgets its subject.
pub(super) fn progress(
    conn: &mut impl GenericClient,
    tenant: &str,
    id: &str,
    erased: u64,
    end: Option<&(ErasureStatus, String)>,
) -> Result<(), StoreError> {
    let (status, at) = match end {
        Some((status, at)) => (Some(status.as_str()), Some(at.as_str())),
        None => (None, None),
    };
    let n = conn.execute(
        "UPDATE erasures SET erased = erased + $3, status = coalesce($4, status), \
         finished_at = coalesce($5, finished_at), \
         subject = CASE WHEN $4::text IS NULL THEN subject END \
         WHERE tenant = $1 AND id = $2 AND status = 'pending'",
        &[&tenant, &id, &(erased as i64), &status, &at],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("erasure {id:?}")));
    }
    Ok(())
}

const JOB_COLUMNS: &str = "tenant, id, subject_kind, subject, reason, requested_by, created_at, \
                           status, erased, finished_at";

fn job_from_row(r: &Row) -> Result<ErasureJob, StoreError> {
    let subject: Option<String> = r.try_get(3)?;
    let status: String = r.try_get(7)?;
    Ok(ErasureJob {
        tenant: r.try_get(0)?,
        id: r.try_get(1)?,
        subject_kind: r.try_get(2)?,
        subject: subject
            .and_then(|s| serde_json::from_str(&s).ok())
            .and_then(|v| ErasureSubject::from_json(&v)),
        reason: r.try_get(4)?,
        requested_by: r.try_get(5)?,
        created_at: r.try_get(6)?,
        status: ErasureStatus::parse(&status).unwrap_or(ErasureStatus::Pending),
        erased: r.try_get::<_, i64>(8)? as u64,
        finished_at: r.try_get(9)?,
    })
}

/// Not flightrec's own `log.erased` records.
const NOT_AN_ERASURE: &str =
    "NOT (type = 'log.erased' AND submitted_by IS NOT DISTINCT FROM 'flightrec')";

impl LifecycleStore for PgStore {
    fn erasure(&self, tenant: &str, id: &str) -> Result<Option<ErasureJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!("SELECT {JOB_COLUMNS} FROM erasures WHERE tenant = $1 AND id = $2"),
                &[&tenant, &id],
            )?;
            Ok(collect(rows, job_from_row)?.pop())
        })
    }

    fn erasures(&self, tenant: &str, limit: usize) -> Result<Vec<ErasureJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM erasures WHERE tenant = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ),
                &[&tenant, &(limit as i64)],
            )?;
            collect(rows, job_from_row)
        })
    }

    fn pending_erasures(&self) -> Result<Vec<ErasureJob>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM erasures WHERE status = 'pending' \
                     ORDER BY created_at"
                ),
                &[],
            )?;
            collect(rows, job_from_row)
        })
    }

    fn erasable(
        &self,
        tenant: &str,
        target: ErasureTarget<'_>,
        max: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let max = max as i64;
        self.with_client(|conn| {
            let rows = match target {
                ErasureTarget::Subject { subject, after } => {
                    let after = after.map_or(-1, |a| a as i64);
                    let (condition, value): (&str, Vec<String>) = match subject {
                        ErasureSubject::Run(v) => ("run_id = ($2::text[])[1]", vec![v.clone()]),
                        ErasureSubject::Agent(v) => ("agent_id = ($2::text[])[1]", vec![v.clone()]),
                        ErasureSubject::Session(v) => {
                            ("session_id = ($2::text[])[1]", vec![v.clone()])
                        }
                        ErasureSubject::Actor(v) => ("actor = ($2::text[])[1]", vec![v.clone()]),
                        ErasureSubject::Events(ids) => ("id = ANY($2)", ids.clone()),
                    };
                    conn.query(
                        &format!(
                            "SELECT seq FROM records WHERE tenant = $1 AND {condition} \
                             AND seq > $3 AND body IS NOT NULL AND {NOT_AN_ERASURE} \
                             ORDER BY seq LIMIT $4"
                        ),
                        &[&tenant, &value, &after, &max],
                    )?
                }
                ErasureTarget::Expired {
                    seqs,
                    since,
                    before,
                } => conn.query(
                    &format!(
                        "SELECT seq FROM records WHERE tenant = $1 \
                         AND time >= coalesce($5, '') AND time < $4 \
                         AND seq >= $2 AND seq < $3 AND body IS NOT NULL \
                         AND {NOT_AN_ERASURE} ORDER BY seq LIMIT $6"
                    ),
                    &[
                        &tenant,
                        &(seqs.start as i64),
                        &(seqs.end.min(i64::MAX as u64) as i64),
                        &before,
                        &since,
                        &max,
                    ],
                )?,
            };
            Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
        })
    }

    fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &str,
        until: &str,
    ) -> Result<bool, StoreError> {
        self.pool.with_client(|conn| {
            let n = conn.execute(
                "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $4) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                 WHERE leases.holder = excluded.holder OR leases.until <= $3",
                &[&name, &holder, &now, &until],
            )?;
            Ok(n == 1)
        })
    }

    fn purge_erased(&self) -> Result<bool, StoreError> {
        // Dead row versions are VACUUM's (autovacuum's) to reclaim.
        Ok(true)
    }
}
