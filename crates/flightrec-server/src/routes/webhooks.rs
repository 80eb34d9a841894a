//! `/v1/webhooks`: where alerts are sent, and how sending went.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;
use crate::webhooks::{signature, target};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::format_time;
use flightrec_store::{Delivery, GuardrailChange, WEBHOOK_EVENTS, Webhook};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", get(list).post(create))
        .route("/v1/webhooks/{id}", get(show).delete(remove))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries))
}

fn webhook_view(w: &Webhook) -> Value {
    json!({"id": w.id, "url": w.url, "events": w.events, "created_at": w.created_at})
}

fn delivery_view(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "event_type": d.event_type,
        "subject_id": d.subject_id,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    })
}

async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let hooks = state.in_tenant(&principal, |s, t| s.webhooks(t)).await?;
    Ok(Json(
        json!({"webhooks": hooks.iter().map(webhook_view).collect::<Vec<_>>()}),
    ))
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Webhook> {
    let hook_id = id.to_owned();
    state
        .in_tenant(principal, move |s, t| s.webhook(t, &hook_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no webhook {id:?}")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    Ok(Json(webhook_view(&find(&state, &principal, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    events: Vec<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: NewWebhook = read_object(body).await?;
    let url = request.url.trim().to_owned();
    if url.len() > 2048 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`url` is longer than 2048 characters",
        ));
    }
    if let Some(why) = target::refuse_url(&url, state.webhook_settings().allow_private_targets) {
        return Err(ApiError::bad_request(
            "invalid_webhook_url",
            format!("`url`: {why}"),
        ));
    }
    if request.events.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!(
                "`events` must name at least one of {}",
                WEBHOOK_EVENTS.join(", ")
            ),
        ));
    }
    let mut events = Vec::new();
    for e in request.events {
        if !WEBHOOK_EVENTS.contains(&e.as_str()) {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!(
                    "`events`: {e:?} is not one of {}",
                    WEBHOOK_EVENTS.join(", ")
                ),
            ));
        }
        if !events.contains(&e) {
            events.push(e);
        }
    }
    let hook = Webhook {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: principal.tenant.clone(),
        url,
        events,
        created_at: format_time(&state.clock().now()),
    };
    let action = AdminAction::new(
        "webhook.created",
        "webhook",
        &hook.id,
        format!("webhook to {} created", hook.url),
    )
    .after(webhook_view(&hook));
    admin_actions::record_by(
        &state,
        &principal,
        action,
        GuardrailChange::CreateWebhook(hook.clone()),
    )
    .await?;
    let mut view = webhook_view(&hook);
    view["secret"] = json!(signature::webhook_secret(
        &state.webhook_settings().key,
        &hook.tenant,
        &hook.id
    ));
    Ok((StatusCode::CREATED, Json(view)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::Manage)?;
    let hook = find(&state, &principal, &id).await?;
    let action = AdminAction::new(
        "webhook.deleted",
        "webhook",
        &id,
        format!("webhook to {} deleted", hook.url),
    )
    .before(webhook_view(&hook));
    let change = GuardrailChange::DeleteWebhook {
        tenant: principal.tenant.clone(),
        id,
        at: format_time(&state.clock().now()),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let mut p = Params::parse(raw.as_deref())?;
    let limit = p.take_limit(100, 1000)?;
    p.finish()?;
    find(&state, &principal, &id).await?;
    let list = state
        .in_tenant(&principal, move |s, t| s.deliveries(t, &id, limit))
        .await?;
    Ok(Json(
        json!({"deliveries": list.iter().map(delivery_view).collect::<Vec<_>>()}),
    ))
}
