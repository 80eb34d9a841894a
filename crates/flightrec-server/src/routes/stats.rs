//! `/v1/stats`: totals for a time window — what the dashboard's cards show.

use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/stats", get(stats))
}

async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let since = params.take_since(state.clock().now())?;
    let until = params.take_until()?;
    params.finish()?;
    let tenant = principal.tenant.clone();
    let (from, to) = (since.clone(), until.clone());
    let counts = state
        .blocking(move |store| store.window_counts(&tenant, from.as_deref(), to.as_deref()))
        .await?;
    Ok(Json(json!({
        "since": since,
        "until": until,
        "total": counts.total,
        "fail": counts.fail,
        "warn": counts.warn,
        "failure_rate": rate(counts.fail, counts.total),
        "warn_rate": rate(counts.warn, counts.total),
    })))
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
