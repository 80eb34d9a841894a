//! Webhooks and their delivery queue. A delivery is queued in the same
//! transaction as what it tells of, so it survives any crash; senders
//! claim due deliveries under a lease, so two nodes do not send one
//! message at once and a sender that dies lets it come due again.

use super::SqliteStore;
use crate::StoreError;
use crate::encryption::{Keyring, Place, plain_text};
use crate::guardrails::{Delivery, DeliveryAttempt, Webhook};
use crate::lifecycle::ERASED_EXCERPT;
use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};

pub(super) fn insert(conn: &Connection, w: &Webhook) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO webhooks (tenant, id, url, events, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![w.tenant, w.id, w.url, w.events.join(","), w.created_at],
    )
    .map_err(|e| super::access::conflict(e, || format!("a webhook with id {:?}", w.id)))?;
    Ok(())
}

pub(super) fn delete(
    conn: &Connection,
    tenant: &str,
    id: &str,
    at: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "DELETE FROM webhooks WHERE tenant = ?1 AND id = ?2",
        params![tenant, id],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("webhook {id:?}")));
    }
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, \
           last_error = coalesce(last_error, 'the webhook was deleted at ' || ?3) \
         WHERE tenant = ?1 AND webhook_id = ?2 AND status = 'pending'",
        params![tenant, id, at],
    )?;
    Ok(())
}

/// Queues a delivery of `event_type` about `subject_id` to every webhook of
/// the tenant that wants it, due now.
pub(super) fn enqueue(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    subject_id: &str,
    at: &str,
) -> Result<(), StoreError> {
    let mut hooks = conn.prepare_cached(
        "SELECT id FROM webhooks WHERE tenant = ?1 AND instr(',' || events || ',', ?2) > 0",
    )?;
    let ids: Vec<String> = hooks
        .query_map(params![tenant, format!(",{event_type},")], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO webhook_deliveries (tenant, id, webhook_id, event_type, subject_id, status, \
           next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6) \
         ON CONFLICT DO NOTHING",
    )?;
    for webhook_id in ids {
        let id = crate::guardrails::message_id(tenant, &webhook_id, event_type, subject_id);
        insert.execute(params![tenant, id, webhook_id, event_type, subject_id, at])?;
    }
    Ok(())
}

fn webhook_from_row(r: &Row<'_>) -> rusqlite::Result<Webhook> {
    let events: String = r.get(3)?;
    Ok(Webhook {
        id: r.get(0)?,
        tenant: r.get(1)?,
        url: r.get(2)?,
        events: events
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: r.get(4)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, tenant, webhook_id, event_type, subject_id, payload, status, \
     attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at";

fn delivery_from_row(r: &Row<'_>, keys: &Keyring) -> rusqlite::Result<Delivery> {
    let id: String = r.get(0)?;
    let tenant: String = r.get(1)?;
    let payload = match r.get::<_, Option<String>>(5)? {
        Some(stored) => keys
            .open_text(&tenant, Place::WebhookPayload { delivery: &id }, stored)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, Type::Text, Box::new(e)))?,
        None => None,
    };
    Ok(Delivery {
        id,
        tenant,
        webhook_id: r.get(2)?,
        event_type: r.get(3)?,
        subject_id: r.get(4)?,
        payload,
        status: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        last_status_code: r.get(9)?,
        last_error: r.get(10)?,
        created_at: r.get(11)?,
        delivered_at: r.get(12)?,
    })
}

impl SqliteStore {
    pub(super) fn select_webhooks(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<Webhook>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, tenant, url, events, created_at FROM webhooks \
                     WHERE tenant = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY created_at, id",
                )?
                .query_map(params![tenant, id], webhook_from_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    pub(super) fn select_deliveries(
        &self,
        tenant: &str,
        webhook_id: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE tenant = ?1 AND webhook_id = ?2 ORDER BY created_at DESC, id DESC LIMIT ?3"
                ))?
                .query_map(params![tenant, webhook_id, limit as i64], |r| delivery_from_row(r, &self.keyring))?
                .collect::<Result<_, _>>()?)
        })
    }

    pub(super) fn claim_due_deliveries(
        &self,
        now: &str,
        lease_until: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            let due: Vec<Delivery> = tx
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE status = 'pending' AND next_attempt_at <= ?1 \
                     ORDER BY next_attempt_at LIMIT ?2"
                ))?
                .query_map(params![now, limit as i64], |r| {
                    delivery_from_row(r, &self.keyring)
                })?
                .collect::<Result<_, _>>()?;
            let mut lease = tx.prepare_cached(
                "UPDATE webhook_deliveries SET next_attempt_at = ?3 WHERE tenant = ?1 AND id = ?2",
            )?;
            for d in &due {
                lease.execute(params![d.tenant, d.id, lease_until])?;
            }
            drop(lease);
            tx.commit()?;
            Ok(due)
        })
    }

    pub(super) fn update_delivery(&self, a: &DeliveryAttempt) -> Result<(), StoreError> {
        // A payload built before its alert's event was erased is not kept.
        let payload = format!(
            "CASE WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.tenant = ?1 \
             AND a.id = webhook_deliveries.subject_id AND a.excerpt = '{ERASED_EXCERPT}') \
             THEN NULL ELSE coalesce(payload, ?3) END"
        );
        self.write(|conn| {
            // A payload may quote body text (an alert's excerpt): sealed
            // while the tenant has a live data key; not kept if it had keys
            // and all are destroyed (it may quote what they sealed).
            let payload_stored = match super::data_keys::newest_live_key(conn, &a.tenant)? {
                Some(row) => Some(self.keyring.key_of_row(&row)?.seal_text(
                    &a.tenant,
                    Place::WebhookPayload { delivery: &a.id },
                    &a.payload,
                )),
                None if super::data_keys::ever_encrypted(conn, &a.tenant)? => None,
                None => Some(plain_text(&a.payload).into_owned()),
            };
            conn.prepare_cached(&format!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, \
                   payload = {payload}, status = ?4, next_attempt_at = ?5, \
                   last_status_code = ?6, last_error = ?7, \
                   delivered_at = CASE WHEN ?4 = 'delivered' THEN ?8 ELSE delivered_at END \
                 WHERE tenant = ?1 AND id = ?2 AND status = 'pending'"
            ))?
            .execute(params![
                a.tenant,
                a.id,
                payload_stored,
                a.status,
                a.next_attempt_at,
                a.status_code,
                a.error,
                a.at
            ])?;
            Ok(())
        })
    }
}
