//! Erasure on SQLite: bodies and every copy derived from them, erasure
//! jobs ([`crate::AccessChange::RequestErasure`]), leases, and emptying the write-ahead log of what was erased.
//!
//! The writer connection runs with `secure_delete`, so erased text is
//! overwritten in the database file as it is freed; an erasure that scrubs
//! the free-text index turns on FTS5's `secure-delete` for its deletes (a
//! delete otherwise leaves the words in the index's pages until FTS5 next
//! merges them); what the write-ahead log still holds of it goes when
//! [`LifecycleStore::purge_erased`] truncates the log.

use super::SqliteStore;
use super::search::{indexed_text, text_of};
use crate::encryption::Keyring;
use crate::lifecycle::{
    ERASED_EXCERPT, ErasureJob, ErasureStatus, ErasureSubject, ErasureTarget, IMMUTABLE_SETTING,
    immutable_refusal,
};
use crate::model::Erase;
use crate::{LifecycleStore, StoreError};
use flightrec_core::erasure::ERASED_TYPE;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Erases the bodies `erase` names in `tenant`'s log that are still
/// present, and what was derived from them: the query columns that can name
/// a person, free-text entries, alert excerpts, and webhook payloads (a
/// delivery without one is built again from the alert when sent).
pub(super) fn erase(
    conn: &Connection,
    tenant: &str,
    erase: &Erase,
    keys: &Keyring,
) -> Result<(), StoreError> {
    if erase.seqs.is_empty() {
        return Ok(());
    }
    let immutable: Option<bool> = conn
        .query_row(
            &format!("SELECT json_extract(value, '$.{IMMUTABLE_SETTING}') FROM settings WHERE tenant = ?1"),
            [tenant],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if immutable == Some(true) {
        return Err(immutable_refusal());
    }
    let scrub = |on: bool| {
        conn.execute(
            "INSERT INTO records_fts (records_fts, rank) VALUES ('secure-delete', ?1)",
            [on as i64],
        )
    };
    if erase.scrub_index {
        scrub(true)?;
    }
    let erased = erase_rows(conn, tenant, &erase.seqs, keys);
    if erase.scrub_index {
        scrub(false)?;
    }
    erased
}

fn erase_rows(
    conn: &Connection,
    tenant: &str,
    seqs: &[u64],
    keys: &Keyring,
) -> Result<(), StoreError> {
    let indexed: i64 = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut select = conn.prepare_cached(
        "SELECT rowid, type, body, submitted_by, id, time FROM records \
         WHERE tenant = ?1 AND seq = ?2",
    )?;
    let mut clear = conn.prepare_cached(
        "UPDATE records SET body = NULL, salt = NULL, session_id = NULL, actor = NULL, \
         resource_id = NULL WHERE rowid = ?1",
    )?;
    let mut unindex = conn.prepare_cached(
        "INSERT INTO records_fts (records_fts, rowid, text) VALUES ('delete', ?1, ?2)",
    )?;
    let mut index = conn.prepare_cached("INSERT INTO records_fts (rowid, text) VALUES (?1, ?2)")?;
    // Alerts are found by their event's id (indexed), not by seq.
    let mut alerts = conn.prepare_cached(
        "UPDATE alerts SET excerpt = ?3 WHERE tenant = ?1 AND event_id = ?2 AND excerpt != ?3",
    )?;
    let mut payloads = conn.prepare_cached(
        "UPDATE webhook_deliveries SET payload = NULL WHERE tenant = ?1 AND payload IS NOT NULL \
         AND subject_id IN (SELECT id FROM alerts WHERE tenant = ?1 AND event_id = ?2)",
    )?;
    // The earliest and latest time of the records erased.
    let mut span: Option<(String, String)> = None;
    for &seq in seqs {
        let row = select
            .query_row(params![tenant, seq as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    // Whether there is a body to erase, and its indexed text.
                    match r.get_ref(2)? {
                        ValueRef::Null => None,
                        stored => Some(
                            indexed_text(keys, tenant, seq, &r.get::<_, String>(1)?, stored)
                                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
                        ),
                    },
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        let Some((rowid, event_type, body, submitted_by, id, time)) = row else {
            return Err(StoreError::Rejected(format!(
                "cannot erase seq {seq}: the log holds no such record"
            )));
        };
        let Some(body) = body else { continue };
        if event_type == ERASED_TYPE && submitted_by.as_deref() == Some("flightrec") {
            return Err(StoreError::Rejected(format!(
                "seq {seq} is flightrec's own account of erasures and is never erased"
            )));
        }
        if rowid <= indexed {
            unindex.execute(params![rowid, body])?;
            index.execute(params![rowid, text_of(&event_type, None)])?;
        }
        clear.execute([rowid])?;
        payloads.execute(params![tenant, id])?;
        alerts.execute(params![tenant, id, ERASED_EXCERPT])?;
        span = Some(match span {
            None => (time.clone(), time),
            Some((first, last)) => (first.min(time.clone()), last.max(time)),
        });
    }
    // Reports whose window holds an erased record lose their file.
    if let Some((first, last)) = span {
        super::reports::erase_reports(conn, tenant, &first, &last)?;
    }
    Ok(())
}

/// Files an erasure job ([`AccessChange::RequestErasure`]).
pub(super) fn request(conn: &Connection, job: &ErasureJob) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO erasures (tenant, id, subject_kind, subject, reason, requested_by, \
         created_at, status, erased) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            job.tenant,
            job.id,
            job.subject_kind,
            job.subject.as_ref().map(|s| s.to_json().to_string()),
            job.reason,
            job.requested_by,
            job.created_at,
            job.status.as_str(),
            job.erased as i64,
        ],
    )
    .map_err(|e| super::access::conflict(e, || format!("an erasure {:?}", job.id)))?;
    Ok(())
}

