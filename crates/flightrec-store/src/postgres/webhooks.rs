//! Webhooks and their delivery queue. A delivery is queued in the same
//! transaction as what it tells of, so it survives any crash; senders on
//! any node claim due deliveries under a lease (`FOR UPDATE SKIP LOCKED`:
//! two nodes claiming at once take different deliveries, neither waits),
//! and a sender that dies lets its deliveries come due again.

use super::PgStore;
use super::errors::conflict;
use super::rows::collect;
use crate::StoreError;
use crate::encryption::{Keyring, Place, plain_text};
use crate::guardrails::{Delivery, DeliveryAttempt, Webhook, message_id};
use crate::lifecycle::ERASED_EXCERPT;
use postgres::{GenericClient, Row};

pub(super) fn insert(conn: &mut impl GenericClient, w: &Webhook) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO webhooks (tenant, id, url, events, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&w.tenant, &w.id, &w.url, &w.events.join(","), &w.created_at],
    )
    .map_err(|e| conflict(e, || format!("a webhook with id {:?}", w.id)))?;
    Ok(())
}

pub(super) fn delete(
    conn: &mut impl GenericClient,
    tenant: &str,
    id: &str,
    at: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "DELETE FROM webhooks WHERE tenant = $1 AND id = $2",
        &[&tenant, &id],
    )?;
    if n == 0 {
        return Err(StoreError::Changed(format!("webhook {id:?}")));
    }
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, \
           last_error = coalesce(last_error, 'the webhook was deleted at ' || $3) \
         WHERE tenant = $1 AND webhook_id = $2 AND status = 'pending'",
        &[&tenant, &id, &at],
    )?;
    Ok(())
}

/// Queues a delivery of `event_type` about `subject_id` to every webhook of
/// the tenant that wants it, due now.
pub(super) fn enqueue(
    conn: &mut impl GenericClient,
    tenant: &str,
    event_type: &str,
    subject_id: &str,
    at: &str,
) -> Result<(), StoreError> {
    let hooks = conn.query(
        "SELECT id FROM webhooks WHERE tenant = $1 AND $2 = ANY(string_to_array(events, ','))",
        &[&tenant, &event_type],
    )?;
    for hook in hooks {
        let webhook_id: String = hook.get(0);
        let id = message_id(tenant, &webhook_id, event_type, subject_id);
        conn.execute(
            "INSERT INTO webhook_deliveries (tenant, id, webhook_id, event_type, subject_id, \
               status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) \
             ON CONFLICT DO NOTHING",
            &[&tenant, &id, &webhook_id, &event_type, &subject_id, &at],
        )?;
    }
    Ok(())
}

fn webhook_from_row(r: &Row) -> Result<Webhook, StoreError> {
    let events: String = r.try_get(3)?;
    Ok(Webhook {
        id: r.try_get(0)?,
        tenant: r.try_get(1)?,
        url: r.try_get(2)?,
        events: events
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: r.try_get(4)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, tenant, webhook_id, event_type, subject_id, payload, status, \
     attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at";

fn delivery_from_row(r: &Row, keys: &Keyring) -> Result<Delivery, StoreError> {
    let id: String = r.try_get(0)?;
    let tenant: String = r.try_get(1)?;
    let payload = match r.try_get::<_, Option<String>>(5)? {
        Some(stored) => keys.open_text(&tenant, Place::WebhookPayload { delivery: &id }, stored)?,
        None => None,
    };
    Ok(Delivery {
        id,
        tenant,
        webhook_id: r.try_get(2)?,
        event_type: r.try_get(3)?,
        subject_id: r.try_get(4)?,
        payload,
        status: r.try_get(6)?,
        attempts: r.try_get::<_, i64>(7)? as u32,
        next_attempt_at: r.try_get(8)?,
        last_status_code: r.try_get::<_, Option<i64>>(9)?.map(|c| c as u16),
        last_error: r.try_get(10)?,
        created_at: r.try_get(11)?,
        delivered_at: r.try_get(12)?,
    })
}

impl PgStore {
    pub(super) fn select_webhooks(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Vec<Webhook>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                "SELECT id, tenant, url, events, created_at FROM webhooks \
                 WHERE tenant = $1 AND ($2::text IS NULL OR id = $2) ORDER BY created_at, id",
                &[&tenant, &id],
            )?;
            collect(rows, webhook_from_row)
        })
    }

    pub(super) fn select_deliveries(
        &self,
        tenant: &str,
        webhook_id: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE tenant = $1 AND webhook_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT $3"
                ),
                &[&tenant, &webhook_id, &(limit as i64)],
            )?;
            collect(rows, |r| delivery_from_row(r, &self.keyring))
        })
    }

    /// Takes due deliveries and moves them to `lease_until` in one
    /// statement; returns them as they were when taken.
    pub(super) fn claim_due_deliveries(
        &self,
        now: &str,
        lease_until: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.refuse_writes_if_snapshot()?;
        self.with_client(|conn| {
            let rows = conn.query(
                &format!(
                    "WITH due AS ( \
                       SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                       WHERE status = 'pending' AND next_attempt_at <= $1 \
                       ORDER BY next_attempt_at LIMIT $2 \
                       FOR UPDATE SKIP LOCKED) \
                     UPDATE webhook_deliveries d SET next_attempt_at = $3 FROM due \
                     WHERE d.tenant = due.tenant AND d.id = due.id \
                     RETURNING {}",
                    DELIVERY_COLUMNS
                        .split(", ")
                        .map(|c| format!("due.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[&now, &(limit as i64), &lease_until],
            )?;
            let mut due = collect(rows, |r| delivery_from_row(r, &self.keyring))?;
            due.sort_by(|a, b| a.next_attempt_at.cmp(&b.next_attempt_at));
            Ok(due)
        })
    }

    pub(super) fn update_delivery(&self, a: &DeliveryAttempt) -> Result<(), StoreError> {
        self.refuse_writes_if_snapshot()?;
        // A payload built before its alert's event was erased is not kept.
        let payload = format!(
            "CASE WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.tenant = $1 \
             AND a.id = webhook_deliveries.subject_id AND a.excerpt = '{ERASED_EXCERPT}') \
             THEN NULL ELSE coalesce(payload, $3) END"
        );
        self.with_client(|conn| {
            // A payload may quote body text (an alert's excerpt): sealed
            // while the tenant has a live data key; not kept if it had keys
            // and all are destroyed (it may quote what they sealed).
            let stored = match super::data_keys::newest_live_key(conn, &a.tenant)? {
                Some(row) => Some(self.keyring.key_of_row(&row)?.seal_text(
                    &a.tenant,
                    Place::WebhookPayload { delivery: &a.id },
                    &a.payload,
                )),
                None if super::data_keys::ever_encrypted(conn, &a.tenant)? => None,
                None => Some(plain_text(&a.payload).into_owned()),
            };
            conn.execute(
                &format!(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, \
                   payload = {payload}, status = $4, next_attempt_at = $5, \
                   last_status_code = $6, last_error = $7, \
                   delivered_at = CASE WHEN $4 = 'delivered' THEN $8 ELSE delivered_at END \
                 WHERE tenant = $1 AND id = $2 AND status = 'pending'"
                ),
                &[
                    &a.tenant,
                    &a.id,
                    &stored,
                    &a.status,
                    &a.next_attempt_at,
                    &a.status_code.map(i64::from),
                    &a.error,
                    &a.at,
                ],
            )?;
            Ok(())
        })
    }
}
