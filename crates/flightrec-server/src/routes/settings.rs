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
use flightrec_store::AccessChange;
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
        }
    }

    fn to_value(&self) -> Value {
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
    let change = AccessChange::SetSettings {
        tenant: principal.tenant.clone(),
        from: stored,
        to: after.to_value(),
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    Ok(Json(after.to_value()))
}
