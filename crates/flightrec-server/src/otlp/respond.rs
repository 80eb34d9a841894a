//! OTLP/HTTP answers, in the request's encoding: an `Export*ServiceResponse`
//! (with `partial_success` when some items were refused, and why), or for
//! a failure a `google.rpc.Status` with the HTTP status the OTLP spec asks
//! for (400, 401/403, 413, 415, 429 and 503 with `Retry-After`).

use super::decode::Encoding;
use crate::error::ApiError;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message as _;
use serde_json::json;

/// `google.rpc.Status`, the body of every OTLP/HTTP failure (the
/// `details` field is left out: flightrec sends none).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// A failed OTLP request: the HTTP status, and a message for people.
#[derive(Debug)]
pub struct OtlpError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl OtlpError {
    fn new(status: StatusCode, message: String) -> OtlpError {
        OtlpError {
            status,
            message,
            retry_after: None,
        }
    }

    pub fn bad_request(message: String) -> OtlpError {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unsupported_media_type(message: String) -> OtlpError {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
    }

    pub fn too_large(message: String) -> OtlpError {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    pub fn forbidden(message: String) -> OtlpError {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// The gRPC code that goes with the HTTP status, as `google.rpc.Status`
    /// carries one.
    fn rpc_code(&self) -> i32 {
        match self.status {
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
            StatusCode::UNAUTHORIZED => 16,                                    // UNAUTHENTICATED
            StatusCode::FORBIDDEN => 7,                                        // PERMISSION_DENIED
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS => 8, // RESOURCE_EXHAUSTED
            StatusCode::SERVICE_UNAVAILABLE => 14,                              // UNAVAILABLE
            StatusCode::NOT_FOUND => 5,                                         // NOT_FOUND
            _ => 13,                                                            // INTERNAL
        }
    }

    /// The answer, encoded as the request was (JSON when it named no
    /// encoding flightrec speaks).
    pub fn respond(self, encoding: Encoding) -> Response {
        let status = RpcStatus {
            code: self.rpc_code(),
            message: self.message,
        };
        let body = match encoding {
            Encoding::Protobuf => status.encode_to_vec(),
            Encoding::Json => json!({"code": status.code, "message": status.message})
                .to_string()
                .into_bytes(),
        };
        let mut response =
            (self.status, [(CONTENT_TYPE, encoding.content_type())], body).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"flightrec\""),
            );
        }
        response
    }
}

/// The API's errors (authentication, limits, the store) keep their status,
/// message and `Retry-After`; only their shape changes.
impl From<ApiError> for OtlpError {
    fn from(e: ApiError) -> OtlpError {
        OtlpError {
            status: e.status,
            message: e.message,
            retry_after: e.retry_after,
        }
    }
}

/// Which signal an answer is for: it names the count of refused items.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    Traces,
    Logs,
}

/// A successful export's answer: `partial_success` only when something
/// was refused (`rejected` items, and why).
pub fn exported(encoding: Encoding, signal: Signal, rejected: usize, why: String) -> Response {
    let partial = rejected > 0 || !why.is_empty();
    let body = match encoding {
        Encoding::Protobuf => match signal {
            Signal::Traces => ExportTraceServiceResponse {
                partial_success: partial.then_some(ExportTracePartialSuccess {
                    rejected_spans: rejected as i64,
                    error_message: why,
                }),
            }
            .encode_to_vec(),
            Signal::Logs => ExportLogsServiceResponse {
                partial_success: partial.then_some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected as i64,
                    error_message: why,
                }),
            }
            .encode_to_vec(),
        },
        // OTLP/JSON writes 64-bit integers as strings.
        Encoding::Json => {
            let count_name = match signal {
                Signal::Traces => "rejectedSpans",
                Signal::Logs => "rejectedLogRecords",
            };
            let answer = if partial {
                json!({"partialSuccess": {count_name: rejected.to_string(), "errorMessage": why}})
            } else {
                json!({})
            };
            answer.to_string().into_bytes()
        }
    };
    (
        StatusCode::OK,
        [(CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}
