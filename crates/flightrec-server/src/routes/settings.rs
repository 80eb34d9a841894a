//! `/v1/settings`: a tenant's own settings.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use flightrec_store::{AccessChange, EventFilter, Origin};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/settings", get(show).patch(update))
}

/// What a tenant may set. Absent means the server's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// The organisation's name as people see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// How long a sign-in lasts, 5 minutes to 7 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_minutes: Option<u64>,
    /// Serve the log's checkpoints and tiles to anyone, without
    /// credentials, at `/logs/{tenant}/…` (off unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_log: Option<bool>,
    /// How long bodies are kept, judged by each record's `time`: `90d`,
    /// `36h`. Past it, retention erases them (headers and proofs stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_retention: Option<Retention>,
    /// Nothing may be erased, by retention or on request (a retention set
    /// beside it erases nothing); once set it cannot be unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable_audit_logs: Option<bool>,
    /// Bodies appended from now on are encrypted at rest under a data key
    /// of the tenant's own (needs the server's master key); free-text
    /// search finds them through a blind index (keyed hashes of their
    /// words, never the words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_encryption: Option<bool>,
}

/// A retention period as people write it: a whole number of days (`90d`)
/// or hours (`36h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Retention {
    hours: u32,
    in_days: bool,
}

/// From an hour to a hundred years.
const RETENTION_HOURS: std::ops::RangeInclusive<u32> = 1..=100 * 366 * 24;

impl Retention {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.hours))
    }
}

impl TryFrom<String> for Retention {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let bad = || {
            format!(
                "`auditLogRetention` must be a whole number of days or hours such as \"90d\" or \"36h\" (1 hour to 100 years), not {s:?}"
            )
        };
        let (number, in_days) = match s.as_bytes().last() {
            Some(b'd') => (&s[..s.len() - 1], true),
            Some(b'h') => (&s[..s.len() - 1], false),
            _ => return Err(bad()),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = number.parse().map_err(|_| bad())?;
        let hours = if in_days { n.checked_mul(24) } else { Some(n) }.ok_or_else(bad)?;
        if !RETENTION_HOURS.contains(&hours) {
            return Err(bad());
        }
        Ok(Retention { hours, in_days })
    }
}

impl From<Retention> for String {
    fn from(r: Retention) -> String {
        if r.in_days {
            format!("{}d", r.hours / 24)
        } else {
            format!("{}h", r.hours)
        }
    }
}

const SESSION_MINUTES: std::ops::RangeInclusive<u64> = 5..=7 * 24 * 60;

impl TenantSettings {
    /// The stored settings; what this build does not know is ignored.
    pub fn from_stored(v: &Value) -> Self {
        TenantSettings {
            display_name: v
                .get("display_name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            session_minutes: v.get("session_minutes").and_then(Value::as_u64),
            public_log: v.get("public_log").and_then(Value::as_bool),
            audit_log_retention: v
                .get("audit_log_retention")
                .and_then(Value::as_str)
                .and_then(|r| Retention::try_from(r.to_owned()).ok()),
            immutable_audit_logs: v.get("immutable_audit_logs").and_then(Value::as_bool),
            audit_log_encryption: v.get("audit_log_encryption").and_then(Value::as_bool),
        }
    }

    /// Whether new bodies are encrypted at rest.
    pub fn encrypted(&self) -> bool {
        self.audit_log_encryption == Some(true)
    }

    /// Whether nothing may be erased.
    pub fn immutable(&self) -> bool {
        self.immutable_audit_logs == Some(true)
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("settings serialise")
    }

    fn check(&self) -> ApiResult<()> {
        if let Some(name) = &self.display_name
            && (name.trim().is_empty() || name.chars().count() > 100)
        {
            return Err(ApiError::bad_request(
                "invalid_body",
                "`display_name` must be 1 to 100 characters",
            ));
        }
        if let Some(m) = self.session_minutes
            && !SESSION_MINUTES.contains(&m)
        {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!(
                    "`session_minutes` must be from {} to {}, not {m}",
                    SESSION_MINUTES.start(),
                    SESSION_MINUTES.end()
                ),
            ));
        }
        Ok(())
    }
}

/// A 409 that names the setting which refuses the change.
pub fn immutable_conflict(message: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "immutable_audit_logs",
        message,
    )
}

async fn show(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let tenant = principal.tenant.clone();
    let stored = state.blocking(move |store| store.settings(&tenant)).await?;
    Ok(Json(TenantSettings::from_stored(&stored).to_value()))
}

