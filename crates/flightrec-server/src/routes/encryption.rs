//! `/v1/encryption/shred`: crypto-shredding, the destruction of every data
//! key of a tenant that encrypts at rest. The bodies they sealed can never
//! be read again, by anyone; headers, tiles and checkpoints stay, so every
//! proof still verifies.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::routes::settings::{TenantSettings, immutable_conflict};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use flightrec_core::event::format_time;
use flightrec_store::AccessChange;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/encryption/shred", post(shred))
}

const MAX_REASON_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shred {
    /// The tenant's id, typed again: there is no undoing this.
    confirm: String,
    reason: String,
}

async fn shred(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let request: Shred = read_object(body).await?;
    if request.confirm != principal.tenant {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!(
                "`confirm` must be this tenant's id ({:?}): destroying its data keys cannot be undone",
                principal.tenant
            ),
        ));
    }
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`reason` must be 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let stored = state
        .in_tenant(&principal, |store, tenant| store.settings(tenant))
        .await?;
    let before = TenantSettings::from_stored(&stored);
    if before.immutable() {
        return Err(immutable_conflict(
            "`immutableAuditLogs` is on: nothing in this tenant's log may be erased, by crypto-shredding neither",
        ));
    }
    // Encryption goes off with its keys: new bodies would otherwise be
    // stored in plain text under a setting that says they are not.
    let after = TenantSettings {
        audit_log_encryption: None,
        ..before.clone()
    };
    let now = format_time(&state.clock().now());
    let mut actions = vec![
        AdminAction::new(
            "encryption.keys_destroyed",
            "encryption",
            &principal.tenant,
            format!("every data key destroyed (crypto-shredding): {reason}"),
        )
        .after(json!({"reason": reason})),
    ];
    let mut changes = vec![AccessChange::DestroyDataKeys {
        tenant: principal.tenant.clone(),
        at: now,
    }];
    if after != before {
        actions.push(
            AdminAction::new(
                "settings.updated",
                "settings",
                &principal.tenant,
                "encryption at rest off: its keys were destroyed",
            )
            .before(before.to_value())
            .after(after.to_value()),
        );
        changes.push(AccessChange::SetSettings {
            tenant: principal.tenant.clone(),
            from: stored,
            to: after.to_value(),
        });
    }
    match admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &actions,
        changes,
    )
    .await
    {
        // The store's `Missing`: no live data key.
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "no_data_keys",
                "this tenant has no data key to destroy: encryption at rest was never on, or its keys are destroyed already",
            ));
        }
        other => {
            other?;
        }
    }
    Ok(Json(json!({"shredded": true, "auditLogEncryption": false})))
}
