//! `/api/v1/agents`: that API's `{name, type, description?, config?}` agents,
//! kept as native agents with those fields in their `metadata`.

use super::json_body;
use crate::auth::Principal;
use crate::body::{ADMIN_BODY_LIMIT, read_json};
use crate::error::{ApiError, ApiResult};
use crate::routes::agents;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/agents", get(list).post(create))
}

/// That API's agent fields that flightrec keeps in the agent's `metadata`.
const KEPT_IN_METADATA: [&str; 3] = ["type", "description", "config"];

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Value::Object(mut request) = read_json(body, ADMIN_BODY_LIMIT).await? else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object: {name, type?, description?, config?}",
        ));
    };
    let mut metadata = match request.remove("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "`metadata` must be an object",
            ));
        }
    };
    for field in KEPT_IN_METADATA {
        if let Some(value) = request.remove(field).filter(|v| !v.is_null()) {
            metadata.insert(field.to_owned(), value);
        }
    }
    request.insert("metadata".into(), Value::Object(metadata));
    let (status, Json(agent)) =
        agents::create(State(state), principal, json_body(&Value::Object(request))).await?;
    Ok((status, Json(agent_shape(&agent))))
}

/// → a JSON array of agents.
async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let Json(answer) = agents::list(State(state), principal).await?;
    let shown: Vec<Value> = answer["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(agent_shape)
        .collect();
    Ok(Json(Value::Array(shown)))
}

/// `{id, name, type, description, config, organizationId, metadata, createdAt, updatedAt}`.
fn agent_shape(agent: &Value) -> Value {
    let metadata = &agent["metadata"];
    json!({
        "id": agent["id"],
        "name": agent["name"],
        "type": metadata.get("type").cloned().unwrap_or_else(|| json!("custom")),
        "description": metadata["description"],
        "config": metadata["config"],
        "organizationId": agent["organizationId"],
        "metadata": metadata,
        "createdAt": agent["createdAt"],
        // Agents are never edited, so they were last updated when created.
        "updatedAt": agent["createdAt"],
    })
}
