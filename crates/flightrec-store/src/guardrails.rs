//! The values of the guardrails: agents, compliance rules, versioned
//! policies, the alerts rules raise and the webhooks told of them.
//!
//! Like access changes, guardrail changes commit inside an append, with
//! the record that tells of them ([`crate::AppendBatch::guardrails`]);
//! alerts commit with the records that raised them
//! ([`crate::AppendBatch::alerts`]), so no record that should have raised
//! an alert is ever kept without it, whatever crashes when. Webhook
//! deliveries are queued in the same transaction as their alert.

use flightrec_core::compliance::Rule;

/// An agent known to a tenant; events name it in `agent_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub metadata: serde_json::Value,
    pub created_at: String,
}

/// A tenant's own rule, applied to every record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRule {
    pub rule: Rule,
    /// The pack it was installed from, if any.
    pub pack: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A named, versioned bundle of rules, applied to its agents' records.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub description: String,
    /// Starts at 1; every edit makes the next.
    pub version: u32,
    pub rules: Vec<Rule>,
    /// The agents it applies to (not versioned: attaching is not an edit).
    pub agents: Vec<String>,
    pub created_at: String,
    /// When this version was made.
    pub updated_at: String,
}

/// A rule that fired on a record. It never holds the value found.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: String,
    pub tenant: String,
    pub rule_id: String,
    pub rule_name: String,
    pub severity: String,
    pub detector: String,
    pub event_id: String,
    /// The record's place in the log; filled in by the store.
    pub seq: u64,
    pub run_id: Option<String>,
    pub agent_id: Option<String>,
    /// Where in the event, e.g. `input.patient.ssn`.
    pub path: String,
    /// The text around the finding with every finding replaced.
    pub excerpt: String,
    pub matches: u32,
    pub policy_id: Option<String>,
    pub policy_version: Option<u32>,
    /// `open` or `resolved`.
    pub status: String,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
}

/// An alert raised by the event at `event_index` of its batch. It is kept
/// only if that event is new to the log: a retried event raised its alerts
/// the first time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub event_index: usize,
    pub alert: Alert,
}

/// A page of alerts, newest first; every given filter must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub rule_id: Option<String>,
    pub run_id: Option<String>,
    pub agent_id: Option<String>,
    pub policy_id: Option<String>,
    pub event_id: Option<String>,
    /// `created_at` at or after.
    pub since: Option<String>,
    pub limit: usize,
    /// Only alerts after this (`created_at`, `id`) in the listing.
    pub after: Option<(String, String)>,
}

/// Where a tenant wants to be told of alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub tenant: String,
    pub url: String,
    /// The event types it receives, e.g. `alert.created`.
    pub events: Vec<String>,
    pub created_at: String,
}

/// The webhook event types.
pub const WEBHOOK_EVENTS: &[&str] = &["alert.created", "alert.resolved"];

/// One message to one webhook, and how sending it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every attempt, so receivers can
    /// drop repeats.
    pub id: String,
    pub tenant: String,
    pub webhook_id: String,
    pub event_type: String,
    /// The alert it is about.
    pub subject_id: String,
    /// The body, fixed at the first attempt so retries send the same bytes.
    pub payload: Option<String>,
    /// `pending`, `delivered`, `failed` (gave up) or `cancelled` (the
    /// webhook was deleted).
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// How one attempt at a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub tenant: String,
    pub id: String,
    pub at: String,
    pub payload: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// `delivered`, `failed`, or `pending` with the next attempt's time.
    pub status: String,
    pub next_attempt_at: Option<String>,
}

/// A change to the guardrails, applied with the batch that records it.
#[derive(Debug, Clone)]
pub enum GuardrailChange {
    CreateAgent(Agent),
    /// Refused with a conflict if a rule with its id exists.
    CreateRule {
        tenant: String,
        rule: StoredRule,
    },
    /// Replaces a rule, which must still be `from`.
    UpdateRule {
        tenant: String,
        from: Rule,
        to: Rule,
        at: String,
    },
    DeleteRule {
        tenant: String,
        id: String,
    },
    /// Its first version.
    CreatePolicy(Policy),
    /// Makes the next version; the current one must still be `from_version`.
    UpdatePolicy {
        tenant: String,
        id: String,
        from_version: u32,
        name: String,
        description: String,
        rules: Vec<Rule>,
        at: String,
    },
    /// Removes a policy and its attachments; its versions stay, for the
    /// alerts that name them.
    DeletePolicy {
        tenant: String,
        id: String,
    },
    AttachPolicy {
        tenant: String,
        policy_id: String,
        agent_id: String,
        at: String,
    },
    DetachPolicy {
        tenant: String,
        policy_id: String,
        agent_id: String,
    },
    /// Resolves an open alert and queues its `alert.resolved` deliveries.
    ResolveAlert {
        tenant: String,
        id: String,
        by: String,
        at: String,
    },
    CreateWebhook(Webhook),
    /// Deletes a webhook; its pending deliveries are cancelled.
    DeleteWebhook {
        tenant: String,
        id: String,
        at: String,
    },
}

/// The same message always gets the same id: queueing it twice is a no-op.
pub(crate) fn message_id(
    tenant: &str,
    webhook_id: &str,
    event_type: &str,
    subject_id: &str,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [tenant, webhook_id, event_type, subject_id] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("msg_{}", &hex::encode(h.finalize())[..32])
}
