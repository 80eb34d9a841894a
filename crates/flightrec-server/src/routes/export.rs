//! `GET /v1/events/export`: the verifiable JSONL export, streamed.
//!
//! Every record covered by the newest checkpoint that matches the filters,
//! oldest first, one per line (header, body, salt), then the checkpoint and
//! the public key. An unfiltered export is the whole log and is checked by
//! rebuilding the tree; a filtered one carries an inclusion proof per line.
//! `flightrec verify --export` checks either offline.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::event_filter;
use crate::routes::log::latest;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use flightrec_core::export::record_line;
use flightrec_store::{EventFilter, EventQuery, Store, StoreError};
use serde_json::json;
use std::sync::Arc;

/// Records read per page while streaming.
const PAGE: usize = 1000;

pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    principal.require(Permission::Export)?;
    let mut params = Params::parse(query.as_deref())?;
    let format = params.take("format").unwrap_or_else(|| "jsonl".into());
    if format != "jsonl" {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("`format` {format:?} is not available here; use jsonl"),
        ));
    }
    let filter = event_filter(&mut params, &state)?;
    params.finish()?;
    let checkpoint = latest(&state, &principal).await?;
    let key = state
        .checkpointing()
        .verifier(&principal.tenant)
        .map_err(|e| ApiError::internal("no verifier key", &e))?
        .to_key_string();

    let (lines, body) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
    let store = state.store();
    let tenant = principal.tenant.clone();
    tokio::task::spawn_blocking(move || {
        let sent = write_records(&store, &tenant, filter, checkpoint.size, &lines);
        let tail = match sent {
            Ok(()) => Ok(format!(
                "{}\n{}\n",
                json!({"checkpoint": checkpoint.note}),
                json!({"public_key": key})
            )),
            Err(e) => {
                tracing::error!(error = %e, "export failed part-way");
                // Cut the stream short, so the client sees a broken transfer
                // rather than a complete-looking export.
                Err(std::io::Error::other("the export failed part-way"))
            }
        };
        let _ = lines.blocking_send(tail);
    });
    let stream = tokio_stream_from(body);
    Ok((
        [
            (CONTENT_TYPE, "application/x-ndjson"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"flightrec-export.jsonl\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

fn write_records(
    store: &Arc<dyn Store>,
    tenant: &str,
    filter: EventFilter,
    size: u64,
    lines: &tokio::sync::mpsc::Sender<Result<String, std::io::Error>>,
) -> Result<(), StoreError> {
    let whole_log = filter == EventFilter::default();
    let mut after: Option<u64> = None;
    loop {
        let page = store.records(
            tenant,
            &EventQuery {
                filter: filter.clone(),
                limit: PAGE,
                after_seq: after,
                before_seq: Some(size),
                ascending: true,
                offset: 0,
            },
        )?;
        let mut chunk = String::new();
        for record in &page.items {
            let proof = if whole_log {
                None
            } else {
                Some(store.inclusion_proof(tenant, record.header.seq, size)?)
            };
            chunk.push_str(&record_line(record, proof.as_ref()));
            chunk.push('\n');
        }
        if !chunk.is_empty() && lines.blocking_send(Ok(chunk)).is_err() {
            return Ok(()); // the client went away
        }
        match page.items.last() {
            Some(last) if page.more => after = Some(last.header.seq),
            _ => return Ok(()),
        }
    }
}

/// A receiver as a byte stream.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
