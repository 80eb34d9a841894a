//! `GET /v1/runs/{id}/export?format=gif[&max_gap_ms=]`: the run's replay
//! as an animated GIF (`flightrec_core::export::animation`), folded and
//! drawn event by event on a blocking thread and streamed as it is
//! encoded, in constant memory. Drawing costs CPU (about 2 ms an event),
//! so a GIF is refused for runs longer than [`MAX_GIF_EVENTS`] and at most
//! [`CONCURRENT_GIFS`] are drawn at once.

use super::export::{attachment, tokio_stream_from};
use crate::error::{ApiError, ApiResult};
use crate::run_pages::walk_steps;
use crate::state::AppState;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use flightrec_core::export::animation::GifReplay;
use flightrec_core::replay::RunState;
use flightrec_store::{RunRecordsQuery, RunSummary};
use std::io::Write;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::Sender;

/// The idle gap a frame is held at most, unless `max_gap_ms` says.
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(2);
/// The longest run drawn: about 20 s and 70 MB of GIF.
pub const MAX_GIF_EVENTS: u64 = 10_000;
/// GIFs drawn at once; another request meanwhile is a 503.
pub const CONCURRENT_GIFS: usize = 2;
/// A client that reads nothing for this long is given up on.
const STALLED: Duration = Duration::from_secs(60);

static DRAWING: Semaphore = Semaphore::const_new(CONCURRENT_GIFS);

pub fn gif(
    state: &AppState,
    tenant: String,
    run: RunSummary,
    max_gap: Duration,
    file: &str,
) -> ApiResult<Response> {
    if run.event_count > MAX_GIF_EVENTS {
        return Err(ApiError::bad_request(
            "run_too_long",
            format!(
                "run {:?} has {} events; a GIF is drawn for runs of up to {MAX_GIF_EVENTS}: export it as html or asciicast instead",
                run.run_id, run.event_count
            ),
        ));
    }
    let permit = DRAWING.try_acquire().map_err(|_| {
        ApiError::unavailable(format!(
            "{CONCURRENT_GIFS} GIFs are being drawn already; try again in a moment"
        ))
    })?;
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    let store = state.store();
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || {
        let _drawing = permit;
        let out = Chunks {
            buffer: Vec::new(),
            to: chunks.clone(),
            handle,
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
    Ok((
        attachment("image/gif", &format!("{file}.gif")),
        Body::from_stream(tokio_stream_from(body)),
    )
        .into_response())
}

/// Bytes sent on in chunks of [`CHUNK`], from the blocking thread.
struct Chunks {
    buffer: Vec<u8>,
    to: Sender<Result<Vec<u8>, std::io::Error>>,
    handle: Handle,
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
        let sent = self
            .handle
            .block_on(tokio::time::timeout(STALLED, self.to.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading",
            )),
        }
    }
}
