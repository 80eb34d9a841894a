//! `/v1/reports`: reports built in the background (see `crate::reports`)
//! and downloaded when ready. Anyone who may read the tenant's log may ask
//! for one; each request is recorded (`report.requested`).

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::{format_time, parse_time};
use flightrec_store::{AccessChange, ReportFormat, ReportJob, ReportStatus, ReportType};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports", get(list).post(request))
        .route("/v1/reports/{id}", get(show))
        .route("/v1/reports/{id}/download", get(download))
}

fn job_view(job: &ReportJob) -> Value {
    let ready = job.status == ReportStatus::Ready;
    json!({
        "id": job.id,
        "status": job.status.as_str(),
        "type": job.report_type.as_str(),
        "format": job.format.as_str(),
        "from": job.from,
        "to": job.to,
        "requestedBy": job.requested_by,
        "createdAt": job.created_at,
        "finishedAt": job.finished_at,
        "error": job.error,
        "size": job.size,
        "basis": job.basis.as_deref().and_then(|b| serde_json::from_str::<Value>(b).ok()),
        "download": ready.then(|| format!("/v1/reports/{}/download", job.id)),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReport {
    #[serde(rename = "type")]
    report_type: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn choices<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|t| name(*t)).collect::<Vec<_>>().join(", ")
}

fn window_end(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            parse_time(&v).map(|t| format_time(&t)).map_err(|e| {
                ApiError::bad_request("invalid_body", format!("`{field}` {e}, not {v:?}"))
            })
        })
        .transpose()
}

async fn request(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Read)?;
    let new: NewReport = read_object(body).await?;
    let report_type = ReportType::parse(&new.report_type).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_body",
            format!(
                "`type` must be one of {}, not {:?}",
                choices(&ReportType::ALL, ReportType::as_str),
                new.report_type
            ),
        )
    })?;
    let format = match new.format.as_deref() {
        None => ReportFormat::Pdf,
        Some(f) => ReportFormat::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_body",
                format!(
                    "`format` must be one of {}, not {f:?}",
                    choices(&ReportFormat::ALL, ReportFormat::as_str)
                ),
            )
        })?,
    };
    let from = window_end("from", new.from)?;
    let to = window_end("to", new.to)?;
    if let (Some(f), Some(t)) = (&from, &to)
        && f >= t
    {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`from` ({f}) must be before `to` ({t})"),
        ));
    }
    let job = ReportJob {
        tenant: principal.tenant.clone(),
        id: format!("rep_{}", uuid::Uuid::now_v7().simple()),
        report_type,
        format,
        from,
        to,
        requested_by: principal.submitted_by().to_string(),
        created_at: format_time(&state.clock().now()),
        status: ReportStatus::Pending,
        finished_at: None,
        error: None,
        size: None,
        basis: None,
    };
    let view = job_view(&job);
    let action = AdminAction::new(
        "report.requested",
        "report",
        &job.id,
        format!(
            "{} report ({}) requested for {} to {}",
            report_type.as_str(),
            format.as_str(),
            job.from.as_deref().unwrap_or("the beginning"),
            job.to.as_deref().unwrap_or("now"),
        ),
    )
    .after(view.clone());
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![AccessChange::RequestReport(job)],
    )
    .await?;
    state.reports().wake();
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let limit = params.take_limit(50, 500)?;
    params.finish()?;
    let jobs = state
        .in_tenant(&principal, move |store, tenant| {
            store.reports(tenant, limit)
        })
        .await?;
    Ok(Json(json!({
        "reports": jobs.iter().map(job_view).collect::<Vec<_>>(),
    })))
}

async fn job(state: &AppState, principal: &Principal, id: String) -> ApiResult<ReportJob> {
    let wanted = id.clone();
    state
        .in_tenant(principal, move |store, tenant| {
            store.report(tenant, &wanted)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report {id:?}")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    Ok(Json(job_view(&job(&state, &principal, id).await?)))
}

async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let job = job(&state, &principal, id).await?;
    let not_ready = |code: &'static str, message: String| {
        Err(ApiError::new(StatusCode::CONFLICT, code, message))
    };
    match job.status {
        ReportStatus::Ready => {}
        ReportStatus::Pending => {
            return not_ready(
                "report_pending",
                format!(
                    "report {} is still being built: ask GET /v1/reports/{} until it is ready",
                    job.id, job.id
                ),
            );
        }
        ReportStatus::Failed => {
            return not_ready(
                "report_failed",
                format!(
                    "report {} could not be built: {}",
                    job.id,
                    job.error.as_deref().unwrap_or("no reason given")
                ),
            );
        }
        ReportStatus::Erased => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "report_erased",
                format!(
                    "report {} is gone: an erasure reached a record in its window; ask for a new one",
                    job.id
                ),
            ));
        }
    }
    let wanted = job.id.clone();
    let file = state
        .in_tenant(&principal, move |store, tenant| {
            store.report_file(tenant, &wanted)
        })
        .await?
        // Erased between the two reads.
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::GONE,
                "report_erased",
                format!("report {} is gone", job.id),
            )
        })?;
    let name = format!(
        "flightrec-{}-{}.{}",
        job.report_type.as_str(),
        job.id,
        job.format.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, job.format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        file,
    )
        .into_response())
}
