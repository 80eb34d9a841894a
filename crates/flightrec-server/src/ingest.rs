//! The ingest pipeline: request body → validated events → sealed records.
//!
//! Nothing is queued for the log until every event of a request is valid,
//! so a batch is all or nothing from the first byte.

use crate::error::{ApiError, ApiResult, Detail};
use crate::state::AppState;
use axum::body::Body;
use flightrec_core::event::{FieldError, parse_event};
use flightrec_core::record::SealedEvent;
use http_body_util::BodyExt;
use serde_json::Value;

/// How much of an oversize body is read and thrown away so the client,
/// still sending, gets to read the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads a request body of at most `limit` bytes and parses it as JSON.
pub async fn read_json(body: Body, limit: usize) -> ApiResult<Value> {
    let mut body = body;
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "invalid_body",
                format!("could not read the request body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen <= limit {
            bytes.extend_from_slice(&data);
        } else if seen > limit + DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::too_large(format!(
            "request body is larger than {limit} bytes"
        )));
    }
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "request body is empty; send a JSON event",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })
}

/// Validates and seals events. `index` is given for batches, so every error
/// names the event it belongs to.
pub fn seal_events(
    state: &AppState,
    values: Vec<Value>,
    batch: bool,
) -> ApiResult<Vec<SealedEvent>> {
    let received_at = state.clock().now();
    let limits = state.limits();
    let mut sealed = Vec::with_capacity(values.len());
    let mut details = Vec::new();
    let mut oversize = false;
    for (i, value) in values.into_iter().enumerate() {
        match parse_event(value, received_at, limits, new_event_id) {
            Ok(event) => sealed.push(SealedEvent::seal(&event)),
            Err(invalid) => {
                for FieldError { field, message } in invalid.errors {
                    oversize |= field == "(event)" && message.contains("the limit is");
                    details.push(Detail {
                        index: batch.then_some(i),
                        field,
                        message,
                    });
                }
            }
        }
    }
    if details.is_empty() {
        return Ok(sealed);
    }
    let summary: Vec<String> = details
        .iter()
        .take(5)
        .map(|d| match d.index {
            Some(i) => format!("event {i}: `{}` {}", d.field, d.message),
            None => format!("`{}` {}", d.field, d.message),
        })
        .collect();
    let more = details.len().saturating_sub(5);
    let mut message = summary.join("; ");
    if more > 0 {
        message.push_str(&format!("; and {more} more (see details)"));
    }
    if batch {
        message.push_str("; nothing in the batch was recorded");
    }
    let error = if oversize {
        ApiError::too_large(message)
    } else {
        ApiError::bad_request("invalid_event", message)
    };
    Err(error.with_details(details))
}

fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
