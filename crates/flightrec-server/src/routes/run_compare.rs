//! `GET /v1/runs/{id}/compare?with=OTHER`: two runs side by side, their
//! steps aligned by what each did and the files that ended different
//! (see `crate::run_comparison`).

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::run_comparison::{ComparedRun, ComparedStep, Comparison, compare_runs};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::replay::FileOutcome;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/runs/{id}/compare", get(compare))
}

async fn compare(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let other = params.take("with").ok_or_else(|| {
        ApiError::bad_request("invalid_parameter", "`with` names the run to compare with")
    })?;
    params.finish()?;
    let tenant = principal.tenant.clone();
    let c = state
        .blocking(move |store| compare_runs(store, &tenant, &run_id, &other))
        .await?;
    Ok(Json(comparison_json(&c)))
}

fn comparison_json(c: &Comparison) -> Value {
    let steps: Vec<Value> = c
        .rows
        .iter()
        .map(|row| {
            let (a, b) = c.pair(*row);
            json!({"a": a.map(step_json), "b": b.map(step_json), "differs": c.differs(*row)})
        })
        .collect();
    let files: Vec<Value> = c
        .files
        .iter()
        .map(|(path, outcome)| {
            let (name, diff) = match outcome {
                FileOutcome::OnlyA => ("only_a", None),
                FileOutcome::OnlyB => ("only_b", None),
                FileOutcome::Same => ("same", None),
                FileOutcome::Different(diff) => ("different", Some(diff)),
                FileOutcome::Unknown => ("unknown", None),
            };
            json!({"path": path, "outcome": name, "diff": diff})
        })
        .collect();
    json!({
        "a": run_json(&c.a),
        "b": run_json(&c.b),
        "first_difference": c.first_difference(),
        "steps": steps,
        "files": files,
    })
}

fn run_json(r: &ComparedRun) -> Value {
    json!({
        "run_id": r.run.run_id,
        "status": r.run.status.as_str(),
        "event_count": r.run.event_count,
        "compared": r.steps.len(),
    })
}

fn step_json(s: &ComparedStep) -> Value {
    json!({
        "index": s.index,
        "id": s.id,
        "seq": s.seq,
        "time": s.time,
        "type": s.key.event_type,
        "status": s.status.as_str(),
        "tool": s.key.tool,
        "path": s.key.path,
    })
}
