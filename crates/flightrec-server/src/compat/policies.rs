//! `/api/v1/policies` and `/api/v1/compliance-rules/packs`: packs, policies
//! cloned from them and attached to agents, in that API's shapes (its
//! clients read policies in snake case).

use super::json_body;
use crate::auth::Principal;
use crate::body::{ADMIN_BODY_LIMIT, read_json};
use crate::error::{ApiError, ApiResult};
use crate::routes::{policies, rules};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/compliance-rules/packs",
            get(rules::list_packs).post(rules::install_pack),
        )
        .route("/api/v1/policies", get(list))
        .route("/api/v1/policies/clone-pack", post(clone_pack))
        .route("/api/v1/policies/{id}", get(show))
        .route("/api/v1/policies/{id}/agents", post(attach).delete(detach))
}

async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let Json(answer) = policies::list(State(state), principal).await?;
    let shown: Vec<Value> = answer["policies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| policy_shape(p, None))
        .collect();
    Ok(Json(Value::Array(shown)))
}

/// `{packId, name?, description?, mode?, priority?, conditions?}` → `201`, the policy.
/// flightrec's policies raise alerts (and redact) but never block, so a
/// `block` mode is refused; `priority` and `conditions` have no effect.
async fn clone_pack(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = read_json(body, ADMIN_BODY_LIMIT).await?;
    if !request.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object: {packId, name?}",
        ));
    }
    match &request["mode"] {
        Value::Null => {}
        Value::String(m) if m == "flag" || m == "log" => {}
        other => {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!(
                    "`mode` must be flag or log (flightrec's policies alert and never block), not {other}"
                ),
            ));
        }
    }
    let native = json!({"packId": request["packId"], "name": request["name"]});
    let (status, Json(policy)) =
        policies::clone_pack(State(state), principal, json_body(&native)).await?;
    Ok((
        status,
        Json(policy_shape(&policy, request["packId"].as_str())),
    ))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Json(policy) = policies::show(State(state), principal, Path(id), RawQuery(None)).await?;
    Ok(Json(policy_shape(&policy, None)))
}

/// `{agentId}` → `{id, agent_id, policy_id, created_at}`, the assignment.
async fn attach(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request = read_json(body, ADMIN_BODY_LIMIT).await?;
    let (policy_id, agent_id) = (id.clone(), request["agentId"].clone());
    let Json(policy) =
        policies::attach(State(state), principal, Path(id), json_body(&request)).await?;
    Ok(Json(json!({
        "id": format!("{policy_id}:{}", agent_id.as_str().unwrap_or_default()),
        "agent_id": agent_id,
        "policy_id": policy_id,
        "created_at": policy["updated_at"],
    })))
}

/// `{agentId}` in the body (as that API's clients send it) →
/// `{policy_id, agent_id, removed: true}`.
async fn detach(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request = read_json(body, ADMIN_BODY_LIMIT).await?;
    let Some(agent_id) = request["agentId"].as_str().map(str::to_owned) else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be {\"agentId\": \"<agent id>\"}",
        ));
    };
    policies::detach(
        State(state),
        principal,
        Path((id.clone(), agent_id.clone())),
    )
    .await?;
    Ok(Json(
        json!({"policy_id": id, "agent_id": agent_id, "removed": true}),
    ))
}

/// The keys that API's clients construct a policy from, and no others.
fn policy_shape(policy: &Value, pack: Option<&str>) -> Value {
    let agents: Vec<Value> = policy["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| json!({"id": a}))
        .collect();
    json!({
        "id": policy["id"],
        "name": policy["name"],
        "is_active": true,
        "mode": "flag",
        "priority": 0,
        "conditions": null,
        "source_pack_id": pack,
        "description": policy["description"],
        "rules": policy["rules"],
        "agents": agents,
        "created_at": policy["created_at"],
    })
}
