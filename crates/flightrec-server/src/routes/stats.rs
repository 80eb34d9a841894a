//! `/v1/stats`: what a time window holds — totals, the rates compliance
//! tracks (failure, governance block, idempotency hit), dry runs and
//! duration percentiles — overall and, with `group_by`, per verb,
//! provider, agent, type, status, day or hour. The dashboard's cards show
//! the same numbers.

use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_store::stats::{GroupBy, NO_VALUE, Tally};
use serde_json::{Map, Value, json};

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
    let group_by = params.take_parsed("group_by", |v| {
        GroupBy::parse(v).ok_or_else(|| {
            let names: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
            format!("must be one of {}, not {v:?}", names.join(", "))
        })
    })?;
    params.finish()?;
    let tenant = principal.tenant.clone();
    let (from, to) = (since.clone(), until.clone());
    let groups = state
        .blocking(move |store| store.stats(&tenant, from.as_deref(), to.as_deref(), group_by))
        .await?;

    let mut answer = Map::new();
    answer.insert("since".into(), json!(since));
    answer.insert("until".into(), json!(until));
    answer.extend(figures(&groups.total()));
    if let Some(group_by) = group_by {
        let mut rows: Vec<(&String, &Tally)> = groups.0.iter().collect();
        if !matches!(group_by, GroupBy::Day | GroupBy::Hour) {
            // The largest groups first; times in order.
            rows.sort_by(|a, b| b.1.counts.n.cmp(&a.1.counts.n).then(a.0.cmp(b.0)));
        }
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|(key, tally)| {
                let mut row = Map::new();
                let key = (key != NO_VALUE).then_some(key);
                row.insert("key".into(), json!(key));
                row.extend(figures(tally));
                Value::Object(row)
            })
            .collect();
        answer.insert("group_by".into(), json!(group_by.as_str()));
        answer.insert("groups".into(), Value::Array(rows));
    }
    Ok(Json(Value::Object(answer)))
}

/// The counts, rates and duration percentiles of one tally.
fn figures(tally: &Tally) -> Map<String, Value> {
    let c = &tally.counts;
    let durations = tally.with_duration();
    let percentile = |p| tally.percentile(p);
    [
        ("total", json!(c.n)),
        ("fail", json!(c.fail)),
        ("warn", json!(c.warn)),
        ("blocked", json!(c.blocked)),
        ("dry_run", json!(c.dry_run)),
        ("idempotency_hits", json!(c.idempotency_hits)),
        ("failure_rate", json!(c.rate(c.fail))),
        ("warn_rate", json!(c.rate(c.warn))),
        ("block_rate", json!(c.rate(c.blocked))),
        ("idempotency_hit_rate", json!(c.rate(c.idempotency_hits))),
        (
            "duration_ms",
            json!({
                "count": durations,
                "p50": percentile(0.50),
                "p95": percentile(0.95),
                "p99": percentile(0.99),
            }),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}
