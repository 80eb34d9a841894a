//! Request bodies: read with a size limit, parsed as JSON, and for the
//! admin API's small requests, read into a typed shape whose errors name
//! the field.

use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest body an admin request may have.
pub const ADMIN_BODY_LIMIT: usize = 64 * 1024;

/// How much of an oversize body is read and thrown away so the client,
/// still sending, gets to read the 413 instead of a reset connection. A
/// body that declares more than this past the limit is not read at all.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// Reads a request body of at most `limit` bytes and parses it as JSON.
pub async fn read_json(body: Body, limit: usize) -> ApiResult<Value> {
    let bytes = read_bytes(body, limit).await?;
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

/// Reads a request body of at most `limit` bytes; a larger one is a 413.
pub async fn read_bytes(body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    use axum::body::HttpBody as _;
    let declared = body.size_hint().lower();
    if declared > (limit + DRAIN_LIMIT) as u64 {
        return Err(ApiError::too_large(format!(
            "request body is larger than {limit} bytes (it says {declared})"
        )));
    }
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
    Ok(bytes)
}

/// Reads a small JSON object into `T`; a missing or mistyped field is a
/// 400 that names it.
pub async fn read_object<T: DeserializeOwned>(body: Body) -> ApiResult<T> {
    let value = read_json(body, ADMIN_BODY_LIMIT).await?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("request body: {e}")))
}
