//! `/api/v1/traces/{traceId}`: a trace is a run; its span tree is the
//! native `/v1/runs/{id}/tree`, under that API's names.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::routes::run_tree;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/traces/{id}", get(trace))
}

async fn trace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Json(tree) = run_tree::tree(State(state), principal, Path(id)).await?;
    let spans: Vec<Value> = tree["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .map(span_shape)
        .collect();
    Ok(Json(json!({
        "traceId": tree["run_id"],
        "spans": spans,
        "logsWithoutSpan": tree["events_without_span"],
        "logCount": tree["event_count"],
    })))
}

fn span_shape(span: &Value) -> Value {
    let children: Vec<Value> = span["children"]
        .as_array()
        .into_iter()
        .flatten()
        .map(span_shape)
        .collect();
    json!({
        "spanId": span["span_id"],
        "parentSpanId": span["parent_span_id"],
        "name": span["name"],
        "startedAt": span["first_time"],
        "endedAt": span["last_time"],
        "durationMs": span["duration_ms"],
        "status": span["status"],
        "logSeqs": span["events"],
        "children": children,
    })
}