/// Request body of `PATCH /v1/settings`: a field given as `null` returns
/// to the default; a field left out stays as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    #[serde(default, with = "double_option")]
    display_name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    session_minutes: Option<Option<u64>>,
    #[serde(default, with = "double_option", alias = "publicLog")]
    public_log: Option<Option<bool>>,
    #[serde(default, with = "double_option", alias = "auditLogRetention")]
    audit_log_retention: Option<Option<Retention>>,
    #[serde(default, with = "double_option", alias = "immutableAuditLogs")]
    immutable_audit_logs: Option<Option<bool>>,
    #[serde(default, with = "double_option", alias = "auditLogEncryption")]
    audit_log_encryption: Option<Option<bool>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let patch: Patch = read_object(body).await?;
    let tenant = principal.tenant.clone();
    let stored = state.blocking(move |store| store.settings(&tenant)).await?;
    let before = TenantSettings::from_stored(&stored);
    let mut after = before.clone();
    if let Some(v) = patch.display_name {
        after.display_name = v.map(|n| n.trim().to_owned());
    }
    if let Some(v) = patch.session_minutes {
        after.session_minutes = v;
    }
    if let Some(v) = patch.public_log {
        after.public_log = v;
    }
    if let Some(v) = patch.audit_log_encryption {
        if v == Some(true) && !before.encrypted() && state.store().keyring().master().is_none() {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "no_master_key",
                "`auditLogEncryption` needs the server's master key: start flightrec with FLIGHTREC_MASTER_KEY or --master-key-file (`flightrec keys new-master` makes one)",
            ));
        }
        after.audit_log_encryption = v;
    }
    if let Some(v) = patch.immutable_audit_logs {
        if before.immutable() && v != Some(true) {
            return Err(immutable_conflict(
                "`immutableAuditLogs` is on and cannot be turned off",
            ));
        }
        after.immutable_audit_logs = v;
    }
    if let Some(v) = patch.audit_log_retention {
        if before.immutable() && v != before.audit_log_retention {
            return Err(immutable_conflict(
                "`immutableAuditLogs` is on: nothing may be erased, so retention cannot be changed",
            ));
        }
        after.audit_log_retention = v;
    }
    // Immutability wins over a retention set beside it: nothing is erased.
    if after.immutable() && !before.immutable() {
        let tenant = principal.tenant.clone();
        let pending = state
            .blocking(move |store| store.pending_erasures())
            .await?
            .iter()
            .any(|job| job.tenant == tenant);
        if pending {
            return Err(immutable_conflict(
                "`immutableAuditLogs` cannot be turned on while erasures are still running",
            ));
        }
    }
    after.check()?;
    if after == before {
        return Ok(Json(after.to_value()));
    }
    let action = AdminAction::new(
        "settings.updated",
        "settings",
        &principal.tenant,
        "settings changed",
    )
    .before(before.to_value())
    .after(after.to_value());
    let mut changes = vec![AccessChange::SetSettings {
        tenant: principal.tenant.clone(),
        from: stored,
        to: after.to_value(),
    }];
    if after.encrypted() != before.encrypted() {
        // In the batch of the record that tells of it: that record's body
        // is already sealed when encryption goes on.
        changes.push(AccessChange::SetEncryption {
            tenant: principal.tenant.clone(),
            on: after.encrypted(),
            at: flightrec_core::event::format_time(&state.clock().now()),
        });
    }
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        changes,
    )
    .await?;
    if after.audit_log_retention != before.audit_log_retention {
        state.lifecycle().wake();
    }
    Ok(Json(after.to_value()))
}

/// Sets the demo's retention on `tenant` unless it has one or holds any
/// client's records (real data a retention would erase), as flightrec's
/// own recorded change.
pub async fn set_demo_retention(state: &AppState, tenant: &str) -> ApiResult<()> {
    let owned = tenant.to_owned();
    let (stored, client_records) = state
        .blocking(move |store| {
            let clients = EventFilter {
                origin: Some(Origin::Client),
                ..EventFilter::default()
            };
            Ok((
                store.settings(&owned)?,
                store.count_records(&owned, &clients)?.total,
            ))
        })
        .await?;
    let before = TenantSettings::from_stored(&stored);
    if before.audit_log_retention.is_some() || before.immutable() || client_records > 0 {
        return Ok(());
    }
    let retention = Retention::try_from(crate::demo::DEMO_RETENTION.to_owned())
        .map_err(|e| ApiError::internal("the demo's retention", &e))?;
    let after = TenantSettings {
        audit_log_retention: Some(retention),
        ..before.clone()
    };
    let action = AdminAction::new(
        "settings.updated",
        "settings",
        tenant,
        "the demo's retention set",
    )
    .before(before.to_value())
    .after(after.to_value());
    let change = AccessChange::SetSettings {
        tenant: tenant.to_owned(),
        from: stored,
        to: after.to_value(),
    };
    let actor = admin_actions::system_actor();
    admin_actions::record(state, tenant, &actor, &[action], vec![change]).await?;
    state.lifecycle().wake();
    Ok(())
}
