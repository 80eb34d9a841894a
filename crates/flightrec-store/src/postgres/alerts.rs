//! Alerts: written in the append transaction with the records that raised
//! them, each queueing its `alert.created` deliveries; resolved by an
//! admin action, queueing `alert.resolved`.

use super::PgStore;
use super::rows::collect;
use crate::encryption::{DataKey, Keyring, Place, plain_text};
use crate::guardrails::{Alert, AlertQuery};
use crate::lifecycle::ERASED_EXCERPT;
use crate::{Page, StoreError};
use postgres::{GenericClient, Row};

/// Writes an alert raised by the record at `seq`, received at `at`; its
/// excerpt of body text sealed with `sealing`, if the tenant encrypts.
pub(super) fn insert(
    conn: &mut impl GenericClient,
    a: &Alert,
    seq: u64,
    at: &str,
    sealing: Option<&DataKey>,
) -> Result<(), StoreError> {
    let excerpt = match sealing {
        Some(key) => key.seal_text(&a.tenant, Place::AlertExcerpt { alert: &a.id }, &a.excerpt),
        None => plain_text(&a.excerpt).into_owned(),
    };
    conn.execute(
        "INSERT INTO alerts (tenant, id, rule_id, rule_name, severity, detector, event_id, seq, \
         run_id, agent_id, path, excerpt, matches, policy_id, policy_version, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'open', $16)",
        &[
            &a.tenant,
            &a.id,
            &a.rule_id,
            &a.rule_name,
            &a.severity,
            &a.detector,
            &a.event_id,
            &(seq as i64),
            &a.run_id,
            &a.agent_id,
            &a.path,
            &excerpt,
            &i64::from(a.matches),
            &a.policy_id,
            &a.policy_version.map(i64::from),
            &at,
        ],
    )?;
    super::webhooks::enqueue(conn, &a.tenant, "alert.created", &a.id, at)
}

pub(super) fn resolve(
    conn: &mut impl GenericClient,
    tenant: &str,
    id: &str,
    by: &str,
    at: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = $3, resolved_by = $4 \
         WHERE tenant = $1 AND id = $2 AND status = 'open'",
        &[&tenant, &id, &at, &by],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("alert {id:?}")));
    }
    super::webhooks::enqueue(conn, tenant, "alert.resolved", id, at)
}

const ALERT_COLUMNS: &str = "tenant, id, rule_id, rule_name, severity, detector, event_id, seq, \
     run_id, agent_id, path, excerpt, matches, policy_id, policy_version, status, created_at, \
     resolved_at, resolved_by";

fn alert_from_row(r: &Row, keys: &Keyring) -> Result<Alert, StoreError> {
    let tenant: String = r.try_get(0)?;
    let id: String = r.try_get(1)?;
    let excerpt = keys
        .open_text(&tenant, Place::AlertExcerpt { alert: &id }, r.try_get(11)?)?
        .unwrap_or_else(|| ERASED_EXCERPT.to_owned());
    Ok(Alert {
        tenant,
        id,
        rule_id: r.try_get(2)?,
        rule_name: r.try_get(3)?,
        severity: r.try_get(4)?,
        detector: r.try_get(5)?,
        event_id: r.try_get(6)?,
        seq: r.try_get::<_, i64>(7)? as u64,
        run_id: r.try_get(8)?,
        agent_id: r.try_get(9)?,
        path: r.try_get(10)?,
        excerpt,
        matches: r.try_get::<_, i64>(12)? as u32,
        policy_id: r.try_get(13)?,
        policy_version: r.try_get::<_, Option<i64>>(14)?.map(|v| v as u32),
        status: r.try_get(15)?,
        created_at: r.try_get(16)?,
        resolved_at: r.try_get(17)?,
        resolved_by: r.try_get(18)?,
    })
}

impl PgStore {
    pub(super) fn select_alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        self.with_client(|conn| {
            conn.query_opt(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant = $1 AND id = $2"),
                &[&tenant, &id],
            )?
            .as_ref()
            .map(|r| alert_from_row(r, &self.keyring))
            .transpose()
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
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant = $1 \
                       AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR severity = $3) \
                       AND ($4::text IS NULL OR rule_id = $4) AND ($5::text IS NULL OR run_id = $5) \
                       AND ($6::text IS NULL OR agent_id = $6) AND ($7::text IS NULL OR policy_id = $7) \
                       AND ($8::text IS NULL OR event_id = $8) AND ($9::text IS NULL OR created_at >= $9) \
                       AND ($10::text IS NULL OR (created_at, id) < ($10, $11::text)) \
                     ORDER BY created_at DESC, id DESC LIMIT $12"
                ),
                &[
                    &tenant,
                    &q.status,
                    &q.severity,
                    &q.rule_id,
                    &q.run_id,
                    &q.agent_id,
                    &q.policy_id,
                    &q.event_id,
                    &q.since,
                    &after_time,
                    &after_id,
                    &(q.limit as i64 + 1),
                ],
            )?;
            let mut items = collect(rows, |r| alert_from_row(r, &self.keyring))?;
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
        let width: i32 = if by_day { 10 } else { 13 };
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT left(created_at, $4) AS bucket, severity, count(*) FROM alerts \
                 WHERE tenant = $1 AND ($2::text IS NULL OR created_at >= $2) \
                   AND ($3::text IS NULL OR created_at < $3) \
                 GROUP BY bucket, severity ORDER BY bucket, severity",
                &[&tenant, &since, &until, &width],
            )?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<_, i64>(2)? as u64)))
                .collect()
        })
    }
}
