//! OTLP/HTTP ingest: `POST /v1/traces` and `POST /v1/logs` (docs/otlp.md).
//!
//! A request is decoded ([`decode`]), each span or log record becomes the
//! events of `/v1/events` ([`traces`], [`logs`], reading the GenAI,
//! OpenInference and MCP conventions through [`semantics`]), and those go
//! through the same ingest pipeline as `/v1/events`: agent binding,
//! validation and masking, compliance screening, the sequencer
//! ([`record`]). Items that cannot be recorded are refused one by one and
//! named in `partial_success`; the rest are recorded together.
//!
//! Not here: OTLP over gRPC, metrics, or anything that changes a record
//! once written (a span sent again is the same events, so it is a retry).

mod attributes;
mod claude_code;
mod decode;
mod genai;
mod ids;
mod logs;
mod mcp;
mod openinference;
mod origin;
mod record;
mod respond;
mod semantics;
mod traces;

use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use decode::{Encoding, read_request};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use origin::Origin;
use respond::{OtlpError, Signal, exported};
use traces::AgentScopes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/traces", post(post_traces))
        .route("/v1/logs", post(post_logs))
}

async fn post_traces(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer_in = Encoding::of(&headers).unwrap_or(Encoding::Json);
    export_traces(&state, principal, &headers, body)
        .await
        .unwrap_or_else(|e| e.respond(answer_in))
}

async fn export_traces(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OtlpError> {
    let principal = principal?;
    principal.require(Permission::Ingest)?;
    let encoding = Encoding::of(headers)?;
    let request: ExportTraceServiceRequest =
        read_request(body, headers, encoding, state.limits().max_batch_bytes).await?;
    let mut scopes = AgentScopes::default();
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            ss.spans.iter().for_each(|s| scopes.add(s));
        }
    }
    let mut items = Vec::new();
    for rs in &request.resource_spans {
        let resource = rs.resource.as_ref().map(|r| r.attributes.as_slice());
        for ss in &rs.scope_spans {
            let origin = Origin::new(resource.unwrap_or_default(), ss.scope.as_ref());
            for span in &ss.spans {
                items.push(traces::span_events(span, &origin, scopes.inherited(span)));
            }
        }
    }
    let refused = record::record(state, &principal, items, "span").await?;
    Ok(exported(
        encoding,
        Signal::Traces,
        refused.count,
        refused.why,
    ))
}

async fn post_logs(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer_in = Encoding::of(&headers).unwrap_or(Encoding::Json);
    export_logs(&state, principal, &headers, body)
        .await
        .unwrap_or_else(|e| e.respond(answer_in))
}

async fn export_logs(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OtlpError> {
    let principal = principal?;
    principal.require(Permission::Ingest)?;
    let encoding = Encoding::of(headers)?;
    let request: ExportLogsServiceRequest =
        read_request(body, headers, encoding, state.limits().max_batch_bytes).await?;
    let mut items = Vec::new();
    for rl in &request.resource_logs {
        let resource = rl.resource.as_ref().map(|r| r.attributes.as_slice());
        for sl in &rl.scope_logs {
            let origin = Origin::new(resource.unwrap_or_default(), sl.scope.as_ref());
            for record in &sl.log_records {
                items.push(logs::log_event(record, &origin).map(|e| vec![e]));
            }
        }
    }
    let refused = record::record(state, &principal, items, "log record").await?;
    Ok(exported(encoding, Signal::Logs, refused.count, refused.why))
}
