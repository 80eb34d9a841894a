//! `GET /v1/runs/{id}/export?format=gif[&max_gap_ms=]`: the run's replay
//! as an animated GIF (`flightrec_core::export::animation`), folded and
//! drawn event by event on a blocking thread and streamed as it is
//! encoded, so a run of any length takes constant memory.

use super::export::{attachment, tokio_stream_from};
use crate::run_pages::walk_steps;
use crate::state::AppState;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use flightrec_core::export::animation::GifReplay;
use flightrec_core::replay::RunState;
use flightrec_store::{RunRecordsQuery, RunSummary};
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

/// The idle gap a frame is held at most, unless `max_gap_ms` says.
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(2);

pub fn gif(
    state: &AppState,
    tenant: String,
    run: RunSummary,
    max_gap: Duration,
    file: &str,
) -> Response {
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    let store = state.store();
    tokio::task::spawn_blocking(move || {
        let out = Chunks {
            buffer: Vec::new(),
            to: chunks.clone(),
        };
        let outcome = (|| {
            let mut gif = GifReplay::new(out, &run.run_id, run.event_count, max_gap)?;
            let mut state = RunState::default();
            let mut failure = None;
            walk_steps(
                store.as_ref(),
                &tenant,
                &run.run_id,
                RunRecordsQuery::default(),
                0,
                &mut |step| {
                    state.apply(step);
                    match gif.frame(step, &state) {
                        Ok(()) => true,
                        Err(e) => {
                            failure = Some(e);
                            false
                        }
                    }
                },
            )
            .map_err(std::io::Error::other)?;
            if let Some(e) = failure {
                return Err(e);
            }
            let (mut out, _frames) = gif.finish()?;
            out.flush()
        })();
        if let Err(e) = outcome {
            // The client went away, or the store failed part-way: the
            // response ends cut off, which the client sees.
            tracing::warn!(run = %run.run_id, error = %e, "a GIF export stopped part-way");
            let _ = chunks.blocking_send(Err(e));
        }
    });
    (
        attachment("image/gif", &format!("{file}.gif")),
        Body::from_stream(tokio_stream_from(body)),
    )
        .into_response()
}

/// Bytes sent on in chunks of [`CHUNK`].
struct Chunks {
    buffer: Vec<u8>,
    to: Sender<Result<Vec<u8>, std::io::Error>>,
}

const CHUNK: usize = 64 * 1024;

impl Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buffer);
        self.to.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}
