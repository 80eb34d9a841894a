//! Liveness and readiness.

use crate::error::{ApiError, ApiResult};
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
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store answers reads and the sequencer runs; else 503.
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if !state.sequencer().is_running() {
        return Err(ApiError::unavailable(
            "the sequencer has stopped: nothing can be recorded; see the server's log",
        ));
    }
    state.blocking(|store| store.tenants()).await?;
    Ok(Json(json!({"status": "ready"})))
}
