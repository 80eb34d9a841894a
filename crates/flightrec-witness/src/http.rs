//! The witness over HTTP: `POST /add-checkpoint` (c2sp.org/tlog-witness),
//! with the submission prefix at the root, and a plain-text `GET /` for
//! operators.
//!
//! Bodies are plain text, as in the spec. A refusal's body is one line
//! saying why; a 409's body is the witness's size with the
//! `text/x.tlog.size` content type; a 500 says only that something failed
//! inside, and the details go to the log.
//!
//! Not here: TLS (put the witness behind a TLS-terminating proxy, or a
//! bastion), rate limits, or the monitoring prefix, which the spec has not
//! defined yet.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::add_checkpoint::{
    AddCheckpointError, MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE, encode_size,
};
use crate::witness::Witness;

const TEXT: &str = "text/plain; charset=utf-8";

/// The witness's routes. Bodies above [`MAX_REQUEST_BYTES`] are refused
/// with 413 unread.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/", get(describe))
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    witness: Arc<Witness>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    // Storing fsyncs: keep it off the async workers.
    let outcome = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await;
    match outcome {
        Ok(Ok(cosignature)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, TEXT)], cosignature).into_response()
        }
        Ok(Err(refusal)) => refusal.into_response(),
        Err(panic) => {
            tracing::error!("add-checkpoint handler failed: {panic}");
            internal_error()
        }
    }
}

impl IntoResponse for AddCheckpointError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(size) = self.witness_size() {
            return (
                status,
                [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
                encode_size(size),
            )
                .into_response();
        }
        if let AddCheckpointError::Internal(error) = &self {
            tracing::error!("add-checkpoint failed inside the witness: {error}");
            return internal_error();
        }
        (status, [(header::CONTENT_TYPE, TEXT)], format!("{self}\n")).into_response()
    }
}

fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, TEXT)],
        "the witness failed internally and did not cosign; try again later\n",
    )
        .into_response()
}

/// A short description for operators: the witness's vkey and the logs it
/// follows with the size it last cosigned for each. Not part of
/// tlog-witness; nothing should parse it.
async fn describe(State(witness): State<Arc<Witness>>) -> Response {
    let vkey = witness.verifier();
    // Reading a log's record may wait for a store in progress (an fsync).
    let Ok(logs) = tokio::task::spawn_blocking(move || witness.logs()).await else {
        return internal_error();
    };
    let mut text = format!(
        "flightrec witness: a C2SP tlog-witness (https://c2sp.org/tlog-witness).\n\
         Submit checkpoints with POST /add-checkpoint.\n\
         \n\
         vkey {vkey}\n\
         \n"
    );
    if logs.is_empty() {
        text.push_str("It follows no logs.\n");
    }
    for (verifier, latest) in logs {
        let size = latest.map_or_else(|| "none yet".to_owned(), |head| head.size.to_string());
        text.push_str(&format!("log {verifier} cosigned size {size}\n"));
    }
    ([(header::CONTENT_TYPE, TEXT)], text).into_response()
}
