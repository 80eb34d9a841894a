//! `/v1/alerts`: what the compliance rules found, and resolving it.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::cursor;
use crate::error::{ApiError, ApiResult};
use crate::guardrails::alert_view;
use crate::params::Params;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use flightrec_core::compliance::Severity;
use flightrec_core::event::format_time;
use flightrec_store::{Alert, AlertQuery, GuardrailChange};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/alerts", get(list))
        .route("/v1/alerts/{id}", get(show))
        .route("/v1/alerts/{id}/resolve", post(resolve))
}

const CURSOR_KIND: &str = "alerts";

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut p = Params::parse(raw.as_deref())?;
    let now = state.clock().now();
    let query = AlertQuery {
        status: p.take_parsed("status", |v| match v {
            "open" | "resolved" => Ok(v.to_owned()),
            _ => Err(format!("must be open or resolved, not {v:?}")),
        })?,
        severity: p.take_parsed("severity", |v| {
            Severity::parse(v)
                .map(|s| s.as_str().to_owned())
                .ok_or_else(|| format!("must be low, medium, high or critical, not {v:?}"))
        })?,
        rule_id: p.take("rule_id"),
        run_id: p.take("run_id"),
        agent_id: p.take("agent_id"),
        policy_id: p.take("policy_id"),
        event_id: p.take("event_id"),
        since: p.take_since(now)?,
        limit: p.take_limit(100, 1000)?,
        after: p
            .take("cursor")
            .map(|c| cursor::decode(CURSOR_KIND, &c))
            .transpose()?,
    };
    p.finish()?;
    let page = state
        .in_tenant(&principal, move |s, t| s.alerts(t, &query))
        .await?;
    let next = match (page.more, page.items.last()) {
        (true, Some(last)) => Some(cursor::encode(CURSOR_KIND, &(&last.created_at, &last.id))),
        _ => None,
    };
    Ok(Json(json!({
        "alerts": page.items.iter().map(alert_view).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Alert> {
    let alert_id = id.to_owned();
    state
        .in_tenant(principal, move |s, t| s.alert(t, &alert_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id:?}")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let alert = find(&state, &principal, &id).await?;
    Ok(Json(alert_view(&alert)))
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let alert = find(&state, &principal, &id).await?;
    if alert.status == "resolved" {
        return Ok(Json(alert_view(&alert)));
    }
    let actor = principal.actor();
    let by = actor["email"]
        .as_str()
        .or(actor["id"].as_str())
        .unwrap_or("unknown")
        .to_owned();
    let mut resolved = alert.clone();
    resolved.status = "resolved".into();
    resolved.resolved_at = Some(format_time(&state.clock().now()));
    resolved.resolved_by = Some(by.clone());
    let action = AdminAction::new(
        "alert.resolved",
        "alert",
        &id,
        format!(
            "alert of rule {:?} on record {} resolved",
            alert.rule_name, alert.seq
        ),
    )
    .before(alert_view(&alert))
    .after(alert_view(&resolved));
    let change = GuardrailChange::ResolveAlert {
        tenant: principal.tenant.clone(),
        id: id.clone(),
        by,
        at: resolved.resolved_at.clone().unwrap_or_default(),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    state.webhook_sender().wake();
    Ok(Json(alert_view(&resolved)))
}
