//! The AgentAudit-compatible API under `/api/v1` (docs/api.md, "The
//! AgentAudit-compatible API"), so a client written for that service works
//! by changing only its base URL and key.
//!
//! Every route here translates that API's request into the native route's,
//! calls the native handler, and translates the answer. Nothing here
//! records, checks or queries on its own: authentication, permissions, rate
//! limits, masking, compliance rules and agent binding are the native
//! routes'. Errors keep the native shape, which is already that API's
//! `{error, status}` (with `code` besides).

mod agents;
mod alerts;
mod audit_logs;
mod auth;
mod log_shape;
mod policies;
mod query;
mod traces;

use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(audit_logs::router())
        .merge(auth::router())
        .merge(agents::router())
        .merge(alerts::router())
        .merge(policies::router())
        .merge(traces::router())
        // That API's clients check connectivity here.
        .route("/api/v1/health", get(crate::routes::health::healthz))
}

/// A translated request body for a native handler.
fn json_body(value: &Value) -> Body {
    Body::from(value.to_string())
}
