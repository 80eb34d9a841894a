//! `/api/v1/alerts`: the native alerts as that API's compliance alerts.

use super::query;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::routes::alerts;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/{id}/resolve", patch(resolve).post(resolve))
}

/// `?isResolved=true|false&severity&agentId&limit` → a JSON array of alerts,
/// newest first.
async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut pairs = query::rename(
        raw.as_deref(),
        &[
            ("agentId", "agent_id"),
            ("traceId", "run_id"),
            ("ruleId", "rule_id"),
            ("auditLogId", "event_id"),
        ],
    );
    if let Some(resolved) = query::value(&pairs, "isResolved").map(str::to_owned) {
        let status = match resolved.as_str() {
            "true" => "resolved",
            "false" => "open",
            other => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("`isResolved` must be true or false, not {other:?}"),
                ));
            }
        };
        pairs.retain(|(k, _)| k != "isResolved");
        pairs.push(("status".into(), status.into()));
    }
    let Json(answer) =
        alerts::list(State(state), principal, RawQuery(query::encode(&pairs))).await?;
    let shown: Vec<Value> = answer["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(alert_shape)
        .collect();
    Ok(Json(Value::Array(shown)))
}

async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Json(alert) = alerts::resolve(State(state), principal, Path(id)).await?;
    Ok(Json(alert_shape(&alert)))
}

/// The native alert under that API's names; it never holds the value found.
fn alert_shape(alert: &Value) -> Value {
    json!({
        "id": alert["id"],
        "ruleId": alert["rule_id"],
        "ruleName": alert["rule_name"],
        "severity": alert["severity"],
        "message": format!(
            "{} in {}: {}",
            alert["rule_name"].as_str().unwrap_or_default(),
            alert["path"].as_str().unwrap_or_default(),
            alert["excerpt"].as_str().unwrap_or_default(),
        ),
        "auditLogId": alert["event_id"],
        "agentId": alert["agent_id"],
        "traceId": alert["run_id"],
        "policyId": alert["policy_id"],
        "isResolved": alert["status"] == "resolved",
        "createdAt": alert["created_at"],
        "resolvedAt": alert["resolved_at"],
        "resolvedBy": alert["resolved_by"],
    })
}
