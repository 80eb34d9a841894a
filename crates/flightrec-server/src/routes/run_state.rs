//! `GET /v1/runs/{id}/state?event=N | ?at=T`: what the agent had at that
//! point — files, context, status, the changes so far — folded from the
//! run's events (see `flightrec_core::replay`).

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
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

/// Records read per page while folding.
const PAGE: usize = 1000;

/// The run's state `until` a point; `None` when the run does not exist.
/// Reads the run in pages, so memory holds the state, not the run.
pub fn fold_run(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    until: &Until,
) -> Result<Option<RunState>, StoreError> {
    if store.run(tenant, run_id)?.is_none() {
        return Ok(None);
    }
    let mut state = RunState::default();
    let mut query = RunRecordsQuery {
        to: match until {
            Until::Time(t) => Some(t.clone()),
            _ => None,
        },
        limit: PAGE,
        ..Default::default()
    };
    let mut index = 0u64;
    loop {
        let page = store.run_records(tenant, run_id, &query)?;
        for record in &page.items {
            if let Until::Event(n) = until {
                if index > *n {
                    return Ok(Some(state));
                }
            }
            // An erased body leaves the header: the event still counts.
            let body = record
                .parsed_body()
                .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", record.header.seq)))?
                .unwrap_or_default();
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
        match (page.more, page.items.last()) {
            (true, Some(last)) => query.after = Some((last.header.time.clone(), last.header.seq)),
            _ => return Ok(Some(state)),
        }
    }
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
    let (tenant, id, u) = (principal.tenant.clone(), run_id.clone(), until.clone());
    let folded = state
        .blocking(move |s| fold_run(s, &tenant, &id, &u))
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
