//! Liveness and readiness.

use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store answers reads; else 503.
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.blocking(|store| store.tenants()).await?;
    Ok(Json(json!({"status": "ready"})))
}
