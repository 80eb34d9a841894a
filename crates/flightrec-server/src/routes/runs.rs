//! `/v1/runs`: runs and their events.

use crate::auth::{Permission, Principal};
use crate::cursor;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::event_json;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::{format_time, parse_time};
use flightrec_store::{RunQuery, RunRecordsQuery, RunStatus, RunSummary};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{id}", get(get_run))
        .route("/v1/runs/{id}/export", get(super::export::export_run))
}

async fn list_runs(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let query = RunQuery {
        limit: params.take_limit(50, 1000)?,
        status: params.take_parsed("status", |v| {
            RunStatus::parse(v).ok_or_else(|| {
                format!("must be running, paused, completed, cancelled or failed, not {v:?}")
            })
        })?,
        agent_id: params.take("agent_id"),
        after: params
            .take("cursor")
            .map(|c| cursor::decode::<(String, String)>("runs", &c))
            .transpose()?,
    };
    params.finish()?;
    let tenant = principal.tenant.clone();
    let page = state
        .blocking(move |store| store.runs(&tenant, &query))
        .await?;
    let next_cursor = page
        .more
        .then(|| {
            page.items
                .last()
                .map(|r| cursor::encode("runs", &(&r.last_time, &r.run_id)))
        })
        .flatten();
    let runs: Vec<Value> = page.items.iter().map(run_json).collect();
    Ok(Json(json!({"runs": runs, "next_cursor": next_cursor})))
}

async fn get_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let include = params.take("include");
    let with_log = match include.as_deref() {
        None => false,
        Some("audit_log") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`include` may only be audit_log, not {other:?}"),
            ));
        }
    };
    let log_query = RunRecordsQuery {
        from: params
            .take_parsed("from", parse_time)?
            .map(|t| format_time(&t)),
        to: params
            .take_parsed("to", parse_time)?
            .map(|t| format_time(&t)),
        types: params
            .take("types")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        limit: params.take_limit(1000, 10_000)?,
        after: params
            .take("cursor")
            .map(|c| cursor::decode::<(String, u64)>("run_log", &c))
            .transpose()?,
    };
    params.finish()?;

    let tenant = principal.tenant.clone();
    let id = run_id.clone();
    let (summary, log) = state
        .blocking(move |store| {
            let Some(summary) = store.run(&tenant, &id)? else {
                return Ok((None, None));
            };
            let log = if with_log {
                Some(store.run_records(&tenant, &id, &log_query)?)
            } else {
                None
            };
            Ok((Some(summary), log))
        })
        .await?;
    let summary =
        summary.ok_or_else(|| ApiError::not_found(format!("no run with id {run_id:?}")))?;
    let mut body = run_json(&summary);
    if let Some(page) = log {
        let events = page
            .items
            .iter()
            .map(event_json)
            .collect::<ApiResult<Vec<Value>>>()?;
        body["audit_log"] = Value::Array(events);
        body["next_cursor"] = page
            .more
            .then(|| {
                page.items
                    .last()
                    .map(|r| cursor::encode("run_log", &(&r.header.time, r.header.seq)))
            })
            .flatten()
            .into();
    }
    Ok(Json(body))
}

/// The run, or a 404 that names it.
pub async fn existing_run(
    state: &AppState,
    principal: &Principal,
    run_id: &str,
) -> ApiResult<RunSummary> {
    let id = run_id.to_owned();
    state
        .in_tenant(principal, move |s, t| s.run(t, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run with id {run_id:?}")))
}

fn run_json(run: &RunSummary) -> Value {
    json!({
        "run_id": run.run_id,
        "status": run.status.as_str(),
        "first_time": run.first_time,
        "last_time": run.last_time,
        "event_count": run.event_count,
        "fail_count": run.fail_count,
        "warn_count": run.warn_count,
        "agent_id": run.agent_id,
    })
}
