//! Every change made through the admin API is itself a record in the
//! tenant's log: `key.created`, `user.invited`, … with the acting person as
//! `actor`, the object as `resource`, and `metadata.before`/`after`.
//!
//! The record and the change it tells of commit in one transaction (see
//! [`flightrec_store::AppendBatch::access`]): there is no change without
//! its record, and no record of a change that did not happen.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use flightrec_core::event::{Limits, parse_event};
use flightrec_core::record::{Receipt, SealedEvent, SubmittedBy};
use flightrec_store::{AccessChange, AppendBatch, GuardrailChange};
use serde_json::{Map, Value, json};

/// One admin action, as it will be recorded.
#[derive(Debug, Clone)]
pub struct AdminAction {
    /// The record's dotted `type`, e.g. `key.revoked`.
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: String,
    /// A sentence for people reading the trail.
    pub message: String,
    /// The object before and after; `None` when it did not exist. Never a
    /// secret: keys appear by id, name and prefix only.
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// `warn` for actions that deserve a second look (a burst of failed
    /// sign-ins).
    pub status: &'static str,
}

impl AdminAction {
    pub fn new(
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AdminAction {
            action,
            resource_type,
            resource_id: resource_id.into(),
            message: message.into(),
            before: None,
            after: None,
            status: "ok",
        }
    }

    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }

    pub fn warn(mut self) -> Self {
        self.status = "warn";
        self
    }

    /// The action as a sealed record by `actor`, received at `now`.
    pub fn seal(&self, actor: &Value, now: DateTime<Utc>) -> ApiResult<SealedEvent> {
        let mut metadata = Map::new();
        if let Some(b) = &self.before {
            metadata.insert("before".into(), b.clone());
        }
        if let Some(a) = &self.after {
            metadata.insert("after".into(), a.clone());
        }
        let value = json!({
            "type": self.action,
            "status": self.status,
            "actor": actor,
            "resource": {"type": self.resource_type, "id": self.resource_id},
            "message": self.message,
            "metadata": metadata,
        });
        let event = parse_event(value, now, &Limits::default(), || {
            uuid::Uuid::now_v7().to_string()
        })
        .map_err(|e| {
            ApiError::internal(
                "an admin action did not make a valid record",
                &format!("{:?}", e.errors),
            )
        })?;
        // Admin actions are flightrec's own records, whoever acted.
        Ok(SealedEvent::seal(&event, SubmittedBy::Flightrec))
    }
}

/// A system actor, for what the server does on its own.
pub fn system_actor() -> Value {
    json!({"type": "system", "id": "flightrec"})
}

/// Records `actions` in `tenant`'s log, applying `changes` in the same
/// transaction; resolves once both are durable.
pub async fn record(
    state: &AppState,
    tenant: &str,
    actor: &Value,
    actions: &[AdminAction],
    changes: Vec<AccessChange>,
) -> ApiResult<Vec<Receipt>> {
    let batch = AppendBatch {
        access: changes,
        ..sealed(state, tenant, actor, actions)?
    };
    state.sequencer().append(batch).await
}

/// [`record`] for changes to the guardrails.
pub async fn record_guardrails(
    state: &AppState,
    tenant: &str,
    actor: &Value,
    actions: &[AdminAction],
    changes: Vec<GuardrailChange>,
) -> ApiResult<Vec<Receipt>> {
    let batch = AppendBatch {
        guardrails: changes,
        ..sealed(state, tenant, actor, actions)?
    };
    let receipts = state.sequencer().append(batch).await?;
    state.guardrails().forget(tenant);
    Ok(receipts)
}

/// [`record_guardrails`] of one action by the caller, with one change.
pub async fn record_by(
    state: &AppState,
    principal: &Principal,
    action: AdminAction,
    change: GuardrailChange,
) -> ApiResult<()> {
    let actor = principal.actor();
    record_guardrails(state, &principal.tenant, &actor, &[action], vec![change]).await?;
    Ok(())
}

fn sealed(
    state: &AppState,
    tenant: &str,
    actor: &Value,
    actions: &[AdminAction],
) -> ApiResult<AppendBatch> {
    let now = state.clock().now();
    let events = actions
        .iter()
        .map(|a| a.seal(actor, now))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(AppendBatch::events(tenant, events))
}

/// What the trail shows of a key: never its secret or its hash.
pub fn key_view(key: &flightrec_store::ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "agent_id": key.agent_id,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    })
}

/// What the trail and the API show of a person.
pub fn user_view(user: &flightrec_store::User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "created_at": user.created_at,
    })
}