/// Notes a job's progress ([`crate::AccessChange::ErasureProgress`]); a
/// job that ends forgets its subject.
pub(super) fn progress(
    conn: &Connection,
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
        "UPDATE erasures SET erased = erased + ?3, status = coalesce(?4, status), \
         finished_at = coalesce(?5, finished_at), \
         subject = CASE WHEN ?4 IS NULL THEN subject END \
         WHERE tenant = ?1 AND id = ?2 AND status = 'pending'",
        params![tenant, id, erased as i64, status, at],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("erasure {id:?}")));
    }
    Ok(())
}

const JOB_COLUMNS: &str = "tenant, id, subject_kind, subject, reason, requested_by, created_at, \
                           status, erased, finished_at";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<ErasureJob> {
    let subject: Option<String> = r.get(3)?;
    let status: String = r.get(7)?;
    Ok(ErasureJob {
        tenant: r.get(0)?,
        id: r.get(1)?,
        subject_kind: r.get(2)?,
        subject: subject
            .and_then(|s| serde_json::from_str(&s).ok())
            .and_then(|v| ErasureSubject::from_json(&v)),
        reason: r.get(4)?,
        requested_by: r.get(5)?,
        created_at: r.get(6)?,
        status: ErasureStatus::parse(&status).unwrap_or(ErasureStatus::Pending),
        erased: r.get::<_, i64>(8)? as u64,
        finished_at: r.get(9)?,
    })
}

/// Not flightrec's own `log.erased` records.
const NOT_AN_ERASURE: &str = "NOT (type = 'log.erased' AND submitted_by IS 'flightrec')";

impl LifecycleStore for SqliteStore {
    fn erasure(&self, tenant: &str, id: &str) -> Result<Option<ErasureJob>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {JOB_COLUMNS} FROM erasures WHERE tenant = ?1 AND id = ?2"),
                    params![tenant, id],
                    job_from_row,
                )
                .optional()?)
        })
    }

    fn erasures(&self, tenant: &str, limit: usize) -> Result<Vec<ErasureJob>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM erasures WHERE tenant = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))?;
            let jobs = stmt
                .query_map(params![tenant, limit as i64], job_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(jobs)
        })
    }

    fn pending_erasures(&self) -> Result<Vec<ErasureJob>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM erasures WHERE status = 'pending' ORDER BY created_at"
            ))?;
            let jobs = stmt
                .query_map([], job_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(jobs)
        })
    }

    fn erasable(
        &self,
        tenant: &str,
        target: ErasureTarget<'_>,
        max: usize,
    ) -> Result<Vec<u64>, StoreError> {
        self.read(|conn| {
            let seqs = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Vec<u64>, StoreError> {
                let mut stmt = conn.prepare_cached(sql)?;
                let rows = stmt
                    .query_map(args, |r| r.get::<_, i64>(0))?
                    .map(|s| s.map(|s| s as u64))
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            };
            let max = max as i64;
            match target {
                ErasureTarget::Subject { subject, after } => {
                    let after = after.map_or(-1, |a| a as i64);
                    let (condition, value): (&str, String) = match subject {
                        ErasureSubject::Run(v) => ("run_id = ?2", v.clone()),
                        ErasureSubject::Agent(v) => ("agent_id = ?2", v.clone()),
                        ErasureSubject::Session(v) => ("session_id = ?2", v.clone()),
                        ErasureSubject::Actor(v) => ("actor = ?2", v.clone()),
                        ErasureSubject::Events(ids) => (
                            "id IN (SELECT value FROM json_each(?2))",
                            serde_json::to_string(ids).expect("strings serialise"),
                        ),
                    };
                    seqs(
                        &format!(
                            "SELECT seq FROM records WHERE tenant = ?1 AND {condition} \
                             AND seq > ?3 AND body IS NOT NULL AND {NOT_AN_ERASURE} \
                             ORDER BY seq LIMIT ?4"
                        ),
                        &[&tenant, &value, &after, &max],
                    )
                }
                ErasureTarget::Expired {
                    seqs: range,
                    since,
                    before,
                } => {
                    // A pass over new records walks their seqs; a pass over
                    // a window of time that has just expired walks the time
                    // index instead of the whole log.
                    let index = if since.is_some() {
                        "INDEXED BY records_time"
                    } else {
                        ""
                    };
                    seqs(
                        &format!(
                            "SELECT seq FROM records {index} WHERE tenant = ?1 \
                             AND time >= coalesce(?5, '') AND time < ?4 \
                             AND seq >= ?2 AND seq < ?3 AND body IS NOT NULL \
                             AND {NOT_AN_ERASURE} ORDER BY seq LIMIT ?6"
                        ),
                        &[
                            &tenant,
                            &(range.start as i64),
                            &(range.end.min(i64::MAX as u64) as i64),
                            &before,
                            &since,
                            &max,
                        ],
                    )
                }
            }
        })
    }

    fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &str,
        until: &str,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            let n = conn.execute(
                "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?4) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                 WHERE leases.holder = excluded.holder OR leases.until <= ?3",
                params![name, holder, now, until],
            )?;
            Ok(n == 1)
        })
    }

    fn purge_erased(&self) -> Result<bool, StoreError> {
        self.write(|conn| {
            // (busy, frames in the log, frames copied back): the log is
            // empty only if no reader kept the checkpoint from finishing.
            let (busy, _, _): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            Ok(busy == 0)
        })
    }
}
