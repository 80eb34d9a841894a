//! `/api/v1/audit-logs`: record and query audit logs through the native
//! `/v1/events` ingest and the `/v1/admin/audit` query.

use super::log_shape::{log_from_event, log_with_flags};
use super::{json_body, query};
use crate::auth::Principal;
use crate::body::read_json;
use crate::error::{ApiError, ApiResult};
use crate::routes::{admin, events, run_tree};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use flightrec_store::AlertQuery;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit-logs", post(create).get(list))
        .route("/api/v1/audit-logs/batch", post(create_batch))
        .route("/api/v1/audit-logs/{id}", get(show))
        .route("/api/v1/audit-logs/{id}/parents", get(parents))
}

/// Fields that API's clients send as hints to its server, not as part of
/// the log (the guardrail call's `checkType`); kept out of `metadata`.
const CLIENT_HINTS: [&str; 1] = ["checkType"];

fn drop_client_hints(value: &mut Value) {
    if let Value::Object(fields) = value {
        for hint in CLIENT_HINTS {
            fields.remove(hint);
        }
    }
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut value = read_json(body, state.limits().max_event_bytes * 2).await?;
    drop_client_hints(&mut value);
    let (status, Json(answer)) =
        events::post_event(State(state.clone()), principal.clone(), json_body(&value)).await?;
    let id = answer["receipt"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut logs = recorded_logs(&state, &principal, vec![id]).await?;
    Ok((status, Json(logs.pop().unwrap_or_default())))
}

/// A JSON array of logs (or `{"logs": [...]}`) → `201 {data: [logs]}`.
async fn create_batch(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut value = read_json(body, state.limits().max_batch_bytes).await?;
    if let Some(logs) = value.get_mut("logs").filter(|l| l.is_array()) {
        value = logs.take();
    }
    if let Value::Array(items) = &mut value {
        items.iter_mut().for_each(drop_client_hints);
    }
    let (status, Json(answer)) =
        events::post_batch(State(state.clone()), principal.clone(), json_body(&value)).await?;
    let ids = answer["receipts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    let logs = recorded_logs(&state, &principal, ids).await?;
    Ok((status, Json(json!({"data": logs}))))
}

/// The logs just recorded, with the alerts each raised. Read straight from
/// the store: the caller wrote them, and an ingest-only key cannot read.
async fn recorded_logs(
    state: &AppState,
    principal: &Principal,
    ids: Vec<String>,
) -> ApiResult<Vec<Value>> {
    let found = state
        .in_tenant(principal, move |store, tenant| {
            ids.iter()
                .filter_map(|id| store.record(tenant, id).transpose())
                .map(|record| {
                    let record = record?;
                    let alerts = store.alerts(
                        tenant,
                        &AlertQuery {
                            event_id: Some(record.header.id.clone()),
                            limit: 1000,
                            ..Default::default()
                        },
                    )?;
                    Ok((record, alerts.items))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    found
        .iter()
        .map(|(record, alerts)| Ok(log_with_flags(&events::event_json(record)?, alerts)))
        .collect()
}

/// `?limit&offset` (or `page`, from 1) `&agentId&action&traceId&startDate&endDate`
/// → `{data: [logs], pagination: {total, limit, offset, page, totalPages, hasMore}}`.
async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut pairs = query::rename(
        raw.as_deref(),
        &[
            ("agentId", "agent_id"),
            ("traceId", "run_id"),
            ("startDate", "since"),
            ("endDate", "until"),
        ],
    );
    let limit = match query::value(&pairs, "limit") {
        Some(v) => v.parse::<usize>().ok(),
        None => {
            pairs.push(("limit".into(), DEFAULT_LIMIT.to_string()));
            Some(DEFAULT_LIMIT)
        }
    };
    if let Some(page) = query::value(&pairs, "page").map(str::to_owned) {
        if query::value(&pairs, "offset").is_some() {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "give `page` or `offset`, not both",
            ));
        }
        // Checked: a huge `limit` is a 400, never an overflow.
        let offset = page
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .zip(limit)
            .and_then(|(page, limit)| (page - 1).checked_mul(limit));
        let Some(offset) = offset else {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "`page` must be a whole number from 1 to 100000, with a whole-number `limit`",
            ));
        };
        pairs.retain(|(k, _)| k != "page");
        pairs.push(("offset".into(), offset.to_string()));
    }
    let Json(answer) =
        admin::audit(State(state), principal, RawQuery(query::encode(&pairs))).await?;
    let logs: Vec<Value> = answer["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(log_from_event)
        .collect();
    let (total, limit, offset) = (
        answer["total"].as_u64().unwrap_or(0),
        answer["limit"].as_u64().unwrap_or(1).max(1),
        answer["offset"].as_u64().unwrap_or(0),
    );
    Ok(Json(json!({
        "data": logs,
        "pagination": {
            "total": total,
            "limit": limit,
            "offset": offset,
            "page": offset / limit + 1,
            "totalPages": total.div_ceil(limit),
            "hasMore": !answer["next_offset"].is_null(),
        },
    })))
}

/// That API's default page size.
const DEFAULT_LIMIT: usize = 20;

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Json(event) = events::get_event(State(state), principal, Path(id), RawQuery(None)).await?;
    Ok(Json(log_from_event(&event)))
}

/// A log's parent chain: the spans that enclose it, nearest first.
async fn parents(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Json(answer) = run_tree::parents(State(state), principal, Path(id)).await?;
    let chain: Vec<Value> = answer["parents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(log_from_event)
        .collect();
    Ok(Json(json!({
        "log": log_from_event(&answer["event"]),
        "parents": chain,
    })))
}
