//! `GET /metrics` for Prometheus: open to anyone only when the operator
//! said so (`FLIGHTREC_METRICS_PUBLIC=true`), else to a caller with the
//! `read` permission in the operators' tenant.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::metrics::{CONTENT_TYPE, Metrics};
use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE as CONTENT_TYPE_HEADER};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, mut parts: Parts) -> ApiResult<impl IntoResponse> {
    if !state.metrics().is_public() {
        Principal::from_request_parts(&mut parts, &state)
            .await?
            .require_operator_read()?;
    }
    let witnesses: Vec<String> = state
        .witnessing()
        .witnesses()
        .iter()
        .map(|w| w.verifier().name().to_owned())
        .collect();
    let store = state.store();
    // A store that does not answer still leaves the process's own figures
    // readable: the scrape succeeds and says so in `flightrec_store_up`.
    let reading =
        tokio::task::spawn_blocking(move || Metrics::read_store(store.as_ref(), &witnesses))
            .await
            .ok()
            .flatten();
    let body = state.metrics().render(
        reading.as_ref(),
        state.sequencer().queued_bytes(),
        state.clock().now(),
    );
    Ok((
        [
            (CONTENT_TYPE_HEADER, CONTENT_TYPE),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    ))
}
