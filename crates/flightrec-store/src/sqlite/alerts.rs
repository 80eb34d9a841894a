//! Alerts: written in the append transaction with the records that raised
//! them, each queueing its `alert.created` deliveries; resolved by an
//! admin action, queueing `alert.resolved`.

use super::SqliteStore;
use crate::encryption::{DataKey, Keyring, Place, plain_text};
use crate::guardrails::{Alert, AlertQuery};
use crate::lifecycle::ERASED_EXCERPT;
use crate::{Page, StoreError};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Writes an alert raised by the record at `seq`, received at `at`; its
/// excerpt of body text sealed with `sealing`, if the tenant encrypts.
pub(super) fn insert(
    conn: &Connection,
    a: &Alert,
    seq: u64,
    at: &str,
    sealing: Option<&DataKey>,
) -> Result<(), StoreError> {
    let excerpt = match sealing {
        Some(key) => key.seal_text(&a.tenant, Place::AlertExcerpt { alert: &a.id }, &a.excerpt),
        None => plain_text(&a.excerpt).into_owned(),
    };
    conn.prepare_cached(
        "INSERT INTO alerts (tenant, id, rule_id, rule_name, severity, detector, event_id, seq, \
         run_id, agent_id, path, excerpt, matches, policy_id, policy_version, status, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'open', ?16)",
    )?
    .execute(params![
        a.tenant,
        a.id,
        a.rule_id,
        a.rule_name,
        a.severity,
        a.detector,
        a.event_id,
        seq as i64,
        a.run_id,
        a.agent_id,
        a.path,
        excerpt,
        a.matches,
        a.policy_id,
        a.policy_version,
        at
    ])?;
    super::webhooks::enqueue(conn, &a.tenant, "alert.created", &a.id, at)
}

pub(super) fn resolve(
    conn: &Connection,
    tenant: &str,
    id: &str,
    by: &str,
    at: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = ?3, resolved_by = ?4 \
         WHERE tenant = ?1 AND id = ?2 AND status = 'open'",
        params![tenant, id, at, by],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("alert {id:?}")));
    }
    super::webhooks::enqueue(conn, tenant, "alert.resolved", id, at)
}

const ALERT_COLUMNS: &str = "tenant, id, rule_id, rule_name, severity, detector, event_id, seq, \
     run_id, agent_id, path, excerpt, matches, policy_id, policy_version, status, created_at, \
     resolved_at, resolved_by";

fn alert_from_row(r: &Row<'_>, keys: &Keyring) -> rusqlite::Result<Alert> {
    let tenant: String = r.get(0)?;
    let id: String = r.get(1)?;
    let excerpt = keys
        .open_text(&tenant, Place::AlertExcerpt { alert: &id }, r.get(11)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(11, Type::Text, Box::new(e)))?
        .unwrap_or_else(|| ERASED_EXCERPT.to_owned());
    Ok(Alert {
        tenant,
        id,
        rule_id: r.get(2)?,
        rule_name: r.get(3)?,
        severity: r.get(4)?,
        detector: r.get(5)?,
        event_id: r.get(6)?,
        seq: r.get::<_, i64>(7)? as u64,
        run_id: r.get(8)?,
        agent_id: r.get(9)?,
        path: r.get(10)?,
        excerpt,
        matches: r.get(12)?,
        policy_id: r.get(13)?,
        policy_version: r.get(14)?,
        status: r.get(15)?,
        created_at: r.get(16)?,
        resolved_at: r.get(17)?,
        resolved_by: r.get(18)?,
    })
}

impl SqliteStore {
    pub(super) fn select_alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant = ?1 AND id = ?2"
                ))?
                .query_row(params![tenant, id], |r| alert_from_row(r, &self.keyring))
                .optional()?)
        })
    }

    pub(super) fn select_alerts(
        &self,
        tenant: &str,
        q: &AlertQuery,
    ) -> Result<Page<Alert>, StoreError> {
        let (after_time, after_id) = match &q.after {
            Some((t, i)) => (Some(t.as_str()), Some(i.as_str())),
            None => (None, None),
        };
        self.read(|conn| {
            let mut items: Vec<Alert> = conn
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant = ?1 \
                       AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR severity = ?3) \
                       AND (?4 IS NULL OR rule_id = ?4) AND (?5 IS NULL OR run_id = ?5) \
                       AND (?6 IS NULL OR agent_id = ?6) AND (?7 IS NULL OR policy_id = ?7) \
                       AND (?8 IS NULL OR event_id = ?8) AND (?9 IS NULL OR created_at >= ?9) \
                       AND (?10 IS NULL OR created_at < ?10 OR (created_at = ?10 AND id < ?11)) \
                     ORDER BY created_at DESC, id DESC LIMIT ?12"
                ))?
                .query_map(
                    params![
                        tenant,
                        q.status,
                        q.severity,
                        q.rule_id,
                        q.run_id,
                        q.agent_id,
                        q.policy_id,
                        q.event_id,
                        q.since,
                        after_time,
                        after_id,
                        q.limit as i64 + 1
                    ],
                    |r| alert_from_row(r, &self.keyring),
                )?
                .collect::<Result<_, _>>()?;
            let more = items.len() > q.limit;
            items.truncate(q.limit);
            Ok(Page { items, more })
        })
    }

    pub(super) fn count_alerts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        by_day: bool,
    ) -> Result<Vec<(String, String, u64)>, StoreError> {
        // Hour and day keys are prefixes of the fixed-width times.
        let width = if by_day { 10 } else { 13 };
        self.read(|conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT substr(created_at, 1, ?4) AS bucket, severity, count(*) FROM alerts \
                     WHERE tenant = ?1 AND (?2 IS NULL OR created_at >= ?2) \
                       AND (?3 IS NULL OR created_at < ?3) \
                     GROUP BY bucket, severity ORDER BY bucket, severity",
                )?
                .query_map(params![tenant, since, until, width], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }
}
