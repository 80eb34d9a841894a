//! `/v1/policies`: named, versioned bundles of rules attached to agents.
//! Every edit makes a new version; the alerts a policy raises name the
//! version that raised them, and old versions stay readable
//! (`GET /v1/policies/{id}?version=N`).

use super::rules::{PackRequest, check_rule, named_pack};
use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use flightrec_core::compliance::Rule;
use flightrec_core::event::format_time;
use flightrec_store::{GuardrailChange, Policy};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/policies", get(list).post(create))
        .route("/v1/policies/clone-pack", post(clone_pack))
        .route("/v1/policies/{id}", get(show).put(edit).delete(remove))
        .route("/v1/policies/{id}/agents", post(attach))
        .route("/v1/policies/{id}/agents/{agent_id}", delete(detach))
}

pub fn policy_view(p: &Policy) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "version": p.version,
        "rules": p.rules,
        "agents": p.agents,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let policies = state.in_tenant(&principal, |s, t| s.policies(t)).await?;
    Ok(Json(
        json!({"policies": policies.iter().map(policy_view).collect::<Vec<_>>()}),
    ))
}

async fn find(
    state: &AppState,
    principal: &Principal,
    id: &str,
    version: Option<u32>,
) -> ApiResult<Policy> {
    let policy_id = id.to_owned();
    state
        .in_tenant(principal, move |s, t| s.policy(t, &policy_id, version))
        .await?
        .ok_or_else(|| match version {
            Some(v) => ApiError::not_found(format!("policy {id:?} has no version {v}")),
            None => ApiError::not_found(format!("no policy {id:?}")),
        })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut p = Params::parse(raw.as_deref())?;
    let version = p.take_parsed("version", |v| {
        v.parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("must be a version number from 1, not {v:?}"))
    })?;
    p.finish()?;
    Ok(Json(policy_view(
        &find(&state, &principal, &id, version).await?,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

/// Checks a policy's name and rules; a rule without an id gets one.
fn check_policy(body: &PolicyBody) -> ApiResult<()> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`name` must be 1 to 200 characters",
        ));
    }
    if body.rules.len() > 200 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "a policy may hold at most 200 rules",
        ));
    }
    let mut ids = HashSet::new();
    for rule in &body.rules {
        check_rule(rule)?;
        if !ids.insert(&rule.id) {
            return Err(ApiError::bad_request(
                "invalid_rule",
                format!("two rules of the policy have the id {:?}", rule.id),
            ));
        }
    }
    Ok(())
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let body: PolicyBody = read_object(body).await?;
    check_policy(&body)?;
    let policy = new_policy(
        &state,
        &principal,
        body.name.trim(),
        &body.description,
        body.rules,
    );
    record_new(&state, &principal, &policy, "created").await?;
    Ok((StatusCode::CREATED, Json(policy_view(&policy))))
}

fn new_policy(
    state: &AppState,
    principal: &Principal,
    name: &str,
    description: &str,
    rules: Vec<Rule>,
) -> Policy {
    let now = format_time(&state.clock().now());
    Policy {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: principal.tenant.clone(),
        name: name.to_owned(),
        description: description.to_owned(),
        version: 1,
        rules,
        agents: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
    }
}

async fn record_new(
    state: &AppState,
    principal: &Principal,
    policy: &Policy,
    how: &str,
) -> ApiResult<()> {
    let action = AdminAction::new(
        "policy.created",
        "policy",
        &policy.id,
        format!(
            "policy {:?} {how} with {} rules",
            policy.name,
            policy.rules.len()
        ),
    )
    .after(policy_view(policy));
    admin_actions::record_guardrails(
        state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![GuardrailChange::CreatePolicy(policy.clone())],
    )
    .await?;
    Ok(())
}

/// `{packId, name}`: a new policy holding a pack's rules, to edit freely.
pub(crate) async fn clone_pack(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: PackRequest = read_object(body).await?;
    let pack = named_pack(&request.pack_id)?;
    let name = request.name.unwrap_or_else(|| pack.name.to_owned());
    let body = PolicyBody {
        name: name.trim().to_owned(),
        description: pack.description.to_owned(),
        rules: pack.rules(),
    };
    check_policy(&body)?;
    let policy = new_policy(
        &state,
        &principal,
        &body.name,
        &body.description,
        body.rules,
    );
    record_new(
        &state,
        &principal,
        &policy,
        &format!("from the {} pack", pack.id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(policy_view(&policy))))
}

/// Replaces the name, description and rules: the next version.
async fn edit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let body: PolicyBody = read_object(body).await?;
    check_policy(&body)?;
    let current = find(&state, &principal, &id, None).await?;
    let next = Policy {
        name: body.name.trim().to_owned(),
        description: body.description,
        rules: body.rules,
        version: current.version + 1,
        updated_at: format_time(&state.clock().now()),
        ..current.clone()
    };
    let action = AdminAction::new(
        "policy.updated",
        "policy",
        &id,
        format!("policy {:?} is now version {}", next.name, next.version),
    )
    .before(policy_view(&current))
    .after(policy_view(&next));
    let change = GuardrailChange::UpdatePolicy {
        tenant: principal.tenant.clone(),
        id: id.clone(),
        from_version: current.version,
        name: next.name.clone(),
        description: next.description.clone(),
        rules: next.rules.clone(),
        at: next.updated_at.clone(),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(Json(policy_view(&next)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::Manage)?;
    let current = find(&state, &principal, &id, None).await?;
    let action = AdminAction::new(
        "policy.deleted",
        "policy",
        &id,
        format!("policy {:?} deleted", current.name),
    )
    .before(policy_view(&current));
    let change = GuardrailChange::DeletePolicy {
        tenant: principal.tenant.clone(),
        id,
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttachBody {
    #[serde(alias = "agent_id")]
    agent_id: String,
}

pub(crate) async fn attach(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let AttachBody { agent_id } = read_object(body).await?;
    let current = find(&state, &principal, &id, None).await?;
    let a = agent_id.clone();
    if state
        .in_tenant(&principal, move |s, t| s.agent(t, &a))
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!(
            "no agent {agent_id:?}; create it with POST /v1/agents first"
        )));
    }
    if current.agents.contains(&agent_id) {
        return Ok(Json(policy_view(&current)));
    }
    let mut next = current.clone();
    next.agents.push(agent_id.clone());
    let action = AdminAction::new(
        "policy.agent_attached",
        "policy",
        &id,
        format!(
            "policy {:?} now applies to agent {agent_id:?}",
            current.name
        ),
    )
    .before(json!({"agents": current.agents}))
    .after(json!({"agents": next.agents}));
    let change = GuardrailChange::AttachPolicy {
        tenant: principal.tenant.clone(),
        policy_id: id,
        agent_id,
        at: format_time(&state.clock().now()),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(Json(policy_view(&next)))
}

pub(crate) async fn detach(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, agent_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::Manage)?;
    let current = find(&state, &principal, &id, None).await?;
    if !current.agents.contains(&agent_id) {
        return Err(ApiError::not_found(format!(
            "policy {id:?} is not attached to agent {agent_id:?}"
        )));
    }
    let action = AdminAction::new(
        "policy.agent_detached",
        "policy",
        &id,
        format!(
            "policy {:?} no longer applies to agent {agent_id:?}",
            current.name
        ),
    );
    let change = GuardrailChange::DetachPolicy {
        tenant: principal.tenant.clone(),
        policy_id: id,
        agent_id,
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
