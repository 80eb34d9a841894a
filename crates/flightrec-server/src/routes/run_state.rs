//! `GET /v1/runs/{id}/state?event=N | ?at=T`: what the agent had at that
//! point — files, context, status, the changes so far — folded from the
//! run's events (see `flightrec_core::replay`).

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::run_pages::walk_run;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::{format_time, parse_time};
use flightrec_core::replay::{RunState, Step};
use flightrec_store::{RunRecordsQuery, Store, StoreError};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/runs/{id}/state", get(run_state))
}

/// How far into a run to fold.
#[derive(Debug, Clone)]
pub enum Until {
    /// Through the event at this index (run order, from 0).
    Event(u64),
    /// Through every event at or before this time.
    Time(String),
    End,
}

/// The run's state `until` a point; `None` when the run does not exist.
/// Reads the run a page at a time, so memory holds the state, not the run.
pub fn fold_run(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    until: &Until,
) -> Result<Option<RunState>, StoreError> {
    if store.run(tenant, run_id)?.is_none() {
        return Ok(None);
    }
    let query = RunRecordsQuery {
        to: match until {
            Until::Time(t) => Some(t.clone()),
            _ => None,
        },
        ..Default::default()
    };
    let mut state = RunState::default();
    let mut index = 0u64;
    let mut failure = None;
    walk_run(store, tenant, run_id, query, &mut |records| {
        for record in records {
            if matches!(until, Until::Event(n) if index > *n) {
                return false;
            }
            // An erased body leaves the header: the event still counts.
            let body = match record.parsed_body() {
                Ok(body) => body.unwrap_or_default(),
                Err(e) => {
                    failure = Some(StoreError::Corrupt(format!(
                        "record {}: {e}",
                        record.header.seq
                    )));
                    return false;
                }
            };
            let h = &record.header;
            state.apply(&Step {
                index,
                seq: h.seq,
                time: &h.time,
                event_type: &h.event_type,
                status: h.status,
                body: &body,
            });
            index += 1;
        }
        true
    })?;
    failure.map_or(Ok(Some(state)), Err)
}

/// The state as the API shows it.
pub fn state_json(run_id: &str, state: &RunState) -> Value {
    let mut v = serde_json::to_value(state).expect("states serialise");
    v["run_id"] = json!(run_id);
    if v["status"].is_null() {
        v["status"] = json!("not_started");
    }
    v
}

async fn run_state(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut p = Params::parse(raw.as_deref())?;
    let event = p.take_parsed("event", |v| {
        v.parse::<u64>()
            .map_err(|_| format!("must be an event index (0, 1, …), not {v:?}"))
    })?;
    let at = p.take_parsed("at", parse_time)?.map(|t| format_time(&t));
    p.finish()?;
    let until = match (event, at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "give `event` or `at`, not both",
            ));
        }
        (Some(n), None) => Until::Event(n),
        (None, Some(t)) => Until::Time(t),
        (None, None) => Until::End,
    };
    let (id, u) = (run_id.clone(), until.clone());
    let folded = state
        .in_tenant(&principal, move |s, t| fold_run(s, t, &id, &u))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run with id {run_id:?}")))?;
    if let Until::Event(n) = until {
        if folded.events <= n {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!(
                    "`event` {n} is past the run's end: it has {} events (0 to {})",
                    folded.events,
                    folded.events.saturating_sub(1)
                ),
            ));
        }
    }
    Ok(Json(state_json(&run_id, &folded)))
}
