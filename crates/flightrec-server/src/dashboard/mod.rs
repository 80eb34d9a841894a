//! The web dashboard, served at `/` by the same binary.
//!
//! Pages are rendered on the server from askama templates (`templates/`)
//! and enhanced by small script modules (`assets/`), both embedded at build
//! time, so nothing is fetched from any other host. The audit log and a
//! run's timeline read the store directly, which keeps them fast on big
//! logs; the scripts use the JSON API (with the session cookie and its CSRF
//! token) for the player, the trace, alerts, proofs and settings.

mod assets;
mod audit;
mod chart;
mod compare;
mod connect;
mod filters;
mod format;
mod pages;
mod runs;
mod security;
mod stats;
mod viewer;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(audit::page))
        .route("/audit/rows", get(audit::new_rows))
        .route("/login", get(pages::login))
        .route("/connect", get(connect::page))
        .route("/events/{id}", get(audit::event_page))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::run))
        .route("/runs/{id}/trace", get(pages::trace))
        .route("/runs/{id}/compare", get(compare::page))
        .route("/alerts", get(pages::alerts))
        .route("/reports", get(pages::reports))
        .route("/stats", get(stats::page))
        .route("/integrity", get(pages::integrity))
        .route("/settings", get(pages::settings))
        .route("/assets/{file}", get(assets::serve))
        .layer(middleware::map_response(security::headers))
}
