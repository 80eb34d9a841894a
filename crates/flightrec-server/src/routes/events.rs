//! `/v1/events`: ingest and query.

use crate::auth::{Permission, Principal};
use crate::body::read_json;
use crate::cursor;
use crate::error::{ApiError, ApiResult};
use crate::ingest::{append, bind_agent, prepare};
use crate::params::Params;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use flightrec_core::event::{ActorType, GovernanceStatus, Status};
use flightrec_core::log::ProofFile;
use flightrec_core::record::{StoredRecord, SubmittedBy};
use flightrec_store::{EventFilter, EventQuery, Origin};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", post(post_event).get(list_events))
        .route("/v1/events/batch", post(post_batch))
        .route("/v1/events/export", get(super::export::export))
        .route("/v1/events/stream", get(super::event_stream::stream))
        .route("/v1/events/{id}", get(get_event))
        .route("/v1/events/{id}/proof", get(get_proof))
}

pub(crate) async fn post_event(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Ingest)?;
    let mut values = vec![read_json(body, state.limits().max_event_bytes * 2).await?];
    if let Some(agent) = principal.bound_agent() {
        bind_agent(&mut values, agent, false)?;
    }
    let batch = prepare(
        &state,
        &principal.tenant,
        &principal.submitted_by(),
        values,
        false,
    )
    .await?;
    let receipts = append(&state, batch).await?;
    let receipt = receipts.into_iter().next().expect("one receipt per event");
    Ok((StatusCode::CREATED, Json(json!({"receipt": receipt}))))
}

pub(crate) async fn post_batch(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Ingest)?;
    let limits = *state.limits();
    let values = match read_json(body, limits.max_batch_bytes).await? {
        Value::Array(items) => items,
        Value::Object(mut m) if m.get("events").is_some_and(Value::is_array) => {
            match m.remove("events") {
                Some(Value::Array(items)) => items,
                _ => unreachable!("checked to be an array"),
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_batch",
                "a batch is a JSON array of events (or {\"events\": [...]})",
            ));
        }
    };
    if values.is_empty() {
        return Err(ApiError::bad_request("invalid_batch", "the batch is empty"));
    }
    if values.len() > limits.max_batch_events {
        return Err(ApiError::too_large(format!(
            "the batch has {} events; the limit is {}",
            values.len(),
            limits.max_batch_events
        )));
    }
    let mut values = values;
    if let Some(agent) = principal.bound_agent() {
        bind_agent(&mut values, agent, true)?;
    }
    let batch = prepare(
        &state,
        &principal.tenant,
        &principal.submitted_by(),
        values,
        true,
    )
    .await?;
    let receipts = append(&state, batch).await?;
    Ok((StatusCode::CREATED, Json(json!({"receipts": receipts}))))
}

pub(crate) async fn get_event(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let with_proof = params.take_bool("proof")?;
    params.finish()?;
    let record = find_record(&state, &principal, &id).await?;
    let mut event = event_json(&record)?;
    if with_proof {
        let bundle = super::log::proof_bundle(&state, &principal, &record).await?;
        if let (Value::Object(e), Value::Object(b)) = (&mut event, bundle) {
            e.extend(b);
        }
    }
    Ok(Json(event))
}

/// `GET /v1/events/{id}/proof`: the record's inclusion proof against the
/// newest checkpoint (with the cosignatures it has), as a C2SP tlog-proof
/// file (`?format=tlog-proof` or `Accept: text/plain`) or as JSON (the
/// record's header, body and salt beside the proof).
async fn get_proof(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let format = params.take("format");
    params.finish()?;
    let wants_text = match format.as_deref() {
        Some("tlog-proof") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`format` must be tlog-proof or json, not {other:?}"),
            ));
        }
        None => headers
            .get(ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/plain")),
    };
    let record = find_record(&state, &principal, &id).await?;
    if !wants_text {
        let bundle = super::log::proof_bundle(&state, &principal, &record).await?;
        return Ok(Json(bundle).into_response());
    }
    let (proof, note) = super::log::record_proof(&state, &principal, &record).await?;
    let file = ProofFile {
        index: record.header.seq,
        extra: None,
        proof: proof.hashes,
        checkpoint_note: note,
    };
    Ok((
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        file.to_text(),
    )
        .into_response())
}

/// The caller's tenant's record with this event id, or 404.
async fn find_record(state: &AppState, principal: &Principal, id: &str) -> ApiResult<StoredRecord> {
    let (tenant, lookup) = (principal.tenant.clone(), id.to_owned());
    state
        .blocking(move |store| store.record(&tenant, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event with id {id:?}")))
}

async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let filter = event_filter(&mut params, &state)?;
    let limit = params.take_limit(50, 1000)?;
    let before_seq = params
        .take("cursor")
        .map(|c| cursor::decode::<u64>("events", &c))
        .transpose()?;
    params.finish()?;
    let tenant = principal.tenant.clone();
    let query = EventQuery {
        filter,
        limit,
        before_seq,
        ..Default::default()
    };
    let page = state
        .blocking(move |store| store.records(&tenant, &query))
        .await?;
    let next_cursor = page
        .more
        .then(|| {
            page.items
                .last()
                .map(|r| cursor::encode("events", &r.header.seq))
        })
        .flatten();
    let events = page
        .items
        .iter()
        .map(event_json)
        .collect::<ApiResult<Vec<Value>>>()?;
    Ok(Json(json!({"events": events, "next_cursor": next_cursor})))
}

/// The filters of `GET /v1/events`, taken from the query string.
pub fn event_filter(params: &mut Params, state: &AppState) -> ApiResult<EventFilter> {
    let now = state.clock().now();
    let one_of = |allowed: &'static str, ok: fn(&str) -> bool| {
        move |v: &str| {
            if ok(v) {
                Ok(v.to_owned())
            } else {
                Err(format!("must be one of {allowed}, not {v:?}"))
            }
        }
    };
    Ok(EventFilter {
        event_type: params.take("type"),
        run_id: params.take("run_id"),
        agent_id: params.take("agent_id"),
        session_id: params.take("session_id"),
        actor: params.take("actor"),
        actor_type: params.take_parsed(
            "actor_type",
            one_of("human, agent, system", |v| ActorType::parse(v).is_some()),
        )?,
        resource_type: params.take("resource_type"),
        resource_id: params.take("resource_id"),
        verb: params.take("verb"),
        provider: params.take("provider"),
        status: params.take_parsed(
            "status",
            one_of("ok, fail, warn", |v| Status::parse(v).is_some()),
        )?,
        governance_status: params.take_parsed(
            "governance_status",
            one_of("approved, blocked, pending, dry_run, auto", |v| {
                GovernanceStatus::parse(v).is_some()
            }),
        )?,
        since: params.take_since(now)?,
        until: params.take_until()?,
        q: params.take("q"),
        type_prefix: None,
        submitted_by: params.take_parsed("submitted_by", |v| {
            SubmittedBy::parse(v)
                .map(|s| s.to_string())
                .ok_or_else(|| format!("must be key:<id>, user:<id> or flightrec, not {v:?}"))
        })?,
        origin: params.take_parsed("origin", |v| {
            Origin::parse(v).ok_or_else(|| format!("must be flightrec or client, not {v:?}"))
        })?,
    })
}

/// A stored record as the API shows it.
pub fn event_json(record: &StoredRecord) -> ApiResult<Value> {
    record
        .to_event_json()
        .map_err(|e| ApiError::internal("a stored body does not parse", &e))
}
