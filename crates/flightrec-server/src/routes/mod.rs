//! The HTTP API (DESIGN §7), one file per resource.

pub mod admin;
pub mod agents;
pub mod alerts;
pub mod auth;
pub mod encryption;
pub mod erasures;
pub mod event_stream;
pub mod events;
pub mod export;
pub mod export_gif;
pub mod health;
pub mod log;
pub mod metrics;
pub mod openapi;
pub mod policies;
pub mod replay;
pub mod reports;
pub mod rules;
pub mod run_compare;
pub mod run_state;
pub mod run_tree;
pub mod runs;
pub mod settings;
pub mod stats;
pub mod users;
pub mod webhooks;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{StatusCode, Uri};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(events::router())
        .merge(encryption::router())
        .merge(runs::router())
        .merge(run_state::router())
        .merge(run_compare::router())
        .merge(run_tree::router())
        .merge(replay::router())
        .merge(log::router())
        .merge(metrics::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(settings::router())
        .merge(erasures::router())
        .merge(reports::router())
        .merge(stats::router())
        .merge(admin::router())
        .merge(agents::router())
        .merge(rules::router())
        .merge(policies::router())
        .merge(alerts::router())
        .merge(webhooks::router())
        .merge(crate::otlp::router())
        .merge(crate::compat::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take this method", uri.path()),
    )
}
