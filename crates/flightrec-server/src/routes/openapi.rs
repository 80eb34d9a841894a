//! `GET /openapi.json`: the API described in OpenAPI 3.1. The description
//! is `docs/openapi.json`, built in; a test holds it to the routes the
//! router serves (`tests/openapi_routes.rs`), and CI validates it and runs
//! schemathesis against the live binary (`tests/openapi/run`).

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const SPEC: &str = include_str!("../../../../docs/openapi.json");

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SPEC)
}
