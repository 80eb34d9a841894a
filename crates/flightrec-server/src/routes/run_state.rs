//! `GET /v1/runs/{id}/state?event=N | ?at=T`: what the agent had at that
//! point — files, context, status, the changes so far — folded from the
//! run's events (see `flightrec_core::replay`).

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::run_pages::walk_steps;
use crate::run_timelines::{Current, Timelines};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flightrec_core::event::{format_time, parse_time};
use flightrec_core::replay::RunState;
use flightrec_store::{RunRecordsQuery, Store, StoreError};
use serde::Serialize;

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

/// The run's state `until` a point, folded from its records; `None` when
/// the run does not exist. Reads a page at a time, so memory holds the
/// state, not the run. (Requests go through [`Timelines`] first; this is
/// for runs too large to keep.)
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
    walk_steps(store, tenant, run_id, query, 0, &mut |step| {
        if matches!(until, Until::Event(n) if step.index > *n) {
            return false;
        }
        state.apply(step);
        true
    })?;
    Ok(Some(state))
}

/// The state as the API shows it: the fold's fields and the run's id.
#[derive(Serialize)]
struct Answer<'a, S: Serialize> {
    #[serde(flatten)]
    state: S,
    run_id: &'a str,
}

/// The answer's JSON, or `None` for no such run; `Err(events)` when
/// `Until::Event` is past the run's end.
fn answer(
    timelines: &Timelines,
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    until: &Until,
) -> Result<Option<Result<Vec<u8>, u64>>, StoreError> {
    match timelines.current(store, tenant, run_id)? {
        None => Ok(None),
        Some(Current::Timeline(timeline)) => {
            // Poisoned only by a fold that panicked, which the next
            // `current` rebuilt before this read.
            let t = timeline
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let through = match until {
                Until::Event(n) if *n >= t.len() => return Ok(Some(Err(t.len()))),
                Until::Event(n) => Some(*n),
                Until::Time(at) => t.index_at(at),
                Until::End => t.len().checked_sub(1),
            };
            Ok(Some(Ok(to_json(t.view(through), run_id))))
        }
        Some(Current::TooLarge) => {
            let Some(state) = fold_run(store, tenant, run_id, until)? else {
                return Ok(None);
            };
            Ok(Some(match until {
                Until::Event(n) if *n >= state.events => Err(state.events),
                _ => Ok(to_json(state, run_id)),
            }))
        }
    }
}

fn to_json<S: Serialize>(state: S, run_id: &str) -> Vec<u8> {
    serde_json::to_vec(&Answer { state, run_id }).expect("states serialise")
}

async fn run_state(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
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
    let (id, u, app) = (run_id.clone(), until.clone(), state.clone());
    let answer = state
        .in_tenant(&principal, move |s, t| {
            answer(app.timelines(), s, t, &id, &u)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run with id {run_id:?}")))?;
    match answer {
        Ok(json) => Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response()),
        Err(events) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!(
                "`event` {} is past the run's end: it has {events} events (0 to {})",
                match until {
                    Until::Event(n) => n,
                    _ => 0,
                },
                events.saturating_sub(1)
            ),
        )),
    }
}
