//! flightrec's HTTP server.
//!
//! [`app`] builds the router over an [`AppState`]; [`serve`] runs it on a
//! listener until a shutdown signal. Requests are validated at the edge
//! ([`ingest`]), sequenced and committed in groups ([`sequencer`]), and
//! every error leaves as the JSON shape of DESIGN §7 ([`error`]).
//!
//! Not here: SQL (that is `flightrec-store`), or parsing the command line.

pub mod admin_actions;
pub mod auth;
mod body;
pub mod bootstrap;
mod compat;
pub mod cors;
mod cursor;
mod dashboard;
pub mod demo;
pub mod error;
pub mod guardrails;
mod ingest;
mod lease;
mod lifecycle;
pub mod metrics;
mod otlp;
mod params;
mod reports;
mod routes;
mod run_comparison;
mod run_pages;
mod run_timelines;
mod search_indexer;
pub mod sequencer;
mod state;
pub mod webhooks;
pub mod witnessing;

pub use cors::CorsOrigins;
pub use state::AppState;

use axum::Router;
use axum::response::{IntoResponse, Response};
use error::ApiError;
use flightrec_core::record::{Receipt, SubmittedBy};
use std::future::Future;
use tokio::net::TcpListener;

/// The whole HTTP application; pages of `cors` origins may call it.
pub fn app(state: AppState, cors: &CorsOrigins) -> Router {
    let router = routes::router()
        .merge(dashboard::router())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        // Outside the panic catcher, so a panic counts as the 500 it
        // became; a `Router::layer` runs after routing, so it sees the
        // matched route.
        .layer(axum::middleware::from_fn_with_state(
            state.metrics().clone(),
            metrics::http::record,
        ));
    // Outermost: a preflight is answered before routing could refuse it.
    match cors.layer() {
        Some(cors) => router.layer(cors),
        None => router,
    }
    .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then lets
/// requests in flight finish; sends webhooks meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    cors: &CorsOrigins,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::spawn(webhooks::run(state.clone()));
    tokio::spawn(witnessing::run(state.clone()));
    tokio::spawn(lifecycle::run(state.clone()));
    tokio::spawn(reports::run(state.clone()));
    // The client's address, for the limits on unauthenticated routes.
    let app = app(state, cors).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Records the demo (DESIGN's `serve --demo`) through the same pipeline as
/// the API, and, in a tenant that holds no client's records (a store made
/// for the demo), gives it the retention the demo's story sets (a real
/// setting, recorded as flightrec's change); loading it again changes
/// nothing.
pub async fn load_demo(state: &AppState, tenant: &str) -> Result<Vec<Receipt>, ApiError> {
    let values = demo::demo_events(state.clock().now());
    // The demo is flightrec's own doing, not any key's.
    let batch = ingest::prepare(state, tenant, &SubmittedBy::Flightrec, values, true).await?;
    let receipts = ingest::append(state, batch).await?;
    routes::settings::set_demo_retention(state, tenant).await?;
    Ok(receipts)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::internal("a request handler panicked", &what).into_response()
}
