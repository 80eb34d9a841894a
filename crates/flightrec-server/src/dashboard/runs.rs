//! Runs (`/runs`) and one run (`/runs/{id}`): its timeline, rendered here,
//! and the replay player (`assets/run.js`) that asks the API for the state
//! at each point.

use super::format;
use super::viewer::{Chrome, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::cursor;
use crate::error::ApiError;
use crate::params::Params;
use crate::run_pages::walk_run;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use flightrec_core::event::parse_time;
use flightrec_core::record::StoredRecord;
use flightrec_store::{RunQuery, RunRecordsQuery, RunSummary, StoreError};

const PAGE_SIZE: usize = 50;

/// The most events a run page lists; a longer run says so and offers its
/// exports (the player's API reads any point of any run).
const MAX_TIMELINE: usize = 20_000;

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunRow>,
    older: Option<String>,
}

struct RunRow {
    run: RunSummary,
    relative: String,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let query = RunQuery {
        limit: PAGE_SIZE,
        after: params
            .take("cursor")
            .map(|c| cursor::decode::<(String, String)>("runs", &c))
            .transpose()?,
        ..Default::default()
    };
    params.finish()?;
    let tenant = viewer.principal.tenant.clone();
    let page = state
        .blocking(move |store| store.runs(&tenant, &query))
        .await?;
    let older = page.more.then(|| page.items.last()).flatten().map(|r| {
        let c = cursor::encode("runs", &(&r.last_time, &r.run_id));
        format!("/runs?cursor={c}")
    });
    let now = state.clock().now();
    let runs = page
        .items
        .into_iter()
        .map(|run| RunRow {
            relative: format::relative(&run.last_time, now),
            run,
        })
        .collect();
    render(&RunsPage {
        chrome: viewer.chrome("Runs", "runs"),
        runs,
        older,
    })
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunSummary,
    duration: String,
    /// The scrubber's range.
    duration_ms: i64,
    steps: Vec<Step>,
    exports: [(&'static str, &'static str); 6],
    /// Recently active runs, offered to compare this one with.
    others: Vec<String>,
}

/// One event on the timeline.
struct Step {
    index: usize,
    id: String,
    time: String,
    /// Milliseconds since the run's first event: where the scrubber puts it.
    offset_ms: i64,
    event_type: String,
    status: &'static str,
    summary: String,
}

impl Step {
    /// `+12.5 s` from the run's start.
    fn offset_label(&self) -> String {
        format!("+{:.1} s", self.offset_ms as f64 / 1000.0)
    }
}

/// The timeline's entry for a record; `start` is the run's first time, in
/// Unix milliseconds, set by the first record.
fn step(record: &StoredRecord, index: usize, start: &mut Option<i64>) -> Result<Step, StoreError> {
    let h = &record.header;
    let event = record
        .to_event_json()
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", h.seq)))?;
    let millis = parse_time(&h.time).map_or(0, |t| t.timestamp_millis());
    Ok(Step {
        index,
        id: h.id.clone(),
        time: h.time.clone(),
        offset_ms: millis - *start.get_or_insert(millis),
        event_type: h.event_type.clone(),
        status: h.status.as_str(),
        summary: format::summary(&event),
    })
}

pub async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(run_id): Path<String>,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let tenant = viewer.principal.tenant.clone();
    let id = run_id.clone();
    let (run, steps, others) = state
        .blocking(move |store| {
            let Some(run) = store.run(&tenant, &id)? else {
                return Ok(None);
            };
            let recent = RunQuery {
                limit: PAGE_SIZE,
                ..Default::default()
            };
            let others: Vec<String> = (store.runs(&tenant, &recent)?.items.into_iter())
                .map(|r| r.run_id)
                .filter(|r| *r != id)
                .collect();
            // Steps straight from each page of records, none kept.
            let mut steps: Vec<Step> = Vec::new();
            let mut start = None;
            let mut failure = None;
            walk_run(
                store,
                &tenant,
                &id,
                RunRecordsQuery::default(),
                &mut |page| {
                    for record in page.iter().take(MAX_TIMELINE - steps.len()) {
                        match step(record, steps.len(), &mut start) {
                            Ok(s) => steps.push(s),
                            Err(e) => {
                                failure = Some(e);
                                return false;
                            }
                        }
                    }
                    steps.len() < MAX_TIMELINE
                },
            )?;
            failure.map_or(Ok(Some((run, steps, others))), Err)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {run_id:?}")))?;
    let duration = steps.last().map_or(0, |s| s.offset_ms);
    render(&RunPage {
        chrome: viewer.chrome(format!("Run {run_id}"), "runs"),
        duration: format!("{:.1} s", duration as f64 / 1000.0),
        duration_ms: duration,
        run,
        steps,
        exports: [
            ("transcript", "Transcript"),
            ("json", "JSON"),
            ("csv", "CSV"),
            ("asciicast", "asciicast"),
            ("html", "HTML replay"),
            ("gif", "GIF"),
        ],
        others,
    })
}
