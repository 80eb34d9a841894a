//! `/v1/erasures`: erasure of a subject's bodies on request (GDPR art. 17),
//! carried out in the background (see `crate::lifecycle`).

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::routes::settings::{TenantSettings, immutable_conflict};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::{MAX_ID_CHARS, MAX_NAME_CHARS, format_time};
use flightrec_store::{AccessChange, ErasureJob, ErasureStatus, ErasureSubject};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/erasures", get(list).post(request))
        .route("/v1/erasures/{id}", get(show))
}

/// Event ids one request may name.
const MAX_EVENT_IDS: usize = 1_000;
const MAX_REASON_CHARS: usize = 500;
/// Jobs a listing shows, newest first.
const LISTED: usize = 100;

/// What the API shows of a job: never its subject, which is the data
/// being erased.
fn job_view(job: &ErasureJob) -> Value {
    json!({
        "id": job.id,
        "status": job.status.as_str(),
        "subjectKind": job.subject_kind,
        "reason": job.reason,
        "requestedBy": job.requested_by,
        "createdAt": job.created_at,
        "finishedAt": job.finished_at,
        "erased": job.erased,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewErasure {
    subject: Subject,
    reason: String,
}

/// Exactly one of these names the subject.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subject {
    #[serde(default, alias = "runId")]
    run_id: Option<String>,
    #[serde(default, alias = "agentId")]
    agent_id: Option<String>,
    #[serde(default, alias = "sessionId")]
    session_id: Option<String>,
    /// An actor's email (or id, for actors without one).
    #[serde(default)]
    actor: Option<String>,
    #[serde(default, alias = "eventIds")]
    event_ids: Option<Vec<String>>,
}

impl Subject {
    fn parse(self) -> ApiResult<ErasureSubject> {
        // As long as an event may make them: an event id, or a name.
        let id = |field: &str, v: String| -> ApiResult<String> {
            let max = if field == "event_ids[]" {
                MAX_ID_CHARS
            } else {
                MAX_NAME_CHARS
            };
            if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    format!(
                        "`subject.{field}` must be 1 to {max} characters, none of them control characters"
                    ),
                ));
            }
            Ok(v)
        };
        let mut named = Vec::new();
        if let Some(v) = self.run_id {
            named.push(ErasureSubject::Run(id("run_id", v)?));
        }
        if let Some(v) = self.agent_id {
            named.push(ErasureSubject::Agent(id("agent_id", v)?));
        }
        if let Some(v) = self.session_id {
            named.push(ErasureSubject::Session(id("session_id", v)?));
        }
        if let Some(v) = self.actor {
            named.push(ErasureSubject::Actor(id("actor", v)?));
        }
        if let Some(ids) = self.event_ids {
            if ids.is_empty() || ids.len() > MAX_EVENT_IDS {
                return Err(ApiError::bad_request(
                    "invalid_body",
                    format!("`subject.event_ids` must name 1 to {MAX_EVENT_IDS} events"),
                ));
            }
            let ids = ids
                .into_iter()
                .map(|v| id("event_ids[]", v))
                .collect::<ApiResult<Vec<_>>>()?;
            named.push(ErasureSubject::Events(ids));
        }
        match named.len() {
            1 => Ok(named.pop().expect("one")),
            _ => Err(ApiError::bad_request(
                "invalid_body",
                "`subject` must name exactly one of `run_id`, `agent_id`, `session_id`, `actor` (an email) or `event_ids`",
            )),
        }
    }
}

async fn request(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let new: NewErasure = read_object(body).await?;
    let reason = new.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`reason` must be 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let subject = new.subject.parse()?;
    let settings = state
        .in_tenant(&principal, |store, tenant| store.settings(tenant))
        .await?;
    if TenantSettings::from_stored(&settings).immutable() {
        return Err(immutable_conflict(
            "`immutableAuditLogs` is on: nothing in this tenant's log may be erased",
        ));
    }
    let now = format_time(&state.clock().now());
    let job = ErasureJob {
        tenant: principal.tenant.clone(),
        id: format!("era_{}", uuid::Uuid::now_v7().simple()),
        subject_kind: subject.kind().to_owned(),
        subject: Some(subject),
        reason,
        requested_by: principal.submitted_by().to_string(),
        created_at: now,
        status: ErasureStatus::Pending,
        erased: 0,
        finished_at: None,
    };
    let view = job_view(&job);
    // The trail names the kind of subject and the reason, never the
    // subject itself: that is the data being erased.
    let action = AdminAction::new(
        "erasure.requested",
        "erasure",
        &job.id,
        format!(
            "erasure of a {} requested: {}",
            job.subject_kind, job.reason
        ),
    )
    .after(view.clone());
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![AccessChange::RequestErasure(job)],
    )
    .await?;
    state.lifecycle().wake();
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let wanted = id.clone();
    let job = state
        .in_tenant(&principal, move |store, tenant| {
            store.erasure(tenant, &wanted)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no erasure {id:?}")))?;
    Ok(Json(job_view(&job)))
}

async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let jobs = state
        .in_tenant(&principal, |store, tenant| store.erasures(tenant, LISTED))
        .await?;
    Ok(Json(
        json!({"erasures": jobs.iter().map(job_view).collect::<Vec<_>>()}),
    ))
}
