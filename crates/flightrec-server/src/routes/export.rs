//! Exports, streamed in constant memory: `GET /v1/events/export?<filters>`
//! and `GET /v1/runs/{id}/export`, with `format=` one of `jsonl`, `json`,
//! `csv`, `transcript`, `asciicast`, `html` (see
//! `flightrec_core::export`).
//!
//! `jsonl` is the verifiable export: every record that matches, up to a
//! checkpoint signed when the export starts (so nothing acknowledged before
//! it is left out), oldest first, one per line (header, body,
//! salt), then the checkpoint and the public key. An unfiltered export is
//! the whole log and is checked by rebuilding the tree; a filtered one (a
//! run's, say) carries an inclusion proof per line. `flightrec verify
//! --export` checks either offline. The other formats are for reading: a
//! run's in run order, a filter's oldest first.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::event_filter;
use crate::routes::log::{covering_checkpoint, with_cosignatures};
use crate::run_pages::walk_run;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use flightrec_core::event::format_time;
use flightrec_core::export::{FORMATS, Subject, Writer, push_record_line, writer};
use flightrec_core::record::StoredRecord;
use flightrec_store::{EventFilter, EventQuery, RunRecordsQuery, Store, StoreError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Records read per page while streaming.
const PAGE: usize = 1000;

/// `GET /v1/events/export`.
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    principal.require(Permission::Export)?;
    let mut params = Params::parse(query.as_deref())?;
    let format = params.take("format").unwrap_or_else(|| "jsonl".into());
    let filter = event_filter(&mut params, &state)?;
    params.finish()?;
    let subject = Subject {
        title: "Events".into(),
        run_id: None,
        exported_at: format_time(&state.clock().now()),
    };
    if format == "jsonl" {
        return verifiable(&state, &principal, filter, "flightrec-export").await;
    }
    let writer = writer_for(&format, false)?;
    Ok(formatted(
        &state,
        &principal,
        Source::Filter(Box::new(filter)),
        subject,
        writer,
        &format,
        "flightrec-export",
    ))
}

/// `GET /v1/runs/{id}/export`.
pub async fn export_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    principal.require(Permission::Export)?;
    let mut params = Params::parse(query.as_deref())?;
    let format = params.take("format").unwrap_or_else(|| "json".into());
    let max_gap = params.take_parsed("max_gap_ms", |v| {
        v.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("must be a whole number of milliseconds, not {v:?}"))
    })?;
    params.finish()?;
    let run = super::runs::existing_run(&state, &principal, &run_id).await?;
    let name = format!("run-{}", file_safe(&run_id));
    if format == "gif" {
        let max_gap = max_gap.unwrap_or(super::export_gif::DEFAULT_MAX_GAP);
        return super::export_gif::gif(&state, principal.tenant.clone(), run, max_gap, &name);
    }
    if max_gap.is_some() {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`max_gap_ms` applies to format=gif only",
        ));
    }
    if format == "jsonl" {
        let filter = EventFilter {
            run_id: Some(run_id),
            ..Default::default()
        };
        return verifiable(&state, &principal, filter, &name).await;
    }
    let writer = writer_for(&format, true)?;
    let subject = Subject {
        title: format!("Run {run_id}"),
        run_id: Some(run_id.clone()),
        exported_at: format_time(&state.clock().now()),
    };
    Ok(formatted(
        &state,
        &principal,
        Source::Run(run_id),
        subject,
        writer,
        &format,
        &name,
    ))
}

/// The writer of a readable `format`; a run's export also takes `gif`.
fn writer_for(format: &str, run: bool) -> ApiResult<Box<dyn Writer>> {
    writer(format).ok_or_else(|| {
        let known: Vec<&str> = std::iter::once("jsonl")
            .chain(FORMATS.iter().map(|f| f.0))
            .chain(run.then_some("gif"))
            .collect();
        ApiError::bad_request(
            "invalid_parameter",
            format!(
                "`format` must be one of {}, not {format:?}",
                known.join(", ")
            ),
        )
    })
}

/// A run id as part of a file name.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

pub(super) fn attachment(content_type: &str, file: &str) -> [(axum::http::HeaderName, String); 2] {
    [
        (CONTENT_TYPE, content_type.to_owned()),
        (
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ),
    ]
}

/// What a readable export walks.
enum Source {
    Run(String),
    Filter(Box<EventFilter>),
}

