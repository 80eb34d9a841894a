//! `/api/v1/auth`: sign-in (the native answer already has that API's
//! `{accessToken, organization}`) and API keys as `{key, id, name}`.

use super::json_body;
use crate::auth::Principal;
use crate::body::{ADMIN_BODY_LIMIT, read_json};
use crate::error::{ApiError, ApiResult};
use crate::routes::auth;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/api-keys", post(create_key))
}

/// What a key may do when the request names no scopes: record and read,
/// as that API's keys do; administration needs `scopes: ["admin"]`.
const DEFAULT_SCOPES: [&str; 2] = ["ingest", "read"];

/// `{name, scopes?, agentId?}` → `201 {key, id, name, prefix, scopes, agentId, createdAt}`.
async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Value::Object(mut request) = read_json(body, ADMIN_BODY_LIMIT).await? else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object: {name, scopes?, agentId?}",
        ));
    };
    if let Some(agent) = request.remove("agentId") {
        if request.contains_key("agent_id") {
            return Err(ApiError::bad_request(
                "invalid_body",
                "give `agentId` or `agent_id`, not both",
            ));
        }
        request.insert("agent_id".into(), agent);
    }
    request
        .entry("scopes")
        .or_insert_with(|| json!(DEFAULT_SCOPES));
    let (status, Json(key)) =
        auth::create_key(State(state), principal, json_body(&Value::Object(request))).await?;
    Ok((
        status,
        Json(json!({
            "key": key["key"],
            "id": key["id"],
            "name": key["name"],
            "prefix": key["prefix"],
            "scopes": key["scopes"],
            "agentId": key["agent_id"],
            "createdAt": key["created_at"],
        })),
    ))
}
