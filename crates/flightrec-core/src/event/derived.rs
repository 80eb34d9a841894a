//! What the store derives from a record to answer queries.
//!
//! Queries filter on these columns and never on the hashed body, so they are
//! a pure function of the body here, and `flightrec verify` recomputes them
//! to prove the two have not drifted apart.

use super::types::Body;
use serde_json::Value;

/// The filter columns of a record that live in its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexColumns {
    pub session_id: Option<String>,
    pub agent_id: Option<String>,
    /// The actor's email when it has one, else its id.
    pub actor: Option<String>,
    pub actor_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `verb`, or `tool` when no verb was given.
    pub verb: Option<String>,
    pub provider: Option<String>,
    pub governance_status: Option<String>,
}

impl IndexColumns {
    /// The columns' names (the store's column names too), in the order
    /// [`IndexColumns::named`] gives them.
    pub const NAMES: [&'static str; 9] = [
        "session_id",
        "agent_id",
        "actor",
        "actor_type",
        "resource_type",
        "resource_id",
        "verb",
        "provider",
        "governance_status",
    ];

    /// The columns by name, in a fixed order, to compare and report.
    pub fn named(&self) -> [(&'static str, Option<&str>); 9] {
        let values = [
            self.session_id.as_deref(),
            self.agent_id.as_deref(),
            self.actor.as_deref(),
            self.actor_type.as_deref(),
            self.resource_type.as_deref(),
            self.resource_id.as_deref(),
            self.verb.as_deref(),
            self.provider.as_deref(),
            self.governance_status.as_deref(),
        ];
        std::array::from_fn(|i| (Self::NAMES[i], values[i]))
    }

    pub fn of(body: &Body) -> IndexColumns {
        IndexColumns {
            session_id: body.session_id.clone(),
            agent_id: body.agent_id.clone(),
            actor: body
                .actor
                .as_ref()
                .map(|a| a.email.clone().unwrap_or_else(|| a.id.clone())),
            actor_type: body
                .actor
                .as_ref()
                .map(|a| a.actor_type.as_str().to_owned()),
            resource_type: body.resource.as_ref().map(|r| r.resource_type.clone()),
            resource_id: body.resource.as_ref().map(|r| r.id.clone()),
            verb: body.verb.clone().or_else(|| body.tool.clone()),
            provider: body.provider.clone(),
            governance_status: body
                .governance
                .as_ref()
                .map(|g| g.status.as_str().to_owned()),
        }
    }
}

/// What `/v1/stats` counts of a record beyond its status and index
/// columns, kept beside them so rates and durations over a large log never
/// parse a body.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measures {
    /// Marked `dry_run`, or let through by governance as a dry run.
    pub dry_run: bool,
    pub idempotency_hit: bool,
    pub duration_ms: Option<f64>,
}

impl Measures {
    pub fn of(body: &Body) -> Measures {
        Measures {
            dry_run: body.dry_run
                || body
                    .governance
                    .as_ref()
                    .is_some_and(|g| g.status == super::types::GovernanceStatus::DryRun),
            idempotency_hit: body.idempotency_hit,
            duration_ms: body.duration_ms.as_ref().and_then(|n| n.as_f64()),
        }
    }

    /// The measures of a stored body (its JCS text), for migrations that
    /// fill them in; a body this version cannot read has none.
    pub fn of_stored(body: &str) -> Measures {
        serde_json::from_str::<Body>(body)
            .map(|body| Measures::of(&body))
            .unwrap_or_default()
    }
}

/// The text free-text search (`q`) matches: the event type and every string
/// value anywhere in the body, space-separated.
pub fn search_text(event_type: &str, body: &Value) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(event_type);
    collect_strings(body, &mut out);
    out
}

fn collect_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push(' ');
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Number(_) | Value::Bool(_) | Value::Null => {}
    }
}
