//! The shape of a run: `GET /v1/runs/{id}/tree` nests its spans by
//! `parent_span_id` (for the trace view), and `GET /v1/events/{id}/parents`
//! walks from one event up through the spans that contain it.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::routes::events::event_json;
use crate::run_pages::walk_run;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::event::parse_time;
use flightrec_core::record::StoredRecord;
use flightrec_store::{RunRecordsQuery, Store, StoreError};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/runs/{id}/tree", get(tree))
        .route("/v1/events/{id}/parents", get(parents))
}

/// The most records a tree or a parent chain reads.
const MAX_RECORDS: usize = 100_000;

fn run_records(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut all = Vec::new();
    walk_run(
        store,
        tenant,
        run_id,
        RunRecordsQuery::default(),
        &mut |records| {
            all.extend_from_slice(records);
            all.len() < MAX_RECORDS
        },
    )?;
    Ok(all)
}

/// One span: the events that carry its `span_id`.
#[derive(Default)]
struct Span {
    parent: Option<String>,
    first_time: String,
    last_time: String,
    events: Vec<u64>,
    fails: u64,
    /// The first event's tool, verb or type: what the span did.
    name: String,
    /// When its first event began and its last ended (time plus
    /// `duration_ms`), in Unix milliseconds.
    start_ms: i64,
    end_ms: i64,
}

pub(crate) async fn tree(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let id = run_id.clone();
    let records = state
        .in_tenant(&principal, move |s, t| {
            if s.run(t, &id)?.is_none() {
                return Ok(None);
            }
            run_records(s, t, &id).map(Some)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run with id {run_id:?}")))?;
    let mut spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut loose = Vec::new();
    for r in &records {
        let h = &r.header;
        let Some(span_id) = &h.span_id else {
            loose.push(h.seq);
            continue;
        };
        let span = spans.entry(span_id.clone()).or_default();
        let body = r.parsed_body().ok().flatten();
        let start_ms = parse_time(&h.time).map_or(0, |t| t.timestamp_millis());
        let took = body
            .as_ref()
            .and_then(|b| b.duration_ms.as_ref())
            .and_then(serde_json::Number::as_f64)
            .unwrap_or(0.0);
        if span.events.is_empty() {
            span.first_time = h.time.clone();
            span.name = body
                .and_then(|b| b.tool.or(b.verb))
                .unwrap_or_else(|| h.event_type.clone());
            span.start_ms = start_ms;
        }
        // Saturating: a client may claim any duration (1e300 once
        // overflowed here); the cast saturates, the sum must too.
        span.end_ms = span
            .end_ms
            .max(start_ms.saturating_add(took.max(0.0) as i64));
        span.last_time = h.time.clone();
        span.events.push(h.seq);
        span.parent = span.parent.take().or_else(|| h.parent_span_id.clone());
        if h.status == flightrec_core::event::Status::Fail {
            span.fails += 1;
        }
    }
    let mut children: HashMap<Option<String>, Vec<String>> = HashMap::new();
    for (id, span) in &spans {
        // A parent the run never mentions makes its child a root.
        let parent = span
            .parent
            .clone()
            .filter(|p| spans.contains_key(p) && p != id);
        children.entry(parent).or_default().push(id.clone());
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| spans[a].first_time.cmp(&spans[b].first_time).then(a.cmp(b)));
    }
    fn node(
        id: &str,
        spans: &BTreeMap<String, Span>,
        children: &HashMap<Option<String>, Vec<String>>,
        depth: usize,
    ) -> Value {
        let s = &spans[id];
        let kids: Vec<Value> = if depth > 256 {
            Vec::new() // a cycle or an absurd depth ends here
        } else {
            children
                .get(&Some(id.to_owned()))
                .map(|ids| {
                    ids.iter()
                        .map(|c| node(c, spans, children, depth + 1))
                        .collect()
                })
                .unwrap_or_default()
        };
        json!({
            "span_id": id,
            "parent_span_id": s.parent,
            "name": s.name,
            "first_time": s.first_time,
            "last_time": s.last_time,
            "duration_ms": s.end_ms.saturating_sub(s.start_ms),
            "status": if s.fails > 0 { "fail" } else { "ok" },
            "events": s.events,
            "children": kids,
        })
    }
    let roots: Vec<Value> = children
        .get(&None)
        .map(|ids| {
            ids.iter()
                .map(|id| node(id, &spans, &children, 0))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "run_id": run_id,
        "spans": roots,
        "events_without_span": loose,
        "event_count": records.len(),
    })))
}

pub(crate) async fn parents(
    State(state): State<AppState>,
    principal: Principal,
    Path(event_id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let id = event_id.clone();
    let found = state
        .in_tenant(&principal, move |s, t| {
            let Some(event) = s.record(t, &id)? else {
                return Ok(None);
            };
            let run = match &event.header.run_id {
                Some(run_id) => run_records(s, t, run_id)?,
                None => Vec::new(),
            };
            Ok(Some((event, run)))
        })
        .await?;
    let (event, run) =
        found.ok_or_else(|| ApiError::not_found(format!("no event {event_id:?}")))?;
    // Each span is represented by its first event.
    let mut opener: HashMap<&str, &StoredRecord> = HashMap::new();
    for r in &run {
        if let Some(span) = &r.header.span_id {
            opener.entry(span.as_str()).or_insert(r);
        }
    }
    let mut chain = Vec::new();
    let mut next = event.header.parent_span_id.clone();
    // The event's own span, when it is not the span's first event.
    if let Some(own) = event.header.span_id.as_deref().and_then(|s| opener.get(s)) {
        if own.header.seq != event.header.seq {
            chain.push(event_json(own)?);
        }
        next = own.header.parent_span_id.clone().or(next);
    }
    let mut seen = std::collections::HashSet::new();
    while let Some(span) = next {
        if !seen.insert(span.clone()) {
            break; // a cycle in the client's span ids
        }
        let Some(r) = opener.get(span.as_str()) else {
            break;
        };
        chain.push(event_json(r)?);
        next = r.header.parent_span_id.clone();
    }
    Ok(Json(
        json!({"event": event_json(&event)?, "parents": chain}),
    ))
}