fn formatted(
    state: &AppState,
    principal: &Principal,
    source: Source,
    subject: Subject,
    mut writer: Box<dyn Writer>,
    format: &str,
    name: &str,
) -> Response {
    let (content_type, extension) = FORMATS
        .iter()
        .find(|f| f.0 == format)
        .map(|f| (f.1, f.2))
        .unwrap_or(("application/octet-stream", "bin"));
    let (lines, body) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
    let store = state.store();
    let tenant = principal.tenant.clone();
    tokio::task::spawn_blocking(move || {
        if lines.blocking_send(Ok(writer.head(&subject))).is_err() {
            return;
        }
        let mut emit = |records: &[StoredRecord]| -> bool {
            let mut chunk = String::new();
            for r in records {
                match r.to_event_json() {
                    Ok(event) => chunk.push_str(&writer.event(&event)),
                    Err(e) => {
                        tracing::error!(seq = r.header.seq, error = %e, "a stored body did not parse; left out of the export")
                    }
                }
            }
            chunk.is_empty() || lines.blocking_send(Ok(chunk)).is_ok()
        };
        let walked = match source {
            Source::Run(run_id) => walk_run(
                store.as_ref(),
                &tenant,
                &run_id,
                RunRecordsQuery::default(),
                &mut emit,
            ),
            Source::Filter(filter) => walk_filter(&store, &tenant, *filter, None, &mut emit),
        };
        let last = match walked {
            Ok(()) => Ok(writer.tail()),
            Err(e) => {
                tracing::error!(error = %e, "export failed part-way");
                Err(std::io::Error::other("the export failed part-way"))
            }
        };
        let _ = lines.blocking_send(last);
    });
    (
        attachment(content_type, &format!("{name}.{extension}")),
        Body::from_stream(tokio_stream_from(body)),
    )
        .into_response()
}

/// Calls `emit` with each page of matching records, oldest first, below
/// `before` when given.
fn walk_filter(
    store: &Arc<dyn Store>,
    tenant: &str,
    filter: EventFilter,
    before: Option<u64>,
    emit: &mut dyn FnMut(&[StoredRecord]) -> bool,
) -> Result<(), StoreError> {
    let mut after: Option<u64> = None;
    loop {
        let page = store.records(
            tenant,
            &EventQuery {
                filter: filter.clone(),
                limit: PAGE,
                after_seq: after,
                before_seq: before,
                ascending: true,
                offset: 0,
            },
        )?;
        if !emit(&page.items) {
            return Ok(());
        }
        match page.items.last() {
            Some(last) if page.more => after = Some(last.header.seq),
            _ => return Ok(()),
        }
    }
}

/// The verifiable JSONL export of what `filter` matches.
async fn verifiable(
    state: &AppState,
    principal: &Principal,
    filter: EventFilter,
    name: &str,
) -> ApiResult<Response> {
    let checkpoint = covering_checkpoint(state, principal).await?;
    let size = checkpoint.size;
    // With the witnesses' cosignatures gathered so far, as every other
    // route that serves a checkpoint gives it.
    let note = with_cosignatures(state, &principal.tenant, checkpoint).await?;
    let key = state
        .checkpointing()
        .verifier(&principal.tenant)
        .map_err(|e| ApiError::internal("no verifier key", &e))?
        .to_key_string();

    let (lines, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    let store = state.store();
    let tenant = principal.tenant.clone();
    tokio::task::spawn_blocking(move || {
        let sent = write_records(&store, &tenant, filter, size, &lines);
        let tail = match sent {
            Ok(()) => Ok(format!(
                "{}\n{}\n",
                json!({"checkpoint": note}),
                json!({"public_key": key})
            )
            .into_bytes()),
            Err(e) => {
                tracing::error!(error = %e, "export failed part-way");
                // Cut the stream short, so the client sees a broken transfer
                // rather than a complete-looking export.
                Err(std::io::Error::other("the export failed part-way"))
            }
        };
        let _ = lines.blocking_send(tail);
    });
    Ok((
        attachment("application/x-ndjson", &format!("{name}.jsonl")),
        Body::from_stream(tokio_stream_from(body)),
    )
        .into_response())
}

fn write_records(
    store: &Arc<dyn Store>,
    tenant: &str,
    filter: EventFilter,
    size: u64,
    lines: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
) -> Result<(), StoreError> {
    let whole_log = filter == EventFilter::default();
    let mut failure = None;
    walk_filter(store, tenant, filter, Some(size), &mut |records| {
        let mut chunk = Vec::with_capacity(records.len() * 1024);
        for record in records {
            let proof = if whole_log {
                None
            } else {
                match store.inclusion_proof(tenant, record.header.seq, size) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        failure = Some(e);
                        return false;
                    }
                }
            };
            push_record_line(&mut chunk, record, proof.as_ref());
        }
        chunk.is_empty() || lines.blocking_send(Ok(chunk)).is_ok()
    })?;
    failure.map_or(Ok(()), Err)
}

/// A receiver as a byte stream.
pub(super) fn tokio_stream_from<T>(
    mut rx: tokio::sync::mpsc::Receiver<Result<T, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<T, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
