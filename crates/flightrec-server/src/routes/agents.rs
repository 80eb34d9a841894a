//! `/v1/agents`: the agents a tenant knows. Events name theirs in
//! `agent_id`; policies attach to them.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::format_time;
use flightrec_store::{Agent, GuardrailChange};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agents", get(list).post(create))
        .route("/v1/agents/{id}", get(show))
}

/// The shape agent-audit services use, so their clients work unchanged.
pub fn agent_view(a: &Agent) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "organizationId": a.tenant,
        "metadata": a.metadata,
        "createdAt": a.created_at,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let agents = state.in_tenant(&principal, |s, t| s.agents(t)).await?;
    Ok(Json(
        json!({"agents": agents.iter().map(agent_view).collect::<Vec<_>>()}),
    ))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let agent_id = id.clone();
    let (agent, policies) = state
        .in_tenant(&principal, move |s, t| {
            Ok((s.agent(t, &agent_id)?, s.policies(t)?))
        })
        .await?;
    let agent = agent.ok_or_else(|| ApiError::not_found(format!("no agent {id:?}")))?;
    let mut view = agent_view(&agent);
    view["policies"] = policies
        .iter()
        .filter(|p| p.agents.contains(&agent.id))
        .map(|p| json!({"id": p.id, "name": p.name, "version": p.version}))
        .collect();
    Ok(Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAgent {
    name: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    /// An id of the caller's choosing, e.g. the one its events already use.
    #[serde(default)]
    id: Option<String>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: NewAgent = read_object(body).await?;
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`name` must be 1 to 200 characters",
        ));
    }
    let id = match request.id {
        // Events name it in `agent_id`, which holds no control characters.
        Some(id)
            if id.is_empty() || id.chars().count() > 128 || id.chars().any(char::is_control) =>
        {
            return Err(ApiError::bad_request(
                "invalid_body",
                "`id` must be 1 to 128 characters, none a control character",
            ));
        }
        Some(id) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    let agent = Agent {
        id,
        tenant: principal.tenant.clone(),
        name,
        metadata: Value::Object(request.metadata.unwrap_or_default()),
        created_at: format_time(&state.clock().now()),
    };
    let action = AdminAction::new(
        "agent.created",
        "agent",
        &agent.id,
        format!("agent {:?} created", agent.name),
    )
    .after(agent_view(&agent));
    admin_actions::record_by(
        &state,
        &principal,
        action,
        GuardrailChange::CreateAgent(agent.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(agent_view(&agent))))
}
